"""Review chains: which chain a document runs, the steps of its path, who would act on each
step, the check that nobody is stranded, and the organ administrator's edits.

A document's path is its chain version's steps followed by the fixed issuing half
(复核 → 登记 → 印制 → 核发 → 归档). Each step resolves, for one document, into one or more
`Slot`s: the candidate rule of one unit of work (one per party of a 会签).
"""

import collections
import threading
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from . import exchange
from .exceptions import IssuanceError
from .models import (
    REVIEW_KINDS,
    STEP_ROLES,
    Actor,
    Appointment,
    ChainStep,
    ChainVersion,
    Department,
    Organ,
    ReviewChain,
    Role,
    StepKind,
)
from .roles import eligible_users, memberships

MAX_STEPS = 12
MAX_TIME_LIMIT = 60
UPWARD = "上行文"


@dataclass(frozen=True)
class PathStep:
    """One step of a document's path: a step of its chain, or of the issuing half."""

    position: int
    name: str
    kind: str
    actor: str = ""
    role: str = ""
    parallel: bool = False
    users: tuple = ()
    chain_step: ChainStep = None
    time_limit: int = 0  # working days; 0: none

    @property
    def is_review(self):
        return self.kind in REVIEW_KINDS


# The issuing half: the same for every chain, with its time limits in working days.
ISSUING = (
    (StepKind.RECHECK, "复核", Role.CLERK, 1),
    (StepKind.REGISTER, "登记", Role.CLERK, 1),
    (StepKind.PRINT, "印制", Role.CLERK, 1),
    (StepKind.DISTRIBUTE, "核发", Role.CLERK, 1),
    (StepKind.ARCHIVE, "归档", Role.ARCHIVIST, 5),
)
# The time limit a step gets when the administrator gives none, by kind.
DEFAULT_TIME_LIMIT = {StepKind.REVIEW: 2, StepKind.SIGN: 2}


# The steps of the chain versions this process read lately. A version never changes once made
# (ChainVersion and ChainStep are append-only, a step's people are set as it is made), so its
# steps are read once; the people a step names are read each time (their names may change).
# Keyed by the version's creation time too: a test database's rolled-back version may come
# back with the same id.
_VERSION_STEPS = collections.OrderedDict()
_VERSION_STEPS_KEPT = 512
_VERSION_STEPS_LOCK = threading.Lock()


def _steps_of(version):
    key = (version.pk, version.created_at)
    with _VERSION_STEPS_LOCK:
        steps = _VERSION_STEPS.get(key)
        if steps is not None:
            _VERSION_STEPS.move_to_end(key)
            return steps
    steps = tuple(version.steps.order_by("position"))
    with _VERSION_STEPS_LOCK:
        _VERSION_STEPS[key] = steps
        while len(_VERSION_STEPS) > _VERSION_STEPS_KEPT:
            _VERSION_STEPS.popitem(last=False)
    return steps


def path(version):
    """Every step a document submitted under `version` goes through, in order."""
    chain_steps = _steps_of(version)
    naming = [step.pk for step in chain_steps if step.actor == Actor.USERS]
    named = collections.defaultdict(list)
    if naming:
        links = ChainStep.users.through.objects.filter(chainstep_id__in=naming).select_related("user")
        for link in links.order_by("pk"):
            named[link.chainstep_id].append(link.user)
    steps = [
        PathStep(step.position, step.name, step.kind, step.actor, step.role, step.parallel,
                 tuple(named.get(step.pk, ())), step, step.time_limit)
        for step in chain_steps
    ]
    first = len(steps) + 1
    return steps + [PathStep(first + i, name, kind, role=role, time_limit=limit)
                    for i, (kind, name, role, limit) in enumerate(ISSUING)]


def step_of_kind(steps, kind):
    return next(step for step in steps if step.kind == kind)


