"""The document page and the acts on it that go through the flow: editing (a correction at
复核 completes the 复核 task), 送审 and 撤回. Thin views over workflows.actions, which run the
issuance services under the process lock.

A document that a user may not see does not exist for them: every URL answers 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from issuance import params, services, submissions
from issuance.exceptions import IssuanceError
from issuance.forms import DraftForm, GrantForm, SubmitForm, WithdrawForm
from issuance.models import EDITABLE_STAGES, Stage, display_name
from issuance.roles import can_grant, may_browse_archive
from issuance.views import form_page, page_images, routing_form, visible_or_404

from . import actions, queries
from .views import TASK_LABELS


@login_required
def document_edit(request, pk):
    document = visible_or_404(request, pk)
    if not services.can_edit(document, request.user):
        raise PermissionDenied("当前环节您不能修改该公文")
    drafting = document.stage in EDITABLE_STAGES
    if request.method == "POST":
        form = DraftForm(request.POST)
        routing = routing_form(request.user, request.POST, document) if drafting else None
        if form.is_valid() and (routing is None or routing.is_valid()):
            try:
                with submissions.once(request):
                    if not drafting:
                        saved = actions.correct_at_recheck(document, request.user, form.content)
                    else:
                        data = routing.cleaned_data
                        saved = services.save_content(document, request.user, form.content,
                                                      form.cleaned_data["copies"], category=data["category"],
                                                      countersign=data["countersign"])
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"已保存为第{saved.number}稿" if saved else "内容没有变化")
                return redirect("document", pk=document.pk)
        return form_page(request, form, routing, document, status=400)
    form = DraftForm(initial=DraftForm.initial_for(document.current_revision.content, document.copies))
    return form_page(request, form, routing_form(request.user, document=document) if drafting else None, document)


@login_required
def document_detail(request, pk):
    document = visible_or_404(request, pk)
    user = request.user
    tasks = queries.document_tasks(document)
    # The open ones as actions.open_tasks gives them, the newest first, without a query of their own.
    open_tasks = [task for task in reversed(tasks) if task.status in queries.OPEN]
    my_task = actions.task_for(user, open_tasks)
    history = [{"task": task, "status": TASK_LABELS.get(task.status, task.status)} for task in tasks]
    progress = services.progress(document)
    records = services.records(document)
    opinions = records["opinions"]
    signing = next((o for o in reversed(opinions) if o.state_id and o.state.kind == "sign" and o.decision == "approve"
                    and document.signed_revision_id), None)
    return render(request, "issuance/document_detail.html", {
        "document": document,
        "content": document.current_revision.content,
        "progress": progress,
        "pages": page_images(document),
        "open_tasks": [{"task": t, "holder": services.holders_label(t.state) if not t.owner_id else
                        display_name(t.owner)} for t in open_tasks],
        "my_task": my_task,
        "opinions": opinions,
        "signing": signing,
        "revisions": records["revisions"],
        "events": records["events"],
        "history": history,
        "distributions": records["distributions"],
        # Only a document past 印制 has a print job to show, only an archived one a record.
        "archive_record": getattr(document, "archive_record", None) if document.stage == Stage.ARCHIVED else None,
        "print_job": services.last_print_job(document) if document.stage in (Stage.PRINTING, Stage.DISTRIBUTION)
        else None,
        "can_browse_archive": may_browse_archive(user, document.organ_id),
        "can_edit": services.can_edit(document, user),
        "can_submit": user.pk == document.drafter_id and document.stage in EDITABLE_STAGES,
        "take_back": services.take_back_target(document, user, progress["round"] if progress else None),
        "urgeable": [t.state for t in open_tasks if t.state.is_overdue()] if services.may_urge(document, user) else [],
        "can_grant": can_grant(user, document),
        "submit_form": SubmitForm(),
        "withdraw_form": WithdrawForm(),
        "grant_form": GrantForm(),
    })


@login_required
@require_POST
def document_submit(request, pk):
    document = visible_or_404(request, pk)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("document", pk=document.pk)
    try:
        with submissions.once(request):
            actions.submit(document, request.user, form.cleaned_data["note"], form.cleaned_data.get("format_reason", ""))
    except IssuanceError as error:
        messages.error(request, error.message)
    else:
        document.refresh_from_db()
        first = services.open_states(document).first()
        messages.success(request, f"已送审，进入{first.name}" if first else "已送审")
    return redirect("document", pk=document.pk)


@login_required
@require_POST
def document_format_fix(request, pk):
    """One click on a 格式审查 finding's safe fix, or on all of them: the fixed text is saved as
    the next revision, as an edit of the 稿纸 is (at 复核 it goes back to 签发)."""
    document = visible_or_404(request, pk)
    if not services.can_edit(document, request.user):
        raise PermissionDenied("当前环节您不能修改该公文")
    every = params.choice(request.POST, "finding", ["all"]) == "all"
    number = params.integer(request.POST, "revision")
    finding = params.integer(request.POST, "finding", minimum=0)
    if number is None or (not every and finding is None):
        messages.error(request, "请选择要改正的问题")
        return redirect("document", pk=document.pk)
    chosen = "all" if every else [finding]
    try:
        with submissions.once(request):
            content, rules, count = services.format_review.fixed_content(document, number, chosen)
            fixes = {"rules": rules, "count": count}
            if document.stage in EDITABLE_STAGES:
                saved = services.save_content(document, request.user, content, fixes=fixes)
            else:
                saved = actions.correct_at_recheck(document, request.user, content, fixes=fixes)
    except IssuanceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已改正 {count} 处，保存为第{saved.number}稿" if saved else "内容没有变化")
    return redirect("document", pk=document.pk)


@login_required
@require_POST
def document_withdraw(request, pk):
    document = visible_or_404(request, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("document", pk=document.pk)
    try:
        with submissions.once(request):
            state = actions.take_back(document, request.user, form.cleaned_data["reason"])
    except IssuanceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已撤回“{state}”，请重新办理" if state else "已撤回，可修改后重新送审")
    return redirect("document", pk=document.pk)


