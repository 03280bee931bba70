"""Review chains as data, and each document's run through one.

The shape follows wagtail's moderation workflows: the definition (`ReviewChain`, its
immutable `ChainVersion`s and their `ChainStep`s) is kept apart from a run (`Round`, one
per submission) and the outcome of each unit of work in it (`StepState`: one per step, or
one per party of a 会签). A document keeps the chain version it was submitted under; an
edit makes a new version for the documents submitted after it.

A `StepState` also says, as columns, who may take it (`assignee`, or a role of an organ
and possibly of a 科室, or named people), so that "what may this person do" and "who may
see this document" are database filters (issuance.roles).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .documents import AppendOnlyModel, Document, Revision
from .organs import Department, Organ, Role


class StepKind(models.TextChoices):
    """What a step does. The first two are a chain's; the others are the fixed issuing half
    and the drafter's 修改."""

    REVIEW = "review", "审核"
    SIGN = "sign", "签发"
    RECHECK = "recheck", "复核"
    REGISTER = "register", "登记"
    PRINT = "print", "印制"
    DISTRIBUTE = "distribute", "核发"
    ARCHIVE = "archive", "归档"
    REVISE = "revise", "修改"


REVIEW_KINDS = (StepKind.REVIEW, StepKind.SIGN)


class Actor(models.TextChoices):
    """Who acts on a step of a chain."""

    DEPARTMENT_HEAD = "department_head", "承办科室负责人"
    SUPERVISOR = "supervisor", "承办科室的分管领导"
    ROLE = "role", "本机关岗位"
    USERS = "users", "指定人员"
    PARTIES = "parties", "会签单位"


# The roles a ROLE step may name.
STEP_ROLES = (Role.OFFICE_REVIEWER, Role.SUPERVISOR, Role.PRINCIPAL, Role.DEPARTMENT_HEAD, Role.CLERK)


class ReviewChain(models.Model):
    """A 审核流程 of one organ, chosen for a document by its 文种, 行文方向 and 类别."""

    organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="chains", verbose_name="机关")
    name = models.CharField("流程名称", max_length=50)
    doc_types = models.JSONField("适用文种", default=list, blank=True, help_text="空表示全部文种")
    directions = models.JSONField("适用行文方向", default=list, blank=True, help_text="空表示全部行文方向")
    category = models.CharField("适用类别", max_length=40, blank=True, help_text="空表示不限类别")
    active = models.BooleanField("启用", default=True)
    version = models.ForeignKey("ChainVersion", on_delete=models.PROTECT, null=True, related_name="+",
                                verbose_name="现行版本")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "审核流程"
        verbose_name_plural = "审核流程"
        ordering = ["organ", "pk"]
        constraints = [models.UniqueConstraint(fields=["organ", "name"], name="chain_unique_name")]

    def __str__(self):
        return self.name

    def specificity(self):
        """How narrowly the chain applies: a 类别 counts most, then 文种, then 行文方向."""
        return 4 * bool(self.category) + 2 * bool(self.doc_types) + bool(self.directions)

    def applies_to(self, doc_type, direction, category):
        return (
            (not self.doc_types or doc_type in self.doc_types)
            and (not self.directions or direction in self.directions)
            and (not self.category or self.category == category)
        )


class ChainVersion(AppendOnlyModel):
    """One version of a chain's steps, never changed once documents may run on it."""

    chain = models.ForeignKey(ReviewChain, on_delete=models.PROTECT, related_name="versions", verbose_name="审核流程")
    number = models.PositiveIntegerField("版本")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+",
                                   verbose_name="修改人")
    created_at = models.DateTimeField("修改时间", default=timezone.now)
    note = models.CharField("修改内容", max_length=500, blank=True)

    class Meta:
        verbose_name = "审核流程版本"
        verbose_name_plural = "审核流程版本"
        ordering = ["chain", "number"]
        constraints = [models.UniqueConstraint(fields=["chain", "number"], name="chain_version_unique_number")]

    def __str__(self):
        return f"{self.chain.name}（第{self.number}版）"


class ChainStep(AppendOnlyModel):
    """One step of a chain version, in order."""

    version = models.ForeignKey(ChainVersion, on_delete=models.PROTECT, related_name="steps", verbose_name="版本")
    position = models.PositiveSmallIntegerField("顺序")
    name = models.CharField("环节名称", max_length=20)
    kind = models.CharField("类型", max_length=10, choices=[(k.value, k.label) for k in REVIEW_KINDS],
                            default=StepKind.REVIEW)
    actor = models.CharField("办理人", max_length=20, choices=Actor.choices)
    role = models.CharField("岗位", max_length=20, choices=Role.choices, blank=True)
    parallel = models.BooleanField("并行会签", default=False, help_text="指定人员各自办理，全部同意后进入下一环节")
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name="指定人员")
    time_limit = models.PositiveSmallIntegerField("办理时限（工作日）", default=2,
                                                  help_text="到达后几个工作日内办结；0 表示不限")

    class Meta:
        verbose_name = "审核环节"
        verbose_name_plural = "审核环节"
        ordering = ["version", "position"]
        constraints = [models.UniqueConstraint(fields=["version", "position"], name="chain_step_unique_position")]

    def __str__(self):
        return self.name

    @property
    def is_parallel(self):
        return self.actor == Actor.PARTIES or (self.actor == Actor.USERS and self.parallel)


