"""Celery tasks (used when GONGWEN_RENDER_BACKEND is "celery")."""

from celery import shared_task

from . import printing


@shared_task(bind=True, acks_late=True, max_retries=printing.MAX_ATTEMPTS - 1, default_retry_delay=2)
def print_document(self, job_id):
    final = self.request.retries >= self.max_retries
    try:
        printing.run(job_id, final=final)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=2 * 2 ** self.request.retries) from exc
