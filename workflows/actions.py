"""What a person does to the flow: submit, withdraw, claim, release, and complete a task.

Each runs under the flow's process lock (SELECT … FOR UPDATE on the process row) in one
transaction: the issuance service changes the document, then the task completes and the
flow routes to the next step. If the service refuses, nothing is changed.
"""

from django.db import transaction
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from issuance import services
from issuance.models import Stage
from issuance.services import IssuanceError

from . import flows, queries
from .models import DocumentProcess


def process_of(document):
    return DocumentProcess.objects.filter(document=document).first()


def open_tasks(document):
    return queries.human_tasks().filter(
        process__documentprocess__document=document, status__in=[STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED]
    )


def submit(document, user, note=""):
    """First submission starts the process; a later one completes the drafter's 修改 task."""
    process = process_of(document)
    if process is None:
        with transaction.atomic():
            document = services.submit(document, user, note)
            flows.DocumentFlow.start.run(document=document)
        return document
    revise = open_tasks(document).filter(flow_task=flows.DocumentFlow.revise).first()
    if revise is None:
        raise IssuanceError("公文已在办理中，不能重复送审")
    complete(revise, user, lambda: services.submit(document, user, note))
    return document


def withdraw(document, user, reason=""):
    """The drafter takes the submission back from 初审; it comes back to their 待办 as 修改."""
    process = process_of(document)
    if process is None:
        raise IssuanceError("公文尚未送审")
    with flows.DocumentFlow.lock(process.pk), transaction.atomic():
        services.withdraw(document, user, reason)
        task = open_tasks(document).select_for_update(of=("self",)).filter(flow_task=flows.DocumentFlow.first_review).first()
        activation = _activation(task)
        activation.cancel()
        revise = flows.DocumentFlow.revise.activation_class.create(flows.DocumentFlow.revise, activation, task.token)
        if revise.activate.can_proceed():  # a task created already assigned needs no activation
            revise.activate()


def claim(task, user):
    """Take a task from the role's queue into one's own 待办."""
    with flows.DocumentFlow.lock(task.process_id), transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.status != STATUS.NEW or task.owner_id:
            raise IssuanceError("该任务已被他人领取")
        if not task.flow_task.can_assign(user, task):
            reason = _refusal(task, user) or "您不能领取该任务"
            raise IssuanceError(reason)
        _activation(task).assign(user)
        services.record_task_change(task.process.coerced.document, user, "claim", task.flow_task.task_title)


def release(task, user):
    """Put a claimed task back into the queue."""
    with flows.DocumentFlow.lock(task.process_id), transaction.atomic():
        task = Task.objects.select_for_update().get(pk=task.pk)
        if task.status != STATUS.ASSIGNED or task.owner_id != user.pk:
            raise IssuanceError("只能退回自己领取的任务")
        activation = _activation(task)
        if task.flow_task.calc_owner(activation) is not None:
            raise IssuanceError("该任务直接分配给您，不能退回待领取")
        activation.unassign()
        services.record_task_change(task.process.coerced.document, user, "release", task.flow_task.task_title)


def take(task, user):
    """Make sure `user` holds `task`, claiming it from the queue if nobody does.
    Runs inside the caller's lock and transaction; returns the task, re-read."""
    task = Task.objects.select_for_update().get(pk=task.pk)
    if task.status not in (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED):
        raise IssuanceError("该任务已办理完毕")
    if task.status == STATUS.NEW:
        if not task.flow_task.can_assign(user, task):
            raise IssuanceError(_refusal(task, user) or "您不能办理该任务")
        _activation(task).assign(user)
        task.refresh_from_db()
    if not task.flow_task.can_execute(user, task):
        raise IssuanceError(_refusal(task, user) or "该任务不由您办理")
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


def _activation(task):
    # The caller already holds the process lock, so the task's own activation() context
    # manager, which takes it again, is not needed.
    return task.flow_task.activation_class(task)


def _refusal(task, user):
    from issuance.roles import refusal

    stage = getattr(task.flow_task, "stage", None)
    if stage is None:
        return None
    return refusal(task.process.coerced.document, user, Stage(stage))


def correct_at_recheck(document, user, content):
    """A correction made at 复核 completes the 复核 task and sends the text back to 签发."""
    task = open_tasks(document).filter(flow_task=flows.DocumentFlow.recheck).first()
    if task is None:
        raise IssuanceError("公文不在复核环节")

    def perform():
        revision = services.save_content(document, user, content)
        if revision is None:
            raise IssuanceError("内容没有变化，无需重新签发")
        return revision

    return complete(task, user, perform)
