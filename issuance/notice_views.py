"""A person's own pages: their notices, and who stands in for them (代理)."""

import datetime

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import params, services, submissions
from .exceptions import IssuanceError
from .forms import DelegationForm
from .models import Delegation, Notice
from .paging import page_of
from .roles import OFFICE_ROLES, memberships

PAGE_SIZE = 30


@login_required
def notice_list(request):
    notices = Notice.objects.filter(user=request.user).select_related("document")
    page = page_of(notices, PAGE_SIZE, params.page(request.GET))
    return render(request, "notices/list.html", {
        "tab": "notices", "page": page, "unread": notices.filter(read_at__isnull=True).count(),
    })


@login_required
def notice_open(request, pk):
    """Open what a notice is about; it is read from then on."""
    notice = get_object_or_404(Notice, pk=pk, user=request.user)
    services.mark_read(request.user, [notice])
    return redirect("document", pk=notice.document_id) if notice.document_id else redirect("inbox")


@login_required
@require_POST
def notices_read(request):
    try:
        with submissions.once(request):
            count = services.mark_read(request.user)
    except IssuanceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"已将 {count} 条通知标为已读")
    return redirect("notices")


def _colleagues(user):
    """The people of the organs the user works for, and for the office the people it may set 代理 for."""
    return get_user_model().objects.filter(
        is_active=True, appointments__organ_id__in=memberships(user).organs()).distinct().order_by("username")


@login_required
def delegations(request):
    user = request.user
    office = memberships(user).organs(*OFFICE_ROLES)
    people = _colleagues(user)
    form = DelegationForm(request.POST or None, people=people, for_others=bool(office), initial={
        "principal": user.pk, "starts_on": datetime.date.today(),
    })
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                with submissions.once(request):
                    services.delegate(data.get("principal") or user, data["deputy"], data["starts_on"],
                                      data["ends_on"], user, data["reason"])
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "代理已设置")
                return redirect("delegations")
        status = 400
    else:
        status = 200
    visible = Delegation.objects.filter(cancelled_at__isnull=True).select_related("principal", "deputy", "created_by")
    mine = visible.filter(principal=user) | visible.filter(deputy=user)
    if office:
        mine = mine | visible.filter(principal__appointments__organ_id__in=office)
    return render(request, "notices/delegations.html", {
        "tab": "delegations", "form": form, "delegations": mine.distinct().order_by("-starts_on", "-pk")[:100],
    }, status=status)


@login_required
@require_POST
def delegation_end(request, pk):
    delegation = get_object_or_404(Delegation, pk=pk)
    try:
        with submissions.once(request):
            services.end_delegation(delegation, request.user)
    except IssuanceError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "代理已取消")
    return redirect("delegations")
