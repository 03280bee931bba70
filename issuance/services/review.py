"""The run of a document through its chain: 送审, each step's decision (a 会签's parties in
parallel), returns to the drafter or to an earlier step, and 撤回 by whoever acted last.

Every verb locks the document's row, changes the step states and the document inside one
transaction, and writes its history entry. The issuing half of the path (复核 → 登记 → 印制
→ 核发 → 归档) runs on the same states; its verbs (issuance.services.issuing) open and
finish them through `require_step` and `complete_step`.
"""

from django.db import transaction
from django.utils import timezone

from .. import chains, workdays
from ..exceptions import IssuanceError
from ..models import (
    EDITABLE_STAGES,
    Decision,
    Distribution,
    Event,
    Notice,
    Opinion,
    Revision,
    Round,
    Stage,
    StepKind,
    StepState,
    display_name,
)
from ..prepared import Prepared
from ..roles import OFFICE_ROLES, acting_for, may_act, memberships, sole, state_candidates
from . import format_review
from .history import lock, move, note
from .notices import notify

STAGE_OF_KIND = {
    StepKind.REVIEW: Stage.REVIEWING,
    StepKind.SIGN: Stage.SIGNING,
    StepKind.RECHECK: Stage.RECHECK,
    StepKind.REGISTER: Stage.REGISTRATION,
    StepKind.PRINT: Stage.PRINTING,
    StepKind.DISTRIBUTE: Stage.DISTRIBUTION,
    StepKind.ARCHIVE: Stage.ARCHIVING,
}
DRAFT_STEP = "拟稿"
# A queue's members are told of a new task, up to this many (a large office gets its queue).
NOTIFY_QUEUE_AT_MOST = 50
# Where something can still be taken back: a review step, or 签发 while 复核 has not acted.
TAKE_BACK_STAGES = (Stage.REVIEWING, Stage.SIGNING, Stage.RECHECK)
MAX_OPINION = 2000
S = StepState.Status


def _clean_text(text, what="意见"):
    text = (text or "").strip()
    if len(text) > MAX_OPINION:
        raise IssuanceError(f"{what}过长（最多 {MAX_OPINION} 字）")
    return text


def active_round(document):
    return document.rounds.filter(status=Round.Status.ACTIVE).select_related("version", "chain").first()


def _record_opinion(document, user, step, decision, text, state=None, principal=None):
    return Opinion.objects.create(
        document=document, revision=document.current_revision, round=document.round, step=step,
        party=state.party_label if state else "", state=state, decision=decision, text=text, user=user,
        on_behalf_of=principal,
    )


def _void_signature(document):
    """A return, or a change after 签发, means the text must be signed again."""
    document.signed_revision = None
    document.signed_by = None
    document.signed_at = None


def _finish(state, user, status, note="", principal=None):
    """`user` finished `state`; as a deputy (代理) of `principal`, it is the principal's step."""
    state.status = status
    state.finished_at = timezone.now()
    state.finished_by = principal or user
    state.acted_by = user if principal else None
    state.revision = state.document.current_revision
    state.note = note
    state.save(update_fields=["status", "finished_at", "finished_by", "acted_by", "revision", "note"])


def _close(states, status, note):
    """Close open states nobody decided (the other parties of a 会签 after a return, the next
    step after a 撤回)."""
    closed = list(states.filter(status=S.OPEN))
    for state in closed:
        state.status, state.finished_at, state.note = status, timezone.now(), note[:200]
        state.save(update_fields=["status", "finished_at", "note"])
    return closed


# --- Opening steps ------------------------------------------------------------------------


