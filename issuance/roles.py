"""Who holds which role where, and what that lets them see and do, as database filters.

Everything here is a predicate over rows, not a loop over documents or tasks:

- `visible_documents(user)`: a document is seen by its drafter; once submitted, by the
  office and the principal of its organ and by the head or 分管领导 of its 科室; by everyone
  who may take, or took, one of its steps (a 会签 party of another 科室 or organ included);
  and by the people it was granted to one by one (django-guardian rows).
- `actionable_states(user)` and `eligible_users(...)`: the two directions of one relation,
  "this person may take this step state", with the 三审 rules (never the drafter, never two
  review steps of one document) applied in SQL.

A person's appointments are read once per request (`memberships`) and turned into literal
conditions, so these filters use the indexes on (organ, role) and (organ, stage).
"""

import functools
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection, connections, router
from django.db.models import BooleanField, Exists, F, Func, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .exceptions import IssuanceError
from .models import (
    DEPARTMENT_ROLES,
    Appointment,
    Delegation,
    Department,
    Document,
    DocumentUserObjectPermission,
    Organ,
    Role,
    StepState,
)

# Roles that see every submitted document of their organ.
ORGAN_VIEWERS = (Role.OFFICE_REVIEWER, Role.CLERK, Role.ARCHIVIST, Role.PRINCIPAL)
# Roles that see the submitted documents of the 科室 they hold the role for.
DEPARTMENT_VIEWERS = (Role.DEPARTMENT_HEAD, Role.SUPERVISOR)
# The office: its pages are the 文号登记簿 and the address book.
OFFICE_ROLES = (Role.OFFICE_REVIEWER, Role.CLERK, Role.ARCHIVIST)
# Who may browse an organ's archive (its 全宗).
ARCHIVE_ROLES = (Role.ARCHIVIST, Role.CLERK, Role.OFFICE_REVIEWER, Role.PRINCIPAL)
# Who may let one more person see a document of their organ.
GRANTING_ROLES = (Role.CLERK, Role.OFFICE_REVIEWER)
# Decisions that count as having taken a step.
DECIDED = (StepState.Status.DONE, StepState.Status.RETURNED)


@dataclass(frozen=True)
class Held:
    organ_id: int
    role: str
    department_ids: frozenset = field(default_factory=frozenset)


class Memberships:
    """One person's appointments and whom they stand in for today (代理), read in one query."""

    def __init__(self, user):
        self.user = user
        rows, principals = {}, []
        if user is not None and user.is_authenticated:
            alias = router.db_for_read(Appointment)
            sql, params = _standing_sql(alias, user.pk, timezone.localdate())
            with connections[alias].cursor() as cursor:
                cursor.execute(sql, params)
                records = cursor.fetchall()
            for kind, organ_id, role, department_id in records:
                if kind == _DEPUTISING:
                    principals.append(organ_id)  # the principal's id, in the first column
                elif user.is_active:
                    rows.setdefault((organ_id, role), set())
                    if department_id is not None:
                        rows[(organ_id, role)].add(department_id)
        self.held = [Held(organ, role, frozenset(departments)) for (organ, role), departments in rows.items()]
        self._principals = sorted(principals)

    @property
    def principals(self):
        """Ids of the people this person stands in for today (代理)."""
        return self._principals

    def __bool__(self):
        return bool(self.held)

    def organs(self, *roles):
        """Ids of the organs in which the person holds any of `roles` (any role if none given)."""
        return sorted({h.organ_id for h in self.held if not roles or h.role in roles})

    def departments(self, *roles):
        """Ids of the 科室 for which the person holds any of `roles`."""
        return sorted({d for h in self.held if h.role in roles for d in h.department_ids})

    def holds(self, role, organ):
        organ_id = getattr(organ, "pk", organ)
        return any(h.role == role and h.organ_id == organ_id for h in self.held)

    def holds_any(self, roles, organ=None):
        organ_id = getattr(organ, "pk", organ)
        return any(h.role in roles and (organ_id is None or h.organ_id == organ_id) for h in self.held)

    def candidate_filter(self, prefix=""):
        """The StepStates whose candidate rule names this person through one of their roles."""
        q = Q(pk__in=[])
        for h in self.held:
            rule = Q(**{f"{prefix}candidate_organ_id": h.organ_id, f"{prefix}candidate_role": h.role})
            if h.role in DEPARTMENT_ROLES:
                rule &= Q(**{f"{prefix}candidate_department__isnull": True}) | Q(
                    **{f"{prefix}candidate_department_id__in": sorted(h.department_ids)}
                )
            q |= rule
        return q


