"""The issuing half: 登记 gives the 发文字号, 印制 renders the signed text (in the background),
核发 records the copies sent, and 归档 files the document. Each verb takes the open step of its
kind (issuance.services.review.require_step), changes the document under its row lock and
writes the history; finishing the step opens the next.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .. import exchange, numbering, storage
from ..exceptions import IssuanceError
from ..models import Distribution, Document, Notice, PrintAttempt, PrintJob, RecipientOrgan, Role, StepKind
from ..roles import require
from .drafting import check_copies
from .history import lock, move, note
from .notices import notify
from .review import complete_step, reopen_step, require_step


@transaction.atomic
def register(document, user, copies):
    """登记: give the document its 发文字号 (kept if it already has one) and record the number of copies."""
    document = lock(document)
    state = require_step(document, user, StepKind.REGISTER)
    if copies is None:
        raise IssuanceError("请填写印发份数")
    check_copies(copies)
    issued = numbering.allocate(document, user)
    document.doc_number = issued.number
    document.copies = copies
    move(document, user, "register", complete_step(document, state, user), doc_number=issued.number, copies=copies)
    return issued.number


def active_print_job(document):
    return document.print_jobs.filter(status__in=ACTIVE).first()


def last_print_job(document):
    return document.print_jobs.order_by("-created_at", "-pk").first()


ACTIVE = (PrintJob.Status.QUEUED, PrintJob.Status.RUNNING)
# A job whose lease ran out this long ago was taken up by no dispatcher: none is running
# (every web process and Celery worker runs one), so the office may give it up by hand.
PRINT_JOB_STALE = datetime.timedelta(minutes=2)


def print_lease():
    """How long a worker holds a job without renewing it (renewed every third of it)."""
    return datetime.timedelta(seconds=settings.GONGWEN_PRINT_LEASE_SECONDS)


def is_stale(job):
    if job.status not in ACTIVE:
        return False
    return job.lease_until is None or timezone.now() - job.lease_until > PRINT_JOB_STALE


@transaction.atomic
def abandon_stale_print_job(document, user):
    """Give up a job that no dispatcher took up, so that 印制 can be tried again; nothing is
    lost: the job stays on record as failed. Only someone who may do the 印制 may give it up."""
    document = lock(document)
    require_step(document, user, StepKind.PRINT)
    job = active_print_job(document)
    if job is None or not is_stale(job):
        return None
    job = PrintJob.objects.select_for_update().get(pk=job.pk)
    now = timezone.now()
    job.error = "印制服务长时间无响应，已停止等待"
    _end_attempt(job, PrintAttempt.Outcome.LOST, job.error, now)
    job.status, job.finished_at, job.lease_until = PrintJob.Status.FAILED, now, None
    job.save(update_fields=["status", "error", "finished_at", "lease_until"])
    note(document, user, "print_failed", job=job.pk, reason=job.error)
    return job


@transaction.atomic
def request_print(document, user):
    """印制: queue the rendering of exactly the signed revision, with its number.

    The PDF is made in the background (see workflows.printing); `finish_print` then
    stores it and moves the document on to 核发.
    """
    document = lock(document)
    require_step(document, user, StepKind.PRINT)
    if active_print_job(document) is not None:
        raise IssuanceError("正在印制，请稍候")
    job = PrintJob.objects.create(document=document, revision=document.signed_revision, requested_by=user,
                                  lease_until=timezone.now() + print_lease())
    note(document, user, "print_requested", job=job.pk, revision=document.signed_revision.number)
    return job


@transaction.atomic
def start_print_job(job_id, worker):
    """Take a queued job for one attempt by `worker`, under a fresh lease; None if it is not
    queued (done, failed, or taken by another worker)."""
    job = PrintJob.objects.select_for_update().filter(pk=job_id, status=PrintJob.Status.QUEUED).first()
    if job is None:
        return None
    now = timezone.now()
    job.status = PrintJob.Status.RUNNING
    job.attempts += 1
    job.started_at, job.worker, job.lease_until = now, worker[:200], now + print_lease()
    job.save(update_fields=["status", "attempts", "started_at", "worker", "lease_until"])
    PrintAttempt.objects.create(job=job, number=job.attempts, worker=job.worker, started_at=now)
    return job


def renew_print_lease(job_id, attempt):
    """Extend the lease of attempt `attempt` while it renders; False once the job is no
    longer that attempt's (it was taken up again after the lease ran out, or it ended).
    Never waits for a row lock: a lock held means the job is being finished or swept."""
    with transaction.atomic():
        held = PrintJob.objects.select_for_update(nowait=True).filter(
            pk=job_id, status=PrintJob.Status.RUNNING, attempts=attempt).only("pk").first()
        if held is None:
            return False
        PrintJob.objects.filter(pk=job_id).update(lease_until=timezone.now() + print_lease())
    return True


def requeue_lost_print_jobs(max_attempts):
    """The jobs whose worker is gone, made ready to be taken again; returns their ids.

    A running job whose lease ran out lost its worker: its attempt is recorded as lost,
    and it is queued again, unless it has had `max_attempts` (a document that kills its
    worker each time fails). A queued job that no worker took while its lease ran was
    never delivered (its process died first). Each gets a fresh lease, in which the caller
    dispatches it. Locks the document, then the job, as `finish_print` does.
    """
    now = timezone.now()
    due = PrintJob.objects.filter(Q(lease_until__lt=now) | Q(lease_until__isnull=True), status__in=ACTIVE)
    taken = []
    for job_id, document_id in due.values_list("pk", "document_id"):
        with transaction.atomic():
            document = Document.objects.select_for_update().get(pk=document_id)
            job = due.select_for_update().filter(pk=job_id).first()
            if job is None:
                continue  # finished or taken meanwhile
            fields = ["lease_until"]
            if job.status == PrintJob.Status.RUNNING:
                reason = f"印制进程（{job.worker or '未知'}）中断：租约已于{timezone.localtime(job.lease_until):%H:%M:%S}到期"
                _end_attempt(job, PrintAttempt.Outcome.LOST, reason, now)
                if job.attempts >= max_attempts:
                    job.error = f"印制进程连续中断，已尝试 {job.attempts} 次：{reason}"
                    job.status, job.finished_at, job.lease_until = PrintJob.Status.FAILED, now, None
                    job.save(update_fields=["status", "error", "finished_at", "lease_until"])
                    note(document, None, "print_failed", job=job.pk, attempts=job.attempts, reason=job.error[:200])
                    continue
                job.status = PrintJob.Status.QUEUED
                fields.append("status")
                note(document, None, "print_requeued", job=job.pk, attempt=job.attempts, worker=job.worker)
            job.lease_until = now + print_lease()
            job.save(update_fields=fields)
            taken.append(job.pk)
    return taken


def _end_attempt(job, outcome, error="", when=None):
    """Close the job's current attempt (the last one) with `outcome`."""
    PrintAttempt.objects.filter(job=job, number=job.attempts, outcome=PrintAttempt.Outcome.RUNNING).update(
        outcome=outcome, error=error[:2000], finished_at=when or timezone.now())


