"""The permission matrix of every URL in config/urls.py, for the whole demo cast, an outsider
(a drafter of another 科室) and an anonymous visitor.

Rules under test:
- a document is visible only to its drafter, the people on its path (from its submission
  on) and users granted it; an unsubmitted draft only to its drafter; anyone else gets
  404 (or 403) on every URL of the document, its PDFs, export, revisions and tasks;
- anonymous visitors are sent to /login/?next=… from every page;
- a task page opens (200) only for its owner, or for an eligible holder of the role while
  the task waits in the queue; others who can see the document get 403, the rest 404;
  a POST by the wrong person changes nothing;
- actions that need POST answer GET with 405, and no request ends in a 500 (the test
  client re-raises any exception a view lets through).

The documents are built once for the module (building a whole path renders and archives a
PDF) inside a transaction that is rolled back at the end; each test runs in its own
savepoint on top, so what one test changes the next does not see.
"""

import re
from collections.abc import Mapping
from types import SimpleNamespace
from urllib.parse import unquote, urlencode

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import override_settings
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from issuance import demo, services
from issuance.forms import DraftForm
from issuance.models import Decision, Document, Event, Opinion, Revision, Stage
from issuance.roles import can_view
from workflows import actions, demo_path
from workflows.flows import DocumentFlow

from .builders import ANONYMOUS, as_, short_content

CAST = ("drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist", "outsider")
EVERYONE = CAST + (ANONYMOUS,)

# Who may see which document of the module's world (see `built` below).
ON_PATH = {"drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist"}
VISIBLE_TO = {
    "draft": {"drafter"},
    "first": ON_PATH,
    "second": ON_PATH,
    "recheck": ON_PATH,
    "registration": ON_PATH,
    "distribution": ON_PATH,
    "issued": ON_PATH,
    # The outsider's own submitted document: the office, the leaders, its drafter and, since
    # 政策法规科 has no head of its own, the organ's other 科室负责人 who does its 初审; not
    # the other 科室's drafter.
    "foreign": {"outsider", "head", "reviewer", "deputy", "director", "clerk", "archivist"},
}


def row(xfail=None, **codes):
    """One row of the matrix: the expected outcome for each member of EVERYONE, spelled out.

    `xfail` maps a member to the reason their cell fails today because of a product bug.
    """
    assert set(codes) == set(EVERYONE), set(EVERYONE) ^ set(codes)
    xfail = xfail or {}
    return [
        pytest.param(who, codes[who], id=who,
                     marks=[pytest.mark.xfail(strict=True, reason=xfail[who])] if who in xfail else [])
        for who in EVERYONE
    ]


def _build(seed_content):
    demo.load_organisation()
    User = get_user_model()
    cast = {user.username: user for user in User.objects.filter(username__in=CAST)}
    drafter = cast["drafter"]

    def titled(topic):
        return short_content(seed_content, f"泉州市科学技术局关于{topic}的通知")

    def submitted(user, topic):
        document = services.create_draft(user, titled(topic))
        actions.submit(document, user, "请审核。")
        return document

    def open_task(document):
        return actions.open_tasks(document).get().pk

    draft = services.create_draft(drafter, titled("征集2026年科普作品"))
    first = submitted(drafter, "开展2026年科普讲解大赛")
    second = demo_path.take_through_path(titled("做好2026年科技特派员工作"), drafter, until=Stage.SECOND_REVIEW)
    recheck = demo_path.take_through_path(titled("报送2026年科技统计数据"), drafter, until=Stage.RECHECK)
    registration = demo_path.take_through_path(titled("组织2026年科技成果登记"), drafter, until=Stage.REGISTRATION)
    distribution = demo_path.take_through_path(titled("举办2026年科技创新论坛"), drafter, until=Stage.DISTRIBUTION)
    # The whole path, with the title of conftest's short 通知.
    issued = demo_path.take_through_path(
        short_content(seed_content, "泉州市科学技术局关于开展2026年科技活动周的通知"), drafter
    )
    foreign = submitted(cast["outsider"], "修订科技计划项目管理办法")

    human = Task.objects.filter(flow_task_type="HUMAN")
    return SimpleNamespace(
        docs={
            "draft": draft.pk, "first": first.pk, "second": second.pk, "recheck": recheck.pk,
            "registration": registration.pk, "distribution": distribution.pk, "issued": issued.pk,
            "foreign": foreign.pk,
        },
        tasks={
            "first_review": open_task(first),  # 初审, assigned to head at once
            "second_review": open_task(second),  # 复审, waiting in the office reviewer's queue
            "recheck": open_task(recheck),  # 复核, the clerk's queue
            "register": open_task(registration),  # 登记, the clerk's queue
            "distribute": open_task(distribution),  # 核发, the clerk's queue, printed with 10 copies
            "done_first_review": human.get(process__documentprocess__document=second, status=STATUS.DONE).pk,
        },
        issued_tasks=list(
            human.filter(process__documentprocess__document=issued).order_by("pk").values_list("pk", flat=True)
        ),
    )


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, seed_content, tmp_path_factory):
    """The world of documents, once for the module, rolled back when the module is done."""
    media = tmp_path_factory.mktemp("media")
    fast_hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast_hashers):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield _build(seed_content)
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def media_root(built):
    """Overrides conftest's per-test media root: the world's issued PDFs live in the module's."""


class Fetched(Mapping):
    """A read-only dict of model instances, each fetched from the database on first use."""

    def __init__(self, keys, fetch):
        self._keys, self._fetch, self._cache = list(keys), fetch, {}

    def __getitem__(self, key):
        if key not in self._keys:
            raise KeyError(key)
        if key not in self._cache:
            self._cache[key] = self._fetch(key)
        return self._cache[key]

    def __iter__(self):
        return iter(self._keys)

    def __len__(self):
        return len(self._keys)


@pytest.fixture
def world(built, db):
    """Fresh instances of the world's users, documents and tasks for one test, fetched as used."""
    User = get_user_model()
    return SimpleNamespace(
        users=Fetched(CAST, lambda name: User.objects.get(username=name)),
        docs=Fetched(built.docs, lambda name: Document.objects.get(pk=built.docs[name])),
        tasks=Fetched(built.tasks, lambda name: Task.objects.get(pk=built.tasks[name])),
        issued_tasks=built.issued_tasks,
        ids={**built.docs, **{f"task_{name}": pk for name, pk in built.tasks.items()}},
    )


