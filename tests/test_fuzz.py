"""Property-based tests (hypothesis) over every page's query parameters and every form's
fields, as any demo user of both organs or an anonymous visitor (issue 9):

- no request ends in a 500 (the test client raises whatever a view lets through);
- a page changes nothing, whatever its parameters: it writes no row (but its session's);
- a form that is refused (4xx, the form shown again, an error message, the login page)
  leaves every row of the domain's tables (tests.endpoints.database_state) and every file
  under MEDIA_ROOT as they were.

Values are what a page understands, what no one types (NUL and other control characters,
"²", "١٢", "１２", 5,000 digits, bytes that are no UTF-8 at all), or any text. Each example
runs in a savepoint rolled back afterwards, so every example meets the same world
(tests.endpoints.build), and the state of the database before each is the world's.
Examples are bounded so that the module runs in about a minute.
"""

import re
from random import Random
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver, resolve
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from issuance import submissions

from . import endpoints
from .conftest import CAST, GX_CAST

ANONYMOUS = "anonymous"
PEOPLE = CAST + GX_CAST + (ANONYMOUS,)
# URLs left out: logging out ends the session the next example needs; opening a notice
# marks it read (a GET that changes something by design); the admin is Django's.
NOT_FUZZED = {"logout", "notice", "password_change_done"}
ALL_FORMS = endpoints.FORMS + endpoints.NATURAL_FORMS + endpoints.READING_FORMS

UNTYPABLE = st.sampled_from([
    "\x00", "a\x00b", "\x1b", "\x7f", "\x85", "²", "١٢", "１２", "-1", "0", "+1", "1.5", "1e308", "NaN", " ", "%",
    "9" * 5000, "9" * 4000, "9" * 19, "2024\x00", "../../etc/passwd", "<script>", "'; --", "🀄", "\u200b", "\ufeff",
])
POINTED = st.sampled_from(["\x00", "²", "9" * 5000, "", " "])  # what broke a page or form before
VALUE = st.one_of(
    UNTYPABLE,
    st.text(max_size=40),
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str),
    st.binary(max_size=16),  # bytes sent as they are: no UTF-8 at all
)
WRITE_RE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b(?!.*\b(django_session|axes_\w+)\b)", re.I | re.S)
FUZZ = settings(
    max_examples=4, deadline=None, database=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, seed_content, tmp_path_factory):
    with endpoints.built(django_db_blocker, seed_content, tmp_path_factory.mktemp("media")) as world:
        yield world


@pytest.fixture
def world(built, db, settings):
    settings.MEDIA_ROOT = built.media
    return built


def _as(client, world, who):
    client.logout()
    if who != ANONYMOUS:
        client.force_login(world.users[who])
    return client


def _encoded(value):
    return quote(value if isinstance(value, bytes) else value.encode("utf-8"), safe="")


def _values(draw, good):
    """A value for one field: one it accepts, or any other; or a list of two."""
    one = st.one_of(st.sampled_from(good), POINTED, VALUE) if good else st.one_of(POINTED, VALUE)
    return draw(st.one_of(one, st.lists(one, min_size=2, max_size=2)))


def _fields(draw, world, form):
    """The form's fields, each left as it accepts it, changed, or left out; and its token."""
    data = {}
    for name, good in form.data(world.ids).items():
        choice = draw(st.sampled_from(["good", "other", "other", "missing"]))
        if choice == "good":
            data[name] = good
        elif choice == "other":
            data[name] = _values(draw, good if isinstance(good, list) else [good])
    token = draw(st.one_of(st.just("fresh"), st.just("fresh"), VALUE))
    data[submissions.FIELD] = submissions.issue() if token == "fresh" else token
    return data


@pytest.fixture
def baseline(world):
    """The world's database: the state before every example, since each is rolled back."""
    return endpoints.database_state()


@pytest.fixture
def rolled_back():
    """Run one example in a savepoint that is rolled back, so that the next meets the same world."""
    def run(example):
        with transaction.atomic():
            try:
                return example()
            finally:
                transaction.set_rollback(True)
    return run


# Each parameter of each page (a page without any gets one it does not know), the others
# left out or given a value the page understands.
PARAMETERS = [pytest.param(page, name, id=f"{page.url} {name}")
              for page in endpoints.PAGES for name in (list(page.params) or ["x"])]


@pytest.mark.parametrize("page, name", PARAMETERS)
@settings(FUZZ, max_examples=2)
@given(value=st.one_of(VALUE, st.lists(VALUE, min_size=2, max_size=2)),
       who=st.one_of(st.none(), st.sampled_from(PEOPLE)), choose=st.randoms(use_true_random=False))
@example(value="\x00", who=None, choose=Random(0))
@example(value="²", who=None, choose=Random(1))
@example(value="9" * 5000, who=None, choose=Random(2))
def test_no_query_parameter_ends_in_a_500_or_changes_anything(client, world, rolled_back, page, name, value, who,
                                                             choose):
    pairs = [(name, item) for item in (value if isinstance(value, list) else [value])]
    for other, understood in page.params.items():
        if other != name and understood and choose.random() < 0.5:
            pairs.append((other, choose.choice(understood).format(**world.ids)))
    query = "&".join(f"{_encoded(key)}={_encoded(item)}" for key, item in pairs)

    def example():
        _as(client, world, who or page.who)
        files = endpoints.media_files()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{page.path(world.ids)}?{query}")
        assert response.status_code < 500, (page.url, query[:200], response.status_code)
        assert [q["sql"] for q in queries.captured_queries if WRITE_RE.match(q["sql"])] == [], (page.url, query[:200])
        if response.status_code >= 400:
            assert endpoints.media_files() == files

    rolled_back(example)


@pytest.mark.parametrize("form", ALL_FORMS, ids=lambda form: form.name)
@settings(FUZZ, max_examples=4)
@given(data=st.data())
def test_no_form_field_ends_in_a_500_and_a_refused_form_changes_nothing(client, world, baseline, rolled_back, form,
                                                                        data):
    who = data.draw(st.one_of(st.just(form.who), st.sampled_from(PEOPLE)), label="who")
    fields = _fields(data.draw, world, form)

    def example():
        _as(client, world, who)
        files = endpoints.media_files()
        response = endpoints.post(client, form.path(world.ids), fields)
        assert response.status_code < 500, (form.name, response.status_code)
        if endpoints.refused(response) or form in endpoints.READING_FORMS:
            assert endpoints.changed_tables(baseline, endpoints.database_state()) == [], (form.name, who, fields)
            assert endpoints.media_files() == files, (form.name, who, fields)

    rolled_back(example)


def _names(patterns, namespace=""):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            if pattern.namespace != "admin":
                yield from _names(pattern.url_patterns)
        elif pattern.name:
            yield pattern.name


def test_the_pages_and_forms_fuzzed_are_every_url_of_the_app(world):
    fuzzed = {resolve(page.path(world.ids)).url_name for page in endpoints.PAGES}
    fuzzed |= {resolve(form.path(world.ids)).url_name for form in ALL_FORMS}
    assert set(_names(get_resolver().url_patterns)) - NOT_FUZZED == fuzzed
