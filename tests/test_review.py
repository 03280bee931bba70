"""The review engine at service level: chains of any length, 会签 in parallel, returns to the
drafter or to an earlier step, 撤回 by whoever acted last, the stranding checks, chains edited
while documents are in flight, and organs side by side."""

import pytest
from django.contrib.auth import get_user_model
from viewflow.workflow.status import PROCESS

from issuance import chains, services
from issuance.chains import StepSpec
from issuance.exceptions import IssuanceError
from issuance.models import (
    Appointment,
    Decision,
    Department,
    DocumentUserObjectPermission,
    Organ,
    ReviewChain,
    Role,
    Round,
    Stage,
    StepState,
)
from issuance.roles import actionable_states, can_view, forget_memberships, state_candidates, visible_documents
from workflows import actions, demo_path, queries

from .builders import decide, gx_content, open_state, short_content, states

S = StepState.Status
APPROVE, RETURN = Decision.APPROVE, Decision.RETURN


def appoint(user, organ_code, role, *departments, title=""):
    organ = Organ.objects.get(code=organ_code)
    appointment, _ = Appointment.objects.get_or_create(user=user, organ=organ, role=role, defaults={"title": title})
    if departments:
        appointment.departments.add(*Department.objects.filter(organ=organ, name__in=departments))
    forget_memberships(user)
    return appointment


def person(username, name="测试"):
    return get_user_model().objects.create(username=username, last_name=name[0], first_name=name[1:])


def set_chain(organ_code, name, steps, **scope):
    organ = Organ.objects.get(code=organ_code)
    chain = ReviewChain.objects.filter(organ=organ, name=name).first()
    return chains.save_chain(organ, None, chain=chain, name=name, steps=steps, **scope)


REVIEW = [StepSpec("初审", "department_head"), StepSpec("复审", "role", role=Role.OFFICE_REVIEWER)]
SIGN = StepSpec("签发", "role", kind="sign", role=Role.PRINCIPAL)


def submitted(cast, who="drafter", content=None, seed_content=None, **draft):
    document = services.create_draft(cast[who], content, **draft)
    actions.submit(document, cast[who], "请审核。")
    document.refresh_from_db()
    return document


# --- Chains of any length -------------------------------------------------------------------


@pytest.mark.parametrize("steps, names", [
    ([REVIEW[0], SIGN], ["初审", "签发"]),
    ([*REVIEW, SIGN], ["初审", "复审", "签发"]),
    ([*REVIEW, StepSpec("会签", "parties"), StepSpec("终审", "supervisor"), StepSpec("再审", "users"), SIGN],
     ["初审", "复审", "会签", "终审", "再审", "签发"]),
])
def test_a_chain_runs_its_steps_in_order_then_the_issuing_half(cast, short_content, steps, names):
    for spec in steps:
        if spec.actor == "users":
            spec.users = [cast["reviewer"], cast["archivist"]]
    set_chain("泉科", "公文三审", steps)
    document = submitted(cast, content=short_content)
    document = demo_path.advance(document, Stage.ARCHIVED)
    done = [name for name, _, status in states(document) if status in (S.DONE, S.SKIPPED)]
    assert done == names + ["复核", "登记", "印制", "核发", "归档"]
    assert actions.process_of(document).status == PROCESS.DONE
    assert not actions.open_tasks(document).exists()
    assert document.signed_by == cast["director"]


def test_the_default_chain_is_three_reviews_with_a_countersign_skipped_when_nobody_is_named(cast, short_content):
    document = submitted(cast, content=short_content)
    assert (document.stage, open_state(document).name) == (Stage.REVIEWING, "初审")
    assert open_state(document).assignee == cast["head"]  # one head: straight to their 待办
    decide(document, cast["head"])
    decide(document, cast["reviewer"])
    assert states(document)[2:] == [("会签", "", S.SKIPPED), ("终审", "", S.OPEN)]
    decide(document, cast["deputy"])
    assert document.stage == Stage.SIGNING
    round_ = document.rounds.get()
    assert (round_.chain.name, round_.version.number, round_.status) == ("公文三审", 1, Round.Status.ACTIVE)


