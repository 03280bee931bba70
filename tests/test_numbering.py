"""发文字号: distinct and consecutive under concurrency, idempotent, yearly, every gap explained."""

import datetime
import threading
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from issuance import numbering, services
from issuance.exceptions import IssuanceError
from issuance.models import Decision, Document, IssuedNumber, NumberVoid, Stage
from workflows import actions, demo_path

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=12, minute=0):
    """Patch the clock to a moment given in Asia/Shanghai."""
    moment = datetime.datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
    return mock.patch("django.utils.timezone.now", return_value=moment.astimezone(datetime.timezone.utc))


def drafts(cast, content, count):
    return [services.create_draft(cast["drafter"], {**content, "title": f"关于第{i}项工作的通知"}) for i in range(count)]


def test_numbers_run_on_in_one_sequence_per_code_and_year(cast, short_content):
    documents = drafts(cast, short_content, 3)
    with at(2026, 3, 1):
        numbers = [numbering.allocate(d, cast["clerk"]).number for d in documents]
    assert numbers == ["泉科〔2026〕1号", "泉科〔2026〕2号", "泉科〔2026〕3号"]


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
    with pytest.raises(IssuanceError, match="已办理完毕"):
        actions.complete(task, cast["clerk"], lambda: services.register(document, cast["clerk"], 5))
    assert IssuedNumber.objects.count() == 1


def test_a_return_after_registration_keeps_the_number_on_the_second_pass(cast, submitted_to_registration):
    document = submitted_to_registration
    demo_path.act(document, Stage.REGISTRATION, cast["clerk"])
    document.refresh_from_db()
    number = document.doc_number
    task = actions.open_tasks(document).get()
    actions.complete(task, cast["clerk"], lambda: services.decide(
        document, cast["clerk"], Decision.RETURN, "附件名称有误", expected_stage=Stage.PRINTING))
    document.refresh_from_db()
    assert document.stage == Stage.RETURNED and document.doc_number == number
    actions.submit(document, cast["drafter"], "已改")
    document.refresh_from_db()
    while document.stage != Stage.DISTRIBUTION:
        demo_path.act(document, Stage(document.stage), cast[demo_path.ACTORS[Stage(document.stage)]])
        document.refresh_from_db()
    assert document.doc_number == number
    assert IssuedNumber.objects.count() == 1


def test_a_voided_number_is_never_given_again_and_the_document_gets_the_next(cast, submitted_to_registration, short_content):
    document = submitted_to_registration
    demo_path.act(document, Stage.REGISTRATION, cast["clerk"])
    document.refresh_from_db()
    first = document.doc_number
    task = actions.open_tasks(document).get()
    with pytest.raises(IssuanceError, match="原因"):
        actions.complete(task, cast["clerk"], lambda: services.void_and_reregister(document, cast["clerk"], " "))
    actions.complete(task, cast["clerk"], lambda: services.void_and_reregister(document, cast["clerk"], "文号登记错误"))
    document.refresh_from_db()
    assert document.stage == Stage.REGISTRATION and document.doc_number == ""
    demo_path.act(document, Stage.REGISTRATION, cast["clerk"])
    document.refresh_from_db()
    assert document.doc_number != first
    void = NumberVoid.objects.get(number=first)
    assert (void.reason, void.voided_by) == ("文号登记错误", cast["clerk"])
    other = drafts(cast, short_content, 1)[0]
    assert numbering.allocate(other, cast["clerk"]).number not in (first, document.doc_number)


def test_the_register_shows_every_number_of_a_year_in_order_issued_or_void(cast, short_content):
    documents = drafts(cast, short_content, 2)
    numbering.allocate(documents[0], cast["clerk"])
    numbering.void_next(cast["clerk"].staff.department.organ, cast["clerk"], "已用于纸质公文")
    numbering.allocate(documents[1], cast["clerk"])
    year = timezone.localdate().year
    rows = numbering.register("泉科", year)
    assert [(r.serial, r.state) for r in rows] == [(1, "已登记"), (2, "空号"), (3, "已登记")]
    assert rows[1].void.reason == "已用于纸质公文"
    assert rows[2].issued.document == documents[1]


def test_only_the_office_clerk_voids_numbers(cast):
    with pytest.raises(IssuanceError):
        numbering.void_next(cast["drafter"].staff.department.organ, cast["drafter"], "试试")
    assert not NumberVoid.objects.exists()


def test_a_carried_number_explains_the_serials_it_jumps_over(cast, seed_content):
    document = demo_path.take_through_path(seed_content, cast["drafter"], until=Stage.PRINTING)
    assert document.doc_number == "泉科〔2024〕123号"
    rows = numbering.register("泉科", 2024)
    assert len(rows) == 123
    assert {r.state for r in rows[:122]} == {"空号"}
    assert rows[122].state == "已登记"


@pytest.fixture
def submitted_to_registration(cast, short_content):
    return demo_path.take_through_path(short_content, cast["drafter"], until=Stage.REGISTRATION)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are a PostgreSQL matter; SQLite serialises writers")
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


def test_the_register_folds_a_run_of_voids_of_one_reason_into_one_line(cast, seed_content, client):
    demo_path.take_through_path(seed_content, cast["drafter"], until=Stage.PRINTING)
    groups = numbering.grouped(numbering.register("泉科", 2024))
    assert len(groups) == 2
    assert (groups[0].first.serial, groups[0].last.serial, groups[0].count) == (1, 122, 122)
    assert groups[1].issued.number == "泉科〔2024〕123号"
    client.force_login(cast["clerk"])
    page = client.get("/numbers/?code=泉科&year=2024").content.decode()
    assert "空号 122 个" in page and "泉科〔2024〕1号—122号" in page and "共 123 号" in page
