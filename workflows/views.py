"""Task pages: 待办, 可领取, 已办, and the page on which one task is done.

Each step's view parses the form, then asks workflows.actions to run one issuance service
as the task's work. Who may see a task follows the document; who may act follows the
task's step state (issuance.roles).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.utils import timezone
from django.views.decorators.http import require_POST
from viewflow.workflow.status import STATUS

from issuance import listing, params, services, submissions
from issuance.paging import joins_as_written, page_of
from issuance.services import phrases
from issuance.forms import ArchiveForm, DecisionForm, ReasonForm, RecipientFormSet, RegisterForm, SubmitForm
from issuance.exceptions import IssuanceError
from issuance.models import Decision, StepKind, display_name
from issuance.roles import can_view
from issuance.views import page_images

from . import actions, printing, queries

TASK_LABELS = {
    STATUS.NEW: "待领取",
    STATUS.ASSIGNED: "待办理",
    STATUS.STARTED: "办理中",
    STATUS.DONE: "已办理",
    STATUS.CANCELED: "已撤销",
    STATUS.ERROR: "出错",
}


PAGE_SIZE = 50


def _task_list(request, tab, title, tasks, sorts=listing.OPEN_TASK_SORTS):
    filters = listing.ListFilter(request.GET, sorts)
    with joins_as_written():  # each list is read off an index of the task table (issuance.paging)
        page = page_of(filters.apply(tasks, request.user, prefix="state__document__"), PAGE_SIZE,
                       params.page(request.GET), rows=queries.listed_rows)  # its rows read here, inside the block
    today = timezone.localdate()
    # 已办 shows where each document stands now.
    stands = listing.where_it_stands([task.state.document for task in page], today) if tab == "archive" else {}
    rows = [{"task": task, "state": task.state, "document": task.state.document,
             "status": TASK_LABELS.get(task.status, task.status), "overdue": task.state.is_overdue(today),
             "open": stands.get(task.state.document_id, []),
             "deputy_for": task.owner if task.owner_id and task.owner_id != request.user.pk and tab == "inbox"
             else None} for task in page]
    return render(request, "workflows/task_list.html", {"tab": tab, "title": title, "rows": rows, "page": page,
                                                        "filters": filters})


@login_required
def inbox(request):
    return _task_list(request, "inbox", "待办", queries.inbox(request.user))


@login_required
def queue(request):
    return _task_list(request, "queue", "可领取", queries.claimable(request.user))


@login_required
def archive(request):
    return _task_list(request, "archive", "已办", queries.done(request.user), listing.DONE_TASK_SORTS)


def _visible_task(request, task_pk):
    task = get_object_or_404(queries.human_tasks(), pk=task_pk)
    if not can_view(request.user, queries.document_of(task)):
        raise Http404("没有找到该任务")
    return task


@login_required
@require_POST
def claim(request, task_pk):
    task = _visible_task(request, task_pk)
    try:
        with submissions.once(request):
            actions.claim(task, request.user)
    except IssuanceError as error:
        messages.error(request, error.message)
        return redirect("queue")
    messages.success(request, f"已领取“{task.state.name}”任务")
    return redirect("task", task_pk=task.pk)


@login_required
@require_POST
def release(request, task_pk):
    task = _visible_task(request, task_pk)
    try:
        with submissions.once(request):
            actions.release(task, request.user)
    except IssuanceError as error:
        messages.error(request, error.message)
        return redirect("task", task_pk=task.pk)
    messages.success(request, "任务已退回待领取")
    return redirect("inbox")


@login_required
def task_page(request, task_pk):
    """Dispatch to the view of the task's node, as viewflow's own URLs would."""
    task = _visible_task(request, task_pk)
    return task.flow_task.view(request, task=task)


def step_view(request, task):
    """The page of a task: the form of its step's kind."""
    view = STEP_VIEWS[task.state.kind]
    return view.as_view()(request, task=task)


