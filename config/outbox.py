"""The mail outbox's round in every web process: mail that waited is sent when it is due.

With GONGWEN_MAIL_SENDER=thread a web process sends notice mail right after the transaction
that wrote it commits (issuance.mailer). Mail postponed because the mail server was down
waits for a later `mail_due_at`; this round sends it then, every GONGWEN_MAIL_POLL_SECONDS,
so that the app needs no cron job for it. Senders of several processes never send one mail
twice (mailer.send_due takes each row under a lock).
"""

import logging
import os
import threading

from django.conf import settings
from django.db import close_old_connections

from issuance import mailer

logger = logging.getLogger(__name__)

_started_in = None


def send_due_forever(stop, interval):
    """Every `interval` seconds until `stop` is set, send what is due."""
    while not stop.wait(interval):
        try:
            mailer.send_due()
        except Exception:  # the rows stay pending: the next round tries again
            logger.exception("mail outbox: sending failed")
        finally:
            close_old_connections()


def start():
    """Start this process's round, once per process, when the web process sends mail itself."""
    global _started_in
    if settings.GONGWEN_MAIL_SENDER != "thread" or _started_in == os.getpid():
        return
    _started_in = os.getpid()
    threading.Thread(target=send_due_forever, args=(threading.Event(), settings.GONGWEN_MAIL_POLL_SECONDS),
                     daemon=True, name="gongwen-mail-outbox").start()