def assert_sent_to_login(response, url):
    assert response.status_code == 302, response.status_code
    location = response["Location"]
    assert location.startswith("/login/?next="), location
    assert unquote(location.split("next=", 1)[1]) == url


def assert_status(response, expected, url):
    """`expected` from a matrix row; a 302 expected of the anonymous visitor means the login page."""
    assert response.status_code == expected, (url, response.status_code)
    if expected == 302 and response.wsgi_request.user.is_anonymous:
        assert_sent_to_login(response, url)


def state(document):
    """What a POST by the wrong person must not change."""
    document.refresh_from_db()
    return document.stage, document.opinions.count(), document.events.count()


def world_state():
    """Every document's stage, and every opinion, event and task state of the world."""
    return (
        sorted(Document.objects.values_list("pk", "stage")),
        Opinion.objects.count(),
        Event.objects.count(),
        sorted(Task.objects.values_list("pk", "status", "owner_id")),
    )


def task_state(task):
    task.refresh_from_db()
    return task.status, task.owner_id


def page(response):
    return response.content.decode("utf-8")


def document_links(response):
    return {int(pk) for pk in re.findall(r'href="/documents/(\d+)/"', page(response))}


def task_rows(response):
    """(step title, document pk) of each row of a task list."""
    return {
        (step, int(pk))
        for step, pk in re.findall(r'<tr>\s*<td>([^<]+)</td>\s*<td><a href="/documents/(\d+)/">', page(response))
    }


DECIDE_APPROVE = {"decision": Decision.APPROVE, "text": "同意。"}


# --- Django's own views: a smoke test each ---------------------------------------------------


def test_the_login_page_is_open_to_anonymous_visitors(client, world):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "用户名" in page(response) and "密码" in page(response)


