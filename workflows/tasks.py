"""Celery tasks (used when GONGWEN_RENDER_BACKEND is "celery"), and each worker's dispatcher.

The message is only a wake-up: the job's row says who holds it (workflows.printing).
`acks_late` with `reject_on_worker_lost` puts the message back when the pool process that
ran it dies: if it died before it took the job, another process takes it at once; if it
died while rendering, the redelivered message finds the job held under a lease and does
nothing, and the dispatcher each worker starts here (as each web process does) sends the
job again once that lease has run out.
"""

from celery import shared_task
from celery.signals import worker_ready

from . import printing


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=printing.MAX_ATTEMPTS - 1)
def print_document(self, job_id):
    try:
        printing.run(job_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=2 * 2 ** self.request.retries) from exc


@worker_ready.connect
def start_dispatcher(**kwargs):
    printing.start_dispatcher("celery")
