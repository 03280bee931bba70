"""The document domain: organs, documents, their immutable revisions, opinions and history.

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


class Organ(models.Model):
    """An issuing organ (发文机关) with its 机关代字 and archive 全宗号."""

    name = models.CharField("机关全称", max_length=100, unique=True)
    short_name = models.CharField("规范化简称", max_length=50, blank=True)
    code = models.CharField("机关代字", max_length=20, unique=True, help_text="如：泉科")
    fonds_code = models.CharField("全宗号", max_length=20, help_text="档案全宗号，如：X001")
    office_name = models.CharField("印发机关", max_length=100, help_text="如：泉州市科学技术局办公室")

    class Meta:
        verbose_name = "发文机关"
        verbose_name_plural = "发文机关"

    def __str__(self):
        return self.name


class Department(models.Model):
    """A 科室 of an organ; its head does the 初审 and its 分管领导 the 终审 of its drafts."""

    organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="departments", verbose_name="机关")
    name = models.CharField("科室名称", max_length=100)
    code = models.CharField("机构代码", max_length=20, help_text="档号中的机构（问题）代码，如：BGS")
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="headed_departments", verbose_name="科室负责人",
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="supervised_departments", verbose_name="分管领导",
    )

    class Meta:
        verbose_name = "科室"
        verbose_name_plural = "科室"
        constraints = [models.UniqueConstraint(fields=["organ", "name"], name="department_unique_name")]

    def __str__(self):
        return self.name


class Staff(models.Model):
    """Where a user works: the organ and 科室 whose documents they draft or review."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="staff", verbose_name="科室")
    title = models.CharField("职务", max_length=50, blank=True)

    class Meta:
        verbose_name = "工作人员"
        verbose_name_plural = "工作人员"

    def __str__(self):
        return f"{display_name(self.user)}（{self.department}）"


def display_name(user):
    """The name a civil servant is known by: 姓名 if set, else the login name."""
    if user is None:
        return ""
    full = f"{user.last_name}{user.first_name}".strip()
    return full or user.get_username()


class Stage(models.TextChoices):
    """Where a document stands on the 发文办理 path."""

    DRAFTING = "drafting", "拟稿"
    RETURNED = "returned", "退回修改"
    FIRST_REVIEW = "first_review", "初审"
    SECOND_REVIEW = "second_review", "复审"
    FINAL_REVIEW = "final_review", "终审"
    SIGNING = "signing", "签发"
    RECHECK = "recheck", "复核"
    REGISTRATION = "registration", "登记"
    PRINTING = "printing", "印制"
    DISTRIBUTION = "distribution", "核发"
    ARCHIVING = "archiving", "归档"
    ARCHIVED = "archived", "已归档"


class Document(models.Model):
    """One outgoing 公文, from its first draft to its archive record."""

    organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="documents", verbose_name="发文机关")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="documents", verbose_name="承办科室")
    drafter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="drafted_documents", verbose_name="拟稿人")
    stage = models.CharField("环节", max_length=20, choices=Stage.choices, default=Stage.DRAFTING, db_index=True)
    title = models.CharField("标题", max_length=200)
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
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "公文"
        verbose_name_plural = "公文"
        ordering = ["-updated_at"]
        permissions = [
            ("review_first", "担任初审（科室负责人）"),
            ("review_office", "担任复审（办公室核稿）"),
            ("review_final", "担任终审（分管领导）"),
            ("sign_document", "签发公文（主要领导）"),
            ("issue_document", "办理印发（办公室文书）"),
            ("archive_document", "办理归档（档案员）"),
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


class Step(models.TextChoices):
    """The steps at which a person records an opinion."""

    DRAFT = "draft", "拟稿"
    FIRST_REVIEW = "first_review", "初审"
    SECOND_REVIEW = "second_review", "复审"
    FINAL_REVIEW = "final_review", "终审"
    SIGNING = "signing", "签发"
    RECHECK = "recheck", "复核"
    PRINTING = "printing", "印制"


REVIEW_STEPS = (Step.FIRST_REVIEW, Step.SECOND_REVIEW, Step.FINAL_REVIEW)


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
    step = models.CharField("环节", max_length=20, choices=Step.choices)
    decision = models.CharField("意见", max_length=20, choices=Decision.choices)
    text = models.TextField("意见内容", blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="opinions", verbose_name="办理人")
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "审批意见"
        verbose_name_plural = "审批意见"
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.get_step_display()} {display_name(self.user)} {self.get_decision_display()}"