def test_logging_out_needs_a_post_and_ends_the_session(client, world):
    as_(client, world, "drafter")
    assert client.get("/logout/").status_code == 405
    assert client.get("/tasks/inbox/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert_sent_to_login(client.get("/tasks/inbox/"), "/tasks/inbox/")


@pytest.mark.parametrize("who", EVERYONE)
def test_the_admin_site_lets_in_no_member_of_the_cast(client, world, who):
    # None of the demo users is staff: the admin sends them all to its own login page.
    response = as_(client, world, who).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- Anonymous visitors ------------------------------------------------------------------------

# Every URL of the app (not admin, login, logout), with a placeholder for a document or task id.
PAGES = [
    "/",
    "/tasks/inbox/",
    "/tasks/queue/",
    "/tasks/done/",
    "/tasks/{task_first_review}/",
    "/tasks/{task_second_review}/",
    "/documents/",
    "/documents/?scope=all",
    "/documents/new/",
    "/documents/{first}/",
    "/documents/{draft}/edit/",
    "/documents/{first}/preview.pdf",
    "/documents/{issued}/issued.pdf",
    "/documents/{issued}/issued.pdf?download=1",
    "/documents/{issued}/export.json",
    "/documents/{first}/revisions/1/",
]
ACTIONS = [
    "/tasks/{task_first_review}/",
    "/tasks/{task_second_review}/claim/",
    "/tasks/{task_second_review}/release/",
    "/documents/new/",
    "/documents/{draft}/edit/",
    "/documents/{draft}/submit/",
    "/documents/{first}/withdraw/",
    "/documents/{first}/grant/",
]


@pytest.mark.parametrize("template", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page_from_every_page(client, world, template):
    url = template.format(**world.ids)
    assert_sent_to_login(client.get(url), url)


@pytest.mark.parametrize("template", ACTIONS)
def test_an_anonymous_post_is_sent_to_the_login_page_and_changes_nothing(client, world, template):
    before = world_state()
    url = template.format(**world.ids)
    assert_sent_to_login(client.post(url, {**DECIDE_APPROVE, "username": "outsider", "title": "x", "body": "x"}), url)
    assert world_state() == before


# --- Home and the task lists -------------------------------------------------------------------


@pytest.mark.parametrize("who", EVERYONE)
def test_home_sends_everyone_to_their_inbox_or_to_the_login_page(client, world, who):
    response = as_(client, world, who).get("/")
    assert response.status_code == 302
    if who == ANONYMOUS:
        assert_sent_to_login(response, "/")
    else:
        assert response["Location"] == "/tasks/inbox/"


@pytest.mark.parametrize("who, expected", row(
    drafter=False, head=True, reviewer=False, deputy=False, director=False, clerk=False, archivist=False,
    outsider=False, anonymous=None,
))
def test_the_inbox_shows_the_first_review_of_a_submitted_document_only_to_the_head(client, world, who, expected):
    response = as_(client, world, who).get("/tasks/inbox/")
    if expected is None:
        assert_sent_to_login(response, "/tasks/inbox/")
        return
    assert response.status_code == 200
    rows = task_rows(response)
    assert (("初审", world.ids["first"]) in rows) is expected
    assert (f'href="/tasks/{world.ids["task_first_review"]}/"' in page(response)) is expected
    if who == "outsider":
        assert rows == set()
        assert "没有待办事项" in page(response)


def queue_rows(client, who):
    response = client.get("/tasks/queue/")
    assert response.status_code == 200
    rows = task_rows(response)
    if not rows:
        assert "没有可领取的任务" in page(response)
    return rows


@pytest.mark.parametrize("who, expected", row(
    drafter=False, head=False, reviewer=True, deputy=False, director=False, clerk=False, archivist=False,
    outsider=False, anonymous=None,
))
def test_the_queue_offers_the_second_review_only_to_the_office_reviewer(client, world, who, expected):
    # After 初审 the 复审 waits for 办公室核稿; the clerk, who does not hold that role, never sees it.
    as_(client, world, who)
    if expected is None:
        assert_sent_to_login(client.get("/tasks/queue/"), "/tasks/queue/")
        return
    rows = queue_rows(client, who)
    assert (("复审", world.ids["second"]) in rows) is expected
    claim = f'action="/tasks/{world.ids["task_second_review"]}/claim/"'
    assert (claim in page(client.get("/tasks/queue/"))) is expected


@pytest.mark.parametrize("who, expected", row(
    drafter=set(), head=set(), reviewer=set(), deputy=set(), director=set(),
    clerk={("复核", "recheck"), ("登记", "registration"), ("核发", "distribution")}, archivist=set(),
    outsider=set(), anonymous=None,
))
def test_the_queue_offers_the_office_steps_only_to_the_clerk(client, world, who, expected):
    as_(client, world, who)
    if expected is None:
        assert_sent_to_login(client.get("/tasks/queue/"), "/tasks/queue/")
        return
    office_steps = {"复核", "登记", "印制", "核发"}
    rows = queue_rows(client, who)
    assert {(step, pk) for step, pk in rows if step in office_steps} == {
        (step, world.ids[name]) for step, name in expected
    }
    # Nobody is offered a task of a document they may not see.
    assert {pk for _, pk in rows} <= {world.ids[name] for name, users in VISIBLE_TO.items() if who in users}


# The steps of the issued document each member of the cast did.
DONE_ON_ISSUED = {
    "drafter": set(), "head": {"初审"}, "reviewer": {"复审"}, "deputy": {"终审"}, "director": {"签发"},
    "clerk": {"复核", "登记", "印制", "核发"}, "archivist": {"归档"}, "outsider": set(),
}


@pytest.mark.parametrize("who", EVERYONE)
def test_done_lists_completed_tasks_to_those_who_did_them(client, world, who):
    response = as_(client, world, who).get("/tasks/done/")
    if who == ANONYMOUS:
        assert_sent_to_login(response, "/tasks/done/")
        return
    assert response.status_code == 200
    rows = task_rows(response)
    assert {step for step, pk in rows if pk == world.ids["issued"]} == DONE_ON_ISSUED[who]
    # The head did the 初审 of every document that got past it; nobody else did any 初审.
    first_reviews = {pk for step, pk in rows if step == "初审"}
    if who == "head":
        assert first_reviews == {
            world.ids[name] for name in ("second", "recheck", "registration", "distribution", "issued")
        }
    else:
        assert first_reviews == set()
    # Nobody lists a document they may not see.
    assert {pk for _, pk in rows} <= {world.ids[name] for name, users in VISIBLE_TO.items() if who in users}


# --- The document list -------------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_the_visibility_table_of_this_module_agrees_with_the_permission_rules(world, who):
    seen = {name for name, document in world.docs.items() if can_view(world.users[who], document)}
    assert seen == {name for name, users in VISIBLE_TO.items() if who in users}


@pytest.mark.parametrize("query", ["", "泉州市科学技术局", "科技", "泉科"])
@pytest.mark.parametrize("who", EVERYONE)
def test_the_list_of_all_documents_never_shows_one_the_user_may_not_see(client, world, who, query):
    url = "/documents/?" + urlencode({"scope": "all", **({"q": query} if query else {})})
    response = as_(client, world, who).get(url)
    if who == ANONYMOUS:
        assert_sent_to_login(response, url)
        return
    assert response.status_code == 200
    visible = {world.ids[name] for name, users in VISIBLE_TO.items() if who in users}
    listed = document_links(response)
    assert listed <= visible
    if query in ("", "泉州市科学技术局"):  # every title in the world starts with the organ's name
        assert listed == visible


@pytest.mark.parametrize("who, expected", row(
    drafter={"draft", "first", "second", "recheck", "registration", "distribution", "issued"},
    head=set(), reviewer=set(),
    deputy=set(), director=set(), clerk=set(), archivist=set(), outsider={"foreign"}, anonymous=None,
))
def test_my_documents_are_the_ones_i_drafted(client, world, who, expected):
    response = as_(client, world, who).get("/documents/?scope=mine")
    if expected is None:
        assert_sent_to_login(response, "/documents/?scope=mine")
        return
    assert response.status_code == 200
    assert document_links(response) == {world.ids[name] for name in expected}


@pytest.mark.parametrize("who, scope", [
    ("drafter", "mine"), ("head", "mine"), ("outsider", "mine"),
    ("reviewer", "all"), ("deputy", "all"), ("director", "all"), ("clerk", "all"), ("archivist", "all"),
])
def test_the_document_list_opens_on_own_drafts_for_drafters_and_on_all_for_the_others(client, world, who, scope):
    response = as_(client, world, who).get("/documents/")
    expected = {"mine": {world.ids[n] for n, d in world.docs.items() if d.drafter == world.users[who]},
                "all": {world.ids[n] for n, users in VISIBLE_TO.items() if who in users}}[scope]
    assert document_links(response) == expected


# --- 拟稿: the new-document page ---------------------------------------------------------------


@pytest.mark.parametrize("who, expected", row(
    drafter=200, head=200, reviewer=403, deputy=403, director=403, clerk=403, archivist=403,
    outsider=200, anonymous=302,
))
def test_only_drafters_may_open_the_new_draft_page(client, world, who, expected):
    response = as_(client, world, who).get("/documents/new/")
    assert_status(response, expected, "/documents/new/")
    if expected == 200:
        assert "发文稿纸" in page(response)
    if expected == 403:
        assert "您没有拟稿权限" in page(response)


def draft_form(**changes):
    data = {
        "doc_type": "通知", "direction": "下行文", "format": "文件", "issuer_marks": "泉州市科学技术局",
        "title": "泉州市科学技术局关于举办科普开放日的通知", "main_recipients": "各县（市、区）科技局",
        "body": "定于2026年9月举办科普开放日。\n一、时间\n9月16日。", "signature_orgs": "泉州市科学技术局",
        "seal": "on", "copies": "5",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("who, expected", row(
    drafter=302, head=302, reviewer=403, deputy=403, director=403, clerk=403, archivist=403,
    outsider=302, anonymous=302,
))
def test_only_drafters_may_create_a_draft_and_it_stays_private(client, world, who, expected):
    before = Document.objects.count()
    response = as_(client, world, who).post("/documents/new/", draft_form())
    assert_status(response, expected, "/documents/new/")
    if expected == 302 and who != ANONYMOUS:
        document = Document.objects.latest("pk")
        assert response["Location"] == f"/documents/{document.pk}/"
        assert (document.drafter.username, document.stage, document.copies) == (who, Stage.DRAFTING, 5)
        assert [name for name in CAST if can_view(world.users[name], document)] == [who]
    else:
        assert Document.objects.count() == before


@pytest.mark.parametrize("field, value, label", [
    ("title", "", "标题"),
    ("body", "", "正文"),
    ("doc_type", "便条", "文种"),
    ("copies", "0", "印发份数"),
    ("date", "2026-13-45", "成文日期"),
])
def test_an_invalid_draft_form_is_a_400_that_names_the_field(client, world, field, value, label):
    before = Document.objects.count()
    response = as_(client, world, "drafter").post("/documents/new/", draft_form(**{field: value}))
    assert response.status_code == 400
    assert "请更正下列标出的错误" in page(response)
    assert field in response.context["form"].errors
    # The field's label and its error message are both on the page.
    assert label in page(response)
    assert response.context["form"].errors[field][0] in page(response)
    assert Document.objects.count() == before


# --- The document page, its PDFs, export and revisions ----------------------------------------


@pytest.mark.parametrize("who, expected", row(
    drafter=200, head=404, reviewer=404, deputy=404, director=404, clerk=404, archivist=404,
    outsider=404, anonymous=302,
))
@pytest.mark.parametrize("suffix", ["", "preview.pdf", "export.json", "revisions/1/", "edit/"])
def test_an_unsubmitted_draft_exists_only_for_its_drafter(client, world, who, expected, suffix):
    url = f"/documents/{world.ids['draft']}/{suffix}"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    drafter=200, head=200, reviewer=200, deputy=200, director=200, clerk=200, archivist=200,
    outsider=404, anonymous=302,
))
@pytest.mark.parametrize("suffix", ["", "preview.pdf", "preview.pdf?r=1", "export.json", "revisions/1/"])
def test_a_submitted_document_is_visible_to_everyone_on_its_path_and_nobody_else(client, world, who, expected, suffix):
    url = f"/documents/{world.ids['first']}/{suffix}"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200 and suffix == "":
        assert world.docs["first"].title in page(response)
        assert "初审" in page(response)
    if expected == 200 and suffix.startswith("preview.pdf"):
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")
    if expected == 200 and suffix == "export.json":
        assert response.json()["title"] == world.docs["first"].title
    if expected == 404:
        assert "没有找到您要访问的页面或公文" in page(response)


@pytest.mark.parametrize("who, expected", row(
    drafter=404, head=200, reviewer=200, deputy=200, director=200, clerk=200, archivist=200,
    outsider=200, anonymous=302,
))
def test_a_document_of_another_department_is_hidden_from_this_departments_drafter(
    client, world, who, expected,
):
    url = f"/documents/{world.ids['foreign']}/"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    drafter=200, head=200, reviewer=200, deputy=200, director=200, clerk=200, archivist=200,
    outsider=404, anonymous=302,
))
@pytest.mark.parametrize("suffix", ["", "issued.pdf", "issued.pdf?download=1", "export.json", "revisions/1/"])
def test_an_issued_document_is_visible_to_everyone_on_its_path_and_nobody_else(client, world, who, expected, suffix):
    url = f"/documents/{world.ids['issued']}/{suffix}"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200 and suffix.startswith("issued.pdf"):
        assert response["Content-Type"] == "application/pdf"
    if expected == 200 and suffix == "":
        assert world.docs["issued"].doc_number in page(response)


