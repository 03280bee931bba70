"""The services along the whole path, through the flow's actions: drafts and revisions, the
append-only records, the path to the archive, returns from every step, 复核's correction back
to 签发, the issuing verbs, and the history (its hash chain and its 办理日志 lines).

What the review engine decides (chains, 会签, returns to an earlier step, 撤回, the 三审
rules, organs side by side) is tested in test_review.py.
"""

import os

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from viewflow.workflow.status import PROCESS, STATUS

from issuance import exchange, numbering, services, storage
from issuance.exceptions import IssuanceError
from issuance.models import (
    Appointment,
    ChainStep,
    ChainVersion,
    Decision,
    Department,
    Document,
    Event,
    Opinion,
    Organ,
    Revision,
    Role,
    Stage,
    StepKind,
    StepState,
)
from issuance.roles import can_view
from issuance.wording import describe_event
from workflows import actions, demo_path

from .builders import decide, gx_content, open_state, states

APPROVE, RETURN = Decision.APPROVE, Decision.RETURN
S = StepState.Status

# The steps of the default path a document may be returned from, with who takes each in the demo.
STEPS = [
    ("初审", "head"),
    ("复审", "reviewer"),
    ("终审", "deputy"),
    ("签发", "director"),
    ("复核", "clerk"),
    ("印制", "clerk"),
]


def act(document, user=None):
    """Do the document's one open task, as `user` or as the person the demo picks."""
    demo_path.act(actions.open_tasks(document).get(), user)
    document.refresh_from_db()


@pytest.fixture
def submitted(cast, short_content):
    document = services.create_draft(cast["drafter"], short_content)
    actions.submit(document, cast["drafter"], "请审核")
    document.refresh_from_db()
    return document


# --- Drafts and revisions --------------------------------------------------------------------


def test_a_new_draft_has_one_revision_and_is_private_to_its_drafter(cast, short_content):
    document = services.create_draft(cast["drafter"], short_content)
    revision = document.current_revision
    assert revision.number == 1
    assert revision.sha256 == exchange.content_sha256(exchange.parse_document(short_content))
    assert (document.stage, document.organ.code, document.department.name) == (Stage.DRAFTING, "泉科", "综合科")
    assert can_view(cast["drafter"], document)
    for name in ("head", "reviewer", "director", "clerk", "archivist", "outsider", "gx_reviewer", "gx_clerk"):
        assert not can_view(cast[name], document), name


@pytest.mark.parametrize("name", ["clerk", "reviewer", "director", "archivist", "gx_clerk"])
def test_only_a_drafter_of_a_department_can_draft(cast, short_content, name):
    with pytest.raises(IssuanceError, match="您没有拟稿权限"):
        services.create_draft(cast[name], short_content)
    assert not Document.objects.exists()


def test_a_draft_belongs_to_the_organ_of_its_drafters_department(cast, seed_content):
    document = services.create_draft(cast["gx_drafter"], gx_content(seed_content))
    assert (document.organ.code, document.department.name) == ("泉工信", "综合科")
    assert document.department == Department.objects.get(organ__code="泉工信", name="综合科")


def test_saving_makes_a_new_revision_only_when_the_content_changes(cast, short_content):
    document = services.create_draft(cast["drafter"], short_content)
    assert services.save_content(document, cast["drafter"], short_content) is None
    changed = {**short_content, "title": "关于开展科技活动周的通知"}
    revision = services.save_content(document, cast["drafter"], changed)
    document.refresh_from_db()
    assert revision.number == 2
    assert document.title == "关于开展科技活动周的通知"
    assert list(document.revisions.values_list("number", flat=True)) == [1, 2]
    assert document.revisions.get(number=1).content["title"] == short_content["title"]


def test_nobody_but_the_drafter_edits_a_draft(cast, short_content):
    document = services.create_draft(cast["drafter"], short_content)
    for name in ("head", "clerk", "gx_drafter"):
        with pytest.raises(IssuanceError, match="您不能修改"):
            services.save_content(document, cast[name], {**short_content, "title": "改"})
    assert document.revisions.count() == 1


def test_the_draft_is_the_drafters_again_only_once_it_is_returned(cast, submitted, short_content):
    with pytest.raises(IssuanceError, match="公文处于“审核”环节，您不能修改"):
        services.save_content(submitted, cast["drafter"], {**short_content, "title": "改"})
    decide(submitted, cast["head"], RETURN, "请修改标题。")
    assert services.save_content(submitted, cast["drafter"], {**short_content, "title": "改"}).number == 2


# --- Append-only records -----------------------------------------------------------------------


