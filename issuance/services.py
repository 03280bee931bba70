"""The verbs of 发文办理. Each one checks who may do it and from which stage, changes the
document inside one transaction with the document's row locked, and writes a history entry.

Views and the flow call these; none of them re-implements a rule found here.
"""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from . import exchange, numbering, storage
from .exceptions import IssuanceError
from .models import (
    REVIEW_STEPS,
    Decision,
    Distribution,
    Document,
    Event,
    Opinion,
    PrintJob,
    RecipientOrgan,
    Revision,
    Stage,
    Step,
    display_name,
)
from .roles import OFFICE_ROLES, can_grant, final_reviewers, first_reviewers, refusal


# Where an approval at each stage leads.
NEXT_STAGE = {
    Stage.FIRST_REVIEW: Stage.SECOND_REVIEW,
    Stage.SECOND_REVIEW: Stage.FINAL_REVIEW,
    Stage.FINAL_REVIEW: Stage.SIGNING,
    Stage.SIGNING: Stage.RECHECK,
    Stage.RECHECK: Stage.REGISTRATION,
    Stage.REGISTRATION: Stage.PRINTING,
    Stage.PRINTING: Stage.DISTRIBUTION,
    Stage.DISTRIBUTION: Stage.ARCHIVING,
    Stage.ARCHIVING: Stage.ARCHIVED,
}
DECISION_STAGES = {
    Stage.FIRST_REVIEW: Step.FIRST_REVIEW,
    Stage.SECOND_REVIEW: Step.SECOND_REVIEW,
    Stage.FINAL_REVIEW: Step.FINAL_REVIEW,
    Stage.SIGNING: Step.SIGNING,
    Stage.RECHECK: Step.RECHECK,
    Stage.PRINTING: Step.PRINTING,  # only to return the document: printing itself is request_print
}
EDITABLE_STAGES = (Stage.DRAFTING, Stage.RETURNED)

ACTION_LABELS = {
    "create": "创建草稿",
    "save": "保存修改",
    "copies": "修改印发份数",
    "claim": "领取任务",
    "release": "退回待领取",
    "submit": "送审",
    "withdraw": "撤回",
    "approve": "同意",
    "return": "退回",
    "sign": "签发",
    "resign_required": "签发后内容变更，退回签发",
    "register": "登记发文字号",
    "print_requested": "申请印制",
    "print": "印制正式文件",
    "print_failed": "印制失败",
    "void_number": "作废文号，重新登记",
    "distribute": "核发",
    "archive": "归档",
    "grant": "授权查看",
}


def describe_event(event):
    """One line of the 办理日志 in the user's words."""
    detail = event.detail
    text = ACTION_LABELS.get(event.action, event.action)
    if event.action in ("approve", "return"):
        text = Step(detail["step"]).label + text
    if detail.get("revision") and event.action in ("create", "save", "submit", "sign", "print"):
        text += f"（第{detail['revision']}稿）"
    if detail.get("doc_number"):
        text += f" {detail['doc_number']}"
    if detail.get("archive_code"):
        text += f"，档号 {detail['archive_code']}"
    if event.action in ("claim", "release"):
        text += f"：{detail['step']}"
    if event.action == "copies":
        text += f"：{detail['old'] or '未填'} → {detail['new']}"
    if event.action == "grant":
        text += f"：{detail['name']}"
    if detail.get("reason"):
        text += f"：{detail['reason']}"
    return text


def _lock(document):
    """Re-read the document with its row locked for the rest of the transaction."""
    return Document.objects.select_for_update().select_related("department", "organ").get(pk=document.pk)


def record_event(document, action, actor, before, after, **detail):
    last = document.events.order_by("-seq").first()
    event = Event(
        document=document,
        seq=last.seq + 1 if last else 1,
        action=action,
        actor=actor,
        stage_before=before,
        stage_after=after,
        detail=detail,
        created_at=timezone.now(),
        prev_hash=last.hash if last else "0" * 64,
    )
    event.hash = event.compute_hash()
    event.save()
    return event


