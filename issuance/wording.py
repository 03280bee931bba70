"""Words the pages use for what the domain records: history entries, step outcomes, notices,
the 格式审查 and the issued PDF's signature (config.templating makes them the pages' filters
and functions)."""

from . import exchange, storage
from .exceptions import IssuanceError
from .models import EDITABLE_STAGES, Event, StepKind, StepState
from .prepared import Prepared

ACTION_LABELS = {
    "create": "创建草稿",
    "save": "保存修改",
    "copies": "修改印发份数",
    "routing": "修改办理方式",
    "claim": "领取任务",
    "release": "退回待领取",
    "submit": "送审",
    "withdraw": "撤回送审",
    "take_back": "撤回意见",
    "approve": "同意",
    "countersign": "同意",
    "return": "退回",
    "sign": "签发",
    "resign_required": "签发后内容变更，退回签发",
    "register": "登记发文字号",
    "print_requested": "申请印制",
    "print": "印制正式文件",
    "print_failed": "印制失败",
    "print_requeued": "印制进程中断，任务重新排队",
    "void_number": "作废文号，重新登记",
    "distribute": "核发",
    "archive": "归档",
    "grant": "授权查看",
    "migrate": "转入可配置审核流程",
}
# Step names recorded by the fixed three-review path, before chains were data.
LEGACY_STEPS = {"first_review": "初审", "second_review": "复审", "final_review": "终审", "signing": "签发",
                "recheck": "复核", "printing": "印制", "draft": "拟稿"}


def describe_event(event):
    """One line of the 办理日志 in the user's words."""
    detail = event.detail
    text = ACTION_LABELS.get(event.action, event.action)
    step = LEGACY_STEPS.get(detail.get("step"), detail.get("step"))
    if event.action in ("approve", "return", "take_back", "countersign") and step:
        text = step + (f"（{detail['party']}）" if detail.get("party") else "") + text
    if detail.get("revision") and event.action in ("create", "save", "submit", "sign", "print"):
        text += f"（第{detail['revision']}稿）"
    if event.action == "print" and "signature" in detail:
        signature = detail["signature"]
        text += f"，{signature['signer']}已数字签名" if signature else "，未加数字签名"
    if event.action == "submit" and detail.get("chain"):
        text += f"，按“{detail['chain']}”第{detail['version']}版办理"
    if detail.get("doc_number"):
        text += f" {detail['doc_number']}"
    if detail.get("archive_code"):
        text += f"，档号 {detail['archive_code']}"
    if event.action in ("claim", "release"):
        text += f"：{step}"
    if event.action == "copies":
        text += f"：{detail['old'] or '未填'} → {detail['new']}"
    if event.action == "routing":
        text += f"：类别 {detail.get('category') or '一般公文'}，会签科室 {'、'.join(detail.get('countersign') or []) or '无'}"
    if event.action == "grant":
        text += f"：{detail['name']}"
    if detail.get("format_fixes"):
        fixes = detail["format_fixes"]
        text += f"，格式审查一键改正 {fixes['count']} 处（{'、'.join(fixes['rules'])}）"
    if detail.get("format_reason"):
        text += f"，格式审查 {detail['format_errors']} 处错误未改正，确认送审：{detail['format_reason']}"
    if event.action == "return" and detail.get("to"):
        text += f"至{detail['to']}"
    if detail.get("reason"):
        text += f"：{detail['reason']}"
    if detail.get("cancelled"):
        text += f"（取消{'、'.join(detail['cancelled'])}的会签" + (
            f"，已同意：{'、'.join(detail['agreed'])}" if detail.get("agreed") else "") + "）"
    return text


def outcome(state):
    """How a step state ended, in the words of its kind."""
    if state.status == StepState.Status.DONE:
        return {StepKind.REVIEW: "同意", StepKind.SIGN: "签发"}.get(state.kind, "已办理")
    return state.get_status_display()


def _date(iso):
    if not iso:
        return ""
    import datetime

    day = datetime.date.fromisoformat(iso)
    return f"{day.month}月{day.day}日"


