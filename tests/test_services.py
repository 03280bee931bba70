"""Every transition of the path at service level, through the flow's actions, returns and withdrawal included."""

import os

import pytest
from django.core.exceptions import ValidationError
from viewflow.workflow.status import PROCESS, STATUS

from issuance import exchange, roles, services, storage
from issuance.exceptions import IssuanceError
from issuance.models import Decision, Document, Event, Opinion, Revision, Stage, Step
from issuance.roles import can_view
from workflows import actions, demo_path
from workflows.flows import DocumentFlow

REVIEW_ORDER = [
    (Stage.FIRST_REVIEW, "head"),
    (Stage.SECOND_REVIEW, "reviewer"),
    (Stage.FINAL_REVIEW, "deputy"),
    (Stage.SIGNING, "director"),
    (Stage.RECHECK, "clerk"),
]


def approve(document, cast, until):
    return demo_path.advance(document, until)


def decide(document, user, decision, text=""):
    task = actions.open_tasks(document).get()
    stage = task.flow_task.stage
    actions.complete(task, user, lambda: services.decide(document, user, decision, text, expected_stage=stage))
    document.refresh_from_db()


@pytest.fixture
def submitted(cast, short_content):
    document = services.create_draft(cast["drafter"], short_content)
    actions.submit(document, cast["drafter"], "请审核")
    document.refresh_from_db()
    return document


def test_a_new_draft_has_one_revision_and_is_private_to_its_drafter(cast, short_content):
    document = services.create_draft(cast["drafter"], short_content)
    revision = document.current_revision
    assert revision.number == 1
    assert revision.sha256 == exchange.content_sha256(exchange.parse_document(short_content))
    assert document.stage == Stage.DRAFTING
    assert can_view(cast["drafter"], document)
    for name in ("head", "reviewer", "director", "clerk", "outsider"):
        assert not can_view(cast[name], document), name


def test_only_a_drafter_with_a_department_can_draft(cast, short_content):
    with pytest.raises(IssuanceError):
        services.create_draft(cast["clerk"], short_content)
    assert not Document.objects.exists()


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


def test_revisions_opinions_and_events_cannot_be_changed_or_deleted(submitted):
    revision = submitted.current_revision
    revision.content = {"title": "篡改"}
    with pytest.raises(ValidationError):
        revision.save()
    with pytest.raises(ValidationError):
        Revision.objects.get(pk=revision.pk).delete()
    with pytest.raises(ValidationError):
        submitted.opinions.first().delete()
    with pytest.raises(ValidationError):
        submitted.events.first().delete()


def test_submission_puts_the_first_review_in_the_department_heads_inbox(cast, submitted):
    assert submitted.stage == Stage.FIRST_REVIEW
    task = actions.open_tasks(submitted).get()
    assert task.flow_task == DocumentFlow.first_review
    assert task.owner == cast["head"]
    assert task.status == STATUS.ASSIGNED
    assert can_view(cast["head"], submitted)
    assert can_view(cast["reviewer"], submitted)
    assert not can_view(cast["outsider"], submitted)
    opinion = submitted.opinions.get()
    assert (opinion.step, opinion.decision, opinion.text) == (Step.DRAFT, Decision.SUBMIT, "请审核")


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
    assert steps == ["draft", "first_review", "second_review", "final_review", "signing", "recheck"]
    assert actions.process_of(document).status == PROCESS.DONE
    assert not actions.open_tasks(document).exists()


