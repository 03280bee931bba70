"""Documents, their immutable revisions, opinions and history.

Content lives in `Revision.content` as the exchange-format dict (issuance.exchange);
a `Document` only points at its current and its signed revision. Everything that
records what happened (revisions, opinions, events, numbers, distribution, archive)
is append-only: `save()` refuses to update an existing row and `delete()` refuses.
"""

import hashlib
import json

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import UserObjectPermissionBase

from .organs import Department, Organ, display_name


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk changes skip save() and delete(), so they are refused here too."""

    def update(self, **kwargs):
        raise ValidationError(f"{self.model._meta.verbose_name}一经记录不可修改")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ValidationError(f"{self.model._meta.verbose_name}一经记录不可修改")

    def delete(self):
        raise ValidationError(f"{self.model._meta.verbose_name}一经记录不可删除")

    delete.queryset_only = True


class AppendOnlyModel(models.Model):
    """A record that is written once and never changed or deleted by the app."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValidationError(f"{self._meta.verbose_name}一经记录不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(f"{self._meta.verbose_name}一经记录不可删除")


class Stage(models.TextChoices):
    """Where a document stands on the 发文办理 path. While it is under review the step it
    waits at (初审, 会签, …) comes from its chain; the stage only says that it is in review."""

    DRAFTING = "drafting", "拟稿"
    RETURNED = "returned", "退回修改"
    REVIEWING = "reviewing", "审核"
    SIGNING = "signing", "签发"
    RECHECK = "recheck", "复核"
    REGISTRATION = "registration", "登记"
    PRINTING = "printing", "印制"
    DISTRIBUTION = "distribution", "核发"
    ARCHIVING = "archiving", "归档"
    ARCHIVED = "archived", "已归档"


# Stages of the fixed three-review path before review chains were data; kept in the history.
LEGACY_STAGE_LABELS = {"first_review": "初审", "second_review": "复审", "final_review": "终审"}
EDITABLE_STAGES = (Stage.DRAFTING, Stage.RETURNED)


def stage_label(value):
    """The label of a stage as recorded in the history, the legacy ones included."""
    if value in Stage.values:
        return Stage(value).label
    return LEGACY_STAGE_LABELS.get(value, value)


class Document(models.Model):
    """One outgoing 公文, from its first draft to its archive record."""

    organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="documents", verbose_name="发文机关")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="documents", verbose_name="承办科室")
    drafter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drafted_documents", verbose_name="拟稿人")
    stage = models.CharField("环节", max_length=20, choices=Stage.choices, default=Stage.DRAFTING, db_index=True)
    title = models.CharField("标题", max_length=200)
    # The current revision's 文种, kept beside the title so that lists can filter by it.
    doc_type = models.CharField("文种", max_length=10, blank=True, default="")
    current_revision = models.ForeignKey(
        "Revision", on_delete=models.PROTECT, null=True, related_name="+", verbose_name="当前稿"
    )
    signed_revision = models.ForeignKey(
        "Revision", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="签发稿"
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name="签发人"
    )
    signed_at = models.DateTimeField("签发时间", null=True, blank=True)
    doc_number = models.CharField("发文字号", max_length=60, blank=True, default="")
    copies = models.PositiveIntegerField("印发份数", null=True, blank=True)
    printed_date = models.DateField("印发日期", null=True, blank=True)
    issued_pdf = models.FileField("正式文件", upload_to="issued/", blank=True, max_length=300)
    issued_pdf_sha256 = models.CharField("正式文件 SHA-256", max_length=64, blank=True)
    issued_pages = models.PositiveIntegerField("页数", null=True, blank=True)
    round = models.PositiveIntegerField("审核轮次", default=0)
    # How the document is routed: the 类别 chooses the chain with the 文种 and 行文方向, and
    # the 会签科室 countersign at a chain's 会签 step (with the co-issuing organs of a 联合行文).
    category = models.CharField("类别", max_length=40, blank=True)
    countersign_departments = models.ManyToManyField(
        Department, blank=True, related_name="countersigned_documents", verbose_name="会签科室"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "公文"
        verbose_name_plural = "公文"
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["organ", "stage"], name="document_organ_stage"),
            models.Index(fields=["department", "stage"], name="document_department_stage"),
            models.Index(fields=["organ", "doc_type"], name="document_organ_doc_type"),
            # The 公文 list's orders (issuance.listing.DOCUMENT_SORTS): a page walks its index.
            # The default order's carries the columns the visibility rule tests, so that its
            # walk reads the index alone, not each document's row (PostgreSQL; SQLite ignores
            # `include`): half the time for a person who sees few documents of many.
            models.Index(fields=["-updated_at", "-id"], name="document_updated",
                         include=["drafter", "organ", "department", "round"]),
            models.Index(fields=["created_at", "id"], name="document_created"),
            models.Index(fields=["title", "id"], name="document_title"),
            models.Index(fields=["-doc_number", "-id"], name="document_number"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["doc_number"], condition=~Q(doc_number=""), name="document_unique_doc_number"
            ),
        ]

    def __str__(self):
        return self.doc_number or self.title

    @property
    def is_issued(self):
        return bool(self.issued_pdf)

    def exchange_content(self):
        """What an export writes: the issued text once there is one, else the current draft."""
        if self.signed_revision_id and self.doc_number:
            return self.issued_content()
        return self.current_revision.content

    def issued_content(self):
        """The signed text with what 签发, 登记 and 印制 add: the 成文日期 where the draft left it
        open (the day of signing), the 发文字号, the 印发日期 and, for 上行文, the 签发人."""
        content = dict(self.signed_revision.content)
        if not content.get("date") and self.signed_at:
            content["date"] = timezone.localdate(self.signed_at).isoformat()
        content["doc_number"] = self.doc_number or None
        if self.printed_date:
            content["printed_date"] = self.printed_date.isoformat()
        if content.get("direction") == "上行文" and not content.get("signers") and self.signed_by:
            content["signers"] = [display_name(self.signed_by)]
        return content