def test_a_letter_gets_two_reviews_and_a_publicity_letter_three(cast, short_content):
    letter_content = {**short_content, "doc_type": "函", "direction": "平行文",
                      "title": "泉州市科学技术局关于商请支持2026年科技活动周的函"}
    letter = submitted(cast, content=letter_content)
    assert letter.rounds.get().chain.name == "函件两审"
    publicity = submitted(cast, content=letter_content, category="宣传类")
    assert publicity.rounds.get().chain.name == "宣传类三审"
    assert [s.name for s in chains.path(publicity.rounds.get().version)][:5] == ["初审", "复审", "会签", "终审", "签发"]


def test_an_upward_document_is_signed_by_the_principal_whatever_the_chain(cast, short_content):
    set_chain("泉科", "公文三审", [REVIEW[0], StepSpec("签发", "supervisor", kind="sign")])
    downward = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.RECHECK)
    assert downward.signed_by == cast["deputy"]
    upward = demo_path.take_through_path({**short_content, "direction": "上行文", "doc_type": "请示",
                                          "title": "泉州市科学技术局关于申请2026年科普经费的请示",
                                          "main_recipients": "泉州市人民政府"}, cast["drafter"], until=Stage.RECHECK)
    assert upward.signed_by == cast["director"]


def test_a_document_with_no_chain_that_applies_cannot_be_submitted(cast, short_content):
    ReviewChain.objects.filter(organ__code="泉科").update(active=False)
    document = services.create_draft(cast["drafter"], short_content)
    with pytest.raises(IssuanceError, match="没有适用于“通知、下行文”的审核流程"):
        actions.submit(document, cast["drafter"])
    document.refresh_from_db()
    assert (document.stage, document.round, document.rounds.count()) == (Stage.DRAFTING, 0, 0)


# --- 会签 -----------------------------------------------------------------------------------


@pytest.fixture
def three_heads(cast):
    """泉工信's 办公室 gets a head of its own, so that three 科室 can countersign."""
    office_head = person("gx_office", "林海涛")
    appoint(office_head, "泉工信", Role.DEPARTMENT_HEAD, "办公室")
    return office_head


def test_three_departments_countersign_in_parallel_and_the_document_moves_on_when_all_agree(
    cast, seed_content, three_heads,
):
    parties = Department.objects.filter(organ__code="泉工信", name__in=["产业发展科", "信息化推进科", "办公室"])
    document = submitted(cast, "gx_drafter", gx_content(seed_content), countersign=list(parties))
    decide(document, cast["gx_head"])
    decide(document, cast["gx_reviewer"])
    countersign = services.open_states(document)
    assert sorted(s.party_label for s in countersign) == ["产业发展科", "信息化推进科", "办公室"]
    assert {s.assignee.username for s in countersign} == {"gx_industry", "gx_digital", "gx_office"}
    assert actions.open_tasks(document).count() == 3
    decide(document, cast["gx_industry"], party="产业发展科")
    decide(document, three_heads, party="办公室")
    assert document.stage == Stage.REVIEWING and open_state(document).party_label == "信息化推进科"
    decide(document, cast["gx_digital"], text="同意，请按程序办理。", party="信息化推进科")
    assert open_state(document).name == "终审"
    parties_said = {o.party: o.text for o in document.opinions.filter(step="会签")}
    assert parties_said == {"产业发展科": "同意。", "办公室": "同意。", "信息化推进科": "同意，请按程序办理。"}


def test_a_countersign_return_cancels_the_other_parties_and_goes_back_to_the_drafter(cast, seed_content, three_heads):
    parties = Department.objects.filter(organ__code="泉工信", name__in=["产业发展科", "信息化推进科", "办公室"])
    document = submitted(cast, "gx_drafter", gx_content(seed_content), countersign=list(parties))
    decide(document, cast["gx_head"])
    decide(document, cast["gx_reviewer"])
    decide(document, cast["gx_industry"], party="产业发展科")
    with pytest.raises(IssuanceError, match="退回时必须填写退回理由"):
        decide(document, cast["gx_digital"], RETURN, "  ", party="信息化推进科")
    decide(document, cast["gx_digital"], RETURN, "数据口径与我科不一致。", party="信息化推进科")
    assert document.stage == Stage.RETURNED
    countersign = {s.party_label: s.status for s in document.step_states.filter(name="会签")}
    assert countersign == {"产业发展科": S.DONE, "信息化推进科": S.RETURNED, "办公室": S.CANCELLED}
    event = document.events.get(action="return")
    assert (event.detail["party"], event.detail["cancelled"], event.detail["agreed"]) == (
        "信息化推进科", ["办公室"], ["产业发展科"])
    assert [t.state.kind for t in actions.open_tasks(document)] == ["revise"]
    assert actions.open_tasks(document).get().owner == cast["gx_drafter"]
    # The whole round comes up again after the drafter resubmits: every party countersigns anew.
    actions.submit(document, cast["gx_drafter"], "已按意见修改")
    decide(document, cast["gx_head"])
    decide(document, cast["gx_reviewer"])
    assert services.open_states(document).count() == 3