def test_the_history_is_a_hash_chain(cast, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.REGISTRATION)
    events = list(document.events.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == "0" * 64
    for previous, event in zip(events, events[1:]):
        assert event.prev_hash == previous.hash
    for event in events:
        assert event.compute_hash() == Event.objects.get(pk=event.pk).hash


@pytest.mark.parametrize("stage,holder", REVIEW_ORDER)
def test_a_return_at_any_step_goes_back_to_the_drafter_and_review_restarts_at_first_review(cast, submitted, stage, holder):
    document = approve(submitted, cast, stage)
    reviewed = document.current_revision
    decide(document, cast[holder], Decision.RETURN, "第二段表述不准确，请修改。")
    assert document.stage == Stage.RETURNED
    assert document.signed_revision is None
    revise = actions.open_tasks(document).get()
    assert revise.flow_task == DocumentFlow.revise
    assert revise.owner == cast["drafter"]

    first_round = list(document.opinions.values_list("pk", "text"))
    edited = {**document.current_revision.content, "title": "关于开展2026年科技活动周的通知（修改稿）"}
    services.save_content(document, cast["drafter"], edited)
    actions.submit(document, cast["drafter"], "已按意见修改")
    document.refresh_from_db()
    assert document.stage == Stage.FIRST_REVIEW
    assert document.round == 2
    assert actions.open_tasks(document).get().owner == cast["head"]
    # The first round's opinions are kept as they were; the second round adds to them.
    assert list(document.opinions.filter(pk__in=[pk for pk, _ in first_round]).values_list("pk", "text")) == first_round
    returned = document.opinions.get(decision=Decision.RETURN)
    assert (returned.revision, returned.round, returned.user) == (reviewed, 1, cast[holder])
    assert document.opinions.filter(round=2, step=Step.DRAFT).exists()

    approve(document, cast, Stage.ARCHIVED)
    assert document.signed_revision.number > reviewed.number


@pytest.mark.parametrize("text", ["", "   "])
def test_a_return_needs_a_written_reason_and_changes_nothing_without_one(cast, submitted, text):
    opinions, events = Opinion.objects.count(), Event.objects.count()
    with pytest.raises(IssuanceError, match="退回理由"):
        decide(submitted, cast["head"], Decision.RETURN, text)
    submitted.refresh_from_db()
    assert submitted.stage == Stage.FIRST_REVIEW
    assert (Opinion.objects.count(), Event.objects.count()) == (opinions, events)
    assert actions.open_tasks(submitted).get().status == STATUS.ASSIGNED


def test_the_drafter_can_withdraw_until_the_first_reviewer_acts(cast, submitted):
    actions.withdraw(submitted, cast["drafter"], "补充附件")
    submitted.refresh_from_db()
    assert submitted.stage == Stage.DRAFTING
    tasks = actions.process_of(submitted).task_set.filter(flow_task_type="HUMAN").order_by("pk")
    assert [(t.flow_task, t.status) for t in tasks] == [
        (DocumentFlow.first_review, STATUS.CANCELED), (DocumentFlow.revise, STATUS.ASSIGNED),
    ]
    assert submitted.opinions.filter(decision=Decision.WITHDRAW, text="补充附件").exists()

    actions.submit(submitted, cast["drafter"])
    decide(submitted, cast["head"], Decision.APPROVE, "同意")
    with pytest.raises(IssuanceError, match="不能撤回"):
        actions.withdraw(submitted, cast["drafter"])
    submitted.refresh_from_db()
    assert submitted.stage == Stage.SECOND_REVIEW


def test_only_the_drafter_can_withdraw(cast, submitted):
    with pytest.raises(IssuanceError):
        actions.withdraw(submitted, cast["head"])
    assert Document.objects.get(pk=submitted.pk).stage == Stage.FIRST_REVIEW


def test_nobody_reviews_their_own_draft(cast, short_content):
    # 陈志明 is both a drafter and the head who does 综合科's 初审.
    document = services.create_draft(cast["head"], short_content)
    with pytest.raises(IssuanceError, match="没有拟稿人以外可办理初审"):
        actions.submit(document, cast["head"])
    assert Document.objects.get(pk=document.pk).stage == Stage.DRAFTING
    assert actions.process_of(document) is None
    assert "自己起草" in roles.refusal(document, cast["head"], Stage.FIRST_REVIEW)


def test_a_department_without_a_head_has_its_first_review_done_by_a_head_of_the_organ(cast, short_content):
    document = services.create_draft(cast["outsider"], short_content)  # 政策法规科 has no head
    actions.submit(document, cast["outsider"])
    task = actions.open_tasks(document).get()
    assert task.owner == cast["head"]
    decide(document, cast["head"], Decision.APPROVE, "同意")
    assert document.stage == Stage.SECOND_REVIEW


def test_a_first_review_shared_by_several_heads_waits_in_their_queue(cast, short_content):
    from django.contrib.auth.models import Group

    cast["deputy"].groups.add(Group.objects.get(name="科室负责人"))
    document = services.create_draft(cast["outsider"], short_content)
    actions.submit(document, cast["outsider"])
    task = actions.open_tasks(document).get()
    assert task.owner is None and task.status == STATUS.NEW
    for name in ("head", "deputy"):
        assert task.flow_task.can_assign(cast[name], task)
    assert not task.flow_task.can_assign(cast["reviewer"], task)


def test_a_task_given_straight_to_one_person_cannot_be_put_back_into_a_queue(cast, submitted):
    task = actions.open_tasks(submitted).get()
    with pytest.raises(IssuanceError, match="直接分配"):
        actions.release(task, cast["head"])
    task.refresh_from_db()
    assert task.owner == cast["head"]


def test_one_person_never_takes_two_review_steps_of_one_document(cast, submitted):
    from django.contrib.auth.models import Group

    head = cast["head"]
    head.groups.add(Group.objects.get(name="分管领导"))
    submitted.department.supervisor = head
    submitted.department.save()
    decide(submitted, head, Decision.APPROVE, "同意")
    decide(submitted, cast["reviewer"], Decision.APPROVE, "同意")
    task = actions.open_tasks(submitted).get()
    assert task.flow_task == DocumentFlow.final_review
    with pytest.raises(IssuanceError, match="两个审核环节"):
        actions.complete(task, head, lambda: services.decide(submitted, head, Decision.APPROVE))
    assert not task.flow_task.can_execute(head, task)


@pytest.mark.parametrize("name", ["drafter", "reviewer", "deputy", "clerk", "outsider"])
def test_only_the_holder_of_a_step_can_act_on_it(cast, submitted, name):
    task = actions.open_tasks(submitted).get()
    with pytest.raises(IssuanceError):
        actions.complete(task, cast[name], lambda: services.decide(submitted, cast[name], Decision.APPROVE))
    with pytest.raises(IssuanceError):
        services.decide(submitted, cast[name], Decision.APPROVE)
    assert Document.objects.get(pk=submitted.pk).stage == Stage.FIRST_REVIEW


def test_queue_tasks_are_claimed_by_one_holder_of_the_role(cast, submitted):
    decide(submitted, cast["head"], Decision.APPROVE, "同意")
    task = actions.open_tasks(submitted).get()
    assert task.status == STATUS.NEW and task.owner is None
    with pytest.raises(IssuanceError):
        actions.claim(task, cast["clerk"])
    actions.claim(task, cast["reviewer"])
    task.refresh_from_db()
    assert task.owner == cast["reviewer"]
    with pytest.raises(IssuanceError, match="已被他人领取"):
        actions.claim(task, cast["reviewer"])
    actions.release(task, cast["reviewer"])
    task.refresh_from_db()
    assert task.status == STATUS.NEW and task.owner is None


def test_a_change_after_signing_sends_the_document_back_to_signing(cast, submitted):
    document = approve(submitted, cast, Stage.RECHECK)
    signed = document.signed_revision
    corrected = {**document.current_revision.content, "cc": "市科协，市财政局"}
    actions.correct_at_recheck(document, cast["clerk"], corrected)
    document.refresh_from_db()
    assert document.stage == Stage.SIGNING
    assert document.signed_revision is None
    assert actions.open_tasks(document).get().flow_task == DocumentFlow.sign
    approve(document, cast, Stage.PRINTING)
    assert document.signed_revision.number == signed.number + 1
    assert document.signed_revision.content["cc"] == "市科协，市财政局"


def test_the_signed_revision_is_what_gets_printed(cast, submitted):
    document = approve(submitted, cast, Stage.DISTRIBUTION)
    assert document.issued_pages >= 1
    assert exchange.parse_document(document.issued_content())["doc_number"] == document.doc_number
    with pytest.raises(IssuanceError):
        services.save_content(document, cast["drafter"], {**document.current_revision.content, "title": "改"})


def test_registration_keeps_the_first_number(cast, submitted):
    from issuance import numbering

    document = approve(submitted, cast, Stage.REGISTRATION)
    first = numbering.allocate(document, cast["clerk"])
    again = numbering.allocate(document, cast["clerk"])
    assert first.pk == again.pk
    demo_path.act(document, Stage.REGISTRATION, cast["clerk"])
    document.refresh_from_db()
    assert document.doc_number == first.number


def test_a_document_carrying_its_number_is_registered_under_it(cast, seed_content):
    document = demo_path.take_through_path(seed_content, cast["drafter"], until=Stage.PRINTING)
    assert document.doc_number == "泉科〔2024〕123号"
    other = demo_path.take_through_path(seed_content, cast["drafter"], until=Stage.REGISTRATION)
    with pytest.raises(IssuanceError, match="已被使用"):
        demo_path.act(other, Stage.REGISTRATION, cast["clerk"])
    assert Document.objects.get(pk=other.pk).doc_number == ""


def test_distribution_cannot_exceed_the_registered_copies(cast, submitted):
    document = approve(submitted, cast, Stage.DISTRIBUTION)
    task = actions.open_tasks(document).get()
    with pytest.raises(IssuanceError, match="超过"):
        actions.complete(task, cast["clerk"], lambda: services.distribute(document, cast["clerk"], [("市科协", "cc", 50)]))
    assert not document.distributions.exists()


def test_a_failed_archive_leaves_no_files(cast, submitted, monkeypatch, media_root):
    from issuance import archiving

    document = approve(submitted, cast, Stage.ARCHIVING)

    def broken_metadata(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(archiving, "metadata", broken_metadata)
    with pytest.raises(RuntimeError):
        demo_path.act(document, Stage.ARCHIVING, cast["archivist"])
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


def test_the_history_reads_as_the_office_would_write_it(cast, submitted):
    decide(submitted, cast["head"], Decision.RETURN, "请补充活动预算。")
    services.save_content(submitted, cast["drafter"], submitted.current_revision.content, copies=30)
    lines = [services.describe_event(event) for event in submitted.events.order_by("seq")]
    assert lines == ["创建草稿（第1稿）", "送审（第1稿）", "初审退回：请补充活动预算。", "修改印发份数：未填 → 30"]


def test_claiming_and_releasing_are_recorded_in_the_history(cast, submitted):
    decide(submitted, cast["head"], Decision.APPROVE, "同意")
    task = actions.open_tasks(submitted).get()
    actions.claim(task, cast["reviewer"])
    actions.release(task, cast["reviewer"])
    actions_seen = list(submitted.events.order_by("seq").values_list("action", "actor__username"))
    assert actions_seen[-2:] == [("claim", "reviewer"), ("release", "reviewer")]
