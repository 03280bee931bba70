"""What keeps the pages fast at a province's scale (issue 11), as behaviour: counts capped,
the archive's full-text search read off its bigram index on PostgreSQL (and still right on
SQLite), the lists read off their indexes. bench/pages.py measures the times at 1,000,000
documents; docs/benchmarks.md records them."""

import pytest
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db import connection
from django.test import Client

from bench import world
from issuance import archive_views
from issuance.models import ArchiveRecord, Document
from issuance.roles import visible_documents
from issuance.paging import CappedPaginator, joins_as_written
from issuance.roles import seen_by
from workflows import queries

pytestmark = pytest.mark.django_db
POSTGRES = pytest.mark.skipif(connection.vendor != "postgresql", reason="the indexes and plans of PostgreSQL")


def test_a_count_stops_a_page_past_the_page_asked_for_and_says_so(cast):
    users = get_user_model().objects.order_by("pk")
    many = users.count()
    assert many > 8
    first = CappedPaginator(users, 2, page=1)  # counts to 2 pages of 2, and one more
    assert (first.count, first.capped, first.num_pages) == (4, True, 2)
    assert list(first.get_page(2)) == list(users[2:4])
    further = CappedPaginator(users, 2, page=3)
    assert (further.count, further.capped) == (min(8, many), many > 8)
    whole = CappedPaginator(users, many, page=1)
    assert (whole.count, whole.capped, whole.num_pages) == (many, False, 1)
    listed = CappedPaginator(list(range(7)), 1, page=2)
    assert (listed.count, listed.capped) == (3, True)


def test_a_page_holds_the_rows_of_the_walk_that_counted_them_in_the_lists_order(cast, django_assert_num_queries):
    world.archived_documents(7)
    documents = Document.objects.select_related("drafter").order_by("-created_at", "title", "-pk")
    assert documents.count() > 6
    for number in (1, 2, 3, 4):
        capped, plain = CappedPaginator(documents, 2, page=number), Paginator(documents, 2)
        with django_assert_num_queries(2):  # the walk's keys, then the page's rows
            rows = list(capped.get_page(number))
            names = [document.drafter.username for document in rows]  # selected with the rows
        assert rows == list(plain.get_page(min(number, plain.num_pages))) and len(names) == len(rows)
    beyond = CappedPaginator(documents, 2, page=99)
    assert list(beyond.get_page(99)) == list(Paginator(documents, 2).get_page(99))


def test_a_long_list_shows_that_it_goes_on(cast, client, monkeypatch):
    world.archived_documents(12)
    monkeypatch.setattr(archive_views, "PAGE_SIZE", 2)
    client.force_login(cast["clerk"])
    page = client.get("/archive/").content.decode()
    assert "第 1 / 2+ 页，共 4+ 件" in page
    records = ArchiveRecord.objects.filter(fonds_code="X001").count()
    assert 6 < records <= 10
    page = client.get("/archive/", {"page": "4"}).content.decode()  # counts to page 5: all of them
    assert f"第 4 / {-(-records // 2)} 页，共 {records} 件" in page


@pytest.fixture
def archived(cast):
    """Records whose texts read: 为做好…相关工作，现将有关事项通知如下。/ 一、工作要求 / 各单位要
    高度重视，精心组织，确保第N项工作取得实效。(bench/world.py)."""
    world.archived_documents(12)
    return list(ArchiveRecord.objects.order_by("pk"))


@pytest.mark.parametrize("term", [
    "重视",  # a word of two characters
    "精心组织，确保第",  # a phrase across a comma
    "确保第3项",  # a few records only
    "视精",  # both bigrams are there, never side by side: the LIKE refuses it
    "组织确保",
    "工作要求各单位",  # across the paragraphs' line break, which is no bigram
    "现",  # one character: no bigram, the LIKE alone
    "ＡＢ", "ab",
])
def test_the_full_text_search_finds_exactly_the_records_holding_the_term(cast, archived, term):
    found = archive_views.search(ArchiveRecord.objects.all(), {"text": term})
    assert sorted(r.pk for r in found) == [r.pk for r in archived if term.lower() in r.full_text.lower()]


def test_the_archive_page_searches_the_full_text(cast, client, archived):
    client.force_login(cast["clerk"])
    page = client.get("/archive/", {"text": "确保第3项"}).content.decode()
    wanted = [r for r in archived if "确保第3项" in r.full_text and r.fonds_code == "X001"]
    assert wanted and all(r.archive_code in page for r in wanted)
    assert not any(r.archive_code in page for r in archived if r not in wanted)


def _plan(queryset):
    sql, sql_params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table is scanned anyway: ask what can be used
        cursor.execute(f"EXPLAIN {sql}", sql_params)
        return "\n".join(row[0] for row in cursor.fetchall())


@POSTGRES
def test_the_full_text_search_reads_its_candidates_off_the_bigram_index(cast, archived):
    records = archive_views.search(ArchiveRecord.objects.all(), {"text": "确保第3项"})
    assert "archive_text_bigrams" in _plan(records)
    assert records.exists()


@POSTGRES
def test_the_archive_list_and_the_done_list_read_their_order_off_an_index(cast):
    world.archived_documents(6)
    clerk = get_user_model().objects.get(username="clerk")
    records = archive_views._records(clerk).order_by("-year", "retention", "item_number")[:50]
    assert "archive_fonds_order" in _plan(records)
    assert "task_owner_done" in _plan(queries.done(clerk)[:50])
    documents = visible_documents(clerk).order_by("-updated_at", "-pk")[:50]
    assert "document_updated" in _plan(documents)
    listed = Document.objects.filter(seen_by(clerk)).order_by("-updated_at", "-pk").values_list("pk")[:151]
    assert "document_updated" in _plan(listed)


@POSTGRES
def test_the_task_lists_are_planned_in_the_order_their_joins_are_written(cast):
    from django.db import transaction

    def setting():
        with connection.cursor() as cursor:
            cursor.execute("SHOW join_collapse_limit")
            return cursor.fetchone()[0]

    with transaction.atomic():
        before = setting()
        with joins_as_written():
            assert setting() == "1"
        assert setting() == before  # inside a longer transaction too (the block is a savepoint here)


def test_the_number_register_and_the_lists_answer_with_a_capped_count(cast, django_assert_max_num_queries):
    world.archived_documents(6)
    client = Client()
    client.force_login(get_user_model().objects.get(username="clerk"))
    for url in ("/tasks/done/", "/documents/?scope=all", "/archive/", "/archive/?text=工作要求", "/numbers/"):
        with django_assert_max_num_queries(25):
            assert client.get(url).status_code == 200, url