@pytest.mark.parametrize("who, expected", row(
    drafter=404, head=404, reviewer=404, deputy=404, director=404, clerk=404, archivist=404,
    outsider=404, anonymous=302,
))
def test_a_document_not_yet_printed_has_no_issued_pdf(client, world, who, expected):
    url = f"/documents/{world.ids['registration']}/issued.pdf"
    assert_status(as_(client, world, who).get(url), expected, url)


def test_the_drafter_downloads_the_issued_pdf_named_after_its_number(client, world):
    document = world.docs["issued"]
    assert document.stage == Stage.ARCHIVED and document.doc_number
    response = as_(client, world, "drafter").get(f"/documents/{document.pk}/issued.pdf?download=1")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    disposition = response["Content-Disposition"]
    match = re.fullmatch(r"attachment; filename\*=UTF-8''(\S+)", disposition)
    assert match, disposition
    assert unquote(match[1], encoding="utf-8") == f"{document.doc_number}.pdf"
    # Without ?download=1 the same file is shown inline.
    inline = client.get(f"/documents/{document.pk}/issued.pdf")
    assert inline["Content-Disposition"].startswith("inline; ")
    assert inline.content == response.content


def test_the_export_of_an_issued_document_is_named_after_its_number(client, world):
    document = world.docs["issued"]
    response = as_(client, world, "clerk").get(f"/documents/{document.pk}/export.json")
    assert response.status_code == 200
    name = re.fullmatch(r"attachment; filename\*=UTF-8''(\S+)", response["Content-Disposition"])[1]
    assert unquote(name) == f"{document.doc_number}.json"
    assert response.json()["doc_number"] == document.doc_number


# --- 修改: the edit page -----------------------------------------------------------------------


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=403, reviewer=403, deputy=403, director=403, clerk=403, archivist=403,
    outsider=404, anonymous=302,
))
def test_nobody_may_edit_a_document_under_review(client, world, who, expected):
    url = f"/documents/{world.ids['first']}/edit/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 403:
        assert "当前环节您不能修改该公文" in page(response)


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=403, reviewer=403, deputy=403, director=403, clerk=200, archivist=403,
    outsider=404, anonymous=302,
))
def test_only_the_clerk_may_correct_a_document_at_recheck(client, world, who, expected):
    url = f"/documents/{world.ids['recheck']}/edit/"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    drafter=302, head=404, reviewer=404, deputy=404, director=404, clerk=404, archivist=404,
    outsider=404, anonymous=302,
))
def test_only_the_drafter_may_save_an_edit_of_a_draft(client, world, who, expected):
    document = world.docs["draft"]
    before = state(document), document.revisions.count()
    url = f"/documents/{document.pk}/edit/"
    response = as_(client, world, who).post(url, draft_form(title="泉州市科学技术局关于征集科普作品的通知"))
    assert_status(response, expected, url)
    document.refresh_from_db()
    if who == "drafter":
        assert document.revisions.count() == 2
        assert document.title == "泉州市科学技术局关于征集科普作品的通知"
        assert document.copies == 5
    else:
        assert (state(document), document.revisions.count()) == before


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=403, reviewer=403, deputy=403, director=403, clerk=403, archivist=403,
    outsider=404, anonymous=302,
))
def test_a_post_to_the_edit_page_of_a_document_under_review_changes_nothing(client, world, who, expected):
    document = world.docs["first"]
    before = state(document), Revision.objects.count()
    url = f"/documents/{document.pk}/edit/"
    assert_status(as_(client, world, who).post(url, draft_form()), expected, url)
    assert (state(document), Revision.objects.count()) == before