def render_issue(job):
    """The issued PDF of a job's revision, signed with the organ's key when it has one, and
    the 印发日期 it carries. Reads, writes nothing."""
    from .. import signing
    from ..render import layout

    document = job.document
    carried = job.revision.content.get("printed_date")
    printed_date = datetime.date.fromisoformat(carried) if carried else timezone.localdate()
    document.printed_date = printed_date
    content = exchange.parse_document(document.issued_content())
    unsigned = layout.render_pdf(content)
    # Signed after the PDF/A conversion, as an incremental update that keeps it PDF/A-2b.
    pdf = signing.sign(unsigned, document.organ)
    layout.remember_pages(pdf, layout.count_pages(unsigned))
    return pdf, printed_date


@transaction.atomic
def finish_print(job, pdf, printed_date):
    """Store the rendered PDF as the issued file and move the document on to 核发. The 印制
    entry records the stored file's SHA-256 and its signature (None: issued unsigned, the
    organ having no key)."""
    from .. import signing
    from ..render import layout

    document = lock(job.document)
    attempt = job.attempts
    job = PrintJob.objects.select_for_update().get(pk=job.pk)
    state = document.step_states.filter(kind=StepKind.PRINT, status="open").first()
    if state is None or job.status != PrintJob.Status.RUNNING or job.attempts != attempt:
        # An attempt whose lease ran out and was taken up again stores nothing.
        raise IssuanceError("印制任务已失效")
    if document.signed_revision_id != job.revision_id:
        raise IssuanceError("签发稿已变更，印制任务作废")
    signature = signing.verify(pdf)
    if signature.present and not signature.intact:
        raise IssuanceError(f"正式文件的数字签名无效，未予保存：{signature.problem}")
    document.printed_date = printed_date
    stored = storage.store_issued_pdf(document, pdf)
    document.issued_pdf = stored.path
    document.issued_pdf_sha256 = stored.sha256
    document.issued_pages = layout.count_pages(pdf)
    job.status = PrintJob.Status.DONE
    job.error = ""
    job.finished_at = timezone.now()
    job.lease_until = None
    job.save(update_fields=["status", "error", "finished_at", "lease_until"])
    _end_attempt(job, PrintAttempt.Outcome.DONE, when=job.finished_at)
    move(document, job.requested_by, "print", complete_step(document, state, job.requested_by), path=stored.path,
         sha256=stored.sha256, pages=document.issued_pages, revision=job.revision.number, job=job.pk,
         signature=signature.record())
    return document


