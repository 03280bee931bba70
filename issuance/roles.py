"""The roles of the 发文办理 path, as Django groups with model permissions, and who may act at each stage."""

from .models import REVIEW_STEPS, Opinion, Stage


class Role:
    DRAFTER = "拟稿人"
    DEPARTMENT_HEAD = "科室负责人"
    OFFICE_REVIEWER = "办公室核稿"
    SUPERVISOR = "分管领导"
    PRINCIPAL = "主要领导"
    CLERK = "办公室文书"
    ARCHIVIST = "档案员"


# Each group and the permission codenames (app "issuance") it holds.
ROLE_PERMISSIONS = {
    Role.DRAFTER: ["add_document", "view_document"],
    Role.DEPARTMENT_HEAD: ["review_first"],
    Role.OFFICE_REVIEWER: ["review_office"],
    Role.SUPERVISOR: ["review_final"],
    Role.PRINCIPAL: ["sign_document"],
    Role.CLERK: ["issue_document"],
    Role.ARCHIVIST: ["archive_document"],
}

# The roles that see every submitted document of their organ: the office and the principal.
OFFICE_ROLES = (Role.OFFICE_REVIEWER, Role.CLERK, Role.ARCHIVIST, Role.PRINCIPAL, Role.SUPERVISOR)

# The permission that lets a user act at a stage.
STAGE_PERMISSION = {
    Stage.FIRST_REVIEW: "issuance.review_first",
    Stage.SECOND_REVIEW: "issuance.review_office",
    Stage.FINAL_REVIEW: "issuance.review_final",
    Stage.SIGNING: "issuance.sign_document",
    Stage.RECHECK: "issuance.issue_document",
    Stage.REGISTRATION: "issuance.issue_document",
    Stage.PRINTING: "issuance.issue_document",
    Stage.DISTRIBUTION: "issuance.issue_document",
    Stage.ARCHIVING: "issuance.archive_document",
}


def holders(permission, organ):
    """Active staff of `organ` who hold `permission` ("issuance.review_first"), through a group or directly."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    app_label, codename = permission.split(".")
    perm = Permission.objects.get(content_type__app_label=app_label, codename=codename)
    return (
        get_user_model().objects.filter(Q(groups__permissions=perm) | Q(user_permissions=perm) | Q(is_superuser=True))
        .filter(is_active=True, staff__department__organ=organ)
        .distinct()
    )


def first_reviewers(document):
    """Who may do the 初审: the drafting 科室's head; when the head drafted it or the 科室 has
    none, another holder of the role in the 科室, else in the organ. Never the drafter."""
    department = document.department
    if department.head_id and department.head_id != document.drafter_id:
        return type(department.head).objects.filter(pk=department.head_id, is_active=True)
    candidates = holders(STAGE_PERMISSION[Stage.FIRST_REVIEW], document.organ).exclude(pk=document.drafter_id)
    in_department = candidates.filter(staff__department=department)
    return in_department if in_department.exists() else candidates


def final_reviewers(document):
    """Who may do the 终审: the 科室's 分管领导, or any 分管领导 when it names none or it is the drafter."""
    department = document.department
    if department.supervisor_id and department.supervisor_id != document.drafter_id:
        return type(department.supervisor).objects.filter(pk=department.supervisor_id, is_active=True)
    return holders(STAGE_PERMISSION[Stage.FINAL_REVIEW], document.organ).exclude(pk=document.drafter_id)


def sole(users):
    """The one user of `users`, or None: a task goes straight to a person's 待办 only when
    exactly one person may take it; otherwise it waits in the role's queue."""
    users = list(users[:2])
    return users[0] if len(users) == 1 else None


def refusal(document, user, stage):
    """Why `user` may not act on `document` at `stage`, in the user's words; None if they may.

    The rules of the 三审制: the holder of the stage's role, never the drafter, and never
    the same person at two of one document's review steps. 初审 belongs to the drafting
    科室's head and 终审 to its 分管领导 (see first_reviewers and final_reviewers).
    """
    if user is None or not user.is_authenticated:
        return "请先登录"
    if not user.is_active:
        return "账号已停用"
    permission = STAGE_PERMISSION.get(stage)
    if permission is None:
        return f"“{Stage(stage).label}”环节无需办理"
    if not user.has_perm(permission):
        return f"您没有办理“{Stage(stage).label}”的权限"
    if stage in (Stage.FIRST_REVIEW, Stage.SECOND_REVIEW, Stage.FINAL_REVIEW, Stage.SIGNING):
        if user.pk == document.drafter_id:
            return "不能审核或签发自己起草的公文"
    if stage in REVIEW_STEPS:
        other_steps = [step for step in REVIEW_STEPS if step != stage]
        if Opinion.objects.filter(document=document, user=user, step__in=other_steps).exists():
            return "同一人不能承担同一公文的两个审核环节"
    if stage == Stage.FIRST_REVIEW and not first_reviewers(document).filter(pk=user.pk).exists():
        return f"初审应由{document.department.name}负责人办理"
    if stage == Stage.FINAL_REVIEW and not final_reviewers(document).filter(pk=user.pk).exists():
        return f"终审应由{document.department.name}的分管领导办理"
    return None


def may_act(document, user, stage):
    return refusal(document, user, stage) is None


def can_grant(user, document):
    """The drafter and the office's reviewers and clerks may let one more person see a document."""
    return user.pk == document.drafter_id or user.groups.filter(name__in=(Role.CLERK, Role.OFFICE_REVIEWER)).exists()


def can_view(user, document):
    """Only the drafter, the people on the document's path, the office and users granted it."""
    return bool(user and user.is_authenticated and user.has_perm("issuance.view_document", document))


def visible_documents(user):
    from guardian.shortcuts import get_objects_for_user

    from .models import Document

    if not user.is_authenticated:
        return Document.objects.none()
    return get_objects_for_user(user, "issuance.view_document", klass=Document, accept_global_perms=False)