def _open(document, round_, position, steps, routing, returned=None):
    """Open the step at `position` for each of its units of work; a 会签 without parties is
    recorded as skipped and the next step opens. Its holders are told: of a new task, or, when
    it comes back to them by a return, of that return (`returned`: who and why). Returns the
    stage the document is then at."""
    step = steps[position - 1]
    round_.openings += 1
    round_.save(update_fields=["openings"])
    due_on = workdays.add_workdays(timezone.localdate(), step.time_limit) if step.time_limit else None
    common = dict(document=document, round=round_, position=position, opening=round_.openings, kind=step.kind,
                  name=step.name, chain_step=step.chain_step, is_review=step.is_review, due_on=due_on)
    units = chains.slots(routing, step)
    if not units:
        StepState.objects.create(**common, candidate_organ=document.organ, status=S.SKIPPED,
                                 finished_at=timezone.now(), note="未选定会签单位，跳过")
        return _open(document, round_, position + 1, steps, routing, returned)
    for slot in units:
        people = slot.eligible(routing, step)
        if not people.exists():
            rule = "（同一人不能承担同一公文的两个审核环节）" if step.is_review else ""
            raise IssuanceError(
                f"下一环节“{step.name}”{('（' + slot.party_label + '）') if slot.party_label else ''}"
                f"没有可办理的人员{rule}，无法办理；请由他人办理本环节，或联系机关管理员调整"
            )
        assignee = slot.assignee or (sole(people) if slot.direct else None)
        state = StepState.objects.create(
            **common, party_department=slot.party_department, party_organ=slot.party_organ, assignee=assignee,
            candidate_organ=slot.organ, candidate_role=slot.role, candidate_department=slot.department,
        )
        if slot.users:
            state.candidate_users.set(slot.users)
        # The task comes to its holder's 待办, or to every member of the queue it enters.
        notify([assignee] if assignee else people[:NOTIFY_QUEUE_AT_MOST],
               Notice.Kind.RETURNED if returned else Notice.Kind.TASK, document,
               step=str(state), due_on=due_on.isoformat() if due_on else None, **(returned or {}))
    return STAGE_OF_KIND[step.kind]


def _open_revise(document, round_):
    """The drafter's 修改: the document is back in their 待办."""
    round_.openings += 1
    round_.save(update_fields=["openings"])
    StepState.objects.create(
        document=document, round=round_, position=0, opening=round_.openings, kind=StepKind.REVISE, name="修改",
        assignee=document.drafter, candidate_organ=document.organ,
    )


def _steps(round_):
    return chains.path(round_.version)


def _opening_done(state):
    """Whether every unit of work opened together with `state` is done (a 会签 is complete)."""
    return not state.round.states.filter(opening=state.opening).exclude(status__in=(S.DONE, S.SKIPPED)).exists()


def _advance(document, state):
    """After `state` is done: open the next step once its whole opening is done. Returns the
    document's stage."""
    if not _opening_done(state):
        return document.stage
    round_ = state.round
    steps = _steps(round_)
    if state.position == len(steps):
        round_.status, round_.ended_at = Round.Status.DONE, timezone.now()
        round_.save(update_fields=["status", "ended_at"])
        return Stage.ARCHIVED
    routing = chains.routing_of(document)
    stage = _open(document, round_, state.position + 1, steps, routing)
    if state.is_review:
        # Whoever approves must not leave a later review step with nobody who may take it.
        chains.check_staffed(routing, [s for s in steps if s.position > state.position and s.is_review],
                             action="办理")
    return stage


# --- Who may act, in the user's words ------------------------------------------------------


def refusal(user, state):
    """Why `user` may not take `state`, in the user's words; None if they may."""
    if user is None or not user.is_authenticated:
        return "请先登录"
    if not user.is_active:
        return "账号已停用"
    if state.status != S.OPEN:
        return f"“{state.name}”环节已办理"
    if may_act(user, state):
        return None
    document = state.document
    if state.is_review and user.pk == document.drafter_id:
        return "不能审核或签发自己起草的公文"
    if state.is_review and StepState.objects.filter(
        document=document, is_review=True, finished_by=user, status__in=(S.DONE, S.RETURNED),
    ).exclude(position=state.position).exists():
        return "同一人不能承担同一公文的两个审核环节"
    if state.assignee_id:
        return f"“{state.name}”环节由{display_name(state.assignee)}办理"
    if state.claimed_by_id:
        return f"“{state.name}”环节已由{display_name(state.claimed_by)}领取"
    if state.candidate_role:
        where = state.candidate_department.name if state.candidate_department_id else state.candidate_organ.name
        role = state.get_candidate_role_display()
        return f"“{state.name}”环节应由{where}的{role}办理"
    return f"您不能办理“{state.name}”环节"