class Event(AppendOnlyModel):
    """One entry of a document's history. Each carries the hash of the one before it,
    so that a row changed or removed behind the app's back breaks the chain."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="events", verbose_name="公文")
    seq = models.PositiveIntegerField("序号")
    action = models.CharField("操作", max_length=40)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="操作人")
    stage_before = models.CharField("原环节", max_length=20, choices=Stage.choices, blank=True)
    stage_after = models.CharField("新环节", max_length=20, choices=Stage.choices, blank=True)
    detail = models.JSONField("详情", default=dict)
    created_at = models.DateTimeField("时间", default=timezone.now)
    prev_hash = models.CharField("前一条哈希", max_length=64)
    hash = models.CharField("哈希", max_length=64)

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


class NumberSequence(models.Model):
    """The last 序号 given for one 机关代字 in one year; locked while a number is given."""

    organ_code = models.CharField("机关代字", max_length=20)
    year = models.PositiveIntegerField("年度")
    last_serial = models.PositiveIntegerField("已用至", default=0)

    class Meta:
        verbose_name = "发文字号序列"
        verbose_name_plural = "发文字号序列"
        constraints = [models.UniqueConstraint(fields=["organ_code", "year"], name="sequence_unique_year")]


class IssuedNumber(AppendOnlyModel):
    """A 发文字号 once given. The unique constraint is the backstop against duplicates."""

    organ_code = models.CharField("机关代字", max_length=20)
    year = models.PositiveIntegerField("年度")
    serial = models.PositiveIntegerField("序号")
    number = models.CharField("发文字号", max_length=60, unique=True)
    # A document whose number was voided before printing gets a new one at its next 登记.
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="issued_numbers", verbose_name="公文")
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="登记人")
    given_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "发文字号"
        verbose_name_plural = "发文字号"
        ordering = ["organ_code", "year", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["organ_code", "year", "serial"], name="number_unique_serial"),
        ]


class NumberVoid(AppendOnlyModel):
    """A 空号: a serial of the sequence that no document carries, with the reason why."""

    organ_code = models.CharField("机关代字", max_length=20)
    year = models.PositiveIntegerField("年度")
    serial = models.PositiveIntegerField("序号")
    number = models.CharField("发文字号", max_length=60, unique=True)
    reason = models.CharField("作废原因", max_length=200)
    voided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name="作废人")
    voided_at = models.DateTimeField("作废时间", default=timezone.now)

    class Meta:
        verbose_name = "空号"
        verbose_name_plural = "空号"
        ordering = ["organ_code", "year", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["organ_code", "year", "serial"], name="void_unique_serial"),
        ]


class RecipientOrgan(models.Model):
    """An organ that receives documents: the office's address book for 主送 and 抄送."""

    organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="recipients", verbose_name="发文机关")
    name = models.CharField("收文机关", max_length=200)
    aliases = models.TextField("别称", blank=True, help_text="每行一个，如简称或旧称，用于从主送、抄送文字中识别")
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "收文机关"
        verbose_name_plural = "收文机关"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organ", "name"], name="recipient_unique_name")]

    def __str__(self):
        return self.name

    def alias_list(self):
        return [line.strip() for line in self.aliases.splitlines() if line.strip()]


class Distribution(AppendOnlyModel):
    """核发: one recipient organ's copy, when and by whom it was sent."""

    class Role(models.TextChoices):
        MAIN = "main", "主送"
        CC = "cc", "抄送"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="distributions", verbose_name="公文")
    recipient = models.CharField("收文机关", max_length=200)
    recipient_organ = models.ForeignKey(
        RecipientOrgan, on_delete=models.PROTECT, null=True, blank=True, related_name="distributions", verbose_name="收文机关名录"
    )
    role = models.CharField("类别", max_length=10, choices=Role.choices)
    copies = models.PositiveIntegerField("份数", default=1)
    first_copy = models.PositiveIntegerField("起始份号", null=True, blank=True)
    last_copy = models.PositiveIntegerField("截止份号", null=True, blank=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="核发人")
    sent_at = models.DateTimeField("核发时间", default=timezone.now)

    class Meta:
        verbose_name = "分发记录"
        verbose_name_plural = "分发记录"
        ordering = ["pk"]

    @property
    def copy_numbers(self):
        """份号 range as printed on the copies, e.g. 000001—000003."""
        if self.first_copy is None:
            return ""
        if self.first_copy == self.last_copy:
            return f"{self.first_copy:06d}"
        return f"{self.first_copy:06d}—{self.last_copy:06d}"