def test_a_joint_document_is_countersigned_by_the_office_of_each_co_issuing_organ(cast, short_content):
    joint = {**short_content, "issuer_marks": ["泉州市科学技术局", "泉州市工业和信息化局"],
             "signature_orgs": ["泉州市科学技术局", "泉州市工业和信息化局"]}
    document = submitted(cast, content=joint)
    assert not can_view(cast["gx_reviewer"], document)
    decide(document, cast["head"])
    decide(document, cast["reviewer"])
    state = open_state(document)
    assert (state.name, state.party_label, state.assignee) == ("会签", "泉州市工业和信息化局", None)
    # The co-issuing organ's office takes part through that step only: it sees this document, no other.
    assert can_view(cast["gx_reviewer"], document)
    assert not can_view(cast["gx_clerk"], document)
    assert [t.pk for t in actions.open_tasks(document)] == [t.pk for t in queries.claimable(cast["gx_reviewer"])]
    with pytest.raises(IssuanceError):
        decide(document, cast["reviewer"])  # 泉科's own office cannot countersign for 泉工信
    decide(document, cast["gx_reviewer"], text="同意联合印发。")
    assert open_state(document).name == "终审"
    assert document.opinions.get(step="会签").party == "泉州市工业和信息化局"
    assert set(visible_documents(cast["gx_reviewer"])) == {document}


def test_a_joint_document_with_an_organ_outside_the_system_is_refused(cast, short_content):
    joint = {**short_content, "issuer_marks": ["泉州市科学技术局", "泉州市财政局"]}
    document = services.create_draft(cast["drafter"], joint)
    with pytest.raises(IssuanceError, match="联合发文机关“泉州市财政局”不在本系统中"):
        actions.submit(document, cast["drafter"])


def test_countersigning_departments_must_be_other_departments_of_the_organ(cast, short_content):
    own = Department.objects.get(organ__code="泉科", name="综合科")
    foreign = Department.objects.get(organ__code="泉工信", name="产业发展科")
    for departments in ([own], [foreign]):
        with pytest.raises(IssuanceError, match="会签科室应为本机关的其他科室"):
            services.create_draft(cast["drafter"], short_content, countersign=departments)


# --- Returns ------------------------------------------------------------------------------


def test_a_reviewer_returns_to_an_earlier_step_and_the_steps_after_it_run_again(cast, short_content):
    document = submitted(cast, content=short_content)
    decide(document, cast["head"])
    decide(document, cast["reviewer"])
    state = open_state(document)
    assert services.return_targets(state) == [("drafter", "拟稿人"), ("1", "初审"), ("2", "复审")]
    decide(document, cast["deputy"], RETURN, "请复审核对引用文件。", return_to="2")
    assert (document.stage, open_state(document).name) == (Stage.REVIEWING, "复审")
    assert document.rounds.get().status == Round.Status.ACTIVE
    assert document.events.get(action="return").detail["to"] == "复审"
    decide(document, cast["reviewer"], text="已核对。")
    assert [n for n, _, st in states(document) if st == S.OPEN] == ["终审"]
    decide(document, cast["deputy"])
    assert document.stage == Stage.SIGNING
    progress = services.progress(document)
    assert [row["step"].name for row in progress["rows"] if row["current"]] == ["签发"]


def test_a_return_to_a_step_that_does_not_come_before_is_refused(cast, short_content):
    document = submitted(cast, content=short_content)
    decide(document, cast["head"])
    with pytest.raises(IssuanceError, match="请选择退回至拟稿人或之前的审核环节"):
        decide(document, cast["reviewer"], RETURN, "再看看", return_to="4")
    assert open_state(document).name == "复审"


