"""The 发文办理 flow: which step comes next and who may take it.

The order of the stages is the domain's (issuance.services moves `Document.stage`);
this flow turns each stage into a task in someone's 待办 or a role's 可领取 queue and,
after every task, routes by the stage the domain arrived at. A return therefore loops
back through 修改 to 初审 inside the same process, which keeps one history.
"""

from viewflow import this
from viewflow.workflow import flow, lock

from issuance.models import Document, Stage
from issuance.roles import STAGE_PERMISSION, final_reviewers, first_reviewers, may_act, sole

from . import views
from .models import DocumentProcess


class StageTask(flow.View):
    """A human task at one stage of the path; the issuance rules decide who may take it."""

    def __init__(self, view, stage, **kwargs):
        super().__init__(view, **kwargs)
        self.stage = stage
        self.Permission(STAGE_PERMISSION[stage])

    def can_assign(self, user, task):
        return super().can_assign(user, task) and may_act(task.process.coerced.document, user, self.stage)

    def can_execute(self, user, task):
        return super().can_execute(user, task) and may_act(task.process.coerced.document, user, self.stage)

def _at(*stages):
    # Read the stage afresh: the service that just ran saved it through another instance.
    def condition(activation):
        return Document.objects.filter(pk=activation.process.document_id, stage__in=stages).exists()

    return condition


class DocumentFlow(flow.Flow):
    process_class = DocumentProcess
    lock_impl = lock.select_for_update_lock
    process_title = "发文办理"
    process_description = "拟稿、三审、签发、印发、归档"

    start = flow.StartHandle(this.start_process).Annotation(title="送审").Next(this.route)

    route = (
        flow.Switch()
        .Annotation(title="流转")
        .Case(this.first_review, _at(Stage.FIRST_REVIEW))
        .Case(this.second_review, _at(Stage.SECOND_REVIEW))
        .Case(this.final_review, _at(Stage.FINAL_REVIEW))
        .Case(this.sign, _at(Stage.SIGNING))
        .Case(this.recheck, _at(Stage.RECHECK))
        .Case(this.register, _at(Stage.REGISTRATION))
        .Case(this.print_copy, _at(Stage.PRINTING))
        .Case(this.distribute, _at(Stage.DISTRIBUTION))
        .Case(this.archive, _at(Stage.ARCHIVING))
        .Case(this.revise, _at(Stage.RETURNED, Stage.DRAFTING))
        .Case(this.end, _at(Stage.ARCHIVED))
    )

    first_review = (
        StageTask(views.DecisionTaskView.as_view(), Stage.FIRST_REVIEW)
        .Annotation(title="初审")
        .Assign(lambda activation: sole(first_reviewers(activation.process.document)))
        .Next(this.route)
    )
    second_review = (
        StageTask(views.DecisionTaskView.as_view(), Stage.SECOND_REVIEW).Annotation(title="复审").Next(this.route)
    )
    final_review = (
        StageTask(views.DecisionTaskView.as_view(), Stage.FINAL_REVIEW)
        .Annotation(title="终审")
        .Assign(lambda activation: sole(final_reviewers(activation.process.document)))
        .Next(this.route)
    )
    sign = StageTask(views.DecisionTaskView.as_view(), Stage.SIGNING).Annotation(title="签发").Next(this.route)
    recheck = StageTask(views.RecheckTaskView.as_view(), Stage.RECHECK).Annotation(title="复核").Next(this.route)
    register = StageTask(views.RegisterTaskView.as_view(), Stage.REGISTRATION).Annotation(title="登记").Next(this.route)
    print_copy = StageTask(views.PrintTaskView.as_view(), Stage.PRINTING).Annotation(title="印制").Next(this.route)
    distribute = (
        StageTask(views.DistributeTaskView.as_view(), Stage.DISTRIBUTION).Annotation(title="核发").Next(this.route)
    )
    archive = StageTask(views.ArchiveTaskView.as_view(), Stage.ARCHIVING).Annotation(title="归档").Next(this.route)

    revise = (
        flow.View(views.ReviseTaskView.as_view())
        .Annotation(title="修改后重新送审")
        .Assign(lambda activation: activation.process.document.drafter)
        .Next(this.route)
    )

    end = flow.End().Annotation(title="办结")

    def has_view_permission(self, user, obj=None):
        # Which documents a user sees is decided per document (issuance.roles.can_view), and
        # viewflow's own process views are not mounted; the flow itself is open to every
        # signed-in user so that viewflow's queue query includes its tasks.
        return user.is_authenticated

    def start_process(self, activation, document):
        activation.process.document = document
        return activation.process