@method_decorator(login_required, name="dispatch")
class TaskView(View):
    """The page of one open task: the document, and the form that completes the step."""

    form_template = None

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.task = kwargs["task"]
        self.state = self.task.state
        self.document = queries.document_of(self.task)

    def dispatch(self, request, *args, **kwargs):
        task = self.task
        if task.status not in (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED):
            messages.info(request, services.why_closed(self.state))
            return redirect("document", pk=self.document.pk)
        user = request.user
        if task.status == STATUS.NEW:
            if not task.flow_task.can_assign(user, task):
                raise PermissionDenied("您不能领取该任务")
        elif not task.flow_task.can_execute(user, task):
            raise PermissionDenied("该任务不由您办理")
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, data=None):
        raise NotImplementedError

    def perform(self, form):
        raise NotImplementedError

    def render(self, form, status=200):
        context = {
            "task": self.task,
            "document": self.document,
            "form": form,
            "form_template": self.form_template,
            "step_title": str(self.state),
            "claimable": self.task.status == STATUS.NEW,
            "releasable": self.state.claimed_by_id == self.request.user.pk and self.task.status != STATUS.NEW,
            "opinions": self.document.opinions.select_related("user", "on_behalf_of"),
            "pages": page_images(self.document),
        }
        context.update(self.extra_context())
        return render(self.request, "workflows/task.html", context, status=status)

    def extra_context(self):
        return {}

    def get(self, request, *args, **kwargs):
        return self.render(self.get_form())

    def post(self, request, *args, **kwargs):
        form = self.get_form(request.POST)
        if not form.is_valid():
            return self.render(form, status=400)
        try:
            with submissions.once(request):
                actions.complete(self.task, request.user, lambda: self.perform(form))
        except IssuanceError as error:
            messages.error(request, error.message)
            # 503 when the storage refused (StorageError): the request itself was fine.
            return self.render(form, status=getattr(error, "http_status", 400))
        messages.success(request, self.done_message(form))
        return redirect("document", pk=self.document.pk)

    def done_message(self, form):
        return f"“{self.state}”已办理"


class DecisionTaskView(TaskView):
    """A review step, a 会签 party, 签发: approve, or return with a reason, to the drafter or
    to an earlier step."""

    form_template = "workflows/forms/decision.html"

    def get_form(self, data=None):
        signing = self.state.kind == StepKind.SIGN
        initial = {"text": phrases.phrases_for(self.request.user, StepKind.SIGN)[0]} if signing else None
        return DecisionForm(data, targets=services.return_targets(self.state), signing=signing, initial=initial)

    def extra_context(self):
        return {"phrases": phrases.phrases_for(self.request.user, self.state.kind)}

    def perform(self, form):
        data = form.cleaned_data
        opinion = services.decide(self.document, self.request.user, self.state, data["decision"], data["text"],
                                  return_to=data.get("return_to") or "drafter")
        if data.get("remember") and data["text"].strip():
            phrases.remember(self.request.user, data["text"])
        return opinion

    def done_message(self, form):
        if form.cleaned_data["decision"] == Decision.RETURN:
            target = dict(services.return_targets(self.state)).get(form.cleaned_data.get("return_to") or "drafter")
            return f"已退回{target}"
        if self.state.kind == StepKind.SIGN:
            day = timezone.localdate()
            return f"已签发（{display_name(self.request.user)} {day.year}年{day.month}月{day.day}日）"
        return f"“{self.state}”已办理"


class RecheckTaskView(DecisionTaskView):
    """复核: the office checks the signed text; a correction goes back to 签发 (via the edit page)."""

    form_template = "workflows/forms/recheck.html"


class RegisterTaskView(TaskView):
    form_template = "workflows/forms/register.html"

    def get_form(self, data=None):
        return RegisterForm(data, initial={"copies": self.document.copies or 1})

    def perform(self, form):
        return services.register(self.document, self.request.user, form.cleaned_data["copies"])