def test_a_return_to_the_drafter_ends_the_round_and_a_resubmission_starts_again_from_the_first_step(
    cast, short_content,
):
    document = submitted(cast, content=short_content)
    decide(document, cast["head"])
    decide(document, cast["reviewer"], RETURN, "请补充活动预算。")
    assert document.stage == Stage.RETURNED and document.signed_revision is None
    assert document.rounds.get().status == Round.Status.RETURNED
    services.save_content(document, cast["drafter"], {**short_content, "title": "泉州市科学技术局关于开展科技活动周的通知"})
    actions.submit(document, cast["drafter"], "已补充")
    document.refresh_from_db()
    assert document.round == 2 and open_state(document).name == "初审"
    assert [(r.number, r.status) for r in document.rounds.order_by("number")] == [
        (1, Round.Status.RETURNED), (2, Round.Status.ACTIVE)]


# --- 撤回 -----------------------------------------------------------------------------------


def test_the_drafter_takes_a_submission_back_until_the_first_reviewer_acts(cast, short_content):
    document = submitted(cast, content=short_content)
    actions.take_back(document, cast["drafter"], "需补充材料")
    document.refresh_from_db()
    assert document.stage == Stage.DRAFTING
    assert states(document) == [("初审", "", S.TAKEN_BACK), ("修改", "", S.OPEN)]
    actions.submit(document, cast["drafter"])
    decide(document, cast["head"])
    with pytest.raises(IssuanceError, match="审核人已办理"):
        actions.take_back(document, cast["drafter"])


def test_a_reviewer_takes_back_an_approval_until_the_next_person_acts(cast, short_content):
    document = submitted(cast, content=short_content)
    decide(document, cast["head"], text="同意。")
    assert services.take_back_target(document, cast["head"]).name == "初审"
    actions.take_back(document, cast["head"], "还需核对经费")
    document.refresh_from_db()
    state = open_state(document)
    assert (state.name, state.assignee, document.stage) == ("初审", cast["head"], Stage.REVIEWING)
    assert document.step_states.filter(name="复审").get().status == S.TAKEN_BACK
    task = actions.open_tasks(document).get()
    assert (task.state, task.owner) == (state, cast["head"])
    assert document.opinions.filter(step="初审").values_list("decision", flat=True).count() == 2
    decide(document, cast["head"])
    decide(document, cast["reviewer"])
    with pytest.raises(IssuanceError, match="下一环节已办理"):
        actions.take_back(document, cast["head"])
    assert services.take_back_target(document, cast["reviewer"]).name == "复审"


def test_a_signer_who_takes_back_the_signature_leaves_the_text_unsigned(cast, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.RECHECK)
    assert document.signed_revision_id
    actions.take_back(document, cast["director"], "再斟酌")
    document.refresh_from_db()
    assert document.stage == Stage.SIGNING and document.signed_revision_id is None


def test_a_countersigning_party_takes_back_its_own_agreement_while_the_others_still_decide(cast, seed_content):
    parties = Department.objects.filter(organ__code="泉工信", name__in=["产业发展科", "信息化推进科"])
    document = submitted(cast, "gx_drafter", gx_content(seed_content), countersign=list(parties))
    decide(document, cast["gx_head"])
    decide(document, cast["gx_reviewer"])
    decide(document, cast["gx_industry"], party="产业发展科")
    actions.take_back(document, cast["gx_industry"])
    document.refresh_from_db()
    assert sorted(s.party_label for s in services.open_states(document)) == ["产业发展科", "信息化推进科"]
    assert actions.open_tasks(document).count() == 2


# --- Nobody stranded ----------------------------------------------------------------------


def test_a_draft_whose_only_first_reviewer_is_its_drafter_cannot_be_submitted(cast, short_content):
    document = services.create_draft(cast["head"], short_content)
    with pytest.raises(IssuanceError, match="“初审”环节没有拟稿人以外可办理的人员，无法送审"):
        actions.submit(document, cast["head"])
    document.refresh_from_db()
    assert (document.stage, actions.process_of(document)) == (Stage.DRAFTING, None)


