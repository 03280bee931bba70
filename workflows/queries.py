"""The task lists of one user: 待办 (assigned), 可领取 (claimable from a role's queue), 已办 (done)."""

from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from issuance.roles import can_view


def _document_flow():
    from .flows import DocumentFlow

    return DocumentFlow


def human_tasks():
    return Task.objects.filter(process__flow_class=_document_flow(), flow_task_type="HUMAN").select_related(
        "process", "process__documentprocess__document", "owner"
    )


def document_of(task):
    return task.process.documentprocess.document


def inbox(user):
    return human_tasks().filter(owner=user, status__in=[STATUS.ASSIGNED, STATUS.STARTED]).order_by("-created")


def claimable(user):
    """The role's queue, less the tasks the 三审 rules keep this user from taking."""
    candidates = Task.objects.queue([_document_flow()], user).select_related(
        "process", "process__documentprocess__document"
    ).order_by("-created")
    return [
        task for task in candidates
        if task.flow_task.can_assign(user, task) and can_view(user, document_of(task))
    ]


def done(user):
    return human_tasks().filter(owner=user, status=STATUS.DONE).order_by("-finished")
