"""What the lists (公文, 待办, 可领取, 已办) filter and sort by, and where each listed document
stands now. One form parses the query string for every list: a value it refuses is left out
of the filter, never an error page."""

import datetime
from collections import defaultdict

from django import forms
from django.db.models import Q
from django.utils import timezone

from . import exchange, params
from .models import Stage, StepState
from .prepared import Prepared
from .services import holders_label

FIRST_YEAR = 2000

# Each list's orders: key -> (label, order_by). The first is the list's default.
DOCUMENT_SORTS = {
    "updated": ("最近更新", ("-updated_at", "-pk")),
    "oldest": ("最早创建", ("created_at", "pk")),
    "title": ("标题", ("title", "pk")),
    "number": ("发文字号", ("-doc_number", "-pk")),
}
OPEN_TASK_SORTS = {
    "due": ("逾期和期限优先", ("late", "state__due_on", "-created", "-pk")),
    "newest": ("最新到达", ("-created", "-pk")),
    "oldest": ("最早到达", ("created", "pk")),
    "title": ("标题", ("state__document__title", "pk")),
}
DONE_TASK_SORTS = {
    "finished": ("最近办结", ("-finished", "-pk")),
    "oldest": ("最早办结", ("finished", "pk")),
    "title": ("标题", ("state__document__title", "pk")),
}


class ListFilter(forms.Form):
    stage = forms.ChoiceField(label="环节", required=False, choices=[("", "全部环节"), *Stage.choices])
    doc_type = forms.ChoiceField(label="文种", required=False, choices=[("", "全部文种")] + [(t, t) for t in exchange.DOC_TYPES])
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)
    scope = forms.ChoiceField(label="范围", required=False, choices=[("all", "全部"), ("mine", "我起草的")])
    q = forms.CharField(label="标题或发文字号", required=False, max_length=100)
    sort = forms.ChoiceField(label="排序", required=False)

    def __init__(self, data, sorts, default_scope="all"):
        super().__init__(data)
        this_year = timezone.localdate().year
        self.fields["year"].choices = [("", "全部年度")] + [(y, f"{y}年") for y in range(this_year, FIRST_YEAR - 1, -1)]
        self.fields["sort"].choices = [(key, label) for key, (label, _) in sorts.items()]
        self.sorts = sorts
        self.default_scope = default_scope
        self.is_valid()  # fills cleaned_data with the fields that are valid
        # A search term with a character no one types is refused (400), not ignored.
        self.cleaned_data["q"] = params.text(data, "q", label="检索内容")

    def value(self, name, default=None):
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value

    @property
    def order_by(self):
        return self.sorts[self.value("sort", next(iter(self.sorts)))][1]

    @property
    def effective_scope(self):
        return self.value("scope", self.default_scope)

    @property
    def selects(self):
        """The choice fields as the page shows them, the effective value selected."""
        effective = {"scope": self.effective_scope, "sort": self.value("sort", next(iter(self.sorts)))}
        for name in ("stage", "doc_type", "year", "scope", "sort"):
            field = self.fields[name]
            current = str(effective.get(name, self.value(name, "")))
            yield {"name": name, "label": field.label,
                   "options": [(str(value), label, str(value) == current) for value, label in field.choices]}

    @property
    def active(self):
        """Whether any filter narrows the list (for the empty list's words)."""
        return any(self.value(name) for name in ("stage", "doc_type", "year", "q")) or self.effective_scope != self.default_scope

    def apply(self, queryset, user, prefix=""):
        """`queryset` narrowed by the filters; `prefix` leads from its rows to the document."""
        filters = {}
        if self.value("stage"):
            filters[f"{prefix}stage"] = self.value("stage")
        if self.value("doc_type"):
            filters[f"{prefix}doc_type"] = self.value("doc_type")
        year = self.value("year")
        if year:
            zone = timezone.get_current_timezone()
            filters[f"{prefix}created_at__gte"] = datetime.datetime(year, 1, 1, tzinfo=zone)
            filters[f"{prefix}created_at__lt"] = datetime.datetime(year + 1, 1, 1, tzinfo=zone)
        if self.effective_scope == "mine":
            filters[f"{prefix}drafter"] = user
        queryset = queryset.filter(**filters)
        query = self.value("q", "").strip()
        if query:
            queryset = queryset.filter(Q(**{f"{prefix}title__icontains": query})
                                       | Q(**{f"{prefix}doc_number__icontains": query}))
        return queryset.order_by(*self.order_by)


_OPEN_STATES = Prepared(lambda ids: StepState.objects.filter(document_id__in=ids, status=StepState.Status.OPEN).select_related(
    "assignee", "candidate_organ", "candidate_department", "party_department", "party_organ").order_by("position", "pk"))


def where_it_stands(documents, today=None):
    """For each document (by pk): its open steps, each with who holds it, since when, and
    whether it is overdue, in one query for the whole page."""
    today = today or timezone.localdate()
    by_document = defaultdict(list)
    # Each document once: the SQL's IN list has no repeats (a list of tasks names one document twice).
    for state in _OPEN_STATES(list(dict.fromkeys(document.pk for document in documents))):
        by_document[state.document_id].append({
            "step": str(state), "holder": holders_label(state), "since": state.opened_at,
            "due_on": state.due_on, "overdue": state.is_overdue(today),
        })
    return by_document