def test_a_department_without_a_head_has_its_first_review_queued_for_the_organs_heads(cast, short_content):
    document = submitted(cast, "outsider", short_content)
    state = open_state(document)
    assert (state.name, state.candidate_department, state.assignee) == ("初审", None, cast["head"])
    assert list(state_candidates(state)) == [cast["head"]]


def test_a_principal_who_drafts_an_upward_document_cannot_strand_it_at_signing(cast, short_content):
    appoint(cast["director"], "泉科", Role.DRAFTER, "办公室")
    document = services.create_draft(cast["director"], {**short_content, "direction": "上行文", "doc_type": "请示"})
    with pytest.raises(IssuanceError, match="“签发”环节没有拟稿人以外可办理的人员，无法送审"):
        actions.submit(document, cast["director"])
    document.refresh_from_db()
    assert (document.stage, document.rounds.count()) == (Stage.DRAFTING, 0)


def test_one_person_who_would_have_to_take_two_review_steps_is_caught_before_submission(cast, short_content):
    # 王丽 is the organ's only 办公室核稿 and now its only 分管领导 too: 复审 and 终审 would both need her.
    Appointment.objects.filter(user=cast["deputy"]).delete()
    appoint(cast["reviewer"], "泉科", Role.SUPERVISOR, "综合科", "办公室", "政策法规科")
    document = services.create_draft(cast["drafter"], short_content)
    with pytest.raises(IssuanceError, match="同一人不能承担同一公文的两个审核环节"):
        actions.submit(document, cast["drafter"])
    assert not actions.open_tasks(document).exists()


def test_a_second_holder_makes_the_same_document_submittable(cast, short_content):
    Appointment.objects.filter(user=cast["deputy"]).delete()
    appoint(cast["reviewer"], "泉科", Role.SUPERVISOR, "综合科", "办公室", "政策法规科")
    appoint(cast["archivist"], "泉科", Role.OFFICE_REVIEWER)
    document = submitted(cast, content=short_content)
    decide(document, cast["head"])
    # 王丽 may take 复审 … but then 终审 would have nobody: her approval is refused, 郑敏's is not.
    with pytest.raises(IssuanceError, match="下一环节“终审”没有可办理的人员（同一人不能承担同一公文的两个审核环节）"):
        decide(document, cast["reviewer"])
    decide(document, cast["archivist"])
    decide(document, cast["reviewer"], name="终审")
    assert document.stage == Stage.SIGNING


# --- Chains edited while documents are in flight --------------------------------------------


def test_a_document_keeps_the_chain_version_it_was_submitted_under(cast, short_content):
    in_flight = submitted(cast, content=short_content)
    organ = Organ.objects.get(code="泉科")
    chain = ReviewChain.objects.get(organ=organ, name="公文三审")
    chain, version = chains.save_chain(organ, cast["clerk"], chain=chain, name=chain.name, steps=[REVIEW[0], SIGN])
    assert version.number == 2 and "环节改为 初审 → 签发" in version.note
    later = submitted(cast, content={**short_content, "title": "泉州市科学技术局关于举办科普讲座的通知"})
    decide(later, cast["head"])
    assert later.stage == Stage.SIGNING
    decide(in_flight, cast["head"])
    assert open_state(in_flight).name == "复审"
    assert in_flight.rounds.get().version.number == 1
    # A resubmission after a return keeps the version too.
    decide(in_flight, cast["reviewer"], RETURN, "请修改")
    actions.submit(in_flight, cast["drafter"])
    in_flight.refresh_from_db()
    assert in_flight.rounds.get(number=2).version.number == 1


# --- Editing chains ---------------------------------------------------------------------------


@pytest.mark.parametrize("steps, message", [
    ([], "审核流程至少需要一个环节"),
    ([REVIEW[0]], "须以一个“签发”环节结束"),
    ([SIGN, REVIEW[0]], "须以一个“签发”环节结束"),
    ([SIGN, SIGN], "只能有一个签发环节"),
    ([StepSpec("", "department_head"), SIGN], "第 1 个环节：请填写环节名称"),
    ([StepSpec("复审", "role"), SIGN], "第 1 个环节：请选择办理岗位"),
    ([StepSpec("复审", "users"), SIGN], "第 1 个环节：请指定办理人员"),
    ([StepSpec("会签", "parties", kind="sign")], "签发不能由会签单位办理"),
    ([StepSpec("初审", "nobody"), SIGN], "第 1 个环节：请选择办理人"),
])
def test_an_invalid_chain_is_refused_and_nothing_is_saved(cast, steps, message):
    organ = Organ.objects.get(code="泉工信")
    before = ReviewChain.objects.count()
    with pytest.raises(IssuanceError, match=message):
        chains.save_chain(organ, cast["gx_clerk"], name="新流程", steps=steps)
    assert ReviewChain.objects.count() == before


