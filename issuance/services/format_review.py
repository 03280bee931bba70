"""The 格式审查 in the app: run on every saved revision and kept with it, its one-click safe
fixes, and the guard of 送审, which an 错误 stops unless the drafter confirms it with a reason.

The rules are issuance.format_check's; a revision's findings are dated by the day it was
saved and the day its draft was begun (a 成文日期 before that is an 错误).
"""

from django.utils import timezone

from .. import format_check
from ..exceptions import IssuanceError
from ..models import FormatCheck
from ..prepared import Prepared

MAX_REASON = 200


def _check(document, revision, today=None):
    return format_check.check(revision.content, today=today or timezone.localdate(),
                              drafted_on=timezone.localdate(document.created_at))


def check_new(content):
    """The findings of a document not saved yet, as they will be when it is saved today."""
    today = timezone.localdate()
    return format_check.check(content, today=today, drafted_on=today)


def record(document, revision):
    """Check a new revision and keep its findings with it."""
    findings = _check(document, revision)
    errors = len(format_check.errors(findings))
    return FormatCheck.objects.create(revision=revision, findings=[f.to_dict() for f in findings], errors=errors,
                                      hints=len(findings) - errors)


_KEPT = Prepared(lambda revision_id: FormatCheck.objects.filter(revision_id=revision_id).order_by("pk")[:1])


def findings_of(document, revision=None):
    """The findings kept with `revision` (the current one by default). A revision saved before
    the 格式审查 existed is checked now, and the result is not kept."""
    revision = revision or document.current_revision
    kept = _KEPT.first(revision.pk)
    if kept is None:
        return _check(document, revision)
    return [format_check.Finding.from_dict(data) for data in kept.findings]


def fixed_content(document, number, which):
    """The content of the current revision, number `number`, with the safe fixes of the findings
    `which` (their positions in the list, or "all") made; and the rules they mend. Refused when
    the draft has moved on since the page was shown, or when nothing chosen has a safe fix."""
    revision = document.current_revision
    if revision.number != number:
        raise IssuanceError(f"稿纸已保存为第{revision.number}稿，请刷新页面后再改正")
    findings = findings_of(document, revision)
    if which != "all" and any(not isinstance(i, int) or not 0 <= i < len(findings) for i in which):
        raise IssuanceError("没有找到要改正的问题，请刷新页面")
    chosen = [f for index, f in enumerate(findings) if f.fixable and (which == "all" or index in which)]
    if not chosen:
        raise IssuanceError("所选问题没有可以自动改正的方法，请修改稿纸")
    return format_check.apply_fixes(revision.content, chosen), sorted({f.rule_label for f in chosen}), len(chosen)


def submission_detail(document, reason=""):
    """What 送审 records of the 格式审查: nothing when no 错误 stands; with 错误, the drafter's
    reason for sending it all the same, without which 送审 is refused. A revision saved before
    the 格式审查 existed holds nothing back: a document under way at the upgrade goes on."""
    kept = FormatCheck.objects.filter(revision=document.current_revision).first()
    errors = [data for data in kept.findings if data["level"] == format_check.ERROR] if kept else []
    if not errors:
        return {}
    reason = (reason or "").strip()
    if not reason:
        raise IssuanceError(f"格式审查发现 {len(errors)} 处错误：请改正后送审，或写明理由确认送审")
    if len(reason) > MAX_REASON:
        raise IssuanceError(f"确认送审的理由过长（最多 {MAX_REASON} 字）")
    return {"format_errors": len(errors), "format_reason": reason}
