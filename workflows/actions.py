"""What a person does to the flow: submit, take back, claim, release, and complete a task.

Each runs under the flow's process lock (SELECT … FOR UPDATE on the process row) in one
transaction: the issuance service changes the document, then the task completes (or, for
an act outside a task, the flow's dispatch runs) and the tasks follow the open steps. If
the service refuses, nothing is changed.
"""

from django.db import transaction
from viewflow.workflow.status import STATUS

from issuance import services
from issuance.exceptions import IssuanceError
from issuance.models import StepKind

from . import flows, queries
from .models import DocumentProcess, StepTask


def process_of(document):
    return DocumentProcess.objects.filter(document=document).first()


def open_tasks(document):
    return queries.open_tasks(document)


def task_for(user, tasks):
    """Of a document's open tasks, the one `user` holds, else one they may take from its queue."""
    for task in tasks:
        if queries.holds(task, user):
            return task
    for task in tasks:
        if task.owner_id is None and task.flow_task.can_assign(user, task):
            return task
    return None


def _activation(task):
    # The caller already holds the process lock, so the task's own activation() context
    # manager, which takes it again, is not needed.
    return task.flow_task.activation_class(task)


def _dispatch(process):
    """Bring the tasks in line with the open steps after an act that completed no task."""
    cause = StepTask.objects.filter(process=process).order_by("-pk").first()
    activation = flows.DocumentFlow.dispatch._create(prev_activation=_activation(cause), token=cause.token)
    activation._activate_next({activation})


def submit(document, user, note="", format_reason=""):
    """First submission starts the process; a later one completes the drafter's 修改 task."""
    process = process_of(document)
    if process is None:
        with transaction.atomic():
            document = services.submit(document, user, note, format_reason)
            flows.DocumentFlow.start.run(document=document)
        return document
    revise = open_tasks(document).filter(state__kind=StepKind.REVISE).first()
    if revise is None:
        raise IssuanceError("公文已在办理中，不能重复送审")
    complete(revise, user, lambda: services.submit(document, user, note, format_reason))
    return document


def take_back(document, user, reason=""):
    """撤回: the drafter's submission, or a reviewer's approval; the tasks follow."""
    process = process_of(document)
    if process is None:
        raise IssuanceError("公文尚未送审")
    with flows.DocumentFlow.lock(process.pk), transaction.atomic():
        state = services.take_back(document, user, reason)
        _dispatch(process)
    return state


def _claim(task, user, record=True):
    """Claim `task` for `user` in the domain and in the flow; caller holds the lock."""
    if task.owner_id == user.pk:
        raise IssuanceError("您已领取该任务")
    if task.status not in queries.OPEN:
        raise IssuanceError(services.why_closed(task.state))
    if task.status != STATUS.NEW or task.owner_id:
        raise IssuanceError(services.held_by_another(task.state))
    services.claim(task.state.document, user, task.state, record=record)
    _activation(task).assign(user)


def claim(task, user):
    """Take a task from its queue into one's own 待办."""
    with flows.DocumentFlow.lock(task.process_id), transaction.atomic():
        _claim(StepTask.objects.select_for_update(of=("self",)).select_related("state").get(pk=task.pk), user)


def release(task, user):
    """Put a claimed task back into its queue."""
    with flows.DocumentFlow.lock(task.process_id), transaction.atomic():
        task = StepTask.objects.select_for_update(of=("self",)).select_related("state").get(pk=task.pk)
        if task.status != STATUS.ASSIGNED or task.owner_id != user.pk:
            raise IssuanceError("只能退回自己领取的任务")
        services.release(task.state.document, user, task.state)
        _activation(task).unassign()


def take(task, user):
    """Make sure `user` holds `task`, claiming it from the queue if nobody does.
    Runs inside the caller's lock and transaction; returns the task, re-read."""
    task = StepTask.objects.select_for_update(of=("self",)).select_related("state").get(pk=task.pk)
    if task.status not in queries.OPEN:
        raise IssuanceError(services.why_closed(task.state))
    if task.status == STATUS.NEW:
        _claim(task, user, record=False)
        task.refresh_from_db()
    if not queries.holds(task, user):
        raise IssuanceError(services.held_by_another(task.state))
    reason = services.refusal(user, task.state)
    if reason:
        raise IssuanceError(reason)
    return task


def complete(task, user, perform):
    """Run `perform` (an issuance service call) as the work of `task`, then move the flow on."""
    with flows.DocumentFlow.lock(task.process_id), transaction.atomic():
        task = take(task, user)
        activation = _activation(task)
        if task.status == STATUS.ASSIGNED:
            activation.start(None)
        result = perform()
        activation.execute()
        return result


def correct_at_recheck(document, user, content, fixes=None):
    """A correction made at 复核 completes the 复核 task and sends the text back to 签发."""
    task = open_tasks(document).filter(state__kind=StepKind.RECHECK).first()
    if task is None:
        raise IssuanceError("公文不在复核环节")

    def perform():
        revision = services.save_content(document, user, content, fixes=fixes)
        if revision is None:
            raise IssuanceError("内容没有变化，无需重新签发")
        return revision

    return complete(task, user, perform)
