"""Telling people: a notice in the app and the same by e-mail, written in the transaction that
caused it. The mail goes out after that transaction commits (issuance.mailer)."""

from django.db import transaction

from ..models import Notice


def notify(users, kind, document=None, **detail):
    """A notice of `kind` to each of `users` (once each); mail to those with an address."""
    people = {user.pk: user for user in users if user is not None and user.is_active}
    if not people:
        return []
    notices = Notice.objects.bulk_create([
        Notice(user=user, document=document, kind=kind, detail=detail,
               mail=Notice.Mail.PENDING if user.email else Notice.Mail.NONE)
        for user in people.values()
    ])
    if any(notice.mail == Notice.Mail.PENDING for notice in notices):
        from .. import mailer

        transaction.on_commit(mailer.wake)
    return notices


def mark_read(user, notices=None):
    """Mark `user`'s notices (all unread, or those given) as read; returns how many."""
    from django.utils import timezone

    unread = Notice.objects.filter(user=user, read_at__isnull=True)
    if notices is not None:
        unread = unread.filter(pk__in=[getattr(n, "pk", n) for n in notices])
    return unread.update(read_at=timezone.now())