def require_step(document, user, kind):
    """The open state of `kind` that `user` may take; refused otherwise."""
    state = document.step_states.filter(kind=kind, status=S.OPEN).select_related("document").first()
    if state is None:
        raise IssuanceError(f"公文处于“{document.get_stage_display()}”环节，不能办理“{StepKind(kind).label}”")
    reason = refusal(user, state)
    if reason:
        raise IssuanceError(reason)
    return state


def complete_step(document, state, user):
    """Finish an issuing step and open the next one; returns the document's new stage."""
    _finish(state, user, S.DONE, principal=acting_for(user, state))
    return _advance(document, state)


def open_states(document):
    return document.step_states.filter(status=S.OPEN)


# --- 送审 -----------------------------------------------------------------------------------


@transaction.atomic
def submit(document, user, note="", format_reason=""):
    """The drafter sends the draft (again) for review: a new round on the document's chain,
    after checking that nobody on the path would be stranded. While an 错误 of the 格式审查
    stands, only with the drafter's `format_reason`, which the history records."""
    document = lock(document)
    if user.pk != document.drafter_id:
        raise IssuanceError("只有拟稿人可以送审")
    if document.stage not in EDITABLE_STAGES:
        raise IssuanceError(f"公文处于“{document.get_stage_display()}”环节，不能送审")
    note = _clean_text(note, "送审说明")
    routing = chains.routing_of(document)
    chain = chains.choose(routing)
    previous = document.rounds.order_by("-number").select_related("version").first()
    # A document keeps the version of its chain it was first submitted under.
    version = previous.version if previous is not None and previous.chain_id == chain.pk else chain.version
    steps = chains.path(version)
    chains.check_staffed(routing, steps)
    format_detail = format_review.submission_detail(document, format_reason)
    for revise in document.step_states.filter(kind=StepKind.REVISE, status=S.OPEN):
        _finish(revise, user, S.DONE)
    document.round += 1
    round_ = Round.objects.create(document=document, number=document.round, chain=chain, version=version,
                                  started_by=user)
    _record_opinion(document, user, DRAFT_STEP, Decision.SUBMIT, note)
    stage = _open(document, round_, 1, steps, routing)
    move(document, user, "submit", stage, round=document.round, revision=document.current_revision.number,
         chain=chain.name, version=version.number, **format_detail)
    return document


# --- Decisions ------------------------------------------------------------------------------


def return_targets(state):
    """Where a return from `state` may go: the drafter, or, from a single review step, any
    earlier review step of the chain. A 会签 party and the office return to the drafter."""
    targets = [("drafter", "拟稿人")]
    if state.kind in (StepKind.REVIEW, StepKind.SIGN) and not state.party_label and state.position > 1:
        for step in _steps(state.round):
            if step.position < state.position and step.is_review and step.actor != "parties":
                targets.append((str(step.position), step.name))
    return targets


