"""The office's own pages: the register of 发文字号 and the address book of recipient organs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from . import numbering, services
from .exceptions import IssuanceError
from .forms import ReasonForm, RecipientOrganForm
from .models import Organ

OFFICE_PERMISSIONS = ("issuance.issue_document", "issuance.review_office", "issuance.archive_document")


def is_office(user):
    return any(user.has_perm(permission) for permission in OFFICE_PERMISSIONS)


def _organ_of(user):
    staff = getattr(user, "staff", None)
    if staff is None:
        raise PermissionDenied("您尚未分配科室")
    return staff.department.organ


@login_required
def number_register(request):
    """Every number of a year in order, issued or void, so that a gap is always explained."""
    if not is_office(request.user):
        raise PermissionDenied("只有办公室可以查看发文字号登记簿")
    organ = _organ_of(request.user)
    codes = list(Organ.objects.order_by("code").values_list("code", flat=True))
    code = request.GET.get("code") or organ.code
    if code not in codes:
        code = organ.code
    years = numbering.register_years(code)
    this_year = timezone.localdate().year
    year = request.GET.get("year", "")
    year = int(year) if year.isdigit() else (years[0] if years else this_year)
    form = ReasonForm()
    if request.method == "POST":
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                void = numbering.void_next(Organ.objects.get(code=code), request.user, form.cleaned_data["reason"])
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"{void.number}已作为空号登记")
                return redirect(f"{request.path}?code={code}&year={void.year}")
    rows = numbering.register(code, year)
    return render(request, "issuance/number_register.html", {
        "rows": numbering.grouped(rows), "total": len(rows), "code": code, "codes": codes, "year": year,
        "years": sorted(set(years) | {this_year}, reverse=True),
        "can_void": request.user.has_perm("issuance.issue_document") and year == this_year,
        "form": form,
        "counts": {"issued": sum(r.state == "已登记" for r in rows), "void": sum(r.state == "空号" for r in rows)},
    })


@login_required
def recipient_list(request):
    if not is_office(request.user):
        raise PermissionDenied("只有办公室可以查看收文机关名录")
    organ = _organ_of(request.user)
    return render(request, "issuance/recipient_list.html", {
        "recipients": organ.recipients.all(),
        "can_edit": request.user.has_perm("issuance.issue_document"),
    })


@login_required
def recipient_edit(request, pk=None):
    if not request.user.has_perm("issuance.issue_document"):
        raise PermissionDenied("只有办公室文书可以维护收文机关名录")
    organ = _organ_of(request.user)
    recipient = get_object_or_404(organ.recipients, pk=pk) if pk else None
    if request.method == "POST":
        form = RecipientOrganForm(request.POST)
        if form.is_valid():
            try:
                services.save_recipient(organ, request.user, recipient=recipient, **form.cleaned_data)
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "收文机关名录已保存")
                return redirect("recipients")
        return render(request, "issuance/recipient_form.html", {"form": form, "recipient": recipient}, status=400)
    initial = {"name": recipient.name, "aliases": recipient.aliases, "active": recipient.active} if recipient else None
    form = RecipientOrganForm(initial=initial)
    return render(request, "issuance/recipient_form.html", {"form": form, "recipient": recipient})
