"""The task lists of one user, each one query (plus its count): 待办 (held by them),
可领取 (in a queue they may take from, under the 三审 rules), 已办 (done by them)."""

from django.db.models import Exists, OuterRef
from viewflow.workflow.status import STATUS

from issuance.roles import actionable_states

from .models import StepTask

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def _document_flow():
    from .flows import DocumentFlow

    return DocumentFlow


def human_tasks():
    """Every human task of the 发文 flow, with what its lists show."""
    return StepTask.objects.filter(
        process__flow_class=_document_flow(), flow_task_type="HUMAN", state__isnull=False,
    ).select_related(
        "owner", "state", "state__document", "state__document__drafter", "state__document__department",
        "state__document__organ", "state__assignee", "state__candidate_organ", "state__candidate_department",
        "state__party_department", "state__party_organ",
    )


def document_of(task):
    return task.state.document


def open_tasks(document):
    return human_tasks().filter(state__document=document, status__in=OPEN)


def inbox(user):
    return human_tasks().filter(owner=user, status__in=(STATUS.ASSIGNED, STATUS.STARTED)).order_by("-created", "-pk")


def claimable(user):
    """The queues' tasks this person may take now."""
    may = actionable_states(user).filter(pk=OuterRef("state_id"))
    return human_tasks().filter(status=STATUS.NEW, owner__isnull=True).filter(Exists(may)).order_by("-created", "-pk")


def done(user):
    return human_tasks().filter(owner=user, status=STATUS.DONE).order_by("-finished", "-pk")