@transaction.atomic
def decide(document, user, state, decision, text="", return_to="drafter"):
    """Approve, or return with a reason, the step state `state` (a review step, a 会签 party,
    签发, 复核, or 印制 to return it)."""
    document = lock(document)
    state = StepState.objects.select_for_update().select_related("round", "document").get(pk=state.pk)
    if state.document_id != document.pk:
        raise IssuanceError("该任务不属于此公文")
    if state.status != S.OPEN:
        raise IssuanceError(f"“{state.name}”环节已办理，请刷新页面")
    if state.kind not in (StepKind.REVIEW, StepKind.SIGN, StepKind.RECHECK, StepKind.PRINT):
        raise IssuanceError(f"“{state.name}”环节不需要审批意见")
    reason = refusal(user, state)
    if reason:
        raise IssuanceError(reason)
    if decision not in (Decision.APPROVE, Decision.RETURN):
        raise IssuanceError("请选择“同意”或“退回”")
    text = _clean_text(text)
    principal = acting_for(user, state)
    if decision == Decision.RETURN:
        return _return(document, user, state, text, return_to, principal)
    if state.kind == StepKind.PRINT:
        raise IssuanceError("印制环节请使用“印制”按钮")
    if state.kind == StepKind.RECHECK and document.signed_revision_id != document.current_revision_id:
        raise IssuanceError("签发后内容已变更，须重新签发")
    opinion = _record_opinion(document, user, state.name, Decision.APPROVE, text, state, principal)
    _finish(state, user, S.DONE, principal=principal)
    detail = dict(step=state.name, position=state.position, opinion=opinion.pk)
    if state.party_label:
        detail["party"] = state.party_label
    if principal:
        detail["for"] = display_name(principal)
    if state.kind == StepKind.SIGN:
        document.signed_revision = document.current_revision
        document.signed_by = principal or user
        document.signed_at = opinion.created_at
        detail.update(revision=document.current_revision.number, sha256=document.current_revision.sha256)
        notify([document.drafter], Notice.Kind.SIGNED, document, by=opinion.signed_name, text=text)
    action = {StepKind.SIGN: "sign"}.get(state.kind, "countersign" if state.party_label else "approve")
    move(document, user, action, _advance(document, state), **detail)
    return opinion


def _return(document, user, state, text, return_to, principal=None):
    if not text:
        raise IssuanceError("退回时必须填写退回理由")
    targets = dict(return_targets(state))
    return_to = str(return_to or "drafter")
    if return_to not in targets:
        raise IssuanceError("请选择退回至拟稿人或之前的审核环节")
    if state.kind == StepKind.PRINT:
        from .issuing import active_print_job

        if active_print_job(document) is not None:
            raise IssuanceError("正在印制，不能退回")
    opinion = _record_opinion(document, user, state.name, Decision.RETURN, text, state, principal)
    _finish(state, user, S.RETURNED, principal=principal)
    round_ = state.round
    who = state.party_label or state.name
    others = round_.states.filter(opening=state.opening).exclude(pk=state.pk)
    agreed = [s.party_label or display_name(s.finished_by) for s in others.filter(status=S.DONE)]
    cancelled = [s.party_label or s.name for s in _close(others, S.CANCELLED, f"因{who}退回而取消")]
    _void_signature(document)
    detail = dict(step=state.name, position=state.position, reason=text, opinion=opinion.pk, to=targets[return_to])
    if state.party_label:
        detail["party"] = state.party_label
    if cancelled:
        detail.update(cancelled=cancelled, agreed=agreed)
    if principal:
        detail["for"] = display_name(principal)
    returned = dict(by=opinion.signed_name, reason=text, returned_from=str(state))
    if return_to == "drafter":
        round_.status, round_.ended_at = Round.Status.RETURNED, timezone.now()
        round_.save(update_fields=["status", "ended_at"])
        _open_revise(document, round_)
        notify([document.drafter], Notice.Kind.RETURNED, document, step="修改", **returned)
        move(document, user, "return", Stage.RETURNED, **detail)
    else:
        stage = _open(document, round_, int(return_to), _steps(round_), chains.routing_of(document), returned)
        move(document, user, "return", stage, **detail)
    return opinion


def reopen_step(document, state, user, kind, note):
    """Send the document from `state` back to the step of `kind` of its path (签发 after a
    change at 复核, 登记 after a number is voided at 印制); returns the new stage."""
    _finish(state, user, S.RETURNED, note=note)
    steps = _steps(state.round)
    return _open(document, state.round, chains.step_of_kind(steps, kind).position, steps, chains.routing_of(document))


