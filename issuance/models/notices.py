"""What people are told: a notice in the app (with an unread count beside 待办) and the same by
e-mail. The e-mail is an outbox row: written in the transaction that caused it, sent after
it commits by a background sender, and kept pending while the mail server is down."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .documents import Document


class Notice(models.Model):
    class Kind(models.TextChoices):
        TASK = "task", "新任务"
        RETURNED = "returned", "公文退回"
        SIGNED = "signed", "公文签发"
        ISSUED = "issued", "公文印发"
        URGED = "urged", "催办"
        OVERDUE = "overdue", "逾期提醒"
        DELEGATED = "delegated", "代理"

    class Mail(models.TextChoices):
        PENDING = "pending", "待发送"
        SENT = "sent", "已发送"
        NONE = "none", "无需发送"
        FAILED = "failed", "发送失败"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices",
                             verbose_name="接收人")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, null=True, blank=True, related_name="notices",
                                 verbose_name="公文")
    kind = models.CharField("类别", max_length=12, choices=Kind.choices)
    # What happened, for the words the page and the mail show (issuance.wording).
    detail = models.JSONField("详情", default=dict)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    mail = models.CharField("邮件", max_length=8, choices=Mail.choices, default=Mail.PENDING)
    mail_attempts = models.PositiveSmallIntegerField("发送次数", default=0)
    mail_due_at = models.DateTimeField("下次发送", default=timezone.now)
    mailed_at = models.DateTimeField("发送时间", null=True, blank=True)
    mail_error = models.CharField("发送错误", max_length=300, blank=True)

    class Meta:
        verbose_name = "通知"
        verbose_name_plural = "通知"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at"], name="notice_user_unread"),
            models.Index(fields=["mail", "mail_due_at"], name="notice_outbox"),
        ]


class CommonPhrase(models.Model):
    """A person's 常用意见 (同意印发、同意，请按程序办理 …), offered on their decision forms."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="phrases",
                             verbose_name="人员")
    text = models.CharField("意见", max_length=200)
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "常用意见"
        verbose_name_plural = "常用意见"
        ordering = ["user", "position", "pk"]
        constraints = [models.UniqueConstraint(fields=["user", "text"], name="phrase_unique_text")]