class PrintTaskView(TaskView):
    """印制: start the rendering (it runs in the background), or, before it starts, return the
    document to its drafter or void its number and send it back to 登记."""

    form_template = "workflows/forms/print.html"

    def get_form(self, data=None):
        return ReasonForm(data)

    def extra_context(self):
        job = services.last_print_job(self.document)
        return {"job": job, "job_active": job is not None and job.status in ("queued", "running"),
                "job_stale": job is not None and services.is_stale(job),
                "attempts": list(job.attempt_log.all()) if job else []}

    def post(self, request, *args, **kwargs):
        action = params.choice(request.POST, "action", ("print", "retry", "return", "void"))
        form = self.get_form(request.POST)
        if action in ("return", "void") and not form.is_valid():
            return self.render(form, status=400)
        try:
            if action is None:
                raise IssuanceError("请选择要办理的操作")
            with submissions.once(request):
                done, response = self.act(action, form)
        except IssuanceError as error:
            messages.error(request, error.message)
            return self.render(form, status=400)
        messages.success(request, done)
        return response

    def act(self, action, form):
        """Do `action`; returns what was done and the page to go to next."""
        user = self.request.user
        if action in ("print", "retry"):
            start = printing.request if action == "print" else printing.retry
            job = start(self.document, user)
            job.refresh_from_db()
            if job.status == job.Status.DONE:  # rendered in the request itself ("inline")
                return "印制完成，已进入核发", redirect("document", pk=self.document.pk)
            return "已开始印制，完成后自动进入核发", redirect("task", task_pk=self.task.pk)
        reason = form.cleaned_data["reason"]
        if action == "return":
            actions.complete(self.task, user, lambda: services.decide(
                self.document, user, self.state, Decision.RETURN, reason))
            return "已退回拟稿人", redirect("document", pk=self.document.pk)
        actions.complete(self.task, user, lambda: services.void_and_reregister(self.document, user, reason))
        return "文号已作废，公文回到登记环节", redirect("document", pk=self.document.pk)


class DistributeTaskView(TaskView):
    """核发: the recipients proposed from 主送 and 抄送, matched against the address book."""

    form_template = "workflows/forms/distribute.html"

    def get_form(self, data=None):
        initial = [
            {"recipient": name, "role": role, "copies": 1} for name, role in services.default_recipients(self.document)
        ]
        return RecipientFormSet(data, initial=initial, prefix="r")

    def perform(self, formset):
        rows = [row for row in formset.cleaned_data if row and row.get("recipient", "").strip()]
        recipients = [(row["recipient"].strip(), row["role"], row["copies"]) for row in rows]
        add = {row["recipient"].strip() for row in rows if row.get("add")}
        return services.distribute(self.document, self.request.user, recipients, add_to_book=add)

    def extra_context(self):
        return {
            "known": set(services.known_recipients(self.document.organ)),
            "numbered": services.copies_are_numbered(self.document),
        }


class ArchiveTaskView(TaskView):
    form_template = "workflows/forms/archive.html"

    def get_form(self, data=None):
        return ArchiveForm(data)

    def perform(self, form):
        return services.archive(self.document, self.request.user, form.cleaned_data["retention"], form.cleaned_data["remarks"])


class ReviseTaskView(TaskView):
    """修改: the drafter reads why it came back, edits the 稿纸 and submits it again."""

    form_template = "workflows/forms/revise.html"

    def get_form(self, data=None):
        return SubmitForm(data)

    def perform(self, form):
        return services.submit(self.document, self.request.user, form.cleaned_data["note"],
                               form.cleaned_data["format_reason"])

    def extra_context(self):
        returns = self.document.opinions.filter(round=self.document.round, decision=Decision.RETURN).select_related(
            "user", "on_behalf_of")
        return {"returns": returns, "stage_returned": self.document.stage == "returned"}


STEP_VIEWS = {
    StepKind.REVIEW: DecisionTaskView,
    StepKind.SIGN: DecisionTaskView,
    StepKind.RECHECK: RecheckTaskView,
    StepKind.REGISTER: RegisterTaskView,
    StepKind.PRINT: PrintTaskView,
    StepKind.DISTRIBUTE: DistributeTaskView,
    StepKind.ARCHIVE: ArchiveTaskView,
    StepKind.REVISE: ReviseTaskView,
}