@dataclass
class Routing:
    """What decides a document's chain and who acts on it; made from a document, or from a
    sample on the chain editor's page."""

    organ: Organ
    department: Department
    doc_type: str
    direction: str
    category: str = ""
    countersign_departments: list = field(default_factory=list)
    # The co-issuing organs of a 联合行文; read from the document's 发文机关 only when a 会签
    # step needs them, so that a document whose co-issuer is not in the system is refused
    # at the 会签, not at every other step.
    co_organs: list = None
    document: object = None  # the Document, when there is one: its drafter and earlier steps count

    def co_issuing(self):
        if self.co_organs is None:
            content = self.document.current_revision.content if self.document is not None else {}
            self.co_organs = co_issuing_organs(content, self.organ)
        return self.co_organs


def co_issuing_organs(content, organ):
    """The other organs of a 联合行文, by the names in its 发文机关 list (wherever the drafting
    organ stands in it); each must be in the system."""
    found = []
    for name in content.get("issuer_marks") or []:
        if name in (organ.name, organ.short_name):
            continue
        other = Organ.objects.filter(Q(name=name) | Q(short_name=name)).first()
        if other is None:
            raise IssuanceError(f"联合发文机关“{name}”不在本系统中，无法会签；请核对发文机关名称")
        if other not in found:
            found.append(other)
    return found


def routing_of(document):
    content = document.current_revision.content
    return Routing(
        organ=document.organ,
        department=document.department,
        doc_type=content["doc_type"],
        direction=content["direction"],
        category=document.category,
        countersign_departments=list(document.countersign_departments.order_by("pk")),
        document=document,
    )


# --- Which chain --------------------------------------------------------------------------


def choose(routing):
    """The organ's active chain that applies to the document most specifically."""
    chains = [
        chain for chain in ReviewChain.objects.filter(organ=routing.organ, active=True, version__isnull=False)
        if chain.applies_to(routing.doc_type, routing.direction, routing.category)
    ]
    if not chains:
        scope = "、".join(filter(None, (routing.doc_type, routing.direction, routing.category)))
        raise IssuanceError(f"本机关没有适用于“{scope}”的审核流程，请联系机关管理员")
    return max(chains, key=lambda chain: (chain.specificity(), -chain.pk))


def categories(organ):
    """The 类别 a drafter may pick: those the organ's active chains name."""
    return sorted({c for c in ReviewChain.objects.filter(organ=organ, active=True).values_list("category", flat=True) if c})


# --- Who acts on a step -------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """The candidate rule of one unit of work at a step."""

    organ: Organ
    role: str = ""
    department: Department = None
    users: tuple = ()
    assignee: object = None
    party_department: Department = None
    party_organ: Organ = None
    # A task of a slot whose rule names one post goes straight to its holder's 待办 when
    # exactly one person holds it; the others wait in a queue.
    direct: bool = False

    @property
    def party_label(self):
        if self.party_department is not None:
            return self.party_department.name
        if self.party_organ is not None:
            return self.party_organ.name
        return ""

    def eligible(self, routing, step):
        document = routing.document
        if document is None:  # a sample on the chain editor's page: nobody is excluded yet
            from .models import Document

            document = Document(organ=routing.organ, department=routing.department)
        return eligible_users(
            document, organ=self.organ, role=self.role, department=self.department, users=self.users,
            assignee=self.assignee, position=step.position, is_review=step.is_review,
        )


def _own_or_any(routing, step, role):
    """The drafting 科室's holder of `role`; when it has none but the drafter, any holder in the organ."""
    own = Slot(routing.organ, role, routing.department, direct=True)
    return own if own.eligible(routing, step).exists() else Slot(routing.organ, role, direct=True)