def test_an_invalid_edit_is_a_400_that_names_the_field(client, world):
    document = world.docs["draft"]
    response = as_(client, world, "drafter").post(f"/documents/{document.pk}/edit/", draft_form(title=""))
    assert response.status_code == 400
    assert "title" in response.context["form"].errors
    assert "标题" in page(response)
    assert document.revisions.count() == 1


# --- 送审, 撤回, 授权: POST-only actions -----------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("template", [
    "/documents/{first}/submit/", "/documents/{first}/withdraw/", "/documents/{first}/grant/",
    "/documents/{draft}/submit/", "/documents/999999/submit/",
    "/tasks/{task_second_review}/claim/", "/tasks/{task_first_review}/release/", "/tasks/999999/claim/",
])
def test_actions_that_need_a_post_answer_a_get_with_405(client, world, who, template):
    # The method is checked before the document: a 405 says nothing about whether the
    # document exists (see the id 999999), so it is no leak to the outsider either.
    before = world_state()
    assert as_(client, world, who).get(template.format(**world.ids)).status_code == 405
    assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    drafter=302, head=404, reviewer=404, deputy=404, director=404, clerk=404, archivist=404,
    outsider=404, anonymous=302,
))
def test_only_the_drafter_may_submit_a_draft(client, world, who, expected):
    document = world.docs["draft"]
    before = state(document)
    url = f"/documents/{document.pk}/submit/"
    response = as_(client, world, who).post(url, {"note": "请审核。"})
    assert_status(response, expected, url)
    if who == "drafter":
        assert response["Location"] == f"/documents/{document.pk}/"
        assert state(document)[:2] == (Stage.FIRST_REVIEW, 1)
        assert can_view(world.users["head"], document)
        assert not can_view(world.users["outsider"], document)
    else:
        assert state(document) == before


@pytest.mark.parametrize("who, expected", row(
    drafter=302, head=302, reviewer=302, deputy=302, director=302, clerk=302, archivist=302,
    outsider=404, anonymous=302,
))
def test_submitting_a_document_already_under_review_changes_nothing(client, world, who, expected):
    document = world.docs["first"]
    before = state(document)
    url = f"/documents/{document.pk}/submit/"
    assert_status(as_(client, world, who).post(url), expected, url)
    assert state(document) == before


@pytest.mark.parametrize("who, expected", row(
    drafter=302, head=302, reviewer=302, deputy=302, director=302, clerk=302, archivist=302,
    outsider=404, anonymous=302,
))
def test_only_the_drafter_may_withdraw_a_submission(client, world, who, expected):
    document, task = world.docs["first"], world.tasks["first_review"]
    before = state(document)
    url = f"/documents/{document.pk}/withdraw/"
    response = as_(client, world, who).post(url, {"reason": "需补充材料"})
    assert_status(response, expected, url)
    if who == "drafter":
        assert state(document)[:2] == (Stage.DRAFTING, before[1] + 1)
        assert task_state(task)[0] == STATUS.CANCELED
        revise = actions.open_tasks(document).get()
        assert (revise.flow_task, revise.owner_id) == (DocumentFlow.revise, world.users["drafter"].pk)
    else:
        assert state(document) == before
        assert task_state(task) == (STATUS.ASSIGNED, world.users["head"].pk)


@pytest.mark.parametrize("who, expected", row(
    drafter=302, head=302, reviewer=302, deputy=302, director=302, clerk=302, archivist=302,
    outsider=404, anonymous=302,
))
def test_only_the_drafter_and_the_office_may_grant_a_document_to_another_user(client, world, who, expected):
    document = world.docs["first"]
    before = state(document)
    url = f"/documents/{document.pk}/grant/"
    assert_status(as_(client, world, who).post(url, {"username": "outsider"}), expected, url)
    granted = who in ("drafter", "reviewer", "clerk")
    outsider = get_user_model().objects.get(username="outsider")
    assert can_view(outsider, document) is granted
    assert state(document)[:2] == before[:2]
    if granted:  # the outsider now sees it, and only sees it
        as_(client, world, "outsider")
        assert client.get(f"/documents/{document.pk}/").status_code == 200
        assert client.get(f"/tasks/{world.ids['task_first_review']}/").status_code == 403


@pytest.mark.parametrize("username", ["", "nobody", "  "])
def test_granting_to_a_missing_or_unknown_user_is_refused_with_a_message(client, world, username):
    document = world.docs["first"]
    before = state(document)
    url = f"/documents/{document.pk}/grant/"
    response = as_(client, world, "drafter").post(url, {"username": username}, follow=True)
    assert response.status_code == 200
    assert "请填写用户名" in page(response) or "不存在" in page(response)
    assert state(document) == before