def _move(document, actor, action, after, **detail):
    before = document.stage
    document.stage = after
    document.save()
    record_event(document, action, actor, before, after, **detail)


def _new_revision(document, user, content):
    """Store `content` as the next revision unless it equals the current one."""
    content = exchange.parse_document(content)
    sha = exchange.content_sha256(content)
    current = document.current_revision
    if current is not None and current.sha256 == sha:
        return None
    number = (current.number if current else 0) + 1
    revision = Revision.objects.create(document=document, number=number, content=content, sha256=sha, author=user)
    document.current_revision = revision
    document.title = content["title"]
    return revision


def _void_signature(document):
    """A return, or a change after 签发, means the text must be signed again."""
    document.signed_revision = None
    document.signed_by = None
    document.signed_at = None


def _record_opinion(document, user, step, decision, text):
    return Opinion.objects.create(
        document=document, revision=document.current_revision, round=document.round,
        step=step, decision=decision, text=text, user=user,
    )


def _staff_department(user):
    staff = getattr(user, "staff", None)
    if staff is None:
        raise IssuanceError("您尚未分配科室，不能拟稿，请联系办公室")
    return staff.department


def _check_copies(copies):
    if copies is not None and (not isinstance(copies, int) or not 1 <= copies <= 100000):
        raise IssuanceError("印发份数应为 1 到 100000 之间的整数")


@transaction.atomic
def create_draft(user, content, copies=None):
    """A drafter starts a new document; it stays private to them until submitted.
    `copies` is the number of copies the drafter proposes; 登记 confirms it."""
    if not user.has_perm("issuance.add_document"):
        raise IssuanceError("您没有拟稿权限")
    _check_copies(copies)
    department = _staff_department(user)
    document = Document(organ=department.organ, department=department, drafter=user, title="", copies=copies)
    document.save()  # the revision needs its pk; an invalid content rolls both back
    revision = _new_revision(document, user, content)
    document.save()
    assign_perm("issuance.view_document", user, document)
    assign_perm("issuance.change_document", user, document)
    record_event(document, "create", user, "", document.stage, revision=revision.number, sha256=revision.sha256,
                 copies=copies)
    return document


def can_edit(document, user):
    """The drafter edits while the draft is theirs; the office may correct it at 复核."""
    if document.stage in EDITABLE_STAGES:
        return user.pk == document.drafter_id
    if document.stage == Stage.RECHECK:
        return refusal(document, user, Stage.RECHECK) is None
    return False


@transaction.atomic
def save_content(document, user, content, copies=None):
    """Save an edit as a new immutable revision. Returns it, or None when the text did not change.

    A change made at 复核, after 签发, sends the document back to 签发: the signer must
    see and sign the text that will be issued. The drafter may also change the proposed
    number of copies (`copies`), which is recorded in the history but is no revision.
    """
    document = _lock(document)
    if not can_edit(document, user):
        raise IssuanceError(f"公文处于“{document.get_stage_display()}”环节，您不能修改")
    _check_copies(copies)
    if copies is not None and copies != document.copies and document.stage in EDITABLE_STAGES:
        record_event(document, "copies", user, document.stage, document.stage, old=document.copies, new=copies)
        document.copies = copies
        document.save()
    revision = _new_revision(document, user, content)
    if revision is None:
        return None
    document.save()
    record_event(document, "save", user, document.stage, document.stage, revision=revision.number, sha256=revision.sha256)
    if document.signed_revision_id and document.stage == Stage.RECHECK:
        _void_signature(document)
        _move(document, user, "resign_required", Stage.SIGNING, revision=revision.number)
    return revision


