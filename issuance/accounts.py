"""Logins locked out after repeated failures, and the 机关管理员's unlock.

django-axes counts the failures and refuses the login (settings: AXES_*); this module says
which of an organ's people are locked out now and lets that organ's administrator lift the
lock before the cool-off ends. Someone of another organ, or a user name that belongs to
nobody, is left to a superuser in /admin/ (axes' 登录尝试).
"""

import logging
from dataclasses import dataclass

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Sum
from django.utils import timezone

from .exceptions import IssuanceError
from .roles import is_administrator

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lockout:
    user: object
    ip_address: str
    failures: int
    until: object  # when the lock lifts by itself


def _people(organ):
    return get_user_model().objects.filter(appointments__organ=organ).distinct()


def lockouts(organ):
    """The organ's people locked out now, one row per user name and address, earliest end first."""
    cool_off = get_cool_off()
    people = {user.username: user for user in _people(organ)}
    rows = (AccessAttempt.objects.filter(username__in=people, attempt_time__gte=timezone.now() - cool_off)
            .values("username", "ip_address").annotate(failures=Sum("failures_since_start"), last=Max("attempt_time")))
    found = [Lockout(people[row["username"]], row["ip_address"], row["failures"], row["last"] + cool_off)
             for row in rows if row["failures"] >= settings.AXES_FAILURE_LIMIT]
    return sorted(found, key=lambda lockout: (lockout.until, lockout.user.username))


def unlock(administrator, organ, username):
    """Lift every lock of `username` (from any address); only for the administrator's own organ's people."""
    if not is_administrator(administrator, organ):
        raise IssuanceError("只有本机关的机关管理员可以解除登录锁定")
    user = _people(organ).filter(username=username).first()
    if user is None:
        raise IssuanceError(f"“{username}”不是{organ.name}的人员，不能由本机关解锁")
    removed = reset(username=user.username)
    logger.warning("login lock of %s lifted by %s (%d attempts removed)", user.username, administrator.username, removed)
    return user
