"""Document pages: the 发文稿纸, the document page, its PDFs and its exchange JSON.

A document that a user may not see does not exist for them: every URL answers 404.
"""

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from workflows import actions
from workflows.views import TASK_LABELS

from . import diffing, exchange, previews, services
from .archive_views import may_browse_archive
from .forms import DraftForm, GrantForm, SubmitForm, WithdrawForm
from .models import Document, Stage, display_name
from .roles import can_grant, can_view, visible_documents
from .services import IssuanceError

PATH = [
    Stage.DRAFTING, Stage.FIRST_REVIEW, Stage.SECOND_REVIEW, Stage.FINAL_REVIEW, Stage.SIGNING,
    Stage.RECHECK, Stage.REGISTRATION, Stage.PRINTING, Stage.DISTRIBUTION, Stage.ARCHIVING, Stage.ARCHIVED,
]


def _visible(request, pk):
    document = get_object_or_404(Document.objects.select_related("organ", "department", "drafter"), pk=pk)
    if not can_view(request.user, document):
        raise Http404("没有找到该公文")
    return document


@login_required
def home(request):
    return redirect("inbox")


@login_required
def document_list(request):
    # Drafters start from their own drafts; leaders and the office from all they may see.
    scope = request.GET.get("scope") or ("mine" if request.user.has_perm("issuance.add_document") else "all")
    documents = visible_documents(request.user).select_related("department", "drafter")
    if scope == "mine":
        documents = documents.filter(drafter=request.user)
    query = request.GET.get("q", "").strip()
    if query:
        documents = documents.filter(Q(title__icontains=query) | Q(doc_number__icontains=query))
    return render(request, "issuance/document_list.html", {
        "documents": documents.order_by("-updated_at")[:500], "scope": scope, "query": query,
    })


def _initial_content(user):
    organ = user.staff.department.organ
    return {
        "issuer_marks": organ.name,
        "signature_orgs": organ.name,
        "printed_by": organ.office_name,
        "seal": True,
        "doc_type": "通知",
        "direction": "下行文",
        "format": "文件",
    }


@login_required
def document_create(request):
    if not request.user.has_perm("issuance.add_document") or not hasattr(request.user, "staff"):
        raise PermissionDenied("您没有拟稿权限")
    if request.method == "POST":
        form = DraftForm(request.POST)
        if form.is_valid():
            try:
                document = services.create_draft(request.user, form.content, form.cleaned_data["copies"])
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "草稿已保存")
                return redirect("document", pk=document.pk)
        return render(request, "issuance/document_form.html", {"form": form, "creating": True}, status=400)
    form = DraftForm(initial=_initial_content(request.user))
    return render(request, "issuance/document_form.html", {"form": form, "creating": True})


@login_required
def document_edit(request, pk):
    document = _visible(request, pk)
    if not services.can_edit(document, request.user):
        raise PermissionDenied("当前环节您不能修改该公文")
    if request.method == "POST":
        form = DraftForm(request.POST)
        if form.is_valid():
            try:
                if document.stage == Stage.RECHECK:
                    saved = actions.correct_at_recheck(document, request.user, form.content)
                else:
                    saved = services.save_content(document, request.user, form.content, form.cleaned_data["copies"])
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"已保存为第{saved.number}稿" if saved else "内容没有变化")
                return redirect("document", pk=document.pk)
        return render(request, "issuance/document_form.html", {"form": form, "document": document}, status=400)
    form = DraftForm(initial=DraftForm.initial_for(document.current_revision.content, document.copies))
    return render(request, "issuance/document_form.html", {"form": form, "document": document})