def test_named_people_must_work_for_the_organ(cast):
    organ = Organ.objects.get(code="泉工信")
    with pytest.raises(IssuanceError, match="reviewer不是本机关人员"):
        chains.save_chain(organ, cast["gx_clerk"], name="新流程",
                          steps=[StepSpec("复审", "users", users=[cast["reviewer"]]), SIGN])


def test_only_the_organs_administrator_edits_its_chains(cast):
    organ = Organ.objects.get(code="泉工信")
    for who in ("clerk", "gx_reviewer", "gx_director"):
        with pytest.raises(IssuanceError, match="只有本机关的机关管理员可以设置审核流程"):
            chains.save_chain(organ, cast[who], name="新流程", steps=[REVIEW[0], SIGN])


def test_two_chains_that_would_apply_to_the_same_documents_are_refused(cast):
    organ = Organ.objects.get(code="泉工信")
    with pytest.raises(IssuanceError, match="与审核流程“函件两审”的适用范围重叠"):
        chains.save_chain(organ, cast["gx_clerk"], name="函件快审", steps=[REVIEW[0], SIGN], doc_types=["函", "通知"])
    chain, version = chains.save_chain(organ, cast["gx_clerk"], name="函件快审", steps=[REVIEW[0], SIGN],
                                       doc_types=["函"], directions=["平行文"])
    assert version.number == 1 and chain.specificity() == 3


def test_saving_a_chain_unchanged_makes_no_version(cast):
    organ = Organ.objects.get(code="泉工信")
    chain = ReviewChain.objects.get(organ=organ, name="函件两审")
    _, version = chains.save_chain(organ, cast["gx_clerk"], chain=chain, name=chain.name,
                                   steps=chains.specs_of(chain.version), doc_types=chain.doc_types)
    assert version is None and chain.versions.count() == 1


def test_the_sample_shows_who_would_act_on_each_step(cast):
    organ = Organ.objects.get(code="泉工信")
    chain = ReviewChain.objects.get(organ=organ, name="函件两审")
    routing = chains.Routing(
        organ=organ, department=Department.objects.get(organ=organ, name="综合科"), doc_type="函", direction="平行文",
        countersign_departments=list(Department.objects.filter(organ=organ, name__in=["产业发展科", "信息化推进科"])),
    )
    rows = chains.who_would_act(routing, chain.version)
    acting = {row["step"].name: [(u["party"], [p.username for p in u["people"]]) for u in row["units"]] for row in rows}
    assert acting["初审"] == [("", ["gx_head"])]
    assert acting["复审"] == [("", ["gx_reviewer"])]
    assert acting["会签"] == [("产业发展科", ["gx_industry"]), ("信息化推进科", ["gx_digital"])]
    assert acting["签发"] == [("", ["gx_director"])]
    assert acting["归档"] == [("", ["gx_archivist"])]


# --- The two directions of "may take" agree ----------------------------------------------------


def test_who_may_take_each_open_state_is_the_same_seen_from_the_state_and_from_the_person(cast, seed_content):
    parties = Department.objects.filter(organ__code="泉工信", name__in=["产业发展科", "信息化推进科"])
    gx = submitted(cast, "gx_drafter", gx_content(seed_content), countersign=list(parties))
    decide(gx, cast["gx_head"])
    decide(gx, cast["gx_reviewer"])
    qk = submitted(cast, content=short_content(seed_content))
    decide(qk, cast["head"])
    people = list(get_user_model().objects.all())
    for state in StepState.objects.filter(status=S.OPEN):
        from_state = set(state_candidates(state))
        from_people = {user for user in people if actionable_states(user).filter(pk=state.pk).exists()}
        assert from_state == from_people, state


