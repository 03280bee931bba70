"""Document pages that the flow has no part in: the list, a new 发文稿纸, the PDFs, the
exchange JSON, the revisions, and a grant to one more person. The document page and the acts
that move a document along (its edit, 送审, 撤回) are the flow's: workflows.document_views.

A document that a user may not see does not exist for them: every URL answers 404.
"""

import logging
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import archiving, chains, diffing, exchange, listing, params, previews, recognise, services, storage, submissions
from .exceptions import IssuanceError
from .forms import DraftForm, GrantForm, ImportForm, RoutingForm
from .models import Department, Document, display_name
from .paging import page_of
from .prepared import Prepared
from .roles import drafting_departments, may_draft, seen_by

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


def visible_or_404(request, pk):
    """The document, if the user may see it; for anyone else it does not exist (404)."""
    return get_object_or_404(
        Document.objects.filter(seen_by(request.user)).select_related("organ", "department", "drafter",
                                                                      "current_revision"), pk=pk
    )


@login_required
def home(request):
    return redirect("inbox")


# A page of the 公文 list: its rows by the keys the list found (issuance.paging), with what a
# row shows.
_LISTED_DOCUMENTS = Prepared(lambda ids: Document.objects.filter(pk__in=ids).select_related("drafter").only(
    "stage", "title", "doc_type", "doc_number", "updated_at", "drafter__first_name", "drafter__last_name").order_by())


@login_required
def document_list(request):
    # Drafters start from their own drafts; leaders and the office from all they may see.
    filters = listing.ListFilter(request.GET, listing.DOCUMENT_SORTS,
                                 default_scope="mine" if may_draft(request.user) else "all")
    documents = filters.apply(Document.objects.filter(seen_by(request.user)), request.user)
    page = page_of(documents, PAGE_SIZE, params.page(request.GET), rows=_LISTED_DOCUMENTS)
    stands = listing.where_it_stands(page)
    rows = [{"document": d, "open": stands.get(d.pk, [])} for d in page]
    return render(request, "issuance/document_list.html", {"rows": rows, "page": page, "filters": filters})


def _initial_content(organ):
    return {
        "issuer_marks": organ.name,
        "signature_orgs": organ.name,
        "printed_by": organ.office_name,
        "seal": True,
        "doc_type": "通知",
        "direction": "下行文",
        "format": "文件",
    }


def routing_form(user, data=None, document=None):
    """The 稿纸's routing fields: for which 科室 (fixed once drafted), its 类别, its 会签科室."""
    departments = drafting_departments(user)
    if document is not None:
        departments = Department.objects.filter(pk=document.department_id)
    organs = {d.organ_id for d in departments}
    initial = None
    if document is not None:
        initial = {"department": document.department_id, "category": document.category,
                   "countersign": list(document.countersign_departments.values_list("pk", flat=True))}
    own = [d.pk for d in departments] if len(departments) == 1 else []  # a draft is never countersigned by its own 科室
    return RoutingForm(
        data, initial=initial, departments=departments,
        categories=sorted({c for organ in organs for c in chains.categories(organ)}),
        organ_departments=Department.objects.filter(organ__in=organs).exclude(pk__in=own).select_related("organ"),
        fixed_department=document.department_id if document is not None else None,
    )


def form_page(request, form, routing, document=None, status=200, **extra):
    context = {"form": form, "routing": routing, "document": document, "creating": document is None}
    if document is None:
        context["upload"] = ImportForm()
    context.update(extra)
    return render(request, "issuance/document_form.html", context, status=status)


@login_required
def document_create(request):
    if not may_draft(request.user):
        raise PermissionDenied("您没有拟稿权限")
    if request.method == "POST":
        form, routing = DraftForm(request.POST), routing_form(request.user, request.POST)
        if form.is_valid() and routing.is_valid():
            data = routing.cleaned_data
            try:
                with submissions.once(request) as submission:
                    document = services.create_draft(
                        request.user, form.content, form.cleaned_data["copies"], department=data["department"],
                        category=data["category"], countersign=data["countersign"],
                    )
                    submission.result = reverse("document", args=[document.pk])
            except submissions.FormReplayed as replay:
                messages.info(request, "该稿纸已保存过，未重复创建")
                return redirect(replay.result or "documents")
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "草稿已保存")
                return redirect("document", pk=document.pk)
        return form_page(request, form, routing, status=400)
    routing = routing_form(request.user)
    organ = drafting_departments(request.user)[0].organ
    return form_page(request, DraftForm(initial=_initial_content(organ)), routing)


@login_required
@require_POST
def document_import(request):
    """拟稿 from a file: the 稿纸 filled with what was recognised, with its 格式审查, for the
    drafter to check before saving; nothing is saved here."""
    if not may_draft(request.user):
        raise PermissionDenied("您没有拟稿权限")
    organ = drafting_departments(request.user)[0].organ
    upload = ImportForm(request.POST, request.FILES)
    if upload.is_valid():
        try:
            recognised = recognise.read_uploaded(upload.cleaned_data["file"])
        except IssuanceError as error:
            upload.add_error("file", error.message)
    if upload.errors:
        form = DraftForm(initial=_initial_content(organ))
        return form_page(request, form, routing_form(request.user), status=400, upload=upload)
    content = recognised.content
    filled = {key: value for key, value in DraftForm.initial_for(content).items() if value not in ("", None)}
    findings = services.format_review.check_new(content)
    review = {"findings": list(enumerate(findings)), "errors": sum(f.is_error for f in findings)}
    return form_page(request, DraftForm(initial={**_initial_content(organ), **filled}), routing_form(request.user),
                     recognised=recognised, review=review, file_name=upload.cleaned_data["file"].name)