def test_revisions_opinions_and_events_cannot_be_changed_or_deleted(submitted):
    revision = submitted.current_revision
    revision.content = {"title": "篡改"}
    with pytest.raises(ValidationError):
        revision.save()
    with pytest.raises(ValidationError):
        Revision.objects.get(pk=revision.pk).delete()
    opinion, event = submitted.opinions.first(), submitted.events.first()
    for record in (opinion, event):
        with pytest.raises(ValidationError):
            record.save()
        with pytest.raises(ValidationError):
            record.delete()
    for queryset in (submitted.revisions.all(), submitted.opinions.all(), submitted.events.all()):
        with pytest.raises(ValidationError, match="不可修改"):
            queryset.update(created_at=None)
        with pytest.raises(ValidationError, match="不可删除"):
            queryset.delete()
    assert Opinion.objects.get(pk=opinion.pk).text == "请审核"


def test_the_chain_version_a_document_runs_on_cannot_be_changed_or_deleted(submitted):
    version = submitted.rounds.get().version
    step = version.steps.first()
    for record in (version, step):
        with pytest.raises(ValidationError):
            record.save()
        with pytest.raises(ValidationError):
            record.delete()
    with pytest.raises(ValidationError, match="不可修改"):
        ChainStep.objects.filter(version=version).update(name="改")
    with pytest.raises(ValidationError, match="不可删除"):
        ChainVersion.objects.filter(pk=version.pk).delete()
    assert [s.name for s in version.steps.order_by("position")] == ["初审", "复审", "会签", "终审", "签发"]


# --- The whole path ------------------------------------------------------------------------------


def test_a_document_goes_the_whole_path_to_the_archive(cast, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], copies=3)
    assert document.stage == Stage.ARCHIVED
    assert document.doc_number.startswith("泉科〔") and document.doc_number.endswith("〕1号")
    assert document.signed_revision == document.current_revision
    assert document.signed_by == cast["director"]
    assert document.issued_content()["date"]  # filled in at 签发
    pdf = storage.read(document.issued_pdf.name)
    assert storage.sha256_bytes(pdf) == document.issued_pdf_sha256
    assert [(d.recipient, d.role) for d in document.distributions.all()] == [
        ("局机关各科室", "main"), ("各直属单位", "main"), ("市科协", "cc"),
    ]
    record = document.archive_record
    assert record.archive_code.startswith("X001-WS·")
    assert record.archive_code.endswith("-Y-ZHK-0001")
    for archived in record.files.all():
        assert storage.sha256_bytes(storage.read(archived.path)) == archived.sha256
    steps = list(document.opinions.values_list("step", flat=True))
    assert steps == ["拟稿", "初审", "复审", "终审", "签发", "复核"]
    # Every step of the path was done once, by a holder of its post; the 会签 nobody was named for was skipped.
    assert [(s.name, s.status, s.finished_by.username if s.finished_by else None)
            for s in document.step_states.order_by("opening", "pk")] == [
        ("初审", S.DONE, "head"), ("复审", S.DONE, "reviewer"), ("会签", S.SKIPPED, None), ("终审", S.DONE, "deputy"),
        ("签发", S.DONE, "director"), ("复核", S.DONE, "clerk"), ("登记", S.DONE, "clerk"), ("印制", S.DONE, "clerk"),
        ("核发", S.DONE, "clerk"), ("归档", S.DONE, "archivist"),
    ]
    round_ = document.rounds.get()
    assert (round_.status, round_.ended_at is not None) == ("done", True)
    assert actions.process_of(document).status == PROCESS.DONE
    assert not actions.open_tasks(document).exists()


def test_the_other_organs_document_goes_its_own_path_to_its_own_archive(cast, seed_content):
    parties = Department.objects.filter(organ__code="泉工信", name__in=["产业发展科", "信息化推进科"])
    document = demo_path.take_through_path(gx_content(seed_content), cast["gx_drafter"], countersign=list(parties))
    assert document.stage == Stage.ARCHIVED
    assert document.doc_number.startswith("泉工信〔") and document.doc_number.endswith("〕1号")
    assert document.archive_record.archive_code.startswith("X002-WS·")
    people = {s.finished_by.username for s in document.step_states.exclude(status=S.SKIPPED)}
    assert people == {"gx_head", "gx_reviewer", "gx_industry", "gx_digital", "gx_deputy", "gx_director", "gx_clerk",
                      "gx_archivist"}
    assert sorted(document.opinions.filter(step="会签").values_list("party", flat=True)) == ["产业发展科", "信息化推进科"]


# --- Returns from every step ------------------------------------------------------------------