class Retention(models.TextChoices):
    PERMANENT = "Y", "永久"
    THIRTY_YEARS = "D30", "定期30年"
    TEN_YEARS = "D10", "定期10年"


class ArchiveRecord(AppendOnlyModel):
    """One 件 of the archive (DA/T 22-2015), made once when a document is filed."""

    document = models.OneToOneField(Document, on_delete=models.PROTECT, related_name="archive_record", verbose_name="公文")
    archive_code = models.CharField("档号", max_length=80, unique=True)
    fonds_code = models.CharField("全宗号", max_length=20)
    year = models.PositiveIntegerField("年度")
    retention = models.CharField("保管期限", max_length=5, choices=Retention.choices)
    department_code = models.CharField("机构代码", max_length=20)
    item_number = models.PositiveIntegerField("件号")
    doc_number = models.CharField("文号", max_length=60)
    responsible = models.CharField("责任者", max_length=200)
    title = models.CharField("题名", max_length=200)
    date = models.DateField("日期")
    secrecy = models.CharField("密级", max_length=10, blank=True)
    pages = models.PositiveIntegerField("页数")
    remarks = models.CharField("备注", max_length=200, blank=True)
    full_text = models.TextField("全文", blank=True, help_text="标题、主送、正文、附件说明和抄送的文字，供全文检索")
    archived_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="归档人")
    archived_at = models.DateTimeField("归档时间", default=timezone.now)

    class Meta:
        verbose_name = "档案"
        verbose_name_plural = "档案"
        ordering = ["-year", "retention", "item_number"]
        constraints = [
            models.UniqueConstraint(fields=["fonds_code", "year", "retention", "item_number"], name="archive_unique_item"),
        ]

    def __str__(self):
        return self.archive_code


class ArchiveFile(AppendOnlyModel):
    """One file of an archive package, stored under MEDIA_ROOT by relative path, with its hash."""

    class Kind(models.TextChoices):
        ISSUED_PDF = "issued_pdf", "正式文件（PDF）"
        SIGNED_JSON = "signed_json", "签发定稿（JSON）"
        DRAFT_SHEET = "draft_sheet", "发文稿纸（PDF）"
        DISTRIBUTION = "distribution", "分发清单（JSON）"
        METADATA = "metadata", "元数据（JSON）"

    record = models.ForeignKey(ArchiveRecord, on_delete=models.PROTECT, related_name="files", verbose_name="档案")
    kind = models.CharField("类别", max_length=20, choices=Kind.choices)
    path = models.CharField("存储路径", max_length=300)
    sha256 = models.CharField("SHA-256", max_length=64)
    size = models.PositiveBigIntegerField("字节数")

    class Meta:
        verbose_name = "档案文件"
        verbose_name_plural = "档案文件"
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["record", "kind"], name="archive_file_unique_kind")]


class PrintJob(models.Model):
    """印制 in the background: one rendering of a signed revision, retried until it succeeds.

    Kept after it finishes, so that the document page can show what happened.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "排队中"
        RUNNING = "running", "印制中"
        DONE = "done", "已完成"
        FAILED = "failed", "失败"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="print_jobs", verbose_name="公文")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="+", verbose_name="签发稿")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name="申请人")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    error = models.TextField("错误信息", blank=True)
    created_at = models.DateTimeField("申请时间", default=timezone.now)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "印制任务"
        verbose_name_plural = "印制任务"
        ordering = ["-created_at"]
        constraints = [
            # At most one job per document may be queued or running.
            models.UniqueConstraint(
                fields=["document"], condition=Q(status__in=["queued", "running"]), name="print_job_one_active"
            ),
        ]