_HOLDING, _DEPUTISING = 1, 2


@functools.lru_cache(maxsize=4096)
def _standing_sql(alias, user_pk, today):
    """The SQL of a person's appointments (one row per 科室 of each) and of the 代理 they hold
    today, as one query: it depends on nothing but the person and the day, so it is compiled
    once for them each day (every page reads it)."""
    held = Appointment.objects.filter(user_id=user_pk).order_by().values_list("organ_id", "role", "departments__id")
    deputising = Delegation.objects.filter(
        deputy_id=user_pk, starts_on__lte=today, ends_on__gte=today, cancelled_at__isnull=True,
    ).order_by().values_list("principal_id")
    held_sql, held_params = held.query.get_compiler(alias).as_sql()
    deputising_sql, deputising_params = deputising.query.get_compiler(alias).as_sql()
    sql = (f"SELECT {_HOLDING}, held.* FROM ({held_sql}) held UNION ALL "
           f"SELECT {_DEPUTISING}, deputising.principal_id, NULL, NULL FROM ({deputising_sql}) deputising")
    return sql, (*held_params, *deputising_params)


def memberships(user):
    """The person's appointments, cached on the user object for the rest of the request."""
    cached = getattr(user, "_gongwen_memberships", None)
    if cached is None:
        cached = Memberships(user)
        if user is not None:
            user._gongwen_memberships = cached
    return cached


def forget_memberships(user):
    if hasattr(user, "_gongwen_memberships"):
        del user._gongwen_memberships


def compiled(build, user, alias="default"):
    """`build(user, alias)`'s SQL and parameters, compiled once for each standing of the person.

    A filter built from `memberships` depends only on who the person is, what they hold and
    whom they stand in for today, all read afresh for each request; compiling it (the ORM's
    joins, aliases and subqueries: 2-4 ms for the visibility rule or the menu's counts) is
    done again only when one of those changes. What the SQL finds is always read anew."""
    m = memberships(user)
    return _compiled(build, alias, user, user.is_active, tuple(m.held), tuple(m.principals))


@functools.lru_cache(maxsize=4096)
def _compiled(build, alias, user, active, held, principals):
    # `user` hashes and compares by its primary key; what the filter is built from is in the
    # key beside it (`memberships(user)` returns this request's, which the key names).
    return build(user, alias)


def organs_of(user, *roles):
    """The organs where `user` holds any of `roles`, as a queryset."""
    return Organ.objects.filter(pk__in=memberships(user).organs(*roles))


def drafting_departments(user):
    """The 科室 a user may draft for (their 拟稿人 appointments)."""
    return Department.objects.filter(pk__in=memberships(user).departments(Role.DRAFTER)).select_related("organ")


def may_draft(user):
    return bool(memberships(user).departments(Role.DRAFTER))


# --- Who may take a step state ---------------------------------------------------------------


def _excluded_by_review_rules(user):
    """States this person may not take under the 三审 rules: a review step of their own
    draft, or of a document of which they took another review step."""
    took_other_step = StepState.objects.filter(
        document=OuterRef("document"), is_review=True, finished_by=user, status__in=DECIDED,
    ).exclude(position=OuterRef("position"))
    return Q(is_review=True) & (Q(document__drafter=user) | Exists(took_other_step))


