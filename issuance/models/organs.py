"""Organs side by side: each organ with its 科室, and the roles people hold in it.

A person's standing is a set of `Appointment` rows: a role in one organ, and for the roles
that need it (拟稿人, 科室负责人, 分管领导) the 科室 it covers. Someone who works for two organs
holds appointments in both, explicitly; nothing is inherited across organs.
"""

from django.conf import settings
from django.db import models


class Organ(models.Model):
    """An issuing organ (发文机关) with its 机关代字 and archive 全宗号."""

    name = models.CharField("机关全称", max_length=100, unique=True)
    short_name = models.CharField("规范化简称", max_length=50, blank=True)
    code = models.CharField("机关代字", max_length=20, unique=True, help_text="如：泉科")
    fonds_code = models.CharField("全宗号", max_length=20, unique=True, help_text="档案全宗号，如：X001")
    office_name = models.CharField("印发机关", max_length=100, help_text="如：泉州市科学技术局办公室")

    class Meta:
        verbose_name = "发文机关"
        verbose_name_plural = "发文机关"
        ordering = ["pk"]

    def __str__(self):
        return self.name


class Department(models.Model):
    """A 科室 of an organ."""

    organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="departments", verbose_name="机关")
    name = models.CharField("科室名称", max_length=100)
    code = models.CharField("机构代码", max_length=20, help_text="档号中的机构（问题）代码，如：BGS")

    class Meta:
        verbose_name = "科室"
        verbose_name_plural = "科室"
        ordering = ["organ", "pk"]
        constraints = [models.UniqueConstraint(fields=["organ", "name"], name="department_unique_name")]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    """What a person does in an organ."""

    DRAFTER = "drafter", "拟稿人"
    DEPARTMENT_HEAD = "department_head", "科室负责人"
    OFFICE_REVIEWER = "office_reviewer", "办公室核稿"
    SUPERVISOR = "supervisor", "分管领导"
    PRINCIPAL = "principal", "主要领导"
    CLERK = "clerk", "办公室文书"
    ARCHIVIST = "archivist", "档案员"
    ADMINISTRATOR = "administrator", "机关管理员"


# Roles held for particular 科室: a drafter drafts for one, a head heads and a 分管领导
# supervises one or more. The other roles are organ-wide.
DEPARTMENT_ROLES = (Role.DRAFTER, Role.DEPARTMENT_HEAD, Role.SUPERVISOR)


class Appointment(models.Model):
    """A person holds `role` in `organ` (for `departments` where the role needs them)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="appointments",
                             verbose_name="人员")
    organ = models.ForeignKey(Organ, on_delete=models.PROTECT, related_name="appointments", verbose_name="机关")
    role = models.CharField("岗位", max_length=20, choices=Role.choices)
    departments = models.ManyToManyField(Department, blank=True, related_name="appointments", verbose_name="科室")
    title = models.CharField("职务", max_length=50, blank=True)

    class Meta:
        verbose_name = "任职"
        verbose_name_plural = "任职"
        ordering = ["organ", "user", "role"]
        constraints = [models.UniqueConstraint(fields=["user", "organ", "role"], name="appointment_unique_role")]
        indexes = [models.Index(fields=["organ", "role"], name="appointment_organ_role")]

    def __str__(self):
        return f"{display_name(self.user)}：{self.organ.short_name or self.organ.name}{self.get_role_display()}"


def display_name(user):
    """The name a civil servant is known by: 姓名 if set, else the login name."""
    if user is None:
        return ""
    full = f"{user.last_name}{user.first_name}".strip()
    return full or user.get_username()


class Delegation(models.Model):
    """代理: while `principal` is away (请假), `deputy` does the tasks that come to them.

    What the deputy does counts as the principal's step (the 三审 rules see the principal)
    and is recorded as 王丽（代 张伟）. Set by the principal, or by the office for someone away.
    """

    principal = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations",
                                  verbose_name="被代理人")
    deputy = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="deputisings",
                               verbose_name="代理人")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    reason = models.CharField("事由", max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="设置人")
    created_at = models.DateTimeField("设置时间", auto_now_add=True)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)

    class Meta:
        verbose_name = "代理"
        verbose_name_plural = "代理"
        ordering = ["-starts_on", "pk"]
        indexes = [models.Index(fields=["deputy", "starts_on", "ends_on"], name="delegation_deputy_dates")]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="delegation_dates"),
        ]

    def __str__(self):
        return f"{display_name(self.deputy)}代理{display_name(self.principal)}（{self.starts_on}—{self.ends_on}）"
