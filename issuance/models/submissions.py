"""A form token once used: what makes a form submitted twice (a double click, a reload, the
back button) do its work once. The pages give each form a signed one-time token
(issuance.submissions); the view stores it here in the transaction of the change."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class FormToken(models.Model):
    # Only used tokens have a row: a page that is never submitted costs nothing.
    nonce = models.CharField("令牌", max_length=32, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+", verbose_name="提交人")
    used_at = models.DateTimeField("提交时间", default=timezone.now, db_index=True)
    # Where the first submission led (a new draft, say), for the second to go to as well.
    result = models.CharField("结果页面", max_length=300, blank=True)

    class Meta:
        verbose_name = "表单令牌"
        verbose_name_plural = "表单令牌"

    def __str__(self):
        return self.nonce