def actionable_states(user):
    """The open step states `user` may take now, in their own right: named for it, or holding
    its role and not kept from it by the 三审 rules, and nobody else has claimed it."""
    if user is None or not user.is_authenticated or not user.is_active:
        return StepState.objects.none()
    m = memberships(user)
    named = StepState.candidate_users.through.objects.filter(user=user).values("stepstate_id")
    # Each arm of the OR on an index of its own (assignee; status and the candidate rule; the
    # primary key), so that the open states are found by a BitmapOr, not by testing them all.
    unclaimed = Q(assignee__isnull=True) & (Q(claimed_by__isnull=True) | Q(claimed_by=user))
    may = Q(assignee=user) | (unclaimed & m.candidate_filter()) | (unclaimed & among("pk", named))
    return StepState.objects.filter(status=StepState.Status.OPEN).filter(may).exclude(_excluded_by_review_rules(user))


class _Among(Func):
    """`expression = ANY(ARRAY(subquery))` on PostgreSQL: the subquery runs once, before, and
    its ids are looked up on the column's index, so that the condition can be one arm of a
    BitmapOr (an IN (subquery) inside an OR cannot)."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()


def among(column, ids):
    """`column` is one of the values of the one-column queryset `ids`."""
    if connection.vendor == "postgresql":
        return Q(_Among(F(column), ArraySubquery(ids.order_by())))
    return Q(**{f"{column}__in": ids})


def deputised_states(user):
    """The open states held by someone `user` stands in for today (代理): in the principal's
    待办, by assignment or claim. Never a review step of the deputy's own draft."""
    principals = memberships(user).principals if user is not None and user.is_authenticated else []
    if not principals:
        return StepState.objects.none()
    held = Q(assignee_id__in=principals) | Q(claimed_by_id__in=principals)
    return StepState.objects.filter(status=StepState.Status.OPEN).filter(held).exclude(
        is_review=True, document__drafter=user)


def acting_for(user, state):
    """The person `user` stands in for on `state`, if they hold it; None when `user` acts in
    their own right or not at all."""
    for principal in memberships(user).principals:
        if principal in (state.assignee_id, state.claimed_by_id):
            if state.is_review and state.document.drafter_id == user.pk:
                return None
            return get_user_model().objects.get(pk=principal)
    return None


def _actable_ids(user, alias):
    states = (actionable_states(user) | deputised_states(user)).order_by().values("id")
    return states.query.get_compiler(alias).as_sql()


