"""The daily reminder: each person is told, once a day, of the overdue steps in their 待办
(held by them, by someone they stand in for, or waiting in a queue they may take from)."""

from django.db import transaction
from django.utils import timezone

from ..models import Notice, StepState, display_name
from .notices import notify
from .review import holders


@transaction.atomic
def remind_overdue(today=None):
    """Write the day's reminders; returns the names of those reminded."""
    today = today or timezone.localdate()
    overdue = (StepState.objects.filter(status=StepState.Status.OPEN, due_on__lt=today)
               .select_related("document", "assignee", "claimed_by").order_by("due_on", "pk"))
    items = {}
    for state in overdue:
        for person in holders(state):
            items.setdefault(person.pk, (person, []))[1].append({
                "state": state.pk, "step": str(state), "title": state.document.title, "document": state.document_id,
                "due_on": state.due_on.isoformat(),
            })
    already = set(Notice.objects.filter(kind=Notice.Kind.OVERDUE, created_at__date=today)
                  .values_list("user_id", flat=True))
    reminded = []
    for person, listed in items.values():
        if person.pk in already:
            continue
        notify([person], Notice.Kind.OVERDUE, None, items=listed)
        reminded.append(display_name(person))
    return reminded