@pytest.mark.parametrize("step,holder", STEPS)
def test_a_return_to_the_drafter_from_any_step_keeps_the_first_rounds_opinions(cast, submitted, step, holder):
    document = demo_path.advance(submitted, step)
    reviewed = document.current_revision
    decide(document, cast[holder], RETURN, "第二段表述不准确，请修改。")
    assert document.stage == Stage.RETURNED
    assert (document.signed_revision, document.signed_by, document.signed_at) == (None, None, None)
    revise = actions.open_tasks(document).get()
    assert (revise.state.kind, revise.owner) == (StepKind.REVISE, cast["drafter"])

    first_round = list(document.opinions.values_list("pk", "text"))
    edited = {**document.current_revision.content, "title": "关于开展2026年科技活动周的通知（修改稿）"}
    services.save_content(document, cast["drafter"], edited)
    actions.submit(document, cast["drafter"], "已按意见修改")
    document.refresh_from_db()
    assert (document.stage, document.round, open_state(document).name) == (Stage.REVIEWING, 2, "初审")
    assert actions.open_tasks(document).get().owner == cast["head"]
    # The first round's opinions are kept as they were; the second round adds to them.
    assert list(document.opinions.filter(pk__in=[pk for pk, _ in first_round]).values_list("pk", "text")) == first_round
    returned = document.opinions.get(decision=RETURN)
    assert (returned.revision, returned.round, returned.user, returned.step) == (reviewed, 1, cast[holder], step)
    assert document.opinions.filter(round=2, step="拟稿", decision=Decision.SUBMIT).exists()

    document = demo_path.advance(document, Stage.ARCHIVED)
    assert document.signed_revision.number > reviewed.number


@pytest.mark.parametrize("text", ["", "   "])
def test_a_return_needs_a_written_reason_and_changes_nothing_without_one(cast, submitted, text):
    opinions, events = Opinion.objects.count(), Event.objects.count()
    with pytest.raises(IssuanceError, match="退回理由"):
        decide(submitted, cast["head"], RETURN, text)
    submitted.refresh_from_db()
    assert (submitted.stage, open_state(submitted).name) == (Stage.REVIEWING, "初审")
    assert (Opinion.objects.count(), Event.objects.count()) == (opinions, events)
    assert actions.open_tasks(submitted).get().status == STATUS.ASSIGNED


def test_only_the_drafter_takes_a_submission_back(cast, submitted):
    for name in ("head", "reviewer", "clerk", "gx_drafter"):
        with pytest.raises(IssuanceError, match="不能撤回"):
            actions.take_back(submitted, cast[name])
    submitted.refresh_from_db()
    assert (submitted.stage, open_state(submitted).name) == (Stage.REVIEWING, "初审")


# --- Who takes a step -------------------------------------------------------------------------


def test_a_first_review_shared_by_several_heads_waits_in_their_queue(cast, short_content):
    # 政策法规科 has no head: its 初审 goes to the organ's heads, now two of them.
    second_head = get_user_model().objects.create(username="second_head", last_name="蔡", first_name="一鸣")
    appointment = Appointment.objects.create(user=second_head, organ=Organ.objects.get(code="泉科"),
                                             role=Role.DEPARTMENT_HEAD)
    appointment.departments.add(Department.objects.get(organ__code="泉科", name="办公室"))
    document = services.create_draft(cast["outsider"], short_content)
    actions.submit(document, cast["outsider"])
    task = actions.open_tasks(document).get()
    assert (task.owner, task.status, task.state.assignee) == (None, STATUS.NEW, None)
    for user in (cast["head"], second_head):
        assert task.flow_task.can_assign(user, task)
    for name in ("reviewer", "deputy", "outsider", "gx_head"):
        assert not task.flow_task.can_assign(cast[name], task), name
    decide(document, second_head)
    assert open_state(document).name == "复审"


def test_a_task_given_straight_to_one_person_cannot_be_put_back_into_a_queue(cast, submitted):
    task = actions.open_tasks(submitted).get()
    with pytest.raises(IssuanceError, match="直接分配"):
        actions.release(task, cast["head"])
    task.refresh_from_db()
    assert task.owner == cast["head"]


@pytest.mark.parametrize("name", ["drafter", "reviewer", "deputy", "clerk", "outsider", "gx_head", "gx_reviewer"])
def test_only_the_holder_of_a_step_can_act_on_it(cast, submitted, name):
    state = open_state(submitted)
    with pytest.raises(IssuanceError):
        decide(submitted, cast[name], APPROVE)
    with pytest.raises(IssuanceError):
        services.decide(submitted, cast[name], state, APPROVE)
    submitted.refresh_from_db()
    assert (submitted.stage, open_state(submitted).status) == (Stage.REVIEWING, S.OPEN)
    assert not submitted.opinions.filter(step="初审").exists()