@transaction.atomic
def fail_print_job(job_id, attempt, error, final):
    """Record that attempt `attempt` failed: the job waits for its next try, or, after the
    last, shows on the document page with a button to try again. Nothing changes if the
    job is no longer that attempt's (it was taken up again meanwhile)."""
    document = lock(PrintJob.objects.get(pk=job_id).document)
    job = PrintJob.objects.select_for_update().get(pk=job_id)
    if job.status != PrintJob.Status.RUNNING or job.attempts != attempt:
        return job
    now = timezone.now()
    _end_attempt(job, PrintAttempt.Outcome.FAILED, error, now)
    job.error = error[:2000]
    job.status = PrintJob.Status.FAILED if final else PrintJob.Status.QUEUED
    job.finished_at = now if final else None
    # The retry is the failed worker's to make; the dispatchers step in once this runs out.
    job.lease_until = None if final else now + print_lease()
    job.save(update_fields=["error", "status", "finished_at", "lease_until"])
    if final:
        note(document, None, "print_failed", job=job.pk, attempts=job.attempts, reason=job.error[:200])
    return job


@transaction.atomic
def void_and_reregister(document, user, reason):
    """作废 the number of a document not yet printed; it goes back to 登记 for a new one."""
    document = lock(document)
    state = require_step(document, user, StepKind.PRINT)
    if active_print_job(document) is not None:
        raise IssuanceError("正在印制，不能作废文号")
    issued = numbering.current_number(document)
    void = numbering.void_issued(issued, user, reason)
    document.doc_number = ""
    stage = reopen_step(document, state, user, StepKind.REGISTER, note=f"作废文号{void.number}，重新登记")
    move(document, user, "void_number", stage, doc_number=void.number, reason=void.reason)
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
    document = lock(document)
    state = require_step(document, user, StepKind.DISTRIBUTE)
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
    # 印发 done: the drafter and the 会签 parties are told.
    parties = [s.finished_by for s in document.step_states.filter(round__number=document.round, status="done")
               .exclude(party_department__isnull=True, party_organ__isnull=True).select_related("finished_by")]
    notify([document.drafter, *parties], Notice.Kind.ISSUED, document, doc_number=document.doc_number)
    move(document, user, "distribute", complete_step(document, state, user),
          recipients=[{"name": r.recipient, "role": r.role, "copies": r.copies, "copy_numbers": r.copy_numbers}
                      for r in records],
          added_to_book=sorted(set(add_to_book) & set(names)))
    return records


@transaction.atomic
def save_recipient(organ, user, name, aliases="", active=True, recipient=None):
    """The office keeps the address book of recipient organs."""
    require(user, (Role.CLERK,), organ, "只有本机关的办公室文书可以维护收文机关名录")
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
    from .. import archiving

    document = lock(document)
    state = require_step(document, user, StepKind.ARCHIVE)
    record = archiving.create_record(document, user, retention, remarks)
    move(document, user, "archive", complete_step(document, state, user), archive_code=record.archive_code)
    return record