class Revision(AppendOnlyModel):
    """An immutable version of a document's content, identified by the SHA-256 of its canonical JSON."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="revisions", verbose_name="公文")
    number = models.PositiveIntegerField("稿次")
    content = models.JSONField("内容")
    sha256 = models.CharField("SHA-256", max_length=64)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="修改人")
    created_at = models.DateTimeField("保存时间", default=timezone.now)

    class Meta:
        verbose_name = "稿本"
        verbose_name_plural = "稿本"
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="revision_unique_number"),
        ]

    def __str__(self):
        return f"第{self.number}稿"


class Decision(models.TextChoices):
    SUBMIT = "submit", "送审"
    WITHDRAW = "withdraw", "撤回"
    APPROVE = "approve", "同意"
    RETURN = "return", "退回"


class Opinion(AppendOnlyModel):
    """One 审批意见: who said what at which step about which revision. Never overwritten."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="opinions", verbose_name="公文")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="opinions", verbose_name="所审稿本")
    round = models.PositiveIntegerField("轮次")
    # The step's name as the drafter and the 稿纸 show it (初审, 会签, 签发 …; 拟稿 for the
    # drafter's 送审 and 撤回), and the party of a 会签.
    step = models.CharField("环节", max_length=20)
    party = models.CharField("会签单位", max_length=100, blank=True)
    state = models.ForeignKey("StepState", on_delete=models.PROTECT, null=True, blank=True, related_name="opinions",
                              verbose_name="环节办理")
    decision = models.CharField("意见", max_length=20, choices=Decision.choices)
    text = models.TextField("意见内容", blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opinions", verbose_name="办理人")
    # Given by `user` as deputy (代理) of this person, whose step it is.
    on_behalf_of = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name="被代理人")
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "审批意见"
        verbose_name_plural = "审批意见"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.step} {self.signed_name} {self.get_decision_display()}"

    @property
    def signed_name(self):
        """The name under the opinion: 王丽（代 张伟） when a deputy gave it."""
        if self.on_behalf_of_id:
            return f"{display_name(self.user)}（代 {display_name(self.on_behalf_of)}）"
        return display_name(self.user)


class Event(AppendOnlyModel):
    """One entry of a document's history. Each carries the hash of the one before it,
    so that a row changed or removed behind the app's back breaks the chain, and an HMAC
    of its hash with a key kept outside the database, so that a chain rewritten with
    recomputed hashes does not verify (issuance.seals, docs/tamper-evidence.md)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="events", verbose_name="公文")
    seq = models.PositiveIntegerField("序号")
    action = models.CharField("操作", max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="操作人")
    # Plain text, not choices: entries written before review chains were data name stages
    # that no longer exist (see stage_label).
    stage_before = models.CharField("原环节", max_length=20, blank=True)
    stage_after = models.CharField("新环节", max_length=20, blank=True)
    detail = models.JSONField("详情", default=dict)
    created_at = models.DateTimeField("时间", default=timezone.now)
    prev_hash = models.CharField("前一条哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64)
    # Blank on entries written before entries were sealed: the first anchor covers those.
    key_id = models.CharField("密钥标识", max_length=16, blank=True)
    mac = models.CharField("HMAC", max_length=64, blank=True)

    class Meta:
        verbose_name = "办理记录"
        verbose_name_plural = "办理记录"
        ordering = ["document", "seq"]
        constraints = [models.UniqueConstraint(fields=["document", "seq"], name="event_unique_seq")]

    def compute_hash(self):
        payload = {
            "document": self.document_id,
            "seq": self.seq,
            "action": self.action,
            "actor": self.actor_id,
            "stage_before": self.stage_before,
            "stage_after": self.stage_after,
            "detail": self.detail,
            "created_at": self.created_at.isoformat(),
            "prev_hash": self.prev_hash,
        }
        data = json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(data.encode("utf-8")).hexdigest()

    def sealed_data(self):
        """What the entry's HMAC covers: its hash, which covers everything else and the chain before it."""
        return self.hash.encode("ascii")

    @property
    def stage_before_label(self):
        return stage_label(self.stage_before)

    @property
    def stage_after_label(self):
        return stage_label(self.stage_after)


class DocumentUserObjectPermission(UserObjectPermissionBase):
    """A grant of one document to one person (django-guardian with a direct foreign key, so
    that visibility joins on the document's id). Everyone else sees a document by a rule of
    their roles (issuance.roles.visible_documents)."""

    # The default related name: guardian finds a direct model through it (get_obj_perms_model).
    content_object = models.ForeignKey(Document, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = "公文授权"
        verbose_name_plural = "公文授权"