def _grant_path_access(document):
    """Everyone on the document's path may see it from its submission on."""
    for user in {*first_reviewers(document), *final_reviewers(document)}:
        assign_perm("issuance.view_document", user, document)
    for group in Group.objects.filter(name__in=OFFICE_ROLES):
        assign_perm("issuance.view_document", group, document)


@transaction.atomic
def submit(document, user, note=""):
    """The drafter sends the draft (again) to 初审; every submission starts a new review round."""
    document = _lock(document)
    if user.pk != document.drafter_id:
        raise IssuanceError("只有拟稿人可以送审")
    if document.stage not in EDITABLE_STAGES:
        raise IssuanceError(f"公文处于“{document.get_stage_display()}”环节，不能送审")
    if not first_reviewers(document).exists():
        raise IssuanceError(f"{document.department.name}没有拟稿人以外可办理初审的科室负责人，请联系办公室调整")
    if not final_reviewers(document).exists():
        raise IssuanceError("没有拟稿人以外可办理终审的分管领导，请联系办公室调整")
    document.round += 1
    _record_opinion(document, user, Step.DRAFT, Decision.SUBMIT, note.strip())
    _grant_path_access(document)
    _move(document, user, "submit", Stage.FIRST_REVIEW, round=document.round, revision=document.current_revision.number)
    return document


def can_withdraw(document, user):
    return (
        user.pk == document.drafter_id
        and document.stage == Stage.FIRST_REVIEW
        and not document.opinions.filter(round=document.round, step__in=REVIEW_STEPS).exists()
    )


@transaction.atomic
def withdraw(document, user, reason=""):
    """The drafter takes a submission back, as long as the first reviewer has not acted."""
    document = _lock(document)
    if user.pk != document.drafter_id:
        raise IssuanceError("只有拟稿人可以撤回")
    if not can_withdraw(document, user):
        raise IssuanceError("初审已办理或公文不在初审环节，不能撤回")
    _record_opinion(document, user, Step.DRAFT, Decision.WITHDRAW, reason.strip())
    _move(document, user, "withdraw", Stage.DRAFTING, round=document.round)
    return document


@transaction.atomic
def decide(document, user, decision, text="", expected_stage=None):
    """A reviewer, the signer or the 复核 clerk approves or returns the current revision.

    A return needs a written reason and sends the draft back to its drafter; the next
    submission passes through review again from 初审. Signing fixes the signed revision.
    """
    document = _lock(document)
    stage = Stage(document.stage)
    if expected_stage is not None and stage != expected_stage:
        raise IssuanceError(f"公文已不在“{Stage(expected_stage).label}”环节（当前：{stage.label}），请刷新页面")
    step = DECISION_STAGES.get(stage)
    if step is None:
        raise IssuanceError(f"公文处于“{stage.label}”环节，不需要审批意见")
    reason = refusal(document, user, stage)
    if reason:
        raise IssuanceError(reason)
    text = (text or "").strip()
    if decision == Decision.RETURN and not text:
        raise IssuanceError("退回时必须填写退回理由")
    if decision not in (Decision.APPROVE, Decision.RETURN):
        raise IssuanceError("请选择“同意”或“退回”")
    if stage == Stage.PRINTING and decision != Decision.RETURN:
        raise IssuanceError("印制环节请使用“印制”按钮")
    if stage == Stage.PRINTING and active_print_job(document) is not None:
        raise IssuanceError("正在印制，不能退回")
    if len(text) > 2000:
        raise IssuanceError("意见过长（最多 2000 字）")

    if decision == Decision.APPROVE and stage == Stage.RECHECK and document.signed_revision_id != document.current_revision_id:
        raise IssuanceError("签发后内容已变更，须重新签发")

    opinion = _record_opinion(document, user, step, decision, text)
    if decision == Decision.RETURN:
        _void_signature(document)
        _move(document, user, "return", Stage.RETURNED, step=step, reason=text, opinion=opinion.pk)
        return opinion
    if stage == Stage.SIGNING:
        document.signed_revision = document.current_revision
        document.signed_by = user
        document.signed_at = opinion.created_at
        _move(document, user, "sign", NEXT_STAGE[stage], revision=document.current_revision.number,
              sha256=document.current_revision.sha256, opinion=opinion.pk)
    else:
        _move(document, user, "approve", NEXT_STAGE[stage], step=step, opinion=opinion.pk)
    return opinion


