"""The task lists of one user, each a page of issuance.paging (the keys of a capped walk, then
the page's rows): 待办 (held by them), 可领取 (in a queue they may take from, under the 三审
rules), 已办 (done by them); and the menu's counts of the first two."""

from django.db import connections, router
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone
from viewflow.workflow.status import STATUS

from issuance.models import Notice
from issuance.prepared import Prepared
from issuance.roles import actionable_states, among, compiled, memberships

from .models import StepTask

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def _document_flow():
    from .flows import DocumentFlow

    return DocumentFlow


def _human_tasks():
    """The 发文 flow's human tasks with nothing joined for display: what the menu counts."""
    return StepTask.objects.filter(process__flow_class=_document_flow(), flow_task_type="HUMAN", state__isnull=False)


def human_tasks():
    """Every human task of the 发文 flow, with what its lists show."""
    return _human_tasks().select_related(
        "owner", "state", "state__document", "state__document__drafter", "state__document__department",
        "state__document__organ", "state__assignee", "state__candidate_organ", "state__candidate_department",
        "state__party_department", "state__party_organ",
    )


# What a row of 待办, 可领取 and 已办 shows, and nothing else: every column loaded costs each of
# the page's fifty rows its conversion (tests/test_pages.py keeps the rows from reading more,
# one query a row, with its query ceiling).
LISTED_FIELDS = (
    "id", "status", "created", "finished", "owner_id", "state_id",
    "owner__first_name", "owner__last_name",
    "state__name", "state__status", "state__due_on", "state__document_id", "state__party_department_id",
    "state__party_organ_id", "state__party_department__name", "state__party_organ__name",
    "state__document__title", "state__document__doc_number", "state__document__stage",
    "state__document__drafter_id", "state__document__drafter__first_name", "state__document__drafter__last_name",
)


def _listed(tasks):
    return tasks.select_related("owner", "state", "state__document", "state__document__drafter",
                                "state__party_department", "state__party_organ").only(*LISTED_FIELDS)


def listed_tasks():
    """The human tasks with what a row of 待办, 可领取 and 已办 shows (the step with its 会签
    party, the document, its drafter, the holder one stands in for): half the joins of
    `human_tasks`, each of which costs every row a model instance and the planner a table."""
    return _listed(_human_tasks())


# A page of those lists: its rows by the keys the list found (issuance.paging).
listed_rows = Prepared(lambda ids: _listed(StepTask.objects.filter(pk__in=ids)).order_by())


_DOCUMENT_TASKS = Prepared(lambda document_id: _human_tasks().filter(state__document_id=document_id).select_related(
    "owner", "state", "state__assignee", "state__candidate_organ", "state__candidate_department",
    "state__party_department", "state__party_organ").order_by("created", "pk"))


def document_tasks(document):
    """Every human task of `document`, the oldest first, with what its page shows of them (the
    step with its 会签 party and its holders, the owner); each task's step is given the
    document itself instead of reading it again with every task."""
    tasks = _DOCUMENT_TASKS(document.pk)
    for task in tasks:
        task.state.document = document
    return tasks


def document_of(task):
    return task.state.document


def open_tasks(document):
    return human_tasks().filter(state__document=document, status__in=OPEN)


def _overdue_first(tasks):
    """Overdue tasks first (the due date is past), then the newest."""
    late = Case(When(state__due_on__lt=timezone.localdate(), then=Value(0)), default=Value(1),
                output_field=IntegerField())
    return tasks.annotate(late=late).order_by("late", "-created", "-pk")


def holds(task, user):
    """Whether `user` holds `task`: its owner, or standing in for its owner today (代理)."""
    return task.owner_id is not None and (task.owner_id == user.pk or task.owner_id in memberships(user).principals)


def _inbox(tasks, user):
    principals = memberships(user).principals
    tasks = tasks.filter(owner_id__in=[user.pk, *principals], status__in=(STATUS.ASSIGNED, STATUS.STARTED))
    if principals:  # a deputy never reviews their own draft
        tasks = tasks.exclude(owner_id__in=principals, state__is_review=True, state__document__drafter=user)
    return tasks


def _claimable(tasks, user):
    # Driven from the few open states the person may take (their indexes: status and the
    # candidate rule), not from every queued task of the province tested one by one.
    return tasks.filter(among("state_id", actionable_states(user).values("pk")), status=STATUS.NEW,
                        owner__isnull=True)


def inbox(user):
    """The tasks `user` holds, and those of the people they stand in for today (代理)."""
    return _overdue_first(_inbox(listed_tasks(), user))


def claimable(user):
    """The queues' tasks this person may take now."""
    return _overdue_first(_claimable(listed_tasks(), user))


def counts(user):
    """How many tasks wait in 待办 and in 可领取, and how many notices are unread, for the
    menu of every page: one query of the lists' conditions alone, without their joins for
    display and their order, compiled once per standing of the person (`compiled`)."""
    alias = router.db_for_read(StepTask)
    sql, params = compiled(_counts_sql, user, alias)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        inbox, queue, unread = cursor.fetchone()
    return inbox, queue, unread


def _counts_sql(user, alias):
    parts = [_inbox(_human_tasks(), user), _claimable(_human_tasks(), user),
             Notice.objects.filter(user=user, read_at__isnull=True)]
    sqls, params = [], []
    for queryset in parts:
        sql, part_params = queryset.order_by().values("pk").query.get_compiler(alias).as_sql()
        sqls.append(f"(SELECT COUNT(*) FROM ({sql}) counted)")
        params.extend(part_params)
    return "SELECT " + ", ".join(sqls), tuple(params)


def done(user):
    return listed_tasks().filter(owner=user, status=STATUS.DONE).order_by("-finished", "-pk")