# --- Task pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=200, reviewer=403, deputy=403, director=403, clerk=403, archivist=403,
    outsider=404, anonymous=302,
))
def test_an_assigned_task_opens_only_for_its_owner(client, world, who, expected):
    url = f"/tasks/{world.ids['task_first_review']}/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        assert "初审" in page(response) and "提交意见" in page(response)
    if expected == 403:
        assert "该任务不由您办理" in page(response)


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=403, reviewer=200, deputy=403, director=403, clerk=403, archivist=403,
    outsider=404, anonymous=302,
))
def test_a_queued_task_opens_only_for_an_eligible_holder_of_its_role(client, world, who, expected):
    url = f"/tasks/{world.ids['task_second_review']}/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        assert "该任务尚未领取" in page(response)
    if expected == 403:
        assert "您不能领取该任务" in page(response)
    assert task_state(world.tasks["second_review"]) == (STATUS.NEW, None)  # opening it claims nothing


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=403, reviewer=403, deputy=403, director=403, clerk=200, archivist=403,
    outsider=404, anonymous=302,
))
def test_the_registration_task_opens_only_for_the_clerk(client, world, who, expected):
    url = f"/tasks/{world.ids['task_register']}/"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    drafter=200, head=403, reviewer=403, deputy=403, director=403, clerk=403, archivist=403,
    outsider=404, anonymous=302,
))
def test_the_revise_task_of_a_returned_document_opens_only_for_its_drafter(client, world, who, expected):
    document = world.docs["first"]
    head = world.users["head"]
    actions.complete(
        world.tasks["first_review"], head,
        lambda: services.decide(document, head, Decision.RETURN, "请补充活动预算。", expected_stage=Stage.FIRST_REVIEW),
    )
    revise = actions.open_tasks(document).get()
    url = f"/tasks/{revise.pk}/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        assert "请补充活动预算。" in page(response)
    # A resubmission from that page by anyone else changes nothing.
    before = state(document)
    if who not in ("drafter", ANONYMOUS):
        assert client.post(url, {"note": "已修改"}).status_code == expected
        assert state(document) == before


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=302, reviewer=403, deputy=403, director=403, clerk=403, archivist=403,
    outsider=404, anonymous=302,
))
def test_only_the_owner_can_complete_an_assigned_task(client, world, who, expected):
    document, task = world.docs["first"], world.tasks["first_review"]
    before = state(document)
    url = f"/tasks/{task.pk}/"
    response = as_(client, world, who).post(url, DECIDE_APPROVE)
    assert_status(response, expected, url)
    if who == "head":
        assert response["Location"] == f"/documents/{document.pk}/"
        assert state(document)[:2] == (Stage.SECOND_REVIEW, before[1] + 1)
        assert task_state(task)[0] == STATUS.DONE
    else:
        assert state(document) == before
        assert task_state(task) == (STATUS.ASSIGNED, world.users["head"].pk)


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=403, reviewer=302, deputy=403, director=403, clerk=403, archivist=403,
    outsider=404, anonymous=302,
))
def test_only_an_eligible_holder_of_the_role_can_complete_a_queued_task(client, world, who, expected):
    document, task = world.docs["second"], world.tasks["second_review"]
    before = state(document)
    url = f"/tasks/{task.pk}/"
    assert_status(as_(client, world, who).post(url, DECIDE_APPROVE), expected, url)
    if who == "reviewer":
        assert state(document)[:2] == (Stage.FINAL_REVIEW, before[1] + 1)
        assert task_state(task) == (STATUS.DONE, world.users["reviewer"].pk)
    else:
        assert state(document) == before
        assert task_state(task) == (STATUS.NEW, None)


@pytest.mark.parametrize("who, expected", row(
    drafter=302, head=302, reviewer=302, deputy=302, director=302, clerk=302, archivist=302,
    outsider=404, anonymous=302,
))
def test_only_an_eligible_holder_of_the_role_can_claim_a_queued_task(client, world, who, expected):
    document, task = world.docs["second"], world.tasks["second_review"]
    before = state(document)
    url = f"/tasks/{task.pk}/claim/"
    response = as_(client, world, who).post(url)
    assert_status(response, expected, url)
    if who == "reviewer":
        stage, opinions, events = before
        assert state(document) == (stage, opinions, events + 1)  # the claim is in the history
        assert response["Location"] == f"/tasks/{task.pk}/"
        assert task_state(task) == (STATUS.ASSIGNED, world.users["reviewer"].pk)
        assert client.get("/tasks/inbox/").status_code == 200
        assert ("复审", document.pk) in task_rows(client.get("/tasks/inbox/"))
    else:
        assert state(document) == before
        if who not in ("outsider", ANONYMOUS):
            assert response["Location"] == "/tasks/queue/"
        assert task_state(task) == (STATUS.NEW, None)


@pytest.mark.parametrize("who, expected", row(
    drafter=302, head=302, reviewer=302, deputy=302, director=302, clerk=302, archivist=302,
    outsider=404, anonymous=302,
))
def test_only_the_person_who_claimed_a_task_can_release_it(client, world, who, expected):
    document, task = world.docs["second"], world.tasks["second_review"]
    reviewer = world.users["reviewer"]
    actions.claim(task, reviewer)
    before = state(document)
    url = f"/tasks/{task.pk}/release/"
    # Once claimed, the task page is the reviewer's alone.
    if who not in ("reviewer", ANONYMOUS):
        assert as_(client, world, who).get(f"/tasks/{task.pk}/").status_code == (404 if who == "outsider" else 403)
    response = as_(client, world, who).post(url)
    assert_status(response, expected, url)
    if who == "reviewer":
        # Releasing changes no stage or opinion; it adds one entry to the history.
        stage, opinions, events = before
        assert state(document) == (stage, opinions, events + 1)
        assert response["Location"] == "/tasks/inbox/"
        assert task_state(task) == (STATUS.NEW, None)
    else:
        assert state(document) == before
        assert task_state(task) == (STATUS.ASSIGNED, reviewer.pk)


def test_a_task_assigned_directly_cannot_be_released_into_a_queue(client, world):
    task = world.tasks["first_review"]
    response = as_(client, world, "head").post(f"/tasks/{task.pk}/release/", follow=True)
    assert response.status_code == 200
    assert "该任务直接分配给您，不能退回待领取" in page(response)
    assert task_state(task) == (STATUS.ASSIGNED, world.users["head"].pk)


@pytest.mark.parametrize("who, expected", row(
    drafter=302, head=302, reviewer=302, deputy=302, director=302, clerk=302, archivist=302,
    outsider=404, anonymous=302,
))
def test_a_done_task_sends_those_who_see_the_document_to_it_and_stays_hidden_from_others(client, world, who, expected):
    document, task = world.docs["second"], world.tasks["done_first_review"]
    before = state(document), task_state(task)
    as_(client, world, who)
    for suffix, method in (("", "get"), ("", "post"), ("claim/", "post"), ("release/", "post")):
        url = f"/tasks/{task.pk}/{suffix}"
        response = getattr(client, method)(url, DECIDE_APPROVE if method == "post" else None)
        assert_status(response, expected, url)
        if expected == 302 and who != ANONYMOUS and suffix == "":
            assert response["Location"] == f"/documents/{document.pk}/"
    assert (state(document), task_state(task)) == before