def _require(document, user, stage):
    if document.stage != stage:
        raise IssuanceError(f"公文处于“{document.get_stage_display()}”环节，不能办理“{Stage(stage).label}”")
    reason = refusal(document, user, stage)
    if reason:
        raise IssuanceError(reason)


@transaction.atomic
def register(document, user, copies):
    """登记: give the document its 发文字号 (kept if it already has one) and record the number of copies."""
    document = _lock(document)
    _require(document, user, Stage.REGISTRATION)
    if copies is None:
        raise IssuanceError("请填写印发份数")
    _check_copies(copies)
    issued = numbering.allocate(document, user)
    document.doc_number = issued.number
    document.copies = copies
    _move(document, user, "register", NEXT_STAGE[Stage.REGISTRATION], doc_number=issued.number, copies=copies)
    return issued.number


def active_print_job(document):
    return document.print_jobs.filter(status__in=[PrintJob.Status.QUEUED, PrintJob.Status.RUNNING]).first()


def last_print_job(document):
    return document.print_jobs.order_by("-created_at", "-pk").first()


# A job queued or running longer than this has lost its worker (a restart, a crash).
PRINT_JOB_TIMEOUT = datetime.timedelta(minutes=10)


def is_stale(job):
    if job.status not in (PrintJob.Status.QUEUED, PrintJob.Status.RUNNING):
        return False
    return timezone.now() - (job.started_at or job.created_at) > PRINT_JOB_TIMEOUT


@transaction.atomic
def abandon_stale_print_job(document, user):
    """Give up a job whose worker is gone, so that 印制 can be tried again; nothing is lost:
    the job stays on record as failed."""
    job = active_print_job(document)
    if job is None or not is_stale(job):
        return None
    job = PrintJob.objects.select_for_update().get(pk=job.pk)
    job.status = PrintJob.Status.FAILED
    job.error = f"超过 {int(PRINT_JOB_TIMEOUT.total_seconds() // 60)} 分钟未完成，已停止等待"
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    document = _lock(document)
    record_event(document, "print_failed", user, document.stage, document.stage, job=job.pk, reason=job.error)
    return job


@transaction.atomic
def request_print(document, user):
    """印制: queue the rendering of exactly the signed revision, with its number.

    The PDF is made in the background (see workflows.printing); `finish_print` then
    stores it and moves the document on to 核发.
    """
    document = _lock(document)
    _require(document, user, Stage.PRINTING)
    if active_print_job(document) is not None:
        raise IssuanceError("正在印制，请稍候")
    job = PrintJob.objects.create(document=document, revision=document.signed_revision, requested_by=user)
    record_event(document, "print_requested", user, document.stage, document.stage, job=job.pk,
                 revision=document.signed_revision.number)
    return job


@transaction.atomic
def start_print_job(job_id):
    """Mark a queued job as running; None if it is not queued (done, or taken by another worker)."""
    job = PrintJob.objects.select_for_update().filter(pk=job_id, status=PrintJob.Status.QUEUED).first()
    if job is None:
        return None
    job.status = PrintJob.Status.RUNNING
    job.attempts += 1
    job.started_at = timezone.now()
    job.save(update_fields=["status", "attempts", "started_at"])
    return job


def render_issue(job):
    """The issued PDF of a job's revision and the 印发日期 it carries. Reads, writes nothing."""
    from .render import layout

    document = job.document
    carried = job.revision.content.get("printed_date")
    printed_date = datetime.date.fromisoformat(carried) if carried else timezone.localdate()
    document.printed_date = printed_date
    content = exchange.parse_document(document.issued_content())
    return layout.render_pdf(content), printed_date


