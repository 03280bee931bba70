"""The 格式审查 kept with each revision (issuance.format_check), as it was when the revision
was saved: what 核稿 sees beside the text is what the drafter saw when submitting it."""

from django.db import models
from django.utils import timezone

from .documents import AppendOnlyModel, Revision


class FormatCheck(AppendOnlyModel):
    """The findings of one revision's 格式审查. Like the revision, written once."""

    revision = models.OneToOneField(Revision, on_delete=models.PROTECT, related_name="format_check",
                                    verbose_name="稿本")
    # Each finding as issuance.format_check.Finding.to_dict() gives it, in the order of the page.
    findings = models.JSONField("问题", default=list)
    errors = models.PositiveIntegerField("错误", default=0)
    hints = models.PositiveIntegerField("提示", default=0)
    checked_at = models.DateTimeField("审查时间", default=timezone.now)

    class Meta:
        verbose_name = "格式审查"
        verbose_name_plural = "格式审查"

    def __str__(self):
        return f"{self.revision}：错误 {self.errors} 处，提示 {self.hints} 处"