# --- The outsider sweep -------------------------------------------------------------------------


def document_gets(pk):
    return [
        f"/documents/{pk}/", f"/documents/{pk}/edit/", f"/documents/{pk}/preview.pdf",
        f"/documents/{pk}/preview.pdf?r=1", f"/documents/{pk}/issued.pdf", f"/documents/{pk}/issued.pdf?download=1",
        f"/documents/{pk}/export.json", f"/documents/{pk}/revisions/1/", f"/documents/{pk}/revisions/2/",
    ]


def document_posts(pk):
    return [
        (f"/documents/{pk}/edit/", {"title": "x", "body": "x"}), (f"/documents/{pk}/submit/", {}),
        (f"/documents/{pk}/withdraw/", {}), (f"/documents/{pk}/grant/", {"username": "outsider"}),
    ]


def task_requests(pk):
    return [
        ("get", f"/tasks/{pk}/", None), ("post", f"/tasks/{pk}/", DECIDE_APPROVE),
        ("post", f"/tasks/{pk}/claim/", {}), ("post", f"/tasks/{pk}/release/", {}),
    ]


def test_outsider_gets_404_on_every_document_url(client, world):
    """Every URL of every document of the other 科室, its tasks open or done included."""
    before = world_state()
    tasks = [pk for name, pk in world.ids.items() if name.startswith("task_")] + world.issued_tasks
    as_(client, world, "outsider")
    for name in VISIBLE_TO:
        if name == "foreign":
            continue
        pk = world.ids[name]
        for url in document_gets(pk):
            assert client.get(url).status_code in (403, 404), url
        for url, data in document_posts(pk):
            assert client.post(url, data).status_code in (403, 404), url
    for pk in tasks:
        for method, url, data in task_requests(pk):
            assert getattr(client, method)(url, data).status_code in (403, 404), (method, url)
    assert world_state() == before
    outsider = world.users["outsider"]
    assert not any(can_view(outsider, document) for name, document in world.docs.items() if name != "foreign")


def test_the_drafter_gets_404_on_every_url_of_another_departments_document(client, world):
    pk = world.ids["foreign"]
    document = world.docs["foreign"]
    before = state(document)
    for who in ("drafter",):
        as_(client, world, who)
        for url in document_gets(pk):
            assert client.get(url).status_code in (403, 404), (who, url)
        for url, data in document_posts(pk):
            assert client.post(url, data).status_code in (403, 404), (who, url)
        for task in actions.open_tasks(document):
            for method, url, data in task_requests(task.pk):
                assert getattr(client, method)(url, data).status_code in (403, 404), (who, method, url)
    assert state(document) == before


# --- Bad input: 404 and 400, never 500 -------------------------------------------------------


@pytest.mark.parametrize("url", [
    "/documents/abc/", "/documents/-1/", "/documents/1.5/", "/documents/999999/", "/documents/999999/edit/",
    "/documents/999999/preview.pdf", "/documents/999999/issued.pdf", "/documents/999999/export.json",
    "/documents/999999/revisions/1/", "/documents/{first}/revisions/abc/", "/documents/{first}/revisions/99/",
    "/documents/{first}/revisions/0/", "/documents/{first}/preview.pdf?r=99", "/documents//",
    "/tasks/abc/", "/tasks/999999/", "/tasks//", "/documents/{first}/issued.pdf",
])
def test_a_missing_or_malformed_id_is_a_404(client, world, url):
    url = url.format(**world.ids)
    response = as_(client, world, "drafter").get(url)
    assert response.status_code == 404
    assert "页面不存在" in page(response)


@pytest.mark.parametrize("url", [
    "/documents/999999/submit/", "/documents/999999/withdraw/", "/documents/999999/grant/",
    "/documents/999999/edit/", "/tasks/999999/", "/tasks/999999/claim/", "/tasks/999999/release/",
    "/tasks/abc/claim/",
])
def test_a_post_to_a_missing_id_is_a_404(client, world, url):
    assert as_(client, world, "clerk").post(url, {"username": "outsider"}).status_code == 404


def test_a_start_node_id_is_no_task_page(client, world):
    # Only the flow's human tasks have pages; the id of its start (or any machine node) is a 404.
    other = Task.objects.exclude(flow_task_type="HUMAN").filter(
        process__documentprocess__document=world.docs["first"]
    ).first()
    assert other is not None
    as_(client, world, "head")
    assert client.get(f"/tasks/{other.pk}/").status_code == 404
    assert client.post(f"/tasks/{other.pk}/claim/").status_code == 404


def test_a_preview_with_a_non_numeric_revision_shows_the_current_text(client, world):
    response = as_(client, world, "drafter").get(f"/documents/{world.ids['first']}/preview.pdf?r=abc")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_a_return_without_a_reason_is_a_400_asking_for_the_reason(client, world):
    document, task = world.docs["first"], world.tasks["first_review"]
    before = state(document)
    response = as_(client, world, "head").post(f"/tasks/{task.pk}/", {"decision": Decision.RETURN, "text": "  "})
    assert response.status_code == 400
    assert "退回时必须填写退回理由" in page(response)
    assert state(document) == before
    assert task_state(task) == (STATUS.ASSIGNED, world.users["head"].pk)


@pytest.mark.parametrize("data", [{}, {"decision": "sign"}, {"decision": Decision.APPROVE, "text": "长" * 2001}])
def test_an_invalid_decision_is_a_400_and_changes_nothing(client, world, data):
    document, task = world.docs["first"], world.tasks["first_review"]
    before = state(document)
    response = as_(client, world, "head").post(f"/tasks/{task.pk}/", data)
    assert response.status_code == 400
    assert state(document) == before


@pytest.mark.parametrize("copies", ["0", "-1", "abc", "", "100001"])
def test_registering_with_an_invalid_number_of_copies_is_a_400(client, world, copies):
    document, task = world.docs["registration"], world.tasks["register"]
    before = state(document)
    response = as_(client, world, "clerk").post(f"/tasks/{task.pk}/", {"copies": copies})
    assert response.status_code == 400
    assert "印发份数" in page(response)
    assert "copies" in response.context["form"].errors
    assert state(document) == before
    document.refresh_from_db()
    assert not document.doc_number
    assert task_state(task) == (STATUS.NEW, None)


