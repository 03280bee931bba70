"""What the office records about a document once it is signed: its 发文字号 (and the 空号
of each sequence), the address book of recipient organs and the copies sent, the print
jobs and their attempts, and the archive record with its files. Append-only, like the history.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .documents import AppendOnlyModel, Document, Revision
from .organs import Organ


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
        # One 全宗 in the archive list's order: a page of it is read off the index.
        indexes = [models.Index(fields=["fonds_code", "-year", "retention", "item_number"], name="archive_fonds_order")]

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

    A worker holds a running job by a lease (`lease_until`) that it renews while it renders;
    a job whose lease ran out lost its worker (a crash, a kill, a restart) and is taken up
    again by any process's dispatcher (workflows.printing). A queued job's lease is the time
    its dispatched worker has to take it before the dispatchers do. Each attempt is a
    PrintAttempt. Kept after it finishes, so that the document page can show what happened.
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
    lease_until = models.DateTimeField("租约到期", null=True, blank=True)
    worker = models.CharField("执行进程", max_length=200, blank=True)

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
        indexes = [
            # The dispatchers' sweep: active jobs whose lease ran out.
            models.Index(fields=["lease_until"], condition=Q(status__in=["queued", "running"]),
                         name="print_job_active_lease"),
        ]


class PrintAttempt(models.Model):
    """One attempt at a print job: which process made it, when, and how it ended."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "进行中"
        DONE = "done", "完成"
        FAILED = "failed", "失败"
        LOST = "lost", "中断（印制进程退出）"

    job = models.ForeignKey(PrintJob, on_delete=models.PROTECT, related_name="attempt_log", verbose_name="印制任务")
    number = models.PositiveIntegerField("第几次")
    worker = models.CharField("执行进程", max_length=200, blank=True)
    outcome = models.CharField("结果", max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    error = models.TextField("错误信息", blank=True)
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "印制尝试"
        verbose_name_plural = "印制尝试"
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="print_attempt_unique_number")]