def may_act(user, state):
    """Whether `user` may take `state` now, in their own right or as a deputy (one query,
    compiled once per standing: `compiled`)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    sql, params = compiled(_actable_ids, user)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM ({sql}) actable WHERE actable.id = %s", [*params, state.pk])
        return cursor.fetchone() is not None


def eligible_users(document, *, organ=None, role="", department=None, users=(), assignee=None, position=None,
                   is_review=False):
    """The people who may take a step state with this candidate rule, under the 三审 rules.

    The other direction of `actionable_states`: used to open a state (a task goes straight
    to a person's 待办 when exactly one person may take it), to check before submission
    that every step has someone, and to show an administrator who would act on a step.
    """
    User = get_user_model()
    if assignee is not None:
        people = User.objects.filter(pk=assignee.pk)
    elif users:
        people = User.objects.filter(pk__in=[u.pk for u in users])
    else:
        held = Appointment.objects.filter(user=OuterRef("pk"), organ=organ, role=role)
        if department is not None and role in DEPARTMENT_ROLES:
            held = held.filter(departments=department)
        people = User.objects.filter(Exists(held))
    people = people.filter(is_active=True)
    if is_review:
        people = people.exclude(pk=document.drafter_id)
        if document.pk is not None:
            took_other_step = StepState.objects.filter(
                document=document, is_review=True, status__in=DECIDED, finished_by__isnull=False,
            )
            if position is not None:
                took_other_step = took_other_step.exclude(position=position)
            people = people.exclude(pk__in=took_other_step.values("finished_by"))
    return people.order_by("pk")


def sole(users):
    """The one user of `users`, or None: a task goes straight to a person's 待办 only when
    exactly one person may take it; otherwise it waits in the queue."""
    users = list(users[:2])
    return users[0] if len(users) == 1 else None


# --- Who may see a document ------------------------------------------------------------------


def _visibility(user):
    """One condition per document row: its own columns (its drafter; once submitted, its organ
    or 科室 for the viewers of those), or an EXISTS of one of the sets of rows that name it (on
    their document index; for a list, each set is read once and hashed)."""
    m = memberships(user)
    q = Q(drafter=user)
    organs = m.organs(*ORGAN_VIEWERS)
    if organs:
        q |= Q(round__gt=0, organ_id__in=organs)
    departments = m.departments(*DEPARTMENT_VIEWERS)
    if departments:
        q |= Q(round__gt=0, department_id__in=departments)
    # Those who took a step keep seeing the document; those who may take one, or stand in
    # for someone who holds one (代理), see it while it is open. One set a reason, kept apart:
    # a clerk's 42,000 finished steps come off state_finished_by (finished_by, document)
    # alone in 11 ms; merged into one OR they are read from the table, 209 ms (1,000,000
    # documents, docs/benchmarks.md).
    states = StepState.objects.filter(document=OuterRef("pk"))
    open_states = states.filter(status=StepState.Status.OPEN)
    sets = [states.filter(assignee=user), states.filter(finished_by=user), states.filter(acted_by=user),
            open_states.filter(m.candidate_filter()), open_states.filter(candidate_users=user)]
    if m.principals:
        sets.append(open_states.filter(Q(assignee_id__in=m.principals) | Q(claimed_by_id__in=m.principals)))
    sets.append(DocumentUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user=user, permission__codename="view_document"))
    for rows in sets:
        q |= Exists(rows)
    return q


def visible_documents(user):
    """The documents `user` may see. A page of a list walks the index of its order
    (document_updated and the like), testing each document with the EXISTS of `_visibility`
    (hashed, each set read once), until the page is full."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Document.objects.none()
    return Document.objects.filter(_visibility(user))


def _visibility_sql(user, alias):
    query = visible_documents(user).query
    return query.get_compiler(alias).compile(query.where)


def seen_by(user):
    """`visible_documents`'s condition for a query of documents at its top level (the 公文
    list, one document's page, `can_view`): the same SQL, compiled once per standing
    (`compiled`), on the query's own "issuance_document" rows, so that its plans are those
    of `visible_documents`. Not inside another query: use `visible_documents` there."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    condition, params = compiled(_visibility_sql, user)
    return Q(RawSQL(f"({condition})", params, output_field=BooleanField()))


def can_view(user, document):
    """One query: whether `document` is among the user's visible documents."""
    return Document.objects.filter(seen_by(user), pk=document.pk).exists()


def can_grant(user, document):
    """The drafter, and the office's reviewers and clerks of the document's organ, may let
    one more person see it."""
    return user.pk == document.drafter_id or memberships(user).holds_any(GRANTING_ROLES, document.organ_id)


def require(user, roles, organ, message):
    """Refuse unless `user` holds one of `roles` in `organ`."""
    if not memberships(user).holds_any(roles, organ):
        raise IssuanceError(message)


def is_office(user, organ=None):
    return memberships(user).holds_any(OFFICE_ROLES, organ)


def may_browse_archive(user, organ=None):
    return memberships(user).holds_any(ARCHIVE_ROLES, organ)


def is_administrator(user, organ=None):
    return memberships(user).holds_any((Role.ADMINISTRATOR,), organ)



def state_candidates(state):
    """The people who may take `state` now in their own right (the other direction of
    `actionable_states`): its claimer once claimed."""
    return eligible_users(
        state.document, organ=state.candidate_organ, role=state.candidate_role, department=state.candidate_department,
        users=list(state.candidate_users.all()), assignee=state.assignee or state.claimed_by, position=state.position,
        is_review=state.is_review,
    )


def deputies_of(users, day=None):
    """Who stands in today for any of `users` (代理)."""
    day = day or timezone.localdate()
    return get_user_model().objects.filter(pk__in=Delegation.objects.filter(
        principal__in=[u for u in users if u is not None], starts_on__lte=day, ends_on__gte=day,
        cancelled_at__isnull=True,
    ).values("deputy"))
