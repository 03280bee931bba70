"""The drafter's verbs: start a draft for one of their 科室, save each edit as an immutable
revision with its 格式审查, choose how it is routed (类别, 会签科室), and let one more person
see it."""

from django.contrib.auth import get_user_model
from django.db import transaction
from guardian.shortcuts import assign_perm

from .. import chains, exchange, numbering
from ..exceptions import IssuanceError
from ..models import EDITABLE_STAGES, Department, Document, Revision, Stage, StepKind, StepState, display_name
from ..roles import can_grant, drafting_departments, may_act, memberships
from . import format_review
from .history import lock, note, record_event
from .review import send_back_to_signing

MAX_COPIES = 100000


def check_copies(copies):
    if copies is not None and (not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES):
        raise IssuanceError(f"印发份数应为 1 到 {MAX_COPIES} 之间的整数")


def _new_revision(document, user, content):
    """Store `content` as the next revision unless it equals the current one. A number it
    carries from an earlier system must be one 登记 can record (numbering.check_carried)."""
    content = exchange.parse_document(content)
    numbering.check_carried(document.organ, content["doc_number"])
    sha = exchange.content_sha256(content)
    current = document.current_revision
    if current is not None and current.sha256 == sha:
        return None
    number = (current.number if current else 0) + 1
    revision = Revision.objects.create(document=document, number=number, content=content, sha256=sha, author=user)
    format_review.record(document, revision)
    document.current_revision = revision
    document.title = content["title"]
    document.doc_type = content["doc_type"]
    return revision


def _department_for(user, department=None):
    """The 科室 the user drafts for: the one named, which must be theirs, or their only one."""
    departments = list(drafting_departments(user))
    if not departments:
        raise IssuanceError("您没有拟稿权限")
    if department is None:
        if len(departments) > 1:
            raise IssuanceError("请选择承办科室")
        return departments[0]
    department_id = getattr(department, "pk", department)
    for candidate in departments:
        if candidate.pk == department_id:
            return candidate
    raise IssuanceError("您不能为该科室拟稿")


def _clean_routing(document, category, countersign):
    """The 类别 must be one the organ's chains name; 会签科室 are other 科室 of the organ."""
    category = (category or "").strip()
    if category and category not in chains.categories(document.organ):
        raise IssuanceError(f"“{category}”不是本机关的公文类别")
    wanted = {getattr(d, "pk", d) for d in countersign or ()}
    departments = list(Department.objects.filter(organ=document.organ, pk__in=wanted).order_by("pk"))
    if document.department_id in wanted or len(departments) != len(wanted):
        raise IssuanceError("会签科室应为本机关的其他科室")
    return category, departments


def _set_routing(document, user, category, countersign):
    category, departments = _clean_routing(document, category, countersign)
    before = (document.category, [d.name for d in document.countersign_departments.order_by("pk")])
    after = (category, [d.name for d in departments])
    if before == after:
        return
    document.category = category
    document.save(update_fields=["category", "updated_at"])
    document.countersign_departments.set(departments)
    note(document, user, "routing", category=category, countersign=after[1])


@transaction.atomic
def create_draft(user, content, copies=None, department=None, category="", countersign=()):
    """A drafter starts a new document for one of their 科室; it stays private to them until
    submitted. `copies` is the number of copies the drafter proposes; 登记 confirms it."""
    department = _department_for(user, department)
    check_copies(copies)
    document = Document(organ=department.organ, department=department, drafter=user, title="", copies=copies)
    document.save()  # the revision needs its pk; an invalid content rolls both back
    revision = _new_revision(document, user, content)
    document.category, departments = _clean_routing(document, category, countersign)
    document.save()
    document.countersign_departments.set(departments)
    record_event(document, "create", user, "", document.stage, revision=revision.number, sha256=revision.sha256,
                 copies=copies, category=document.category, countersign=[d.name for d in departments])
    return document


def can_edit(document, user):
    """The drafter edits while the draft is theirs; the office may correct it at 复核."""
    if document.stage in EDITABLE_STAGES:
        return user.pk == document.drafter_id
    if document.stage == Stage.RECHECK:
        state = document.step_states.filter(kind=StepKind.RECHECK, status=StepState.Status.OPEN).first()
        return state is not None and may_act(user, state)
    return False


@transaction.atomic
def save_content(document, user, content, copies=None, category=None, countersign=None, fixes=None):
    """Save an edit as a new immutable revision. Returns it, or None when the text did not change.
    Every revision gets its 格式审查; `fixes` ({"rules": […], "count": n}) says that the edit is
    the 格式审查's one-click fixes, and is recorded with it.

    A change made at 复核, after 签发, sends the document back to 签发: the signer must
    see and sign the text that will be issued. While the draft is theirs, the drafter may also
    change the proposed number of copies and the routing (类别, 会签科室), which are recorded in
    the history but are no revision.
    """
    document = lock(document)
    if not can_edit(document, user):
        raise IssuanceError(f"公文处于“{document.get_stage_display()}”环节，您不能修改")
    check_copies(copies)
    drafting = document.stage in EDITABLE_STAGES
    if drafting and copies is not None and copies != document.copies:
        note(document, user, "copies", old=document.copies, new=copies)
        document.copies = copies
        document.save()
    if drafting and category is not None:
        _set_routing(document, user, category, countersign or ())
    revision = _new_revision(document, user, content)
    if revision is None:
        return None
    document.save()
    note(document, user, "save", revision=revision.number, sha256=revision.sha256,
         **({"format_fixes": fixes} if fixes else {}))
    if not drafting:
        send_back_to_signing(document, user, revision)
    return revision


@transaction.atomic
def grant_access(document, by_user, username):
    """The drafter or the office lets one more named user see the document."""
    document = lock(document)
    if not can_grant(by_user, document):
        raise IssuanceError("只有拟稿人和办公室可以授权他人查看")
    User = get_user_model()
    try:
        target = User.objects.get(username=(username or "").strip(), is_active=True)
    except User.DoesNotExist:
        raise IssuanceError(f"用户“{username}”不存在") from None
    if not memberships(target).organs() or document.organ_id not in memberships(target).organs():
        # Another organ takes part in a document only through the 会签 it is given.
        raise IssuanceError(f"{display_name(target)}不是本机关人员，不能授权查看")
    assign_perm("issuance.view_document", target, document)
    note(document, by_user, "grant", user=target.username, name=display_name(target))
    return target

