"""发文字号: distinct and consecutive under concurrency, idempotent, yearly, every gap explained;
one sequence per organ."""

import datetime
import threading
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from issuance import numbering, services
from issuance.exceptions import IssuanceError
from issuance.models import Decision, Document, IssuedNumber, NumberVoid, Organ, Stage
from workflows import actions, demo_path

from .builders import decide, gx_content

SHANGHAI = ZoneInfo("Asia/Shanghai")
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter; SQLite serialises writers"
)


def at(year, month, day, hour=12, minute=0):
    """Patch the clock to a moment given in Asia/Shanghai."""
    moment = datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
    return mock.patch("django.utils.timezone.now", return_value=moment.astimezone(datetime.timezone.utc))


def drafts(cast, content, count, drafter="drafter"):
    return [services.create_draft(cast[drafter], {**content, "title": f"关于第{i}项工作的通知"}) for i in range(count)]


def act(document, user=None):
    """Do the document's one open task, as `user` or as the person the demo picks."""
    demo_path.act(actions.open_tasks(document).get(), user)
    document.refresh_from_db()


def test_numbers_run_on_in_one_sequence_per_code_and_year(cast, short_content):
    documents = drafts(cast, short_content, 3)
    with at(2026, 3, 1):
        numbers = [numbering.allocate(d, cast["clerk"]).number for d in documents]
    assert numbers == ["泉科〔2026〕1号", "泉科〔2026〕2号", "泉科〔2026〕3号"]


def test_each_organ_has_its_own_sequence(cast, short_content, seed_content):
    qk = drafts(cast, short_content, 3)
    gx = drafts(cast, gx_content(seed_content), 2, drafter="gx_drafter")
    with at(2026, 3, 1):
        numbers = [numbering.allocate(d, cast["clerk"]).number for d in qk[:2]]
        numbers += [numbering.allocate(d, cast["gx_clerk"]).number for d in gx]
        numbers.append(numbering.allocate(qk[2], cast["clerk"]).number)
    assert numbers == ["泉科〔2026〕1号", "泉科〔2026〕2号", "泉工信〔2026〕1号", "泉工信〔2026〕2号", "泉科〔2026〕3号"]
    assert [(r.serial, r.issued.document) for r in numbering.register("泉工信", 2026)] == [(1, gx[0]), (2, gx[1])]
    assert len(numbering.register("泉科", 2026)) == 3


def test_the_year_is_the_registration_day_in_shanghai(cast, short_content):
    first, second, third = drafts(cast, short_content, 3)
    with at(2024, 12, 31, 23, 59):
        assert numbering.allocate(first, cast["clerk"]).number == "泉科〔2024〕1号"
    # 2025-01-01 00:01 in Shanghai is still 2024-12-31 in UTC: the sequence restarts all the same.
    with at(2025, 1, 1, 0, 1):
        assert timezone.now().year == 2024
        assert numbering.allocate(second, cast["clerk"]).number == "泉科〔2025〕1号"
        assert numbering.allocate(third, cast["clerk"]).number == "泉科〔2025〕2号"


def test_a_document_keeps_its_first_number_when_registered_twice(cast, short_content):
    document = drafts(cast, short_content, 1)[0]
    first = numbering.allocate(document, cast["clerk"])
    assert numbering.allocate(document, cast["clerk"]) == first
    assert IssuedNumber.objects.count() == 1


def test_a_double_click_on_registration_gives_one_number(cast, submitted_to_registration):
    document = submitted_to_registration
    task = actions.open_tasks(document).get()
    actions.complete(task, cast["clerk"], lambda: services.register(document, cast["clerk"], 5))
    with pytest.raises(IssuanceError, match="“登记”已由李娜办理"):
        actions.complete(task, cast["clerk"], lambda: services.register(document, cast["clerk"], 5))
    assert IssuedNumber.objects.count() == 1


def test_a_return_after_registration_keeps_the_number_on_the_second_pass(cast, submitted_to_registration):
    document = submitted_to_registration
    act(document, cast["clerk"])
    number = document.doc_number
    assert document.stage == Stage.PRINTING
    decide(document, cast["clerk"], Decision.RETURN, "附件名称有误")
    assert document.stage == Stage.RETURNED and document.doc_number == number
    actions.submit(document, cast["drafter"], "已改")
    document = demo_path.advance(document, Stage.DISTRIBUTION)
    assert document.doc_number == number and document.round == 2
    assert IssuedNumber.objects.count() == 1
    assert [r.state for r in numbering.register("泉科", timezone.localdate().year)] == ["已登记"]


def test_a_voided_number_is_never_given_again_and_the_document_gets_the_next(cast, submitted_to_registration, short_content):
    document = submitted_to_registration
    act(document, cast["clerk"])
    first = document.doc_number
    task = actions.open_tasks(document).get()
    with pytest.raises(IssuanceError, match="原因"):
        actions.complete(task, cast["clerk"], lambda: services.void_and_reregister(document, cast["clerk"], " "))
    actions.complete(task, cast["clerk"], lambda: services.void_and_reregister(document, cast["clerk"], "文号登记错误"))
    document.refresh_from_db()
    assert document.stage == Stage.REGISTRATION and document.doc_number == ""
    assert actions.open_tasks(document).get().state.name == "登记"
    act(document, cast["clerk"])
    assert document.doc_number != first
    void = NumberVoid.objects.get(number=first)
    assert (void.reason, void.voided_by) == ("文号登记错误", cast["clerk"])
    other = drafts(cast, short_content, 1)[0]
    assert numbering.allocate(other, cast["clerk"]).number not in (first, document.doc_number)


