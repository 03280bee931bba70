"""印制 in the background: a job per request, run in-process or on Celery workers.

`GONGWEN_RENDER_BACKEND` chooses where a job runs:
- "thread" (the embedded default): a worker thread of the web process, queued on commit;
- "celery": a Celery worker, with Redis as the broker (`CELERY_BROKER_URL`), queued on commit;
- "inline": right away in the caller's thread (the command line, the demo set-up and tests).
Jobs are passed by id; an attempt that fails is retried, and the last failure stays on the
document page with a button to try again. A job that finished rendering completes the
document's 印制 task, so the flow moves on to 核发.

No job is lost with its worker. An attempt holds its job by a lease on the job's row,
renewed while it renders (`_Lease`); a worker that dies stops renewing. Every process
that prints runs a dispatcher (a thread of each web process and of each Celery worker, or
`manage.py print_worker` in the foreground) that sweeps every GONGWEN_PRINT_POLL_SECONDS
for jobs whose lease ran out and dispatches them again, so such a job is taken up within
lease + poll seconds. A slow attempt that lost its lease is fenced out by its attempt
number: what it renders is refused. docs/printing.md says why this and not a task queue.
"""

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction

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
    """Try again after a failed job, or one that no dispatcher took up: a new job, so that
    every attempt stays on record."""
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
        try:
            run(job_id)
            return
        except Exception:
            time.sleep(pause * 2 ** attempt)


def worker_name():
    """Who makes an attempt, as the job records it: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.current_thread().name}"


def run(job_id):
    """One attempt at a job. On failure the job records the error; unless that was its last
    attempt, the error is raised again so that the caller (a retry loop, Celery) tries once
    more."""
    job = services.start_print_job(job_id, worker_name())
    if job is None:
        return None
    attempt = job.attempts
    try:
        with _Lease(job_id, attempt):
            pdf, printed_date = services.render_issue(job)
            task = _print_task(job.document)
            actions.complete(task, job.requested_by, lambda: services.finish_print(job, pdf, printed_date))
    except Exception as exc:
        logger.exception("print job %s failed (attempt %s)", job_id, attempt)
        message = exc.message if isinstance(exc, IssuanceError) else f"{type(exc).__name__}: {exc}"
        final = attempt >= MAX_ATTEMPTS
        services.fail_print_job(job_id, attempt, message, final=final)
        if not final:
            raise
        return None
    return job


class _Lease:
    """While an attempt runs, renew its job's lease every third of the lease, from a thread
    of its own: rendering holds the attempt's thread for seconds at a time."""

    def __init__(self, job_id, attempt):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, args=(job_id, attempt), daemon=True,
                                        name=f"gongwen-print-lease-{job_id}")

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()

    def _renew(self, job_id, attempt):
        try:
            while not self._stop.wait(services.print_lease().total_seconds() / 3):
                try:
                    if not services.renew_print_lease(job_id, attempt):
                        return  # taken up again elsewhere: finish_print will refuse this attempt
                except DatabaseError:
                    logger.warning("print job %s: lease not renewed this time", job_id, exc_info=True)
        finally:
            connections.close_all()


# The dispatcher ----------------------------------------------------------------------

def sweep(backend_name=None):
    """Dispatch again every job whose worker is gone (see services.requeue_lost_print_jobs);
    returns their ids."""
    lost = services.requeue_lost_print_jobs(MAX_ATTEMPTS)
    for job_id in lost:
        logger.warning("print job %s lost its worker: dispatched again", job_id)
        dispatch(job_id, backend_name)
    return lost


def dispatch_forever(backend_name=None):
    """Sweep every GONGWEN_PRINT_POLL_SECONDS, for ever. With "inline", the jobs taken up
    are printed in this thread (`manage.py print_worker`)."""
    while True:
        time.sleep(settings.GONGWEN_PRINT_POLL_SECONDS)
        try:
            sweep(backend_name)
        except Exception:  # the next sweep tries again: a dispatcher must not die of a database hiccup
            logger.exception("print dispatcher: sweep failed")
        finally:
            connections.close_all()


_dispatcher_lock = threading.Lock()
_dispatcher_pid = None


def start_dispatcher(backend_name=None):
    """Start this process's dispatcher thread, once per process; a process forked from this
    one (a pre-loading WSGI server's workers) starts its own, as it inherits no thread."""
    global _dispatcher_pid
    with _dispatcher_lock:
        if _dispatcher_pid == os.getpid():
            return
        if _dispatcher_pid is None:
            os.register_at_fork(after_in_child=lambda: start_dispatcher(backend_name))
        _dispatcher_pid = os.getpid()
    threading.Thread(target=dispatch_forever, args=(backend_name,), daemon=True,
                     name="gongwen-print-dispatcher").start()


def _print_task(document):
    task = actions.open_tasks(document).filter(state__kind=StepKind.PRINT).first()
    if task is None:
        raise IssuanceError("公文不在印制环节")
    return task