def slots(routing, step):
    """The units of work of `step` for this document: none when a 会签 has no parties."""
    organ = routing.organ
    if step.kind == StepKind.SIGN and routing.direction == UPWARD:
        # 上行文 is always signed by the 主要领导, whatever the chain says.
        return [Slot(organ, Role.PRINCIPAL)]
    if not step.actor:  # the issuing half
        return [Slot(organ, step.role)]
    if step.actor == Actor.DEPARTMENT_HEAD:
        return [_own_or_any(routing, step, Role.DEPARTMENT_HEAD)]
    if step.actor == Actor.SUPERVISOR:
        return [_own_or_any(routing, step, Role.SUPERVISOR)]
    if step.actor == Actor.ROLE:
        return [Slot(organ, step.role)]
    if step.actor == Actor.USERS:
        if step.parallel:
            return [Slot(organ, assignee=user) for user in step.users]
        return [Slot(organ, users=step.users)]
    if step.actor == Actor.PARTIES:
        return [
            Slot(organ, Role.DEPARTMENT_HEAD, department, party_department=department, direct=True)
            for department in routing.countersign_departments
        ] + [Slot(other, Role.OFFICE_REVIEWER, party_organ=other) for other in routing.co_issuing()]
    raise IssuanceError(f"未知的办理人类型：{step.actor}")


def describe_actor(step):
    """Who acts on a step, in the administrator's words."""
    if step.kind == StepKind.SIGN:
        suffix = "（上行文一律由主要领导签发）"
    else:
        suffix = ""
    if step.actor == Actor.ROLE:
        return f"{Role(step.role).label}{suffix}"
    if step.actor == Actor.USERS:
        from .models import display_name

        names = "、".join(display_name(user) for user in step.users)
        return f"{names}{'（各自会签）' if step.parallel else '（任一人办理）'}{suffix}"
    if not step.actor:
        return Role(step.role).label
    return f"{Actor(step.actor).label}{suffix}"


# --- Nobody stranded ----------------------------------------------------------------------


def _first_unstaffed(review_slots):
    """The first (step, slot) that cannot get a person of its own, given that one person may
    take several slots of one step (a 会签) but never two steps; None if every slot can.

    A slot with a candidate who is eligible for no other step is always staffed; the rest
    have only candidates that several steps compete for, few in practice, and are matched
    by search.
    """
    steps_of = {}
    for step, _, people in review_slots:
        for person in people:
            steps_of.setdefault(person, set()).add(step.position)
    contested = {person for person, positions in steps_of.items() if len(positions) > 1}
    hard = [(step, slot, people) for step, slot, people in review_slots if people <= contested]
    serving = {}
    reached = [0]

    def assign(i):
        reached[0] = max(reached[0], i)
        if i == len(hard):
            return True
        step, _, people = hard[i]
        if any(serving.get(person) == step.position for person in people):
            return assign(i + 1)
        for person in sorted(people - serving.keys()):
            serving[person] = step.position
            if assign(i + 1):
                return True
            del serving[person]
        return False

    return None if assign(0) else hard[reached[0]][:2]


def _slot_name(step, slot):
    return f"“{step.name}”" + (f"（{slot.party_label}）" if slot.party_label else "")


def check_staffed(routing, steps, action="送审"):
    """Refuse a submission (or a decision) that would strand the document: every step must
    have someone who may take it, and the review steps must be able to go to different people."""
    review_slots = []
    for step in steps:
        for slot in slots(routing, step):
            people = set(slot.eligible(routing, step).values_list("pk", flat=True))
            if not people:
                who = "拟稿人以外" if step.is_review else ""
                raise IssuanceError(f"{_slot_name(step, slot)}环节没有{who}可办理的人员，无法{action}，请联系机关管理员调整")
            if step.is_review:
                review_slots.append((step, slot, people))
    stranded = _first_unstaffed(review_slots)
    if stranded is not None:
        step, slot = stranded
        raise IssuanceError(
            f"{_slot_name(step, slot)}环节没有可办理的人员：能办理的人员都须承担本公文的其他审核环节"
            f"（同一人不能承担同一公文的两个审核环节），无法{action}，请联系机关管理员调整"
        )


# --- Editing a chain ----------------------------------------------------------------------