def test_nobody_reviews_their_own_draft_or_two_steps_of_one_document(cast, short_content):
    document = submitted(cast, content=short_content)
    assert not actionable_states(cast["drafter"]).exists()
    decide(document, cast["head"])
    appoint(cast["head"], "泉科", Role.OFFICE_REVIEWER)
    state = open_state(document)
    assert cast["head"] not in state_candidates(state)
    with pytest.raises(IssuanceError, match="同一人不能承担同一公文的两个审核环节"):
        decide(document, cast["head"])


# --- Organs side by side -------------------------------------------------------------------------


def test_the_office_of_one_organ_never_sees_or_takes_the_others_documents(cast, seed_content):
    qk = submitted(cast, content=short_content(seed_content))
    decide(qk, cast["head"])
    gx = submitted(cast, "gx_drafter", gx_content(seed_content))
    decide(gx, cast["gx_head"])
    for name in ("gx_reviewer", "gx_clerk", "gx_director", "gx_deputy", "gx_archivist"):
        assert not can_view(cast[name], qk), name
        assert not actionable_states(cast[name]).filter(document=qk).exists(), name
    for name in ("reviewer", "clerk", "director", "deputy", "archivist", "head"):
        assert not can_view(cast[name], gx), name
        assert not actionable_states(cast[name]).filter(document=gx).exists(), name
    with pytest.raises(IssuanceError, match="应由泉州市科学技术局的办公室核稿办理"):
        decide(qk, cast["gx_reviewer"])
    assert open_state(qk).name == "复审"


def test_someone_who_works_for_two_organs_drafts_for_the_one_they_choose(cast, short_content, seed_content):
    appoint(cast["drafter"], "泉工信", Role.DRAFTER, "产业发展科")
    with pytest.raises(IssuanceError, match="请选择承办科室"):
        services.create_draft(cast["drafter"], short_content)
    industry = Department.objects.get(organ__code="泉工信", name="产业发展科")
    document = services.create_draft(cast["drafter"], gx_content(seed_content), department=industry)
    assert (document.organ.code, document.department.name) == ("泉工信", "产业发展科")
    with pytest.raises(IssuanceError, match="您不能为该科室拟稿"):
        services.create_draft(cast["drafter"], short_content,
                              department=Department.objects.get(organ__code="泉工信", name="综合科"))


def test_a_grant_lets_one_more_person_of_the_organ_see_that_document_and_no_other(cast, short_content):
    document = submitted(cast, content=short_content)
    other = submitted(cast, content={**short_content, "title": "泉州市科学技术局关于另一项工作的通知"})
    assert not can_view(cast["outsider"], document)
    services.grant_access(document, cast["reviewer"], "outsider")
    assert DocumentUserObjectPermission.objects.filter(user=cast["outsider"], content_object=document).exists()
    assert can_view(cast["outsider"], document) and not can_view(cast["outsider"], other)
    assert set(visible_documents(cast["outsider"])) == {document}
    with pytest.raises(IssuanceError, match="只有拟稿人和办公室可以授权他人查看"):
        services.grant_access(other, cast["gx_clerk"], "outsider")
    with pytest.raises(IssuanceError, match="许文杰不是本机关人员，不能授权查看"):
        services.grant_access(other, cast["reviewer"], "gx_drafter")
    assert not can_view(cast["gx_drafter"], other)


def test_a_fallback_queue_shows_the_document_to_its_candidates_only_while_it_is_open(cast, seed_content):
    document = submitted(cast, "gx_head", gx_content(seed_content))
    state = open_state(document)
    assert (state.candidate_department, state.assignee) == (None, None)  # any other head of 泉工信
    assert can_view(cast["gx_industry"], document) and can_view(cast["gx_digital"], document)
    decide(document, cast["gx_industry"])
    assert can_view(cast["gx_industry"], document)  # took the step
    assert not can_view(cast["gx_digital"], document)  # could have, did not


def test_a_joint_document_led_by_the_other_organ_is_countersigned_by_it_too(cast, short_content):
    joint = {**short_content, "issuer_marks": ["泉州市工业和信息化局", "泉州市科学技术局"]}
    document = submitted(cast, content=joint)
    decide(document, cast["head"])
    decide(document, cast["reviewer"])
    assert open_state(document).party_label == "泉州市工业和信息化局"