def test_registering_with_valid_copies_gives_the_document_its_number(client, world):
    document, task = world.docs["registration"], world.tasks["register"]
    response = as_(client, world, "clerk").post(f"/tasks/{task.pk}/", {"copies": "12"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.stage, document.copies) == (Stage.PRINTING, 12)
    assert re.fullmatch(r"泉科〔\d{4}〕\d+号", document.doc_number)



def test_registering_then_printing_is_the_clerks_alone(client, world):
    document, task = world.docs["registration"], world.tasks["register"]
    as_(client, world, "clerk").post(f"/tasks/{task.pk}/", {"copies": "12"})
    printing = actions.open_tasks(document).get()
    assert printing.flow_task == DocumentFlow.print_copy
    for who in CAST:
        expected = 200 if who == "clerk" else 404 if who == "outsider" else 403
        assert as_(client, world, who).get(f"/tasks/{printing.pk}/").status_code == expected, who
    assert "印制正式文件" in page(as_(client, world, "clerk").get(f"/tasks/{printing.pk}/"))


# --- 核发 and 复核: the office's other forms ------------------------------------------------------


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=403, reviewer=403, deputy=403, director=403, clerk=200, archivist=403,
    outsider=404, anonymous=302,
))
def test_the_distribution_task_opens_only_for_the_clerk(client, world, who, expected):
    url = f"/tasks/{world.ids['task_distribute']}/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        assert "市科协" in page(response)  # the 抄送 of the signed text is on the list


def distribution_form(rows, total=None):
    data = {"r-TOTAL_FORMS": str(total if total is not None else len(rows)), "r-INITIAL_FORMS": "0"}
    for i, (recipient, role, copies) in enumerate(rows):
        data.update({f"r-{i}-recipient": recipient, f"r-{i}-role": role, f"r-{i}-copies": copies})
    return data


@pytest.mark.parametrize("data, message", [
    ({}, None),  # no management form at all
    (distribution_form([("各县（市、区）科技局", "main", "abc")]), None),
    (distribution_form([("各县（市、区）科技局", "main", "8"), ("市科协", "cc", "5")]), "超过登记的印发份数"),
    (distribution_form([("市科协", "cc", "1"), ("市科协", "cc", "1")]), "收文机关有重复"),
    (distribution_form([("", "main", "1")]), "请至少填写一个收文机关"),
])
def test_an_invalid_distribution_is_a_400_and_changes_nothing(client, world, data, message):
    document, task = world.docs["distribution"], world.tasks["distribute"]
    before = state(document), document.distributions.count()
    response = as_(client, world, "clerk").post(f"/tasks/{task.pk}/", data)
    assert response.status_code == 400
    if message:
        assert message in page(response)
    assert (state(document), document.distributions.count()) == before
    assert task_state(task) == (STATUS.NEW, None)


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=403, reviewer=403, deputy=403, director=403, clerk=302, archivist=403,
    outsider=404, anonymous=302,
))
def test_only_the_clerk_may_save_a_correction_at_recheck_and_it_goes_back_to_signing(client, world, who, expected):
    document = world.docs["recheck"]
    before = state(document), document.revisions.count()
    url = f"/documents/{document.pk}/edit/"
    data = draft_form(title="泉州市科学技术局关于报送2026年度科技统计数据的通知")
    assert_status(as_(client, world, who).post(url, data), expected, url)
    if who == "clerk":
        document.refresh_from_db()
        assert document.stage == Stage.SIGNING and document.signed_revision_id is None
        assert document.revisions.count() == before[1] + 1
    else:
        assert (state(document), document.revisions.count()) == before


def test_an_unchanged_correction_at_recheck_is_a_400_with_the_reason(client, world):
    document = world.docs["recheck"]
    before = state(document)
    content = document.current_revision.content
    data = dict(DraftForm.initial_for(content, document.copies))
    data["seal"] = "on" if content["seal"] else ""
    response = as_(client, world, "clerk").post(f"/documents/{document.pk}/edit/", data)
    assert response.status_code == 400
    assert "内容没有变化，无需重新签发" in page(response)
    assert state(document) == before


def test_a_returned_document_shows_its_drafter_the_reason_and_lets_them_edit(client, world):
    document, task = world.docs["first"], world.tasks["first_review"]
    as_(client, world, "head")
    assert client.post(f"/tasks/{task.pk}/", {"decision": Decision.RETURN, "text": "请补充活动预算。"}).status_code == 302
    document.refresh_from_db()
    assert document.stage == Stage.RETURNED
    for who in CAST:
        response = as_(client, world, who).get(f"/documents/{document.pk}/")
        assert response.status_code == (404 if who == "outsider" else 200), who
        edit = client.get(f"/documents/{document.pk}/edit/").status_code
        assert edit == {"drafter": 200, "outsider": 404}.get(who, 403), who
    assert "请补充活动预算。" in page(as_(client, world, "drafter").get(f"/documents/{document.pk}/"))


# --- Documents nobody can review ----------------------------------------------------------------


def test_a_document_whose_only_first_reviewer_is_its_drafter_cannot_be_submitted(client, world, seed_content):
    head = world.users["head"]
    document = services.create_draft(head, short_content(seed_content, "泉州市科学技术局关于开展科技下乡活动的通知"))
    response = as_(client, world, "head").post(f"/documents/{document.pk}/submit/", follow=True)
    assert "没有拟稿人以外可办理初审" in page(response)
    assert state(document)[0] == Stage.DRAFTING
    assert actions.process_of(document) is None


def test_a_department_without_a_head_has_its_first_review_opened_by_the_organs_head(client, world, seed_content):
    user = world.users["outsider"]
    document = services.create_draft(user, short_content(seed_content, "泉州市科学技术局关于开展科技下乡活动的通知"))
    actions.submit(document, user)
    task = actions.open_tasks(document).get()
    openers = [who for who in CAST if as_(client, world, who).get(f"/tasks/{task.pk}/").status_code == 200]
    assert openers == ["head"]