@dataclass
class StepSpec:
    """A step as the administrator enters it."""

    name: str
    actor: str
    kind: str = StepKind.REVIEW
    role: str = ""
    parallel: bool = False
    users: list = field(default_factory=list)
    time_limit: int = None  # None: the default of its kind

    def key(self):
        return (self.name, self.kind, self.actor, self.role, self.parallel, tuple(sorted(u.pk for u in self.users)),
                self.time_limit)


def _clean_steps(organ, specs):
    if not specs:
        raise IssuanceError("审核流程至少需要一个环节")
    if len(specs) > MAX_STEPS:
        raise IssuanceError(f"审核流程最多 {MAX_STEPS} 个环节")
    for number, spec in enumerate(specs, 1):
        where = f"第 {number} 个环节"
        spec.name = (spec.name or "").strip()
        if not spec.name or len(spec.name) > 20:
            raise IssuanceError(f"{where}：请填写环节名称（最多 20 字）")
        if spec.kind not in REVIEW_KINDS:
            raise IssuanceError(f"{where}：类型应为审核或签发")
        if spec.actor not in Actor.values:
            raise IssuanceError(f"{where}：请选择办理人")
        if spec.actor == Actor.ROLE and spec.role not in STEP_ROLES:
            raise IssuanceError(f"{where}：请选择办理岗位")
        if spec.actor != Actor.ROLE:
            spec.role = ""
        if spec.actor == Actor.USERS:
            if not spec.users:
                raise IssuanceError(f"{where}：请指定办理人员")
            outside = [u for u in spec.users if not Appointment.objects.filter(user=u, organ=organ).exists()]
            if outside:
                raise IssuanceError(f"{where}：{outside[0].get_username()}不是本机关人员")
        else:
            spec.users = []
            spec.parallel = False
        if spec.actor == Actor.PARTIES and spec.kind == StepKind.SIGN:
            raise IssuanceError(f"{where}：签发不能由会签单位办理")
        if spec.time_limit is None:
            spec.time_limit = DEFAULT_TIME_LIMIT[spec.kind]
        if not isinstance(spec.time_limit, int) or not 0 <= spec.time_limit <= MAX_TIME_LIMIT:
            raise IssuanceError(f"{where}：办理时限应为 0 到 {MAX_TIME_LIMIT} 个工作日")
    signing = [n for n, spec in enumerate(specs, 1) if spec.kind == StepKind.SIGN]
    if signing != [len(specs)]:
        raise IssuanceError("审核流程须以一个“签发”环节结束，且只能有一个签发环节")
    return specs


def _clean_scope(doc_types, directions, category):
    doc_types = [t for t in exchange.DOC_TYPES if t in set(doc_types or ())]
    directions = [d for d in exchange.DIRECTIONS if d in set(directions or ())]
    category = (category or "").strip()
    if len(category) > 40:
        raise IssuanceError("类别最多 40 字")
    return doc_types, directions, category


def _overlapping(chain):
    """Another active chain of the organ that would apply to the same documents as `chain`
    and just as specifically, so that neither could be chosen."""
    for other in ReviewChain.objects.filter(organ=chain.organ, active=True).exclude(pk=chain.pk):
        if other.specificity() != chain.specificity() or other.category != chain.category:
            continue
        types = not chain.doc_types or not other.doc_types or set(chain.doc_types) & set(other.doc_types)
        directions = not chain.directions or not other.directions or set(chain.directions) & set(other.directions)
        if types and directions:
            return other
    return None


def _scope_note(chain):
    parts = ["文种：" + ("、".join(chain.doc_types) or "全部"), "行文方向：" + ("、".join(chain.directions) or "全部"),
             "类别：" + (chain.category or "不限"), "启用" if chain.active else "停用"]
    return "；".join(parts)