def send_back_to_signing(document, user, revision):
    """A change saved at 复核 ends the 复核 and opens 签发 again: the signer must sign the
    text that will be issued. Runs inside save_content's transaction, document locked."""
    state = require_step(document, user, StepKind.RECHECK)
    _void_signature(document)
    stage = reopen_step(document, state, user, StepKind.SIGN, note="复核时修改正文，退回签发")
    move(document, user, "resign_required", stage, revision=revision.number)


# --- 撤回 -----------------------------------------------------------------------------------


# Whether anyone decided a step of the round opened after `opening`; the latest review step
# the person approved in it (take_back_target, on every document page).
_DECIDED_AFTER = Prepared(lambda round_id, opening: StepState.objects.filter(
    round_id=round_id, opening__gt=opening, status__in=(S.DONE, S.RETURNED), finished_by__isnull=False,
).order_by().values_list("pk", flat=True)[:1])
_LAST_APPROVED = Prepared(lambda round_id, user_id: StepState.objects.filter(
    round_id=round_id, finished_by_id=user_id, status=S.DONE, is_review=True).order_by("-opening", "-finished_at")[:1])


def _decided_after(round_, opening):
    return bool(_DECIDED_AFTER(round_.pk, opening))


def take_back_target(document, user, latest_round=None):
    """What `user` may take back now: "submission" (the drafter, until anyone acted on it),
    the user's own approval (a reviewer, until the next person acted), or None.
    `latest_round`, when the caller has it, saves reading it again."""
    if user is None or not user.is_authenticated or document.stage not in TAKE_BACK_STAGES:
        return None
    if latest_round is not None and latest_round.status == Round.Status.ACTIVE:
        round_ = latest_round
    else:
        round_ = active_round(document)
    if round_ is None:
        return None
    if user.pk == document.drafter_id:
        if not _decided_after(round_, 0):
            return "submission"
        return None
    mine = _LAST_APPROVED.first(round_.pk, user.pk)
    if mine is None or _decided_after(round_, mine.opening):
        return None
    mine.round = round_
    return mine


@transaction.atomic
def take_back(document, user, reason=""):
    """撤回: the drafter takes back a submission nobody has acted on; a reviewer takes back an
    approval the next person has not acted on, and the step is theirs to do again."""
    document = lock(document)
    reason = _clean_text(reason, "撤回原因")
    target = take_back_target(document, user)
    if target is None:
        if user.pk == document.drafter_id:
            raise IssuanceError("审核人已办理或公文不在审核中，不能撤回")
        raise IssuanceError("下一环节已办理或您没有可撤回的办理，不能撤回")
    round_ = active_round(document)
    if target == "submission":
        taken = _close(round_.states.all(), S.TAKEN_BACK, "拟稿人撤回")
        round_.status, round_.ended_at = Round.Status.WITHDRAWN, timezone.now()
        round_.save(update_fields=["status", "ended_at"])
        _record_opinion(document, user, DRAFT_STEP, Decision.WITHDRAW, reason)
        _open_revise(document, round_)
        move(document, user, "withdraw", Stage.DRAFTING, round=document.round, reason=reason,
             taken_back=[s.party_label or s.name for s in taken])
        return None
    state = StepState.objects.select_for_update().get(pk=target.pk)
    taken = _close(round_.states.filter(opening__gt=state.opening), S.TAKEN_BACK,
                   f"{display_name(user)}撤回{state.name}")
    state.status, state.finished_at, state.finished_by, state.revision, state.note = S.OPEN, None, None, None, ""
    state.assignee = user
    state.save(update_fields=["status", "finished_at", "finished_by", "revision", "note", "assignee"])
    _record_opinion(document, user, state.name, Decision.WITHDRAW, reason, state)
    if state.kind == StepKind.SIGN:
        _void_signature(document)
    detail = dict(step=state.name, position=state.position, reason=reason,
                  taken_back=[s.party_label or s.name for s in taken])
    if state.party_label:
        detail["party"] = state.party_label
    move(document, user, "take_back", STAGE_OF_KIND[state.kind], **detail)
    return state


