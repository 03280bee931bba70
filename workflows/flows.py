"""The 发文 flow: one human task for each open step of a document, whatever its chain.

The path is data (issuance.chains) and the domain decides which steps are open after each
act (issuance.services). This flow turns every open `StepState` into a task in its holder's
待办 or in a queue. After each task, and after an act that completes no task (a 撤回), its
`Dispatch` gateway brings the tasks in line with the states: a new task for each state
that was opened, a cancelled task for each state that was closed without being done (the
other parties of a 会签 after one returns it, the next step after a 撤回).

Why not a Split and a Join per 会签: viewflow's Join waits for the tokens of one Split, and
the graph would fix the chain in code. A return that cancels the other parties, a 撤回 that
reopens one party, and a return to any earlier step are moves on the run's data, which the
domain makes; the flow mirrors them.
"""

from viewflow import this
from viewflow.workflow import flow, lock
from viewflow.workflow.activation import Activation
from viewflow.workflow.nodes.split import SplitActivation
from viewflow.workflow.status import STATUS

from issuance import services
from issuance.models import Stage, StepState
from issuance.roles import may_act

from .models import DocumentProcess, StepTask
from .queries import holds

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


class DispatchActivation(SplitActivation):
    """Creates a task for each open state that has none, and cancels the open tasks whose
    state is no longer open; ends the process once the document is archived."""

    @Activation.status.super()
    def activate(self):
        step_node, end_node = self.flow_task.step_node, self.flow_task.end_node
        document = self.process.document
        states = list(services.open_states(document).order_by("pk").values_list("pk", flat=True))
        covered = set()
        for task in StepTask.objects.filter(process=self.process, flow_task_type="HUMAN", status__in=OPEN):
            if task.state_id in states:
                covered.add(task.state_id)
            else:
                task.flow_task.activation_class(task).cancel()
        self.next_tasks = [(step_node, {"state": pk}) for pk in states if pk not in covered]
        if document.stage == Stage.ARCHIVED:
            self.next_tasks.append((end_node, None))


class Dispatch(flow.Split):
    """The gateway after every act: `.Next(step)` for the human tasks, `.Next(end)` last."""

    activation_class = DispatchActivation

    @property
    def step_node(self):
        return self._activate_next[0][0]

    @property
    def end_node(self):
        return self._activate_next[1][0]


def _step_view(request, *args, **kwargs):
    # Named lazily: the views import the actions, which import this flow.
    from .views import step_view

    return step_view(request, *args, **kwargs)


def _assignee(activation):
    """The person the state names, if any: their task goes straight to their 待办."""
    state = StepState.objects.select_related("assignee").get(pk=activation.task.data["state"])
    return state.assignee


def _state(task):
    return (task if isinstance(task, StepTask) else task.coerced).state


class StepNode(flow.View):
    """A human task doing the work of one step state; the domain's rules say who may take it."""

    def __init__(self, **kwargs):
        super().__init__(_step_view, **kwargs)
        self.Assign(_assignee)

    def can_assign(self, user, task):
        return task.status == STATUS.NEW and task.owner_id is None and may_act(user, _state(task))

    def can_execute(self, user, task):
        return holds(task, user) and may_act(user, _state(task))


class DocumentFlow(flow.Flow):
    process_class = DocumentProcess
    task_class = StepTask
    lock_impl = lock.select_for_update_lock
    process_title = "发文办理"
    process_description = "拟稿、审核、签发、印发、归档"

    start = flow.StartHandle(this.start_process).Annotation(title="送审").Next(this.dispatch)
    dispatch = Dispatch().Annotation(title="流转").Next(this.step).Next(this.end)
    step = StepNode().Annotation(title="办理").Next(this.dispatch)
    end = flow.End().Annotation(title="办结")

    def has_view_permission(self, user, obj=None):
        # Who sees what is decided per document (issuance.roles); viewflow's own process
        # views are not mounted.
        return user.is_authenticated

    def start_process(self, activation, document):
        activation.process.document = document
        return activation.process