@login_required
@require_POST
def document_grant(request, pk):
    document = visible_or_404(request, pk)
    form = GrantForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("document", pk=document.pk)
    try:
        with submissions.once(request):
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
    document = visible_or_404(request, pk)
    revision = document.current_revision
    number = params.integer(request.GET, "r")
    if number is not None:
        revision = get_object_or_404(document.revisions, number=number)
    try:
        pdf = previews.draft_pdf(document, revision)
    except IssuanceError as error:
        return render(request, "message.html", {"title": "无法生成预览", "message": error.message}, status=400)
    return _pdf_response(pdf, f"草稿-{document.title[:40]}-第{revision.number}稿.pdf")


def page_source(document, revision_number=None):
    """The PDF whose pages the document's pages show: the issued file, or a draft's preview
    (the current revision, or revision N). Returns (pdf bytes, revision or None)."""
    if revision_number is None and document.issued_pdf:
        try:
            return storage.read(document.issued_pdf.name, what="正式文件"), None
        except FileNotFoundError:
            raise Http404("正式文件不在存储中，请联系管理员核查档案") from None
    revision = document.current_revision
    if revision_number is not None:
        revision = get_object_or_404(document.revisions, number=revision_number)
    return previews.draft_pdf(document, revision), revision


def page_images(document):
    """What a page shows of the text as pictures: how many pages, and their URLs' query."""
    if document.issued_pdf and document.issued_pages:
        return {"count": range(1, document.issued_pages + 1), "issued": True}
    try:
        pdf, _ = page_source(document)
        count = previews.page_count(pdf)
    except IssuanceError as error:
        return {"error": error.message, "count": range(0)}
    except Exception:  # a broken renderer or a full disk must not take the page with it
        logger.exception("page pictures of document %s could not be made", document.pk)
        return {"error": "暂时无法生成页面图片，请稍后刷新重试", "count": range(0)}
    return {"count": range(1, count + 1), "issued": bool(document.issued_pdf)}


@login_required
def document_page_image(request, pk, number):
    """Page `number` of the issued file (or of a draft: ?r=N) as a PNG, ?w= pixels wide."""
    document = visible_or_404(request, pk)
    width = params.choice(request.GET, "w", [str(w) for w in previews.PAGE_WIDTHS], default="960")
    try:
        pdf, _ = page_source(document, params.integer(request.GET, "r"))
        png = previews.page_png(pdf, number, int(width))
    except IssuanceError as error:
        return render(request, "message.html", {"title": "无法生成预览", "message": error.message}, status=400)
    except OSError:
        logger.exception("page %s of document %s could not be made", number, document.pk)
        return render(request, "message.html", {"title": "无法生成预览", "message": "暂时无法生成页面图片，请稍后刷新重试"},
                      status=503)
    if png is None:
        raise Http404("没有这一页")
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def document_sheet(request, pk):
    """The 发文稿纸 as the paper form offices use, to read and to print, at any stage."""
    document = visible_or_404(request, pk)
    content = document.current_revision.content
    context = {**archiving.draft_sheet(document, content), "printing": params.flag(request.GET, "print")}
    return render(request, "issuance/sheet.html", context)


@login_required
def document_issued_pdf(request, pk):
    document = visible_or_404(request, pk)
    if not document.issued_pdf:
        raise Http404("该公文尚未印发")
    with document.issued_pdf.open("rb") as handle:
        data = handle.read()
    return _pdf_response(data, f"{document.doc_number}.pdf", inline=not params.flag(request.GET, "download"))


@login_required
def document_export(request, pk):
    """The exchange JSON of the issued text if there is one, else of the current draft."""
    document = visible_or_404(request, pk)
    content = document.exchange_content()
    response = HttpResponse(exchange.dump_json(content), content_type="application/json; charset=utf-8")
    name = document.doc_number or f"草稿-{document.pk}"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name + '.json')}"
    return response


@login_required
def revision_detail(request, pk, number):
    """One revision's text; with ?compare=N, what changed from revision N (by default the one before)."""
    document = visible_or_404(request, pk)
    revision = get_object_or_404(document.revisions.select_related("author"), number=number)
    compare = params.integer(request.GET, "compare")
    base = None
    if compare is not None:
        base = get_object_or_404(document.revisions, number=compare)
    context = {"document": document, "revision": revision, "content": revision.content, "base": base,
               "previous": number - 1 if number > 1 else None}
    if base is not None:
        context["field_changes"] = diffing.field_changes(base.content, revision.content)
        context["body_changes"] = diffing.body_changes(base.content["body"], revision.content["body"])
    return render(request, "issuance/revision_detail.html", context)


@login_required
@require_POST
def document_urge(request, pk, state_pk):
    """催办 an overdue step of the document."""
    document = visible_or_404(request, pk)
    state = get_object_or_404(document.step_states, pk=state_pk)
    try:
        with submissions.once(request):
            people = services.urge(document, request.user, state)
    except IssuanceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已催办“{state}”：{'、'.join(display_name(p) for p in people)}")
    return redirect("document", pk=document.pk)
