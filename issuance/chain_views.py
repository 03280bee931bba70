"""The organ administrator's pages: the organ's 审核流程, each with its steps in order, the
versions it went through, and who would act on each step for a sample document.

Open to the 机关管理员 of the chain's organ: anyone else gets 403 on the list and a new
chain, and a chain of another organ does not exist for them (404).
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from . import chains, submissions
from .exceptions import IssuanceError
from .forms import ChainForm, SampleForm, StepFormSet
from .models import ReviewChain, Role
from .office_views import office_organ
from .roles import organs_of

MESSAGE = "只有本机关的机关管理员可以设置审核流程"


def _people(organ):
    return get_user_model().objects.filter(appointments__organ=organ).distinct().order_by("last_name", "first_name")


@login_required
def chain_list(request):
    organ, organs = office_organ(request, (Role.ADMINISTRATOR,), MESSAGE)
    chain_rows = []
    for chain in ReviewChain.objects.filter(organ=organ).select_related("version").order_by("-active", "pk"):
        steps = chains.path(chain.version)[: -len(chains.ISSUING)] if chain.version_id else []
        chain_rows.append({"chain": chain, "steps": steps})
    return render(request, "issuance/chains/list.html", {
        "tab": "chains", "organ": organ, "organs": organs, "rows": chain_rows,
    })


def _chain_of(request, pk):
    organs = organs_of(request.user, Role.ADMINISTRATOR)
    if not organs.exists():
        raise PermissionDenied(MESSAGE)
    return get_object_or_404(ReviewChain.objects.select_related("organ", "version"), pk=pk, organ__in=organs)


def _initial_steps(chain):
    if chain is None or not chain.version_id:
        return [
            {"name": "初审", "actor": "department_head", "kind": "review"},
            {"name": "签发", "actor": "role", "role": Role.PRINCIPAL, "kind": "sign"},
        ]
    return [
        {"name": s.name, "kind": s.kind, "actor": s.actor, "role": s.role, "parallel": s.parallel,
         "users": [user.pk for user in s.users], "time_limit": s.time_limit}
        for s in chains.specs_of(chain.version)
    ]


def _sample(request, organ, chain, steps):
    """Who would act on each step for the sample the administrator describes (GET)."""
    if "department" not in request.GET:
        return SampleForm(organ=organ, initial={"department": organ.departments.first()}), None
    form = SampleForm(request.GET, organ=organ)
    if not form.is_valid():
        return form, None
    data = form.cleaned_data
    routing = chains.Routing(
        organ=organ, department=data["department"], doc_type=data["doc_type"], direction=data["direction"],
        countersign_departments=list(data["countersign"]),
        co_organs=list(data["co_organs"]),
    )
    return form, chains.who_would_act(routing, steps)


@login_required
def chain_edit(request, pk=None):
    if pk is None:
        organ, _ = office_organ(request, (Role.ADMINISTRATOR,), MESSAGE)
        chain = None
    else:
        chain = _chain_of(request, pk)
        organ = chain.organ
    people = _people(organ)
    status = 200
    if request.method == "POST":
        form = ChainForm(request.POST)
        steps = StepFormSet(request.POST, prefix="s", people=people)
        if form.is_valid() and steps.is_valid():
            data = form.cleaned_data
            try:
                with submissions.once(request) as submission:
                    chain, version = chains.save_chain(
                        organ, request.user, chain=chain, name=data["name"], steps=steps.steps(),
                        doc_types=data["doc_types"], directions=data["directions"], category=data["category"],
                        active=data["active"],
                    )
                    submission.result = reverse("chain_edit", args=[chain.pk])
            except submissions.FormReplayed as replay:
                messages.info(request, "该审核流程已保存过，未重复保存")
                return redirect(replay.result or f"{reverse('chains')}?organ={organ.pk}")
            except IssuanceError as error:
                messages.error(request, error.message)
            else:
                if version is None:
                    messages.info(request, "没有修改")
                else:
                    messages.success(request, f"审核流程已保存为第{version.number}版，此后送审的公文按新版本办理")
                return redirect("chain_edit", pk=chain.pk)
        status = 400
    else:
        initial = None
        if chain is not None:
            initial = {"name": chain.name, "doc_types": chain.doc_types, "directions": chain.directions,
                       "category": chain.category, "active": chain.active}
        form = ChainForm(initial=initial)
        steps = StepFormSet(prefix="s", people=people, initial=_initial_steps(chain))
    return render(request, "issuance/chains/edit.html", {
        "tab": "chains", "organ": organ, "chain": chain, "form": form, "steps": steps,
        "sample": SampleForm(organ=organ, initial={"department": organ.departments.first()}) if chain else None,
        "versions": chain.versions.select_related("created_by").order_by("-number") if chain else [],
        "list_url": f"{reverse('chains')}?organ={organ.pk}",
    }, status=status)


@login_required
def chain_sample(request, pk):
    """Who would act on each step of the chain's current version, for a sample document."""
    chain = _chain_of(request, pk)
    form, acting = _sample(request, chain.organ, chain, chains.path(chain.version))
    return render(request, "issuance/chains/sample.html", {
        "tab": "chains", "organ": chain.organ, "chain": chain, "sample": form, "acting": acting,
    }, status=200 if acting is not None or "department" not in request.GET else 400)