def test_queue_tasks_are_claimed_by_one_holder_of_the_role(cast, submitted):
    decide(submitted, cast["head"], APPROVE, "同意")
    task = actions.open_tasks(submitted).get()
    assert task.status == STATUS.NEW and task.owner is None
    for name in ("clerk", "gx_reviewer"):
        with pytest.raises(IssuanceError):
            actions.claim(task, cast[name])
    actions.claim(task, cast["reviewer"])
    task.refresh_from_db()
    assert task.owner == cast["reviewer"]
    with pytest.raises(IssuanceError, match="您已领取该任务"):
        actions.claim(task, cast["reviewer"])
    actions.release(task, cast["reviewer"])
    task.refresh_from_db()
    assert task.status == STATUS.NEW and task.owner is None


def test_claiming_and_releasing_are_recorded_in_the_history(cast, submitted):
    decide(submitted, cast["head"], APPROVE, "同意")
    task = actions.open_tasks(submitted).get()
    actions.claim(task, cast["reviewer"])
    actions.release(task, cast["reviewer"])
    actions_seen = list(submitted.events.order_by("seq").values_list("action", "actor__username", "detail__step"))
    assert actions_seen[-2:] == [("claim", "reviewer", "复审"), ("release", "reviewer", "复审")]


# --- 复核 and the issuing verbs ------------------------------------------------------------------


def test_a_change_after_signing_sends_the_document_back_to_signing(cast, submitted):
    document = demo_path.advance(submitted, Stage.RECHECK)
    signed = document.signed_revision
    corrected = {**document.current_revision.content, "cc": "市科协，市财政局"}
    actions.correct_at_recheck(document, cast["clerk"], corrected)
    document.refresh_from_db()
    assert document.stage == Stage.SIGNING
    assert (document.signed_revision, document.signed_by) == (None, None)
    task = actions.open_tasks(document).get()
    assert (task.state.kind, task.state.name, task.state.round.number) == (StepKind.SIGN, "签发", 1)
    assert document.step_states.get(name="复核", opening__lt=task.state.opening).status == S.RETURNED
    assert document.events.order_by("-seq").first().action == "resign_required"
    document = demo_path.advance(document, Stage.PRINTING)
    assert document.signed_revision.number == signed.number + 1
    assert document.signed_revision.content["cc"] == "市科协，市财政局"
    assert document.signed_by == cast["director"]


def test_only_the_organs_clerk_corrects_at_recheck(cast, submitted):
    document = demo_path.advance(submitted, Stage.RECHECK)
    corrected = {**document.current_revision.content, "cc": "市科协，市财政局"}
    for name in ("drafter", "reviewer", "director", "gx_clerk"):
        with pytest.raises(IssuanceError):
            actions.correct_at_recheck(document, cast[name], corrected)
    document.refresh_from_db()
    assert (document.stage, document.revisions.count()) == (Stage.RECHECK, 1)


def test_the_signed_revision_is_what_gets_printed(cast, submitted):
    document = demo_path.advance(submitted, Stage.DISTRIBUTION)
    assert document.issued_pages >= 1
    assert exchange.parse_document(document.issued_content())["doc_number"] == document.doc_number
    with pytest.raises(IssuanceError):
        services.save_content(document, cast["drafter"], {**document.current_revision.content, "title": "改"})


def test_registration_keeps_the_first_number(cast, submitted):
    document = demo_path.advance(submitted, Stage.REGISTRATION)
    first = numbering.allocate(document, cast["clerk"])
    again = numbering.allocate(document, cast["clerk"])
    assert first.pk == again.pk
    act(document, cast["clerk"])
    assert document.doc_number == first.number


def test_a_document_carrying_its_number_is_registered_under_it(cast, seed_content):
    document = demo_path.take_through_path(seed_content, cast["drafter"], until=Stage.PRINTING,
                                           format_reason=demo_path.SEED_REASON)
    assert document.doc_number == "泉科〔2024〕123号"
    with pytest.raises(IssuanceError, match="已被使用"):  # refused when the draft is made, not at 登记
        services.create_draft(cast["drafter"], seed_content)
    assert Document.objects.count() == 1


def test_distribution_cannot_exceed_the_registered_copies(cast, submitted):
    document = demo_path.advance(submitted, Stage.DISTRIBUTION)
    task = actions.open_tasks(document).get()
    with pytest.raises(IssuanceError, match="超过"):
        actions.complete(task, cast["clerk"], lambda: services.distribute(document, cast["clerk"], [("市科协", "cc", 50)]))
    assert not document.distributions.exists()