@transaction.atomic
def save_chain(organ, user, *, name, steps, doc_types=(), directions=(), category="", active=True, chain=None):
    """Create or change a chain. Each change is a new version: documents already submitted
    keep the version they run on; those submitted afterwards take the new one."""
    if user is not None and not memberships(user).holds(Role.ADMINISTRATOR, organ):
        raise IssuanceError("只有本机关的机关管理员可以设置审核流程")
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise IssuanceError("请填写流程名称（最多 50 字）")
    specs = _clean_steps(organ, list(steps))
    doc_types, directions, category = _clean_scope(doc_types, directions, category)
    if chain is not None:
        chain = ReviewChain.objects.select_for_update().get(pk=chain.pk, organ=organ)
    else:
        chain = ReviewChain(organ=organ)
    if ReviewChain.objects.filter(organ=organ, name=name).exclude(pk=chain.pk).exists():
        raise IssuanceError(f"本机关已有名为“{name}”的审核流程")
    before_scope = _scope_note(chain) if chain.pk else None
    before_steps = [spec.key() for spec in specs_of(chain.version)] if chain.version_id else None
    chain.name, chain.doc_types, chain.directions, chain.category, chain.active = (
        name, doc_types, directions, category, bool(active)
    )
    clash = _overlapping(chain) if chain.active else None
    if clash is not None:
        raise IssuanceError(f"与审核流程“{clash.name}”的适用范围重叠，请调整文种、行文方向或类别，或停用其中一个")
    chain.save()
    changes = []
    if before_scope is None:
        changes.append("新建")
    if before_scope is not None and before_scope != _scope_note(chain):
        changes.append("适用范围改为 " + _scope_note(chain))
    if before_steps is not None and before_steps != [spec.key() for spec in specs]:
        changes.append("环节改为 " + " → ".join(spec.name for spec in specs))
    if not changes:
        return chain, None
    number = (chain.version.number if chain.version_id else 0) + 1
    version = ChainVersion.objects.create(chain=chain, number=number, created_by=user, note="；".join(changes))
    for position, spec in enumerate(specs, 1):
        step = ChainStep.objects.create(version=version, position=position, name=spec.name, kind=spec.kind,
                                        actor=spec.actor, role=spec.role, parallel=spec.parallel,
                                        time_limit=spec.time_limit)
        if spec.users:
            step.users.set(spec.users)
    chain.version = version
    chain.save(update_fields=["version", "updated_at"])
    return chain, version


def specs_of(version):
    return [StepSpec(s.name, s.actor, s.kind, s.role, s.parallel, list(s.users.all()), s.time_limit)
            for s in version.steps.prefetch_related("users").order_by("position")]


def install_defaults(organ, definitions):
    """Load the default chains (fixtures/demo_organisation.json) for an organ that has none
    of that name yet; a chain the administrator changed is left as it is."""
    for spec in definitions:
        if ReviewChain.objects.filter(organ=organ, name=spec["name"]).exists():
            continue
        steps = [StepSpec(name=s["name"], actor=s["actor"], kind=s.get("kind", StepKind.REVIEW), role=s.get("role", ""),
                          time_limit=s.get("time_limit"))
                 for s in spec["steps"]]
        save_chain(organ, None, name=spec["name"], steps=steps, doc_types=spec.get("doc_types", ()),
                   directions=spec.get("directions", ()), category=spec.get("category", ""))


def who_would_act(routing, version_or_steps):
    """For the chain editor's sample document: each step with the people who could take it."""
    steps = path(version_or_steps) if isinstance(version_or_steps, ChainVersion) else version_or_steps
    rows, seen = [], {}
    for step in steps:
        units = []
        for slot in slots(routing, step):
            # The issuing steps share their rule (the organ's 文书): read it once.
            key = (slot, step.position if step.is_review else None)
            if key not in seen:
                seen[key] = list(slot.eligible(routing, step)[:20])
            units.append({"party": slot.party_label, "people": seen[key]})
        rows.append({"step": step, "actor": describe_actor(step), "units": units})
    return rows
