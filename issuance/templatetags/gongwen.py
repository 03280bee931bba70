"""Words the pages use for what the domain records: history entries, step outcomes."""

from django import template

from ..models import StepKind, StepState

register = template.Library()

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


@register.filter
def describe_event(event):
    """One line of the 办理日志 in the user's words."""
    detail = event.detail
    text = ACTION_LABELS.get(event.action, event.action)
    step = LEGACY_STEPS.get(detail.get("step"), detail.get("step"))
    if event.action in ("approve", "return", "take_back", "countersign") and step:
        text = step + (f"（{detail['party']}）" if detail.get("party") else "") + text
    if detail.get("revision") and event.action in ("create", "save", "submit", "sign", "print"):
        text += f"（第{detail['revision']}稿）"
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
    if event.action == "return" and detail.get("to"):
        text += f"至{detail['to']}"
    if detail.get("reason"):
        text += f"：{detail['reason']}"
    if detail.get("cancelled"):
        text += f"（取消{'、'.join(detail['cancelled'])}的会签" + (
            f"，已同意：{'、'.join(detail['agreed'])}" if detail.get("agreed") else "") + "）"
    return text


@register.filter
def outcome(state):
    """How a step state ended, in the words of its kind."""
    if state.status == StepState.Status.DONE:
        return {StepKind.REVIEW: "同意", StepKind.SIGN: "签发"}.get(state.kind, "已办理")
    return state.get_status_display()
