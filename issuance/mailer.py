"""The outbox of notice e-mails: sent after the transaction that wrote them commits, never
inside a request, and kept while the mail server is down.

`GONGWEN_MAIL_SENDER` chooses where the sending runs: "thread" (the default: a worker thread
of the web process, woken on commit), "inline" (right away in the caller: commands and tests),
or "off" (only `python manage.py send_mail`, e.g. from cron). Whatever runs it, a row is
taken under a row lock that skips rows another sender holds, so that two senders never send
one mail twice; a failure leaves the row pending with a later `mail_due_at` (1, 2, 4 … up to
60 minutes), and `send_mail` or the next wake tries again.
"""

import datetime
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import close_old_connections, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from .models import Notice

logger = logging.getLogger(__name__)

BATCH = 50
MAX_BACKOFF = datetime.timedelta(minutes=60)
_executor = None
_lock = threading.Lock()


def sender():
    return getattr(settings, "GONGWEN_MAIL_SENDER", "thread")


def wake():
    """Send what is due, where the settings say; called on commit of a transaction that wrote mail."""
    name = sender()
    if name == "inline":
        send_due()
    elif name == "thread":
        global _executor
        with _lock:
            if _executor is None:
                _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gongwen-mail")
        _executor.submit(_send_in_thread)


def _send_in_thread():
    try:
        send_due()
    except Exception:  # the rows stay pending; the next wake or `send_mail` tries again
        logger.exception("sending notice mail failed")
    finally:
        close_old_connections()


def _message(notice, connection):
    context = {"notice": notice, "site_url": getattr(settings, "GONGWEN_SITE_URL", "")}
    subject = " ".join(render_to_string("notices/mail_subject.txt", context).split())
    body = render_to_string("notices/mail_body.txt", context)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [notice.user.email], connection=connection)


def send_due(now=None, limit=None):
    """Send every pending mail that is due; returns (sent, failed)."""
    sent = failed = 0
    while limit is None or sent + failed < limit:
        now = timezone.now()
        with transaction.atomic():
            batch = list(
                Notice.objects.select_for_update(skip_locked=True, of=("self",)).select_related("user", "document")
                .filter(mail=Notice.Mail.PENDING, mail_due_at__lte=now).order_by("mail_due_at", "pk")[:BATCH]
            )
            if not batch:
                break
            connection = get_connection()
            try:
                connection.open()
                for notice in batch:
                    try:
                        _message(notice, connection).send()
                    except Exception as error:
                        _postpone(notice, error, now)
                        failed += 1
                    else:
                        notice.mail_attempts += 1
                        notice.mail, notice.mailed_at, notice.mail_error = Notice.Mail.SENT, now, ""
                        sent += 1
            except Exception as error:  # the server cannot be reached: the whole batch waits
                for notice in batch:
                    if notice.mail == Notice.Mail.PENDING:
                        _postpone(notice, error, now)
                        failed += 1
            finally:
                try:
                    connection.close()
                except Exception:  # closing a connection that never opened; nothing to keep
                    pass
            Notice.objects.bulk_update(batch, ["mail", "mail_attempts", "mail_due_at", "mailed_at", "mail_error"])
        if failed:
            break  # the rest waits for the server too
    return sent, failed


def _postpone(notice, error, now):
    notice.mail_attempts += 1
    wait = min(datetime.timedelta(minutes=2 ** max(notice.mail_attempts - 1, 0)), MAX_BACKOFF)
    notice.mail_due_at = now + wait
    notice.mail_error = f"{type(error).__name__}: {error}"[:300]
    logger.warning("mail to %s postponed by %s: %s", notice.user.email, wait, error)
