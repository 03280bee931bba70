"""The office's own pages: the register of 发文字号 and the address book of recipient organs.

Each page is one organ's: the office staff of that organ open it; anyone else, the staff of
another organ included, gets 403. Someone who works in two organs' offices picks the organ.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from . import numbering, params, services, submissions
from .exceptions import IssuanceError
from .forms import ReasonForm, RecipientOrganForm
from .models import RecipientOrgan, Role
from .roles import OFFICE_ROLES, organs_of

REGISTER_PAGE = 200  # numbers on a page of the 文号登记簿


def office_organ(request, roles=OFFICE_ROLES, message="只有办公室可以查看该页面", code=None):
    """The organ whose office page this is: the one asked for (by 机关代字 or id), which must
    be one where the user holds one of `roles`, else the first such organ."""
    organs = list(organs_of(request.user, *roles))
    if not organs:
        raise PermissionDenied(message)
    wanted = code if code is not None else params.text(request.GET, "organ", label="机关")
    if not wanted:
        return organs[0], organs
    for organ in organs:
        if wanted in (organ.code, str(organ.pk)):
            return organ, organs
    raise PermissionDenied(message)


@login_required
def number_register(request):
    """Every number of a year in order, issued or void, so that a gap is always explained."""
    organ, organs = office_organ(request, message="只有本机关办公室可以查看发文字号登记簿",
                                 code=params.text(request.GET, "code", label="机关代字"))
    code, codes = organ.code, [o.code for o in organs]
    years = numbering.register_years(code)
    this_year = timezone.localdate().year
    year = params.year(request.GET, default=years[0] if years else this_year)
    form = ReasonForm()
    if request.method == "POST":
        form = ReasonForm(request.POST)
        if form.is_valid():
            try:
                with submissions.once(request):
                    void = numbering.void_next(organ, request.user, form.cleaned_data["reason"])
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, f"{void.number}已作为空号登记")
                return redirect(f"{request.path}?code={code}&year={void.year}")
    counts = numbering.register_summary(code, year)
    # A page of REGISTER_PAGE numbers; without ?page= the last one, where the newest numbers are.
    paginator = Paginator(range(1, counts["total"] + 1), REGISTER_PAGE)
    page = paginator.get_page(params.integer(request.GET, "page", default=paginator.num_pages, maximum=params.MAX_PAGE))
    return render(request, "issuance/number_register.html", {
        "rows": numbering.grouped(numbering.register(code, year, page.object_list)), "page": page,
        "total": counts["total"], "code": code, "codes": codes, "year": year,
        "years": sorted(set(years) | {this_year}, reverse=True),
        "can_void": organs_of(request.user, Role.CLERK).filter(pk=organ.pk).exists() and year == this_year,
        "form": form, "counts": counts,
    })


@login_required
def recipient_list(request):
    organ, organs = office_organ(request, message="只有本机关办公室可以查看收文机关名录")
    return render(request, "issuance/recipient_list.html", {
        "organ": organ, "organs": organs, "recipients": organ.recipients.all(),
        "can_edit": organs_of(request.user, Role.CLERK).filter(pk=organ.pk).exists(),
    })


@login_required
def recipient_edit(request, pk=None):
    message = "只有本机关的办公室文书可以维护收文机关名录"
    organ, organs = office_organ(request, (Role.CLERK,), message)
    recipient = None
    if pk:  # another organ's entry does not exist for this clerk
        recipient = get_object_or_404(RecipientOrgan.objects.select_related("organ"), pk=pk, organ__in=organs)
        organ = recipient.organ
    if request.method == "POST":
        form = RecipientOrganForm(request.POST)
        if form.is_valid():
            try:
                with submissions.once(request):
                    services.save_recipient(organ, request.user, recipient=recipient, **form.cleaned_data)
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "收文机关名录已保存")
                return redirect(f"{reverse('recipients')}?organ={organ.pk}")
        return render(request, "issuance/recipient_form.html", {"form": form, "recipient": recipient}, status=400)
    initial = {"name": recipient.name, "aliases": recipient.aliases, "active": recipient.active} if recipient else None
    form = RecipientOrganForm(initial=initial)
    return render(request, "issuance/recipient_form.html", {"form": form, "recipient": recipient})
