"""代理: a person away (请假) names a deputy for a date range, or the office names one for them.
During it the tasks that come to the principal also stand in the deputy's 待办, marked 代理;
what the deputy does is recorded as 王丽（代 张伟） and counts as the principal's step."""

import datetime

from django.db import transaction
from django.utils import timezone

from ..exceptions import IssuanceError
from ..models import Delegation, Notice, display_name
from ..roles import OFFICE_ROLES, memberships
from .notices import notify

MAX_DAYS = 92


def may_delegate_for(user, principal):
    """The person themselves, or the office of an organ they work for."""
    if user.pk == principal.pk:
        return True
    return bool(set(memberships(user).organs(*OFFICE_ROLES)) & set(memberships(principal).organs()))


@transaction.atomic
def delegate(principal, deputy, starts_on, ends_on, by_user, reason=""):
    if not may_delegate_for(by_user, principal):
        raise IssuanceError("只能为本人设置代理，或由办公室为本机关人员设置")
    if deputy is None or not deputy.is_active:
        raise IssuanceError("请选择代理人")
    if deputy.pk == principal.pk:
        raise IssuanceError("代理人不能是本人")
    if not set(memberships(deputy).organs()) & set(memberships(principal).organs()):
        raise IssuanceError(f"{display_name(deputy)}与{display_name(principal)}不在同一机关，不能代理")
    if not isinstance(starts_on, datetime.date) or not isinstance(ends_on, datetime.date) or ends_on < starts_on:
        raise IssuanceError("请填写开始和结束日期，结束日期不能早于开始日期")
    if ends_on < timezone.localdate():
        raise IssuanceError("结束日期已过")
    if (ends_on - starts_on).days + 1 > MAX_DAYS:
        raise IssuanceError(f"一次代理最长 {MAX_DAYS} 天")
    reason = (reason or "").strip()
    if len(reason) > 100:
        raise IssuanceError("事由最多 100 字")
    overlapping = Delegation.objects.select_for_update().filter(
        principal=principal, cancelled_at__isnull=True, starts_on__lte=ends_on, ends_on__gte=starts_on)
    if overlapping.exists():
        raise IssuanceError(f"{display_name(principal)}在这段时间已有代理，请先取消")
    delegation = Delegation.objects.create(principal=principal, deputy=deputy, starts_on=starts_on, ends_on=ends_on,
                                           reason=reason, created_by=by_user)
    notify([deputy], Notice.Kind.DELEGATED, None, principal=display_name(principal), starts_on=starts_on.isoformat(),
           ends_on=ends_on.isoformat(), reason=reason)
    return delegation


@transaction.atomic
def end_delegation(delegation, by_user):
    delegation = Delegation.objects.select_for_update().get(pk=delegation.pk)
    if not may_delegate_for(by_user, delegation.principal):
        raise IssuanceError("只能取消本人的代理，或由办公室为本机关人员取消")
    if delegation.cancelled_at:
        raise IssuanceError("该代理已取消")
    delegation.cancelled_at = timezone.now()
    delegation.save(update_fields=["cancelled_at"])
    return delegation
