"""What every verb does around its change: lock the document's row, and write the entry of
its hash-chained history (Event), sealed with the history key, in the same transaction."""

from django.utils import timezone

from .. import seals
from ..models import Document, Event

GENESIS = "0" * 64


def lock(document):
    """Re-read the document with its row locked for the rest of the transaction."""
    return Document.objects.select_for_update().select_related("department", "organ").get(pk=document.pk)


def record_event(document, action, actor, before, after, **detail):
    last = document.events.order_by("-seq").only("seq", "hash").first()
    event = Event(
        document=document,
        seq=last.seq + 1 if last else 1,
        action=action,
        actor=actor,
        stage_before=before,
        stage_after=after,
        detail=detail,
        created_at=timezone.now(),
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = event.compute_hash()
    event.key_id, event.mac = seals.seal(event.sealed_data())
    event.save()
    return event


def move(document, actor, action, after, **detail):
    """Put the document at stage `after` and record why."""
    before = document.stage
    document.stage = after
    document.save()
    return record_event(document, action, actor, before, after, **detail)


def note(document, actor, action, **detail):
    """Record something that happened to the document without moving it."""
    return record_event(document, action, actor, document.stage, document.stage, **detail)