@transaction.atomic
def finish_print(job, pdf, printed_date):
    """Store the rendered PDF as the issued file and move the document on to 核发."""
    from .render import layout

    document = _lock(job.document)
    job = PrintJob.objects.select_for_update().get(pk=job.pk)
    if document.stage != Stage.PRINTING or job.status != PrintJob.Status.RUNNING:
        raise IssuanceError("印制任务已失效")
    if document.signed_revision_id != job.revision_id:
        raise IssuanceError("签发稿已变更，印制任务作废")
    document.printed_date = printed_date
    stored = storage.store_issued_pdf(document, pdf)
    document.issued_pdf = stored.path
    document.issued_pdf_sha256 = stored.sha256
    document.issued_pages = layout.count_pages(pdf)
    job.status = PrintJob.Status.DONE
    job.error = ""
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    _move(document, job.requested_by, "print", NEXT_STAGE[Stage.PRINTING], path=stored.path, sha256=stored.sha256,
          pages=document.issued_pages, revision=job.revision.number, job=job.pk)
    return document


@transaction.atomic
def fail_print_job(job_id, error, final):
    """Record a failed attempt: the job waits for its next try, or, after the last, shows
    on the document page with a button to try again."""
    job = PrintJob.objects.select_for_update().get(pk=job_id)
    job.error = error[:2000]
    job.status = PrintJob.Status.FAILED if final else PrintJob.Status.QUEUED
    job.finished_at = timezone.now() if final else None
    job.save(update_fields=["error", "status", "finished_at"])
    if final:
        document = _lock(job.document)
        record_event(document, "print_failed", None, document.stage, document.stage, job=job.pk,
                     attempts=job.attempts, reason=job.error[:200])
    return job


@transaction.atomic
def void_and_reregister(document, user, reason):
    """作废 the number of a document not yet printed; it goes back to 登记 for a new one."""
    document = _lock(document)
    _require(document, user, Stage.PRINTING)
    if active_print_job(document) is not None:
        raise IssuanceError("正在印制，不能作废文号")
    issued = numbering.current_number(document)
    void = numbering.void_issued(issued, user, reason)
    document.doc_number = ""
    _move(document, user, "void_number", Stage.REGISTRATION, doc_number=void.number, reason=void.reason)
    return void


def split_recipients(text):
    """主送 / 抄送 text as a list of organ names: "市直机关文明办、局机关工会，局领导" -> three names.

    A separator inside brackets belongs to the name: "各县（市、区）科技局" is one organ.
    """
    names, current, depth = [], [], 0
    for ch in text or "":
        if ch in "（(":
            depth += 1
        elif ch in "）)":
            depth = max(depth - 1, 0)
        if ch in "、，,；;\n" and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(ch)
    names.append("".join(current))
    return [name.strip() for name in names if name.strip()]


def default_recipients(document):
    content = document.signed_revision.content
    main = [(name, Distribution.Role.MAIN) for name in split_recipients(content.get("main_recipients"))]
    cc = [(name, Distribution.Role.CC) for name in split_recipients(content.get("cc"))]
    return main + cc


def known_recipients(organ):
    """The organ's address book: every active name and alias -> its RecipientOrgan."""
    book = {}
    for recipient in organ.recipients.filter(active=True):
        for name in (recipient.name, *recipient.alias_list()):
            book[name] = recipient
    return book


def copies_are_numbered(document):
    """Copies carry a 份号 when the document is classified or the 稿纸 numbered its copy."""
    content = document.signed_revision.content
    return bool(content.get("secrecy") or content.get("copy_number"))