# --- What the document page shows -----------------------------------------------------------


_LATEST_ROUND = Prepared(lambda document_id: Round.objects.filter(document_id=document_id).order_by("-number")
                         .select_related("version", "chain")[:1])
_ROUND_STATES = Prepared(lambda round_id: StepState.objects.filter(round_id=round_id).exclude(kind=StepKind.REVISE)
                         .select_related("finished_by", "assignee", "party_department", "party_organ",
                                         "candidate_department", "candidate_organ").order_by("opening", "pk"))


def progress(document):
    """The document's chain, as it ran in its latest round: every step of the path with the
    state of each of its units of work (the latest opening of each step)."""
    round_ = _LATEST_ROUND.first(document.pk)
    if round_ is None:
        return None
    round_.document = document
    states = _ROUND_STATES(round_.pk)
    for state in states:
        state.round = round_
    latest = {}
    for state in states:
        if state.position not in latest or state.opening > latest[state.position][0].opening:
            latest[state.position] = [state]
        elif state.opening == latest[state.position][0].opening:
            latest[state.position].append(state)
    # After a return to an earlier step, the steps after it run again: what they did before
    # that return is history, not their state now.
    current = max((s.opening for s in states if s.status == S.OPEN), default=0)
    rows = []
    for step in _steps(round_):
        shown = latest.get(step.position, [])
        stale = bool(shown) and current and shown[0].opening < current and not any(s.is_open for s in shown) and any(
            s.position < step.position and s.opening == current for s in states
        )
        rows.append({
            "step": step,
            "actor": chains.describe_actor(step),
            "states": [] if stale else shown,
            "again": stale,
            "current": any(s.is_open for s in shown),
        })
    return {"round": round_, "rows": rows}


_OPINIONS = Prepared(lambda document_id: Opinion.objects.filter(document_id=document_id).select_related(
    "user", "on_behalf_of", "revision", "state").defer("revision__content"))
_REVISIONS = Prepared(lambda document_id: Revision.objects.filter(document_id=document_id).select_related("author")
                      .defer("content").order_by("-number"))
_EVENTS = Prepared(lambda document_id: Event.objects.filter(document_id=document_id).select_related("actor").order_by("seq"))
_DISTRIBUTIONS = Prepared(lambda document_id: Distribution.objects.filter(document_id=document_id).select_related("sent_by"))


def records(document):
    """What the document page lists of the document's history: its opinions (in the order given),
    its revisions (the newest first), its history entries and its distributions. Each names a
    revision by its number, never its content (the whole 正文, parsed from JSON for each row)."""
    found = {"opinions": _OPINIONS(document.pk), "revisions": _REVISIONS(document.pk),
             "events": _EVENTS(document.pk), "distributions": _DISTRIBUTIONS(document.pk)}
    for rows in found.values():
        for row in rows:
            row.document = document
    return found


def holders_label(state):
    """Who holds an open state, for lists and the document page."""
    if state.assignee_id:
        return display_name(state.assignee)
    if state.candidate_role:
        where = state.candidate_department.name if state.candidate_department_id else (
            state.candidate_organ.short_name or state.candidate_organ.name)
        return f"{where}{state.get_candidate_role_display()}（待领取）"
    return "指定人员（待领取）"