def test_the_register_shows_every_number_of_a_year_in_order_issued_or_void(cast, short_content):
    documents = drafts(cast, short_content, 2)
    numbering.allocate(documents[0], cast["clerk"])
    numbering.void_next(Organ.objects.get(code="泉科"), cast["clerk"], "已用于纸质公文")
    numbering.allocate(documents[1], cast["clerk"])
    year = timezone.localdate().year
    rows = numbering.register("泉科", year)
    assert [(r.serial, r.state) for r in rows] == [(1, "已登记"), (2, "空号"), (3, "已登记")]
    assert rows[1].void.reason == "已用于纸质公文"
    assert rows[2].issued.document == documents[1]


def test_only_the_organs_own_clerk_voids_its_numbers(cast):
    qk = Organ.objects.get(code="泉科")
    for who in ("drafter", "reviewer", "archivist", "director", "gx_clerk"):
        with pytest.raises(IssuanceError, match="只有本机关的办公室文书可以作废文号"):
            numbering.void_next(qk, cast[who], "试试")
    assert not NumberVoid.objects.exists()
    assert not numbering.register("泉科", timezone.localdate().year)


def test_a_void_in_one_organs_sequence_leaves_the_others_alone(cast, short_content, seed_content):
    with at(2026, 3, 1):
        numbering.void_next(Organ.objects.get(code="泉工信"), cast["gx_clerk"], "已用于纸质公文")
        qk = numbering.allocate(drafts(cast, short_content, 1)[0], cast["clerk"])
        gx = numbering.allocate(drafts(cast, gx_content(seed_content), 1, drafter="gx_drafter")[0], cast["gx_clerk"])
    assert (qk.number, gx.number) == ("泉科〔2026〕1号", "泉工信〔2026〕2号")
    assert [r.state for r in numbering.register("泉工信", 2026)] == ["空号", "已登记"]


def test_a_carried_number_explains_the_serials_it_jumps_over(cast, seed_content):
    document = demo_path.take_through_path(seed_content, cast["drafter"], until=Stage.PRINTING,
                                           format_reason=demo_path.SEED_REASON)
    assert document.doc_number == "泉科〔2024〕123号"
    rows = numbering.register("泉科", 2024)
    assert len(rows) == 123
    assert {r.state for r in rows[:122]} == {"空号"}
    assert rows[122].state == "已登记"


def test_a_number_carried_from_another_organ_is_refused_when_the_draft_is_made(cast, seed_content):
    # The seed carries 泉科〔2024〕123号; as a draft of 泉工信 its 机关代字 does not fit.
    with pytest.raises(IssuanceError, match="稿纸中的发文字号机关代字“泉科”与本机关“泉工信”不符"):
        services.create_draft(cast["gx_drafter"], gx_content(seed_content, doc_number="泉科〔2024〕123号"))
    assert not Document.objects.exists() and not IssuedNumber.objects.exists() and not NumberVoid.objects.exists()


def test_a_document_of_the_other_organ_is_registered_in_its_own_sequence_through_the_path(cast, short_content,
                                                                                          seed_content):
    first = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
    gx = demo_path.take_through_path(gx_content(seed_content), cast["gx_drafter"], until=Stage.PRINTING)
    second = demo_path.take_through_path({**short_content, "title": "泉州市科学技术局关于举办科普讲座的通知"},
                                         cast["drafter"], until=Stage.PRINTING)
    year = timezone.localdate().year
    assert [d.doc_number for d in (first, gx, second)] == [f"泉科〔{year}〕1号", f"泉工信〔{year}〕1号", f"泉科〔{year}〕2号"]
    assert IssuedNumber.objects.get(document=gx).given_by == cast["gx_clerk"]


@pytest.fixture
def submitted_to_registration(cast, short_content):
    return demo_path.take_through_path(short_content, cast["drafter"], until=Stage.REGISTRATION)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_registrations_get_fifty_distinct_consecutive_numbers(cast, short_content):
    documents = drafts(cast, short_content, 50)
    barrier = threading.Barrier(50)
    results, errors = [], []

    def register(document):
        try:
            barrier.wait()
            with transaction.atomic():
                results.append(numbering.allocate(Document.objects.get(pk=document.pk), cast["clerk"]).serial)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(d,)) for d in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(results) == list(range(1, 51))
    assert IssuedNumber.objects.values("number").distinct().count() == 50


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_two_organs_keep_each_sequence_consecutive(cast, short_content, seed_content):
    documents = [(d, "clerk") for d in drafts(cast, short_content, 20)]
    documents += [(d, "gx_clerk") for d in drafts(cast, gx_content(seed_content), 20, drafter="gx_drafter")]
    barrier = threading.Barrier(len(documents))
    results, errors = [], []

    def register(document, clerk):
        try:
            barrier.wait()
            with transaction.atomic():
                issued = numbering.allocate(Document.objects.get(pk=document.pk), cast[clerk])
                results.append((issued.organ_code, issued.serial))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=pair) for pair in documents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    for code in ("泉科", "泉工信"):
        assert sorted(serial for organ_code, serial in results if organ_code == code) == list(range(1, 21)), code
    assert IssuedNumber.objects.values("number").distinct().count() == 40


def test_the_register_folds_a_run_of_voids_of_one_reason_into_one_line(cast, seed_content, client):
    demo_path.take_through_path(seed_content, cast["drafter"], until=Stage.PRINTING,
                                format_reason=demo_path.SEED_REASON)
    groups = numbering.grouped(numbering.register("泉科", 2024))
    assert len(groups) == 2
    assert (groups[0].first.serial, groups[0].last.serial, groups[0].count) == (1, 122, 122)
    assert groups[1].issued.number == "泉科〔2024〕123号"
    client.force_login(cast["clerk"])
    page = client.get("/numbers/?code=泉科&year=2024").content.decode()
    assert "空号 122 个" in page and "泉科〔2024〕1号—122号" in page and "共 123 号" in page
