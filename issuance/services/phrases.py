"""常用意见: the opinions a person gives again and again, offered on their decision forms."""

from django.db import transaction
from django.db.models import Max

from ..exceptions import IssuanceError
from ..models import CommonPhrase, StepKind

MAX_PHRASES = 20
# What a person is offered before they keep their own.
DEFAULTS = {
    StepKind.SIGN: ("同意印发。", "同意，请按程序办理。", "同意。", "请按意见修改后再报。"),
    StepKind.REVIEW: ("同意。", "同意，请办公室核稿。", "格式、文字已核，同意。", "同意，呈局长签发。", "请按意见修改。"),
    StepKind.RECHECK: ("已复核。", "已复核，同意印发。"),
}


def phrases_for(user, kind):
    own = list(CommonPhrase.objects.filter(user=user).values_list("text", flat=True))
    return own or list(DEFAULTS.get(kind, DEFAULTS[StepKind.REVIEW]))


@transaction.atomic
def remember(user, text):
    """Keep `text` among the user's 常用意见 (the newest last)."""
    text = (text or "").strip()
    if not text:
        raise IssuanceError("请先填写意见内容")
    if len(text) > 200:
        raise IssuanceError("常用意见最多 200 字")
    mine = CommonPhrase.objects.select_for_update().filter(user=user)
    if mine.filter(text=text).exists():
        return None
    if mine.count() >= MAX_PHRASES:
        raise IssuanceError(f"常用意见最多 {MAX_PHRASES} 条，请先删除不用的")
    last = mine.aggregate(last=Max("position"))["last"] or 0
    return CommonPhrase.objects.create(user=user, text=text, position=last + 1)


def forget(user, phrase_id):
    return CommonPhrase.objects.filter(user=user, pk=phrase_id).delete()[0]