class Round(models.Model):
    """One submission of a document: from 送审 until it comes back to its drafter or is archived."""

    class Status(models.TextChoices):
        ACTIVE = "active", "办理中"
        RETURNED = "returned", "已退回"
        WITHDRAWN = "withdrawn", "已撤回"
        DONE = "done", "已办结"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="rounds", verbose_name="公文")
    number = models.PositiveIntegerField("轮次")
    chain = models.ForeignKey(ReviewChain, on_delete=models.PROTECT, related_name="rounds", verbose_name="审核流程")
    version = models.ForeignKey(ChainVersion, on_delete=models.PROTECT, related_name="rounds", verbose_name="流程版本")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # Each time the engine opens a step it takes the next number; the states it opens carry it.
    openings = models.PositiveIntegerField("开启次数", default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="送审人")
    started_at = models.DateTimeField("送审时间", default=timezone.now)
    ended_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "审核轮次"
        verbose_name_plural = "审核轮次"
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="round_unique_number"),
            # At most one run of a document is under way (as wagtail's WorkflowState).
            models.UniqueConstraint(fields=["document"], condition=Q(status="active"), name="round_one_active"),
        ]

    def __str__(self):
        return f"第{self.number}轮"


class StepState(models.Model):
    """One unit of work at one step of a round: a step, or one party of a 会签."""

    class Status(models.TextChoices):
        OPEN = "open", "办理中"
        DONE = "done", "已办理"
        RETURNED = "returned", "已退回"
        CANCELLED = "cancelled", "已取消"
        TAKEN_BACK = "taken_back", "已撤回"
        SKIPPED = "skipped", "已跳过"

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="step_states", verbose_name="公文")
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="states", verbose_name="轮次")
    position = models.PositiveSmallIntegerField("顺序")
    opening = models.PositiveIntegerField("开启序号")
    kind = models.CharField("类型", max_length=10, choices=StepKind.choices)
    name = models.CharField("环节", max_length=20)
    chain_step = models.ForeignKey(ChainStep, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                   verbose_name="审核环节")
    # The 三审 rules (never the drafter, never two steps of one document) apply to review steps.
    is_review = models.BooleanField("审核环节", default=False)
    party_department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                         verbose_name="会签科室")
    party_organ = models.ForeignKey(Organ, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                    verbose_name="会签机关")
    # Who may take it: one person, else the named people, else whoever holds the role in
    # the organ (for the 科室 when one is given).
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name="指定办理人")
    candidate_users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                             verbose_name="可办理人员")
    candidate_organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="+", verbose_name="办理机关")
    candidate_role = models.CharField("办理岗位", max_length=20, choices=Role.choices, blank=True)
    candidate_department = models.ForeignKey(Department, on_delete=models.PROTECT, null=True, blank=True,
                                             related_name="+", verbose_name="办理科室")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField("到达时间", default=timezone.now)
    due_on = models.DateField("办理期限", null=True, blank=True)
    # Who took it from the queue (a claim), and who did it when that was a deputy (代理):
    # `finished_by` is then the person they stood in for, whose step it counts as.
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name="领取人")
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    finished_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+", verbose_name="办理人")
    acted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="+", verbose_name="代理人")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 verbose_name="所办稿本")
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "环节办理"
        verbose_name_plural = "环节办理"
        ordering = ["round", "opening", "pk"]
        indexes = [
            models.Index(fields=["document", "status"], name="state_document_status"),
            models.Index(fields=["status", "candidate_organ", "candidate_role"], name="state_open_candidates"),
            models.Index(fields=["finished_by", "document"], name="state_finished_by"),
        ]

    def __str__(self):
        return f"{self.name}{'（' + self.party_label + '）' if self.party_label else ''}"

    @property
    def party_label(self):
        if self.party_department_id:
            return self.party_department.name
        if self.party_organ_id:
            return self.party_organ.name
        return ""

    @property
    def is_open(self):
        return self.status == self.Status.OPEN

    def is_overdue(self, today=None):
        return self.is_open and self.due_on is not None and (today or timezone.localdate()) > self.due_on