def why_closed(state):
    """What to tell someone who opens a task whose state is no longer open (a stale tab)."""
    if state.status == S.OPEN:  # taken back and opened again: a new task holds it
        return f"“{state}”已重新打开，请从待办进入办理"
    if state.status == S.TAKEN_BACK:
        return "拟稿人已撤回，该任务无需再办理" if state.note == "拟稿人撤回" else f"{state.note}，该任务无需再办理"
    if state.status == S.CANCELLED:
        return f"该任务已取消（{state.note}）" if state.note else "该任务已取消"
    if state.status == S.SKIPPED:
        return f"“{state}”已跳过"
    if state.status == S.RETURNED:
        return f"“{state}”已退回"
    if state.kind == StepKind.PRINT:
        return "印制完成，已进入核发"
    if state.finished_by_id:
        return f"“{state}”已由{display_name(state.finished_by)}办理"
    return f"“{state}”已办理"


def held_by_another(state):
    """Why a task cannot be claimed: who holds it now."""
    holder = state.claimed_by or state.assignee
    return f"该任务已由{display_name(holder)}领取" if holder else "该任务已由他人领取"


def may_take_back(document, user):
    return take_back_target(document, user) is not None


# --- Claims, 催办 -------------------------------------------------------------------------------


@transaction.atomic
def claim(document, user, state, record=True):
    """`user` takes a queued state into their own 待办. A claim made by doing the step at once
    (the task page's 提交 on a queued task) is not recorded apart from that act (`record`)."""
    document = lock(document)
    state = StepState.objects.select_for_update().select_related("document").get(pk=state.pk)
    if state.claimed_by_id == user.pk:
        raise IssuanceError("您已领取该任务")
    reason = refusal(user, state)
    if reason:
        raise IssuanceError(reason)
    if state.assignee_id or state.claimed_by_id:
        raise IssuanceError("该任务已由他人办理")
    state.claimed_by = user
    state.save(update_fields=["claimed_by"])
    if record:
        note(document, user, "claim", step=str(state))
    return state


@transaction.atomic
def release(document, user, state):
    """Put a claimed state back into its queue."""
    document = lock(document)
    state = StepState.objects.select_for_update().get(pk=state.pk)
    if state.assignee_id == user.pk:
        raise IssuanceError("该任务直接分配给您，不能退回待领取")
    if state.status != S.OPEN or state.claimed_by_id != user.pk:
        raise IssuanceError("只能退回自己领取的任务")
    state.claimed_by = None
    state.save(update_fields=["claimed_by"])
    note(document, user, "release", step=str(state))
    return state


def holders(state):
    """Who has `state` in their 待办 (its assignee or claimer, and whoever stands in for them
    today), or, while it waits in a queue, everyone who may take it."""
    from ..roles import deputies_of

    held = [state.assignee or state.claimed_by] if (state.assignee_id or state.claimed_by_id) else list(
        state_candidates(state)[:NOTIFY_QUEUE_AT_MOST])
    return held + list(deputies_of(held))


def may_urge(document, user):
    return user.pk == document.drafter_id or memberships(user).holds_any(OFFICE_ROLES, document.organ_id)


@transaction.atomic
def urge(document, user, state):
    """催办: the drafter or the office chases an overdue step; its holders are told, once a day."""
    document = lock(document)
    state = StepState.objects.select_for_update(of=("self",)).select_related("document", "assignee", "claimed_by").get(
        pk=state.pk, document=document)
    if not may_urge(document, user):
        raise IssuanceError("只有拟稿人和办公室可以催办")
    if not state.is_open:
        raise IssuanceError(f"“{state}”已办理，无需催办")
    if not state.is_overdue():
        raise IssuanceError(f"“{state}”尚未逾期（办理期限 {state.due_on:%Y年%-m月%-d日}），不能催办"
                            if state.due_on else f"“{state}”没有办理期限，不能催办")
    today = timezone.localdate()
    if document.events.filter(action="urge", detail__state=state.pk, created_at__date=today).exists():
        raise IssuanceError(f"今天已催办过“{state}”")
    people = holders(state)
    notify(people, Notice.Kind.URGED, document, step=str(state), by=display_name(user),
           due_on=state.due_on.isoformat())
    note(document, user, "urge", state=state.pk, step=str(state), holders=[display_name(p) for p in people])
    return people