def notice_text(notice):
    """What a notice says, in one sentence."""
    d = notice.detail
    title = f"《{notice.document.title}》" if notice.document_id else ""
    kind = notice.kind
    if kind == "task":
        due = f"，请于{_date(d.get('due_on'))}前办结" if d.get("due_on") else ""
        return f"“{d.get('step')}”待您办理：{title}{due}"
    if kind == "returned":
        where = "请修改后重新送审" if d.get("step") == "修改" else f"请重新办理“{d.get('step')}”"
        return f"{title}被{d.get('by')}在“{d.get('returned_from')}”退回，{where}。理由：{d.get('reason')}"
    if kind == "signed":
        return f"{title}已由{d.get('by')}签发" + (f"：{d['text']}" if d.get("text") else "")
    if kind == "issued":
        return f"{title}已印发，发文字号{d.get('doc_number')}"
    if kind == "urged":
        return f"{d.get('by')}催办：“{d.get('step')}”{title}已逾期（办理期限{_date(d.get('due_on'))}），请尽快办理"
    if kind == "overdue":
        items = "；".join(f"“{i['step']}”《{i['title']}》（期限{_date(i['due_on'])}）" for i in d.get("items", []))
        return f"您有 {len(d.get('items', []))} 项待办已逾期：{items}"
    if kind == "delegated":
        reason = f"（{d['reason']}）" if d.get("reason") else ""
        return (f"{d.get('principal')}请您于{_date(d.get('starts_on'))}至{_date(d.get('ends_on'))}代理其待办事项"
                f"{reason}")
    return notice.get_kind_display()


_LAST_SUBMISSION = Prepared(lambda document_id: Event.objects.filter(document_id=document_id, action="submit")
                            .order_by("-seq").values_list("detail", flat=True)[:1])


def format_review(user, document):
    """The 格式审查 of the document's current revision for the person looking: its findings,
    their one-click fixes for whoever may edit the text now, and the drafter's confirmation of
    送审 while an 错误 stands."""
    from .services import can_edit, format_review as review

    findings = review.findings_of(document)
    errors = sum(finding.is_error for finding in findings)
    editable = can_edit(document, user)
    submitted = _LAST_SUBMISSION.first(document.pk)
    confirmed = submitted if submitted and submitted.get("revision") == document.current_revision.number else {}
    return {
        "reason": confirmed.get("format_reason", ""),
        "revision": document.current_revision.number,
        "findings": list(enumerate(findings)),
        "errors": errors,
        "hints": len(findings) - errors,
        "can_fix": editable,
        "fixable": sum(finding.fixable for finding in findings) if editable else 0,
        "can_confirm": bool(errors) and user.pk == document.drafter_id and document.stage in EDITABLE_STAGES,
    }


def errors_first(findings):
    """(index, finding) pairs split into the 错误, shown first, and the 提示."""
    return {"errors": [row for row in findings if row[1].is_error],
            "hints": [row for row in findings if not row[1].is_error]}


def fix_words(finding):
    """What a finding's safe fix does, in the user's words."""
    if finding.fix is None:
        return f"改为{exchange.BLOCK_KINDS[finding.kind]}" if finding.kind else ""
    shown = "空格" if finding.text is not None and not finding.text.strip() else f"“{finding.text}”"
    return f"删除{shown}" if finding.fix == "" else f"{shown}改为“{finding.fix}”"


def issued_signature(document):
    """The Verdict on `document`'s issued PDF as it is stored now, or None before 印制. A
    file that cannot be read or checked is a verdict too, never an error page."""
    if not document.issued_pdf:
        return None
    from . import signing  # pyhanko, half a second to import: only where a signature is shown

    try:
        return signing.verify(storage.read(document.issued_pdf.name, what="正式文件"))
    except FileNotFoundError:
        return signing.Verdict("unreadable", "正式文件缺失，无法核验数字签名")
    except IssuanceError as error:
        return signing.Verdict("unreadable", error.message)