def test_a_failed_archive_leaves_no_files(cast, submitted, monkeypatch, media_root):
    from issuance import archiving

    document = demo_path.advance(submitted, Stage.ARCHIVING)

    def broken_metadata(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(archiving, "metadata", broken_metadata)
    with pytest.raises(RuntimeError):
        act(document, cast["archivist"])
    assert Document.objects.get(pk=document.pk).stage == Stage.ARCHIVING
    assert [files for _, _, files in os.walk(media_root / "archive") if files] == []


@pytest.mark.parametrize("text,names", [
    ("市直机关文明办、局机关工会、机关妇委会，局领导", ["市直机关文明办", "局机关工会", "机关妇委会", "局领导"]),
    ("各县（市、区）科技局、泉州开发区科技局", ["各县（市、区）科技局", "泉州开发区科技局"]),
    ("各县(市、区)人民政府；市直有关单位\n", ["各县(市、区)人民政府", "市直有关单位"]),
    ("", []),
    (None, []),
])
def test_recipient_text_is_split_into_whole_organ_names(text, names):
    assert services.split_recipients(text) == names


# --- The history ---------------------------------------------------------------------------------


def test_the_history_is_a_hash_chain(cast, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.REGISTRATION)
    events = list(document.events.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == "0" * 64
    for previous, event in zip(events, events[1:]):
        assert event.prev_hash == previous.hash
    for event in events:
        assert event.compute_hash() == Event.objects.get(pk=event.pk).hash
    # Each entry leads from the stage the one before left the document at.
    for previous, event in zip(events, events[1:]):
        assert event.stage_before == previous.stage_after
    assert events[-1].stage_after == document.stage


def test_the_history_reads_as_the_office_would_write_it(cast, submitted):
    decide(submitted, cast["head"], RETURN, "请补充活动预算。")
    services.save_content(submitted, cast["drafter"], submitted.current_revision.content, copies=30)
    lines = [describe_event(event) for event in submitted.events.order_by("seq")]
    assert lines == [
        "创建草稿（第1稿）", "送审（第1稿），按“公文三审”第1版办理", "初审退回至拟稿人：请补充活动预算。",
        "修改印发份数：未填 → 30",
    ]


def test_the_history_of_a_countersigned_document_reads_step_by_step_to_the_archive(cast, seed_content):
    office_head = get_user_model().objects.create(username="gx_office", last_name="林", first_name="海涛")
    appointment = Appointment.objects.create(user=office_head, organ=Organ.objects.get(code="泉工信"),
                                             role=Role.DEPARTMENT_HEAD)
    appointment.departments.add(Department.objects.get(organ__code="泉工信", name="办公室"))
    parties = Department.objects.filter(organ__code="泉工信", name__in=["办公室", "产业发展科", "信息化推进科"])
    document = demo_path.take_through_path(gx_content(seed_content), cast["gx_drafter"], until="会签",
                                           countersign=list(parties))
    decide(document, cast["gx_industry"], party="产业发展科")
    decide(document, cast["gx_digital"], RETURN, "数据口径与我科不一致。", party="信息化推进科")
    services.save_content(document, cast["gx_drafter"], {**document.current_revision.content, "title": "关于改稿的通知"})
    actions.submit(document, cast["gx_drafter"], "已按会签意见修改")
    document = demo_path.advance(document, Stage.ARCHIVED)
    lines = [describe_event(event) for event in document.events.order_by("seq")]
    number, code = document.doc_number, document.archive_record.archive_code
    assert lines == [
        "创建草稿（第1稿）",
        "送审（第1稿），按“公文三审”第1版办理",
        "初审同意",
        "复审同意",
        "会签（产业发展科）同意",
        "会签（信息化推进科）退回至拟稿人：数据口径与我科不一致。（取消办公室的会签，已同意：产业发展科）",
        "保存修改（第2稿）",
        "送审（第2稿），按“公文三审”第1版办理",
        "初审同意",
        "复审同意",
        "会签（办公室）同意",
        "会签（产业发展科）同意",
        "会签（信息化推进科）同意",
        "终审同意",
        "签发（第2稿）",
        "复核同意",
        f"登记发文字号 {number}",
        "申请印制",
        "印制正式文件（第2稿），泉州市工业和信息化局已数字签名",
        "核发",
        f"归档，档号 {code}",
    ]
    assert states(document, name="会签", round__number=1) == [
        ("会签", "办公室", S.CANCELLED), ("会签", "产业发展科", S.DONE), ("会签", "信息化推进科", S.RETURNED)]
