"""The pages' template functions (config.templating) write what Django's own tags and filters
wrote, and a prepared query (issuance.prepared) finds what its queryset finds."""

import datetime
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.template import defaultfilters
from django.test import RequestFactory
from django.urls import get_resolver, reverse, set_script_prefix
from django.utils import timezone

from config import templating
from issuance.models import Document, StepState
from issuance.prepared import Prepared


def _named_patterns():
    """Every named URL with the number of its arguments."""
    resolver = get_resolver()
    for name, possibilities in resolver.reverse_dict.lists():
        if isinstance(name, str):
            for possibility, *_ in possibilities:
                for _, params in possibility:
                    yield name, len(params)


@pytest.mark.parametrize("prefix", ["/", "/gongwen/"])
def test_url_writes_what_reverse_writes_for_every_named_url(prefix):
    names = sorted(set(_named_patterns()))
    assert len(names) > 40
    set_script_prefix(prefix)
    try:
        for (name, arity), numbers in itertools.product(names, [(0, 1, 2), (7, 12345, 99), (123456789012, 5, 3)]):
            args = numbers[:arity]
            try:
                expected = reverse(name, args=args or None)
            except Exception:  # a pattern whose arguments are not numbers
                continue
            assert templating.url(name, *args) == expected, (name, args)
        # Not numbers, or a negative one: reversed in full, as Django would.
        assert templating.url("archive_file", 3, "pdf") == reverse("archive_file", args=[3, "pdf"])
        with pytest.raises(Exception):
            templating.url("document", -1)
    finally:
        set_script_prefix("/")


@pytest.mark.parametrize("fmt", ["Y-m-d H:i", "Y-m-d H:i:s", "Y-m-d", "H:i:s", "Y年n月j日 H:i:s", "Y年n月j日",
                                 "n月j日 H:i", "n月j日", "D, d M Y"])
def test_date_writes_what_djangos_date_filter_writes_in_shanghai_time(fmt):
    moments = [datetime.datetime(2024, 1, 5, 16, 3, 9, tzinfo=datetime.UTC),  # the next day in Shanghai
               datetime.datetime(2024, 12, 31, 23, 59, 59, tzinfo=ZoneInfo("Asia/Shanghai")),
               datetime.datetime(2025, 7, 1, 0, 0, 0, tzinfo=datetime.UTC)]
    for moment in moments:
        assert templating.date(moment, fmt) == defaultfilters.date(timezone.localtime(moment), fmt)
    if not set(fmt) & set("His"):
        day = datetime.date(2024, 3, 9)
        assert templating.date(day, fmt) == defaultfilters.date(day, fmt)
    assert templating.date(None, fmt) == "" and templating.date("", fmt) == ""


def test_querystring_changes_the_requests_parameters_as_djangos_tag_does():
    request = RequestFactory().get("/documents/?scope=all&q=%E9%80%9A%E7%9F%A5&page=3")
    context = {"request": request}
    assert templating.querystring(context, page=4) == "?scope=all&q=%E9%80%9A%E7%9F%A5&page=4"
    assert templating.querystring(context, page=None) == "?scope=all&q=%E9%80%9A%E7%9F%A5"
    assert templating.querystring({"request": RequestFactory().get("/")}) == ""


def test_a_page_that_prints_a_method_instead_of_calling_it_fails_in_the_tests():
    from django.template import engines

    template = engines["jinja2"].from_string("{{ document.get_stage_display }}")
    with pytest.raises(TypeError, match="a method wants"):
        template.render({"document": Document(stage="drafting")})
    assert engines["jinja2"].from_string("{{ document.get_stage_display() }}").render(
        {"document": Document(stage="drafting")}) == "拟稿"


# Prepared queries --------------------------------------------------------------------------

_STATES = Prepared(lambda ids: StepState.objects.filter(document_id__in=ids)
                   .select_related("finished_by", "party_department").order_by("position", "pk"))
_ONE = Prepared(lambda pk: Document.objects.filter(pk=pk).select_related("drafter", "organ"))


@pytest.mark.django_db
def test_a_prepared_query_finds_what_its_queryset_finds(cast, django_assert_num_queries):
    from bench import world

    world.archived_documents(3)
    documents = list(Document.objects.order_by("pk"))
    ids = [d.pk for d in documents]
    for chosen in (ids, ids[:1], ids[1:]):
        expected = list(StepState.objects.filter(document_id__in=chosen)
                        .select_related("finished_by", "party_department").order_by("position", "pk"))
        with django_assert_num_queries(1):
            found = _STATES(chosen)
        assert len(found) >= len(chosen)
        assert [(s.pk, s.finished_by_id, s.status) for s in found] == [(s.pk, s.finished_by_id, s.status) for s in expected]
        with django_assert_num_queries(0):
            assert [s.finished_by and s.finished_by.username for s in found] == [
                s.finished_by and s.finished_by.username for s in expected]
        assert any(s.finished_by for s in found)
    assert _STATES([]) == []
    expected = (documents[0].drafter.username, documents[0].organ.code)
    (document,) = _ONE(ids[0])
    with django_assert_num_queries(0):  # what select_related read came with it
        assert (document.drafter.username, document.organ.code) == expected
    assert _ONE(10**9) == []


def test_a_prepared_query_refuses_what_is_not_one_of_its_arguments():
    clock = Prepared(lambda pk: Document.objects.filter(pk=pk, title=str(datetime.datetime.now())))
    with pytest.raises(ValueError, match="no argument as given"):
        clock(1)
    unused = Prepared(lambda pk: Document.objects.filter(title="x"))
    with pytest.raises(ValueError, match="not parameters of its SQL"):
        unused(1)
    shaped = Prepared(lambda pk: Document.objects.filter(pk=pk) if pk > 30_500 else Document.objects.filter(title="x", pk=pk))
    with pytest.raises(ValueError, match="depends on the values"):
        shaped(1)


@pytest.mark.django_db
def test_the_tests_check_each_prepared_query_against_its_queryset_compiled_anew():
    setting = {"title": "甲"}
    baked = Prepared(lambda pk: Document.objects.filter(pk=pk, title=setting["title"]))
    assert baked(1) == []
    setting["title"] = "乙"  # read when compiled, a setting of the process: now stale
    with pytest.raises(AssertionError, match="not the query's"):
        baked(1)