@transaction.atomic
def distribute(document, user, recipients, add_to_book=()):
    """核发: record, per recipient organ, the copies sent (with their 份号 where copies are
    numbered), when and by whom.

    `recipients` is a list of (name, role, copies). A name must be in the organ's address
    book (by name or alias) unless it is listed in `add_to_book`, which adds it; the copies
    may not exceed the registered number.
    """
    document = _lock(document)
    _require(document, user, Stage.DISTRIBUTION)
    if not recipients:
        raise IssuanceError("请至少填写一个收文机关")
    names = [name for name, _, _ in recipients]
    if len(set(names)) != len(names):
        raise IssuanceError("收文机关有重复，请合并")
    if any(len(name) > 200 for name in names):
        raise IssuanceError("收文机关名称过长（最多 200 字）")
    book = known_recipients(document.organ)
    unknown = [name for name in names if name not in book and name not in add_to_book]
    if unknown:
        raise IssuanceError(f"“{'”“'.join(unknown)}”不在收文机关名录中：请改为名录中的名称，或勾选“加入名录”")
    total = sum(copies for _, _, copies in recipients)
    if document.copies and total > document.copies:
        raise IssuanceError(f"分发份数合计 {total} 份，超过登记的印发份数 {document.copies} 份")
    numbered = copies_are_numbered(document)
    next_copy = 1
    now = timezone.now()
    records = []
    for name, role, copies in recipients:
        organ = book.get(name) or RecipientOrgan.objects.get_or_create(organ=document.organ, name=name)[0]
        record = Distribution(document=document, recipient=name, recipient_organ=organ, role=role, copies=copies,
                              sent_by=user, sent_at=now)
        if numbered:
            record.first_copy, record.last_copy = next_copy, next_copy + copies - 1
            next_copy += copies
        record.save()
        records.append(record)
    _move(document, user, "distribute", NEXT_STAGE[Stage.DISTRIBUTION],
          recipients=[{"name": r.recipient, "role": r.role, "copies": r.copies, "copy_numbers": r.copy_numbers}
                      for r in records],
          added_to_book=sorted(set(add_to_book) & set(names)))
    return records


@transaction.atomic
def save_recipient(organ, user, name, aliases="", active=True, recipient=None):
    """The office keeps the address book of recipient organs."""
    if not user.has_perm("issuance.issue_document"):
        raise IssuanceError("只有办公室文书可以维护收文机关名录")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise IssuanceError("请填写收文机关名称（最多 200 字）")
    clash = organ.recipients.filter(name=name).exclude(pk=getattr(recipient, "pk", None))
    if clash.exists():
        raise IssuanceError(f"名录中已有“{name}”")
    recipient = recipient or RecipientOrgan(organ=organ)
    recipient.name, recipient.aliases, recipient.active = name, (aliases or "").strip(), active
    recipient.save()
    return recipient


@transaction.atomic
def archive(document, user, retention, remarks=""):
    """归档: file the issued document as one 件 with its 档号 and package."""
    from . import archiving

    document = _lock(document)
    _require(document, user, Stage.ARCHIVING)
    record = archiving.create_record(document, user, retention, remarks)
    _move(document, user, "archive", NEXT_STAGE[Stage.ARCHIVING], archive_code=record.archive_code)
    return record


@transaction.atomic
def record_task_change(document, user, action, step):
    """A task of the document was claimed or put back into its queue."""
    document = _lock(document)
    record_event(document, action, user, document.stage, document.stage, step=step)


@transaction.atomic
def grant_access(document, by_user, username):
    """The drafter or the office lets one more named user see the document."""
    document = _lock(document)
    if not can_grant(by_user, document):
        raise IssuanceError("只有拟稿人和办公室可以授权他人查看")
    User = get_user_model()
    try:
        target = User.objects.get(username=username.strip(), is_active=True)
    except User.DoesNotExist:
        raise IssuanceError(f"用户“{username}”不存在") from None
    assign_perm("issuance.view_document", target, document)
    record_event(document, "grant", by_user, document.stage, document.stage, user=target.username,
                 name=display_name(target))
    return target
