"""The office's daily life with the engine: notices in the app and by e-mail, due dates in
working days, 催办, the daily reminder, 代理, and claims recorded on the step."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from issuance import mailer, services, workdays
from issuance.exceptions import IssuanceError
from issuance.models import Decision, Delegation, Notice, Stage, StepState
from issuance.roles import can_view, forget_memberships
from issuance.wording import notice_text
from workflows import actions, queries

from .builders import decide, open_state, task_of

APPROVE, RETURN = Decision.APPROVE, Decision.RETURN


def submitted(cast, content, who="drafter"):
    document = services.create_draft(cast[who], content)
    actions.submit(document, cast[who], "请审核。")
    document.refresh_from_db()
    return document


def notices(user, kind=None):
    rows = Notice.objects.filter(user=user).order_by("pk")
    return [n for n in rows if kind is None or n.kind == kind]


class FailingBackend:
    """A mail server that cannot be reached."""

    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        raise ConnectionRefusedError("111 拒绝连接")

    def close(self):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("111 拒绝连接")


# --- Working days ---------------------------------------------------------------------------------


@pytest.mark.parametrize("start, days, due", [
    (datetime.date(2026, 11, 27), 1, datetime.date(2026, 11, 30)),  # a Friday: the next working day is Monday
    (datetime.date(2026, 9, 30), 1, datetime.date(2026, 10, 8)),  # 国庆: 1–7 October off
    (datetime.date(2026, 10, 9), 1, datetime.date(2026, 10, 10)),  # … and Saturday 10 October worked
    (datetime.date(2026, 12, 31), 2, datetime.date(2027, 1, 4)),  # 2027 not yet published: Monday to Friday
    (datetime.date(2026, 12, 1), 0, datetime.date(2026, 12, 1)),
])
def test_due_dates_count_working_days_of_mainland_china(start, days, due):
    assert workdays.add_workdays(start, days) == due


# --- Notices ----------------------------------------------------------------------------------------


def test_a_new_task_is_noticed_by_its_holder_in_the_app_and_by_mail_after_commit(
    cast, short_content, django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document = submitted(cast, short_content)
        assert len(mail.outbox) == 0  # nothing is sent inside the transaction
    (notice,) = notices(cast["head"], Notice.Kind.TASK)
    assert notice.mail == Notice.Mail.PENDING and "“初审”待您办理" in notice_text(notice)
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["head@qzkj.example.cn"]]
    assert "初审" in mail.outbox[0].body and f"/documents/{document.pk}/" in mail.outbox[0].body
    notice.refresh_from_db()
    assert notice.mail == Notice.Mail.SENT


def test_a_task_in_a_queue_is_noticed_by_every_member_of_it(cast, short_content, seed_content):
    from issuance.models import Appointment, Organ, Role

    Appointment.objects.create(user=cast["archivist"], organ=Organ.objects.get(code="泉科"), role=Role.OFFICE_REVIEWER)
    forget_memberships(cast["archivist"])
    document = submitted(cast, short_content)
    decide(document, cast["head"])
    assert {n.user.username for n in Notice.objects.filter(kind=Notice.Kind.TASK, document=document)} == {
        "head", "reviewer", "archivist"}


def test_a_return_tells_the_drafter_why_and_a_return_to_a_step_tells_its_holder(cast, short_content):
    document = submitted(cast, short_content)
    decide(document, cast["head"])
    decide(document, cast["reviewer"])
    decide(document, cast["deputy"], RETURN, "请复核引用条款。", return_to="2")
    (back,) = notices(cast["reviewer"], Notice.Kind.RETURNED)
    assert "请复核引用条款。" in notice_text(back) and "请重新办理“复审”" in notice_text(back)
    decide(document, cast["reviewer"], RETURN, "请补充经费来源。")
    (returned,) = notices(cast["drafter"], Notice.Kind.RETURNED)
    assert "请补充经费来源。" in notice_text(returned) and "请修改后重新送审" in notice_text(returned)


def test_the_drafter_hears_of_the_signing_and_drafter_and_parties_of_the_issue(cast, seed_content):
    from issuance.models import Department

    from .builders import gx_content

    parties = list(Department.objects.filter(organ__code="泉工信", name__in=["产业发展科", "信息化推进科"]))
    document = services.create_draft(cast["gx_drafter"], gx_content(seed_content), countersign=parties)
    actions.submit(document, cast["gx_drafter"])
    from workflows import demo_path

    demo_path.advance(document, Stage.ARCHIVING)
    assert len(notices(cast["gx_drafter"], Notice.Kind.SIGNED)) == 1
    issued = Notice.objects.filter(kind=Notice.Kind.ISSUED, document=document)
    assert {n.user.username for n in issued} == {"gx_drafter", "gx_industry", "gx_digital"}
    document.refresh_from_db()
    assert all(document.doc_number in notice_text(n) for n in issued)


def test_a_mail_server_that_is_down_delays_mail_and_loses_none(cast, short_content, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    settings.GONGWEN_MAIL_SENDER = "off"
    submitted(cast, short_content)
    assert mailer.send_due() == (0, 1)
    (notice,) = notices(cast["head"], Notice.Kind.TASK)
    assert (notice.mail, notice.mail_attempts) == (Notice.Mail.PENDING, 1)
    assert "拒绝连接" in notice.mail_error and notice.mail_due_at > timezone.now()
    assert mailer.send_due() == (0, 0)  # not due yet: it waits
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Notice.objects.filter(pk=notice.pk).update(mail_due_at=timezone.now())
    call_command("send_mail", stdout=__import__("io").StringIO())
    notice.refresh_from_db()
    assert notice.mail == Notice.Mail.SENT and [m.to for m in mail.outbox] == [["head@qzkj.example.cn"]]


def test_a_person_without_an_address_gets_the_notice_in_the_app_only(cast, short_content):
    cast["head"].email = ""
    cast["head"].save()
    submitted(cast, short_content)
    (notice,) = notices(cast["head"], Notice.Kind.TASK)
    assert notice.mail == Notice.Mail.NONE and mail.outbox == []


def test_the_menu_counts_unread_notices_and_the_list_marks_them_read(cast, short_content, client):
    document = submitted(cast, short_content)
    client.force_login(cast["head"])
    page = client.get("/tasks/inbox/").content.decode()
    assert "通知 <b class=\"count\">1</b>" in page
    notice = Notice.objects.get(user=cast["head"])
    assert client.get("/notices/").status_code == 200
    assert client.get(f"/notices/{notice.pk}/")["Location"] == f"/documents/{document.pk}/"
    notice.refresh_from_db()
    assert notice.read_at is not None
    client.force_login(cast["reviewer"])
    assert client.get(f"/notices/{notice.pk}/").status_code == 404  # another person's notice
    assert client.get("/notices/read/").status_code == 405


# --- Due dates, 催办, the daily reminder ---------------------------------------------------------------


def test_a_step_is_due_in_its_time_limit_of_working_days(cast, short_content):
    document = submitted(cast, short_content)
    state = open_state(document)
    assert state.due_on == workdays.add_workdays(timezone.localdate(), 2)
    assert not state.is_overdue()


def overdue(document):
    StepState.objects.filter(document=document, status="open").update(due_on=timezone.localdate() - datetime.timedelta(days=3))
    return open_state(document)


def test_overdue_tasks_come_first_in_the_lists(cast, short_content):
    first = submitted(cast, short_content)
    second = submitted(cast, {**short_content, "title": "泉州市科学技术局关于另一项工作的通知"})
    assert [t.state.document for t in queries.inbox(cast["head"])] == [second, first]
    overdue(first)
    assert [t.state.document for t in queries.inbox(cast["head"])] == [first, second]


def test_the_drafter_and_the_office_may_chase_an_overdue_step_once_a_day(cast, short_content):
    document = submitted(cast, short_content)
    state = open_state(document)
    with pytest.raises(IssuanceError, match="尚未逾期"):
        services.urge(document, cast["drafter"], state)
    state = overdue(document)
    for who in ("outsider", "director", "gx_clerk"):
        with pytest.raises(IssuanceError, match="只有拟稿人和办公室可以催办"):
            services.urge(document, cast[who], state)
    assert services.urge(document, cast["drafter"], state) == [cast["head"]]
    (notice,) = notices(cast["head"], Notice.Kind.URGED)
    assert "林晓峰催办" in notice_text(notice)
    event = document.events.get(action="urge")
    assert (event.actor, event.detail["holders"]) == (cast["drafter"], ["陈志明"])
    with pytest.raises(IssuanceError, match="今天已催办过"):
        services.urge(document, cast["clerk"], state)


def test_the_daily_reminder_lists_each_persons_overdue_tasks_once_a_day(cast, short_content):
    one = submitted(cast, short_content)
    two = submitted(cast, {**short_content, "title": "泉州市科学技术局关于另一项工作的通知"})
    overdue(one), overdue(two)
    out = __import__("io").StringIO()
    call_command("send_reminders", stdout=out)
    assert "已提醒 1 人（陈志明）" in out.getvalue()
    (notice,) = notices(cast["head"], Notice.Kind.OVERDUE)
    assert len(notice.detail["items"]) == 2 and "您有 2 项待办已逾期" in notice_text(notice)
    assert [m.to for m in mail.outbox] == [["head@qzkj.example.cn"]] * 3  # two tasks, then one reminder
    call_command("send_reminders", stdout=out)
    assert len(notices(cast["head"], Notice.Kind.OVERDUE)) == 1


# --- 代理 ----------------------------------------------------------------------------------------------


def away(cast, principal="head", deputy="reviewer", by=None, days=5):
    today = timezone.localdate()
    return services.delegate(cast[principal], cast[deputy], today, today + datetime.timedelta(days=days),
                             cast[by or principal], "出差")


def test_a_deputy_finds_the_principals_tasks_in_their_inbox_and_acts_for_them(cast, short_content):
    document = submitted(cast, short_content)
    away(cast, "head", "outsider")
    forget_memberships(cast["outsider"])
    task = task_of(open_state(document))
    assert task in queries.inbox(cast["outsider"]) and can_view(cast["outsider"], document)
    assert notices(cast["outsider"], Notice.Kind.DELEGATED)
    decide(document, cast["outsider"], text="同意。")
    state = document.step_states.get(name="初审")
    assert (state.finished_by, state.acted_by) == (cast["head"], cast["outsider"])
    opinion = document.opinions.get(step="初审")
    assert opinion.signed_name == "吴强（代 陈志明）"
    # It counts as the principal's step: the head may not take another review step of it.
    assert document.events.get(action="approve").detail["for"] == "陈志明"


def test_a_deputy_never_reviews_their_own_draft(cast, short_content):
    document = submitted(cast, short_content)
    away(cast, "head", "drafter")
    forget_memberships(cast["drafter"])
    assert task_of(open_state(document)) not in [t for t in queries.inbox(cast["drafter"]) if t.state.is_review]
    with pytest.raises(IssuanceError):
        decide(document, cast["drafter"])


def test_the_office_sets_a_deputy_for_someone_away_and_nobody_else_does(cast):
    assert away(cast, "director", "deputy", by="clerk").created_by == cast["clerk"]
    with pytest.raises(IssuanceError, match="只能为本人设置代理"):
        away(cast, "deputy", "reviewer", by="drafter")
    with pytest.raises(IssuanceError, match="不在同一机关"):
        away(cast, "head", "gx_head")
    with pytest.raises(IssuanceError, match="已有代理"):
        away(cast, "director", "reviewer", by="director")
    with pytest.raises(IssuanceError, match="代理人不能是本人"):
        away(cast, "head", "head")


def test_a_delegation_that_ended_or_was_cancelled_gives_nothing(cast, short_content):
    document = submitted(cast, short_content)
    delegation = away(cast, "head", "outsider")
    services.end_delegation(delegation, cast["head"])
    forget_memberships(cast["outsider"])
    assert not queries.inbox(cast["outsider"]).exists() and not can_view(cast["outsider"], document)
    Delegation.objects.filter(pk=delegation.pk).update(cancelled_at=None, ends_on=timezone.localdate() - datetime.timedelta(days=1),
                                                        starts_on=timezone.localdate() - datetime.timedelta(days=9))
    forget_memberships(cast["outsider"])
    assert not queries.inbox(cast["outsider"]).exists()


def test_the_inbox_marks_a_deputys_tasks(cast, short_content, client):
    submitted(cast, short_content)
    away(cast, "head", "outsider")
    client.force_login(cast["outsider"])
    page = client.get("/tasks/inbox/").content.decode()
    assert "代理 陈志明" in page


# --- Claims -----------------------------------------------------------------------------------------


def test_a_claim_is_recorded_on_the_step_and_keeps_others_from_it(cast, short_content):
    from issuance.models import Appointment, Organ, Role

    Appointment.objects.create(user=cast["archivist"], organ=Organ.objects.get(code="泉科"), role=Role.OFFICE_REVIEWER)
    forget_memberships(cast["archivist"])
    document = submitted(cast, short_content)
    decide(document, cast["head"])
    state = open_state(document)
    actions.claim(task_of(state), cast["reviewer"])
    state.refresh_from_db()
    assert state.claimed_by == cast["reviewer"]
    with pytest.raises(IssuanceError, match="已由王丽领取"):
        services.decide(document, cast["archivist"], state, APPROVE)
    actions.release(task_of(state), cast["reviewer"])
    state.refresh_from_db()
    assert state.claimed_by is None


# --- 签发 as its own act, 常用意见 ------------------------------------------------------------------


def test_signing_is_its_own_form_with_the_signers_common_phrases(cast, short_content, client):
    from workflows import demo_path

    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.SIGNING)
    task = task_of(open_state(document))
    client.force_login(cast["director"])
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "签发意见" in page and 'data-phrase="同意印发。"' in page and "同意印发。</textarea>" in page
    response = client.post(f"/tasks/{task.pk}/", {"decision": APPROVE, "text": "同意，请抓紧印发。", "remember": "on"},
                           follow=True)
    day = timezone.localdate()
    assert f"已签发（张伟 {day.year}年{day.month}月{day.day}日）" in response.content.decode()
    assert services.phrases.phrases_for(cast["director"], "sign") == ["同意，请抓紧印发。"]
    page = client.get(f"/documents/{document.pk}/").content.decode()
    assert f"同意，请抓紧印发。　张伟　{day.year}年{day.month}月{day.day}日" in page


def test_common_phrases_are_bounded_and_kept_once(cast):
    from issuance.services import phrases

    assert phrases.remember(cast["head"], "同意。") is not None
    assert phrases.remember(cast["head"], "同意。") is None
    with pytest.raises(IssuanceError, match="请先填写意见内容"):
        phrases.remember(cast["head"], "  ")
    for i in range(19):
        phrases.remember(cast["head"], f"意见{i}")
    with pytest.raises(IssuanceError, match="常用意见最多 20 条"):
        phrases.remember(cast["head"], "再多一条")
