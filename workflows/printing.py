"""印制 in the background: a job per request, run in-process or on Celery workers.

`GONGWEN_RENDER_BACKEND` chooses where a job runs:
- "thread" (the embedded default): a worker thread of the web process, queued on commit;
- "celery": a Celery worker, with Redis as the broker (`CELERY_BROKER_URL`), queued on commit;
- "inline": right away in the caller's thread (the command line, the demo set-up and tests).
Jobs are passed by id; an attempt that fails is retried, and the last failure stays on the
document page with a button to try again. A job that finished rendering completes the
document's 印制 task, so the flow moves on to 核发.
"""

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, transaction

from issuance import services
from issuance.exceptions import IssuanceError
from issuance.models import PrintJob, StepKind

from . import actions, flows

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
_executor = None


def backend():
    return getattr(settings, "GONGWEN_RENDER_BACKEND", "thread")


def request(document, user, backend_name=None):
    """Queue the printing of `document` as the work of its 印制 task, which `user` then holds."""
    name = backend_name or backend()
    task = _print_task(document)
    with flows.DocumentFlow.lock(task.process_id), transaction.atomic():
        actions.take(task, user)
        job = services.request_print(document, user)
        if name != "inline":
            # A worker must find the job committed: queue it only once it is.
            transaction.on_commit(lambda: dispatch(job.pk, name))
    if name == "inline":
        dispatch(job.pk, name)
    return job


def retry(document, user, backend_name=None):
    """Try again after a failed job, or one whose worker is gone: a new job, so that every
    attempt stays on record."""
    services.abandon_stale_print_job(document, user)
    last = services.last_print_job(document)
    if last is None or last.status != PrintJob.Status.FAILED:
        raise IssuanceError("没有失败的印制任务需要重试")
    return request(document, user, backend_name)


def dispatch(job_id, backend_name=None):
    name = backend_name or backend()
    if name == "inline":
        run_with_retries(job_id, pause=0)
    elif name == "celery":
        from .tasks import print_document

        print_document.delay(job_id)
    else:
        _thread_pool().submit(_run_in_thread, job_id)


def _thread_pool():
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gongwen-print")
    return _executor


def _run_in_thread(job_id):
    try:
        run_with_retries(job_id)
    finally:
        close_old_connections()


def run_with_retries(job_id, pause=2.0):
    for attempt in range(MAX_ATTEMPTS):
        final = attempt == MAX_ATTEMPTS - 1
        try:
            run(job_id, final=final)
            return
        except Exception:
            if final:
                return
            time.sleep(pause * 2 ** attempt)


def run(job_id, final=True):
    """One attempt at a job. On failure the job records the error; unless `final`, the
    error is raised again so that the caller (a retry loop, Celery) tries once more."""
    job = services.start_print_job(job_id)
    if job is None:
        return None
    try:
        pdf, printed_date = services.render_issue(job)
        task = _print_task(job.document)
        actions.complete(task, job.requested_by, lambda: services.finish_print(job, pdf, printed_date))
    except Exception as exc:
        logger.exception("print job %s failed (attempt %s)", job_id, job.attempts)
        message = exc.message if isinstance(exc, IssuanceError) else f"{type(exc).__name__}: {exc}"
        services.fail_print_job(job_id, message, final=final)
        if not final:
            raise
        return None
    return job


def _print_task(document):
    task = actions.open_tasks(document).filter(state__kind=StepKind.PRINT).first()
    if task is None:
        raise IssuanceError("公文不在印制环节")
    return task