@login_required
def document_detail(request, pk):
    document = _visible(request, pk)
    user = request.user
    process = actions.process_of(document)
    open_tasks = list(actions.open_tasks(document))
    my_task = next(
        (t for t in open_tasks if (t.owner_id == user.pk) or (not t.owner_id and t.flow_task.can_assign(user, t))),
        None,
    )
    history = []
    if process is not None:
        history = [
            {"task": task, "status": TASK_LABELS.get(task.status, task.status)}
            for task in process.task_set.filter(flow_task_type="HUMAN").select_related("owner").order_by("created", "pk")
        ]
    current = PATH.index(Stage.DRAFTING if document.stage == Stage.RETURNED else Stage(document.stage))
    return render(request, "issuance/document_detail.html", {
        "document": document,
        "content": document.current_revision.content,
        "path": [{"label": stage.label, "state": "done" if i < current else "current" if i == current else ""}
                 for i, stage in enumerate(PATH)],
        "open_tasks": open_tasks,
        "my_task": my_task,
        "opinions": document.opinions.select_related("user", "revision"),
        "revisions": document.revisions.select_related("author").order_by("-number"),
        "events": [{"event": e, "label": services.describe_event(e)}
                   for e in document.events.select_related("actor").order_by("seq")],
        "history": history,
        "distributions": document.distributions.select_related("sent_by"),
        "archive_record": getattr(document, "archive_record", None),
        "print_job": services.last_print_job(document),
        "can_browse_archive": may_browse_archive(user),
        "can_edit": services.can_edit(document, user),
        "can_submit": user.pk == document.drafter_id and document.stage in services.EDITABLE_STAGES,
        "can_withdraw": services.can_withdraw(document, user),
        "can_grant": can_grant(user, document),
        "submit_form": SubmitForm(),
        "withdraw_form": WithdrawForm(),
        "grant_form": GrantForm(),
    })


@login_required
@require_POST
def document_submit(request, pk):
    document = _visible(request, pk)
    form = SubmitForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        actions.submit(document, request.user, note)
    except IssuanceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "已送审，进入初审")
    return redirect("document", pk=document.pk)


@login_required
@require_POST
def document_withdraw(request, pk):
    document = _visible(request, pk)
    form = WithdrawForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        actions.withdraw(document, request.user, reason)
    except IssuanceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "已撤回，可修改后重新送审")
    return redirect("document", pk=document.pk)


@login_required
@require_POST
def document_grant(request, pk):
    document = _visible(request, pk)
    form = GrantForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写用户名")
        return redirect("document", pk=document.pk)
    try:
        target = services.grant_access(document, request.user, form.cleaned_data["username"])
    except IssuanceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已授权{display_name(target)}查看")
    return redirect("document", pk=document.pk)


def _pdf_response(data, filename, inline=True):
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def document_preview(request, pk):
    """The current text (or revision ?r=N) as a PDF marked 草稿, at any stage."""
    document = _visible(request, pk)
    revision = document.current_revision
    if request.GET.get("r", "").isdigit():
        revision = get_object_or_404(document.revisions, number=int(request.GET["r"]))
    try:
        pdf = previews.draft_pdf(document, revision)
    except IssuanceError as error:
        return render(request, "message.html", {"title": "无法生成预览", "message": error.message}, status=400)
    return _pdf_response(pdf, f"草稿-{document.title[:40]}-第{revision.number}稿.pdf")


@login_required
def document_issued_pdf(request, pk):
    document = _visible(request, pk)
    if not document.issued_pdf:
        raise Http404("该公文尚未印发")
    with document.issued_pdf.open("rb") as handle:
        data = handle.read()
    return _pdf_response(data, f"{document.doc_number}.pdf", inline=request.GET.get("download") != "1")


@login_required
def document_export(request, pk):
    """The exchange JSON of the issued text if there is one, else of the current draft."""
    document = _visible(request, pk)
    content = document.exchange_content()
    response = HttpResponse(exchange.dump_json(content), content_type="application/json; charset=utf-8")
    name = document.doc_number or f"草稿-{document.pk}"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name + '.json')}"
    return response


@login_required
def revision_detail(request, pk, number):
    """One revision's text; with ?compare=N, what changed from revision N (by default the one before)."""
    document = _visible(request, pk)
    revision = get_object_or_404(document.revisions.select_related("author"), number=number)
    compare = request.GET.get("compare", "")
    base = None
    if compare.isdigit():
        base = get_object_or_404(document.revisions, number=int(compare))
    context = {"document": document, "revision": revision, "content": revision.content, "base": base,
               "previous": number - 1 if number > 1 else None}
    if base is not None:
        context["field_changes"] = diffing.field_changes(base.content, revision.content)
        context["body_changes"] = diffing.body_changes(base.content["body"], revision.content["body"])
    return render(request, "issuance/revision_detail.html", context)
