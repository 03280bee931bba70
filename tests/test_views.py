"""The permission matrix of every URL in config/urls.py, for the demo cast of both organs
(泉州市科学技术局: `CAST`, 泉州市工业和信息化局: `GX_CAST`) and an anonymous visitor.

Rules under test:
- a document is visible to its drafter; once submitted, to the office and the leaders of its
  organ, to the head and the 分管领导 of its 科室, to everyone who may take or took one of its
  steps (a 会签 party of another 科室), and to users granted it. Anyone else gets 404 on
  every URL of the document, its PDFs, export, revisions and tasks;
- staff of one organ never see or act on the other organ's documents, numbers, address
  book, archive or review chains: 404 on every URL of its documents, records and chains,
  403 on its office pages, and no trace of it (titles, 文号, people) in any page, list,
  menu count or search;
- anonymous visitors are sent to /login/?next=… from every page;
- a task page opens (200) only for its owner, or for an eligible holder while the task
  waits in the queue; others who can see the document get 403, the rest 404; a POST by
  the wrong person changes nothing;
- actions that need POST answer GET with 405, and no request ends in a 500 (the test
  client re-raises any exception a view lets through).

The documents are built once for the module (building a whole path renders and archives a
PDF) inside a transaction that is rolled back at the end; each test runs in its own
savepoint on top, so what one test changes the next does not see.
"""

import html
import re
from collections.abc import Mapping
from types import SimpleNamespace
from urllib.parse import unquote, urlencode

import pytest
from django.contrib.auth import get_user_model
from viewflow.workflow.status import STATUS

from issuance import demo, services
from issuance.forms import DraftForm
from issuance.models import (
    ArchiveRecord,
    ChainVersion,
    Decision,
    Department,
    Distribution,
    Document,
    DocumentUserObjectPermission,
    Event,
    IssuedNumber,
    NumberVoid,
    Opinion,
    Organ,
    RecipientOrgan,
    ReviewChain,
    Revision,
    Stage,
    StepKind,
    StepState,
    display_name,
)
from issuance.roles import can_view
from workflows import actions, demo_path, queries
from workflows.models import StepTask

from .builders import ANONYMOUS, as_, gx_content, module_world, short_content
from .conftest import CAST, GX_CAST

S = StepState.Status
QK, GX = "泉科", "泉工信"
STAFF = CAST + GX_CAST
EVERYONE = STAFF + (ANONYMOUS,)
ORGAN_OF = {**dict.fromkeys(CAST, QK), **dict.fromkeys(GX_CAST, GX)}
OTHER = {QK: GX, GX: QK}

# Who may see which document of the module's world (see `_build` below). 泉科's documents are
# drafted by `drafter` for 综合科, 泉工信's by `gx_drafter` for its 综合科.
QK_PATH = {"drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist"}
GX_PATH = {"gx_drafter", "gx_head", "gx_reviewer", "gx_deputy", "gx_director", "gx_clerk", "gx_archivist"}
VISIBLE_TO = {
    "draft": {"drafter"},
    "first": QK_PATH,
    "second": QK_PATH,
    "recheck": QK_PATH,
    "registration": QK_PATH,
    "distribution": QK_PATH,
    "issued": QK_PATH,
    # The outsider's own submitted document: the office, the leaders, its drafter and, since
    # 政策法规科 has no head of its own, the organ's other 科室负责人 who does its 初审; not
    # the other 科室's drafter.
    "foreign": {"outsider", "head", "reviewer", "deputy", "director", "clerk", "archivist"},
    "gx_draft": {"gx_drafter"},
    "gx_second": GX_PATH,
    # The heads of the two 会签科室 see the document their 会签 is for, and no other.
    "gx_countersign": GX_PATH | {"gx_industry", "gx_digital"},
    "gx_recheck": GX_PATH,
    "gx_issued": GX_PATH,
}
DOCS_OF = {
    QK: tuple(name for name in VISIBLE_TO if not name.startswith("gx_")),
    GX: tuple(name for name in VISIBLE_TO if name.startswith("gx_")),
}
# The 科室 each drafter of the casts drafts for.
DRAFTS_FOR = {
    "drafter": (QK, "综合科"), "head": (QK, "综合科"), "outsider": (QK, "政策法规科"),
    "gx_drafter": (GX, "综合科"), "gx_head": (GX, "综合科"), "gx_industry": (GX, "产业发展科"),
    "gx_digital": (GX, "信息化推进科"),
}
ORGAN_NAMES = {QK: "泉州市科学技术局", GX: "泉州市工业和信息化局"}
# Who opens the office pages (文号登记簿, 收文机关), who reads the archive, who keeps the
# address book and who edits the review chains (the 机关管理员), in either organ.
OFFICE = {"reviewer", "clerk", "archivist", "gx_reviewer", "gx_clerk", "gx_archivist"}
ARCHIVE_READERS = {"reviewer", "director", "clerk", "archivist", "gx_reviewer", "gx_director", "gx_clerk",
                   "gx_archivist"}
CLERKS = {"clerk", "gx_clerk"}


def row(xfail=None, **codes):
    """One row of the matrix: the expected outcome for each member of EVERYONE, spelled out.

    `xfail` maps a member to the reason their cell fails today because of a product bug.
    """
    assert set(codes) == set(EVERYONE), sorted(set(EVERYONE) ^ set(codes))
    xfail = xfail or {}
    return [
        pytest.param(who, codes[who], id=who,
                     marks=[pytest.mark.xfail(strict=True, reason=xfail[who])] if who in xfail else [])
        for who in EVERYONE
    ]


def each(users, value):
    """The same cell for each of `users` (a whole organ's cast, say), for `row`."""
    return dict.fromkeys(users, value)


def _build(seed_content):
    demo.load_organisation()
    users = {user.username: user for user in get_user_model().objects.filter(username__in=STAFF)}

    def qk(topic):
        return short_content(seed_content, f"泉州市科学技术局关于{topic}的通知")

    def gx(topic):
        return gx_content(seed_content, f"泉州市工业和信息化局关于{topic}的通知")

    def through(content, who, until=Stage.ARCHIVED, **draft):
        return demo_path.take_through_path(content, users[who], until=until, **draft)

    parties = list(Department.objects.filter(organ__code=GX, name__in=("产业发展科", "信息化推进科")))
    documents = {
        "draft": services.create_draft(users["drafter"], qk("征集2026年科普作品")),
        "first": through(qk("开展2026年科普讲解大赛"), "drafter", until="初审"),
        "second": through(qk("做好2026年科技特派员工作"), "drafter", until="复审"),
        "recheck": through(qk("报送2026年科技统计数据"), "drafter", until=Stage.RECHECK),
        "registration": through(qk("组织2026年科技成果登记"), "drafter", until=Stage.REGISTRATION),
        "distribution": through(qk("举办2026年科技创新论坛"), "drafter", until=Stage.DISTRIBUTION),
        # The whole path, with the title of builders' short 通知.
        "issued": through(short_content(seed_content), "drafter"),
        "foreign": through(qk("修订科技计划项目管理办法"), "outsider", until="初审"),
        "gx_draft": services.create_draft(users["gx_drafter"], gx("征集2026年工业设计作品")),
        "gx_second": through(gx("做好2026年中小企业数字化转型工作"), "gx_drafter", until="复审"),
        "gx_countersign": through(gx("培育2026年工业互联网示范项目"), "gx_drafter", until="会签", countersign=parties),
        "gx_recheck": through(gx("报送2026年工业经济运行数据"), "gx_drafter", until=Stage.RECHECK),
        "gx_issued": through(gx_content(seed_content), "gx_drafter"),
    }
    assert list(documents) == list(VISIBLE_TO)
    docs = {name: document.pk for name, document in documents.items()}

    def open_task(name, step, party=None):
        tasks = queries.open_tasks(docs[name]).filter(state__name=step)
        if party:
            tasks = tasks.filter(state__party_department__name=party)
        return tasks.get().pk

    def done_task(name, step):
        return queries.human_tasks().get(state__document_id=docs[name], state__name=step, status=STATUS.DONE).pk

    return SimpleNamespace(
        docs=docs,
        tasks={
            "first_review": open_task("first", "初审"),  # assigned to head at once
            "second_review": open_task("second", "复审"),  # waiting in the office reviewer's queue
            "recheck": open_task("recheck", "复核"),  # the clerk's queue
            "register": open_task("registration", "登记"),  # the clerk's queue
            "distribute": open_task("distribution", "核发"),  # the clerk's queue, printed with 10 copies
            "foreign_review": open_task("foreign", "初审"),  # assigned to head: 政策法规科 has no head
            "done_first_review": done_task("second", "初审"),
            "gx_second_review": open_task("gx_second", "复审"),  # gx_reviewer's queue
            "gx_industry": open_task("gx_countersign", "会签", "产业发展科"),  # assigned to gx_industry
            "gx_digital": open_task("gx_countersign", "会签", "信息化推进科"),  # assigned to gx_digital
            "gx_recheck": open_task("gx_recheck", "复核"),  # gx_clerk's queue
            "gx_done_review": done_task("gx_countersign", "复审"),
        },
        others={
            "qk_record": ArchiveRecord.objects.get(document_id=docs["issued"]).pk,
            "gx_record": ArchiveRecord.objects.get(document_id=docs["gx_issued"]).pk,
            "qk_recipient": RecipientOrgan.objects.get(organ__code=QK, name="市科协").pk,
            "gx_recipient": RecipientOrgan.objects.get(organ__code=GX, name="泉州开发区经济发展局").pk,
            "qk_chain": ReviewChain.objects.get(organ__code=QK, name="公文三审").pk,
            "gx_chain": ReviewChain.objects.get(organ__code=GX, name="公文三审").pk,
            "qk_organ": Organ.objects.get(code=QK).pk,
            "gx_organ": Organ.objects.get(code=GX).pk,
        },
    )


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, seed_content, tmp_path_factory):
    """The world of documents, once for the module, rolled back when the module is done."""
    with module_world(django_db_blocker, tmp_path_factory.mktemp("media")):
        yield _build(seed_content)


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
        users=Fetched(STAFF, lambda name: User.objects.get(username=name)),
        docs=Fetched(built.docs, lambda name: Document.objects.get(pk=built.docs[name])),
        tasks=Fetched(built.tasks, lambda name: StepTask.objects.get(pk=built.tasks[name])),
        names={pk: name for name, pk in built.docs.items()},
        ids={**built.docs, **{f"task_{name}": pk for name, pk in built.tasks.items()}, **built.others},
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
    """Everything of the world a request could change: every document's stage and text, its
    opinions, events, grants, step states and tasks, the numbers, address books, archives
    and chains of both organs."""
    return (
        sorted(Document.objects.values_list("pk", "stage", "title", "current_revision_id", "doc_number")),
        Revision.objects.count(),
        Opinion.objects.count(),
        Event.objects.count(),
        DocumentUserObjectPermission.objects.count(),
        sorted(StepState.objects.values_list("pk", "status", "assignee_id")),
        sorted(StepTask.objects.values_list("pk", "status", "owner_id")),
        IssuedNumber.objects.count(),
        NumberVoid.objects.count(),
        Distribution.objects.count(),
        ArchiveRecord.objects.count(),
        sorted(RecipientOrgan.objects.values_list("pk", "organ_id", "name", "aliases", "active")),
        sorted(ReviewChain.objects.values_list("pk", "organ_id", "name", "active", "version_id")),
        ChainVersion.objects.count(),
    )


def task_state(task):
    task.refresh_from_db()
    return task.status, task.owner_id


def page(response):
    return response.content.decode("utf-8")


def document_links(response):
    return {int(pk) for pk in re.findall(r'href="/documents/(\d+)/"', page(response))}


def task_rows(response):
    """(step, document pk) of each row of a task list: the first cell is the step state as
    `StepState.__str__` writes it, e.g. 初审 or 会签（产业发展科）."""
    return {
        (step, int(pk))
        for step, pk in re.findall(r'<tr>\s*<td[^>]*>([^<]+)</td>\s*<td><a href="/documents/(\d+)/">', page(response))
    }


def named(world, rows):
    """Task rows with the world's name of each document instead of its pk."""
    return {(step, world.names.get(pk, pk)) for step, pk in rows}


def menu_counts(response):
    """The numbers the menu shows beside 待办 and 可领取 (0 when it shows none)."""
    text = page(response)
    counts = []
    for label in ("待办", "可领取"):
        match = re.search(rf'>{label}(?: <b class="count">(\d+)</b>)?</a>', text)
        assert match, label
        counts.append(int(match[1] or 0))
    return tuple(counts)


def visible(world, who):
    return {world.ids[name] for name, users in VISIBLE_TO.items() if who in users}


DECIDE_APPROVE = {"decision": Decision.APPROVE, "text": "同意。"}


# --- Django's own views: a smoke test each ---------------------------------------------------


def test_the_login_page_is_open_to_anonymous_visitors(client, world):
    response = client.get("/login/")
    assert response.status_code == 200
    assert "用户名" in page(response) and "密码" in page(response)


@pytest.mark.parametrize("who", ["drafter", "gx_drafter"])
def test_logging_out_needs_a_post_and_ends_the_session(client, world, who):
    as_(client, world, who)
    assert client.get("/logout/").status_code == 405
    assert client.get("/tasks/inbox/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert_sent_to_login(client.get("/tasks/inbox/"), "/tasks/inbox/")


@pytest.mark.parametrize("who", EVERYONE)
def test_the_admin_site_lets_in_no_member_of_either_cast(client, world, who):
    # None of the demo users is staff: the admin sends them all to its own login page.
    response = as_(client, world, who).get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- Anonymous visitors ------------------------------------------------------------------------

# Every URL of the app (not admin, login, logout), with a placeholder for an id of the world.
PAGES = [
    "/",
    "/tasks/inbox/",
    "/tasks/queue/",
    "/tasks/done/",
    "/tasks/{task_first_review}/",
    "/tasks/{task_second_review}/",
    "/tasks/{task_gx_industry}/",
    "/documents/",
    "/documents/?" + urlencode({"scope": "all", "q": "泉科"}),
    "/documents/new/",
    "/documents/{first}/",
    "/documents/{gx_countersign}/",
    "/documents/{draft}/edit/",
    "/documents/{first}/preview.pdf",
    "/documents/{issued}/issued.pdf",
    "/documents/{gx_issued}/issued.pdf?download=1",
    "/documents/{issued}/export.json",
    "/documents/{first}/revisions/1/",
    "/documents/{first}/sheet/",
    "/documents/{issued}/pages/1.png",
    "/numbers/",
    "/numbers/?" + urlencode({"code": "泉工信"}),
    "/recipients/",
    "/recipients/new/",
    "/recipients/{qk_recipient}/",
    "/archive/",
    "/archive/{qk_record}/",
    "/archive/{gx_record}/files/issued_pdf/",
    "/archive/{qk_record}/export.zip",
    "/chains/",
    "/chains/new/",
    "/chains/{gx_chain}/",
]
ACTIONS = [
    "/tasks/{task_first_review}/",
    "/tasks/{task_gx_digital}/",
    "/tasks/{task_second_review}/claim/",
    "/tasks/{task_second_review}/release/",
    "/documents/new/",
    "/documents/{draft}/edit/",
    "/documents/{draft}/submit/",
    "/documents/{first}/withdraw/",
    "/documents/{gx_countersign}/withdraw/",
    "/documents/{first}/grant/",
    "/numbers/",
    "/recipients/new/",
    "/recipients/{gx_recipient}/",
    "/chains/new/",
    "/chains/{qk_chain}/",
]


@pytest.mark.parametrize("template", PAGES)
def test_an_anonymous_visitor_is_sent_to_the_login_page_from_every_page(client, world, template):
    url = template.format(**world.ids)
    assert_sent_to_login(client.get(url), url)


@pytest.mark.parametrize("template", ACTIONS)
def test_an_anonymous_post_is_sent_to_the_login_page_and_changes_nothing(client, world, template):
    before = world_state()
    url = template.format(**world.ids)
    data = {**DECIDE_APPROVE, "username": "outsider", "title": "x", "body": "x", "reason": "x", "name": "x"}
    assert_sent_to_login(client.post(url, data), url)
    assert world_state() == before


# --- Home, the task lists and the menu's counts --------------------------------------------------


@pytest.mark.parametrize("who", EVERYONE)
def test_home_sends_everyone_to_their_inbox_or_to_the_login_page(client, world, who):
    response = as_(client, world, who).get("/")
    assert response.status_code == 302
    if who == ANONYMOUS:
        assert_sent_to_login(response, "/")
    else:
        assert response["Location"] == "/tasks/inbox/"


# What each member of the casts holds in 待办 and may take from 可领取: (step, document).
INBOX = dict(
    drafter=set(), head={("初审", "first"), ("初审", "foreign")}, reviewer=set(), deputy=set(), director=set(),
    clerk=set(), archivist=set(), outsider=set(),
    gx_drafter=set(), gx_head=set(), gx_industry={("会签（产业发展科）", "gx_countersign")},
    gx_digital={("会签（信息化推进科）", "gx_countersign")}, gx_reviewer=set(), gx_deputy=set(), gx_director=set(),
    gx_clerk=set(), gx_archivist=set(),
)
QUEUE = dict(
    drafter=set(), head=set(), reviewer={("复审", "second")}, deputy=set(), director=set(),
    # The clerk holds the office steps; 复审 waits for 办公室核稿, a role the clerk does not hold.
    clerk={("复核", "recheck"), ("登记", "registration"), ("核发", "distribution")}, archivist=set(), outsider=set(),
    gx_drafter=set(), gx_head=set(), gx_industry=set(), gx_digital=set(), gx_reviewer={("复审", "gx_second")},
    gx_deputy=set(), gx_director=set(), gx_clerk={("复核", "gx_recheck")}, gx_archivist=set(),
)


@pytest.mark.parametrize("who, expected", row(**INBOX, anonymous=None))
def test_the_inbox_holds_the_tasks_assigned_to_each_person_and_no_other(client, world, who, expected):
    response = as_(client, world, who).get("/tasks/inbox/")
    if expected is None:
        assert_sent_to_login(response, "/tasks/inbox/")
        return
    assert response.status_code == 200
    assert named(world, task_rows(response)) == expected
    for name in ("first_review", "foreign_review", "gx_industry", "gx_digital"):
        holds = (world.tasks[name].owner_id == world.users[who].pk)
        assert (f'href="/tasks/{world.ids["task_" + name]}/"' in page(response)) is holds, name
    if not expected:
        assert "没有待办事项" in page(response)


@pytest.mark.parametrize("who, expected", row(**QUEUE, anonymous=None))
def test_the_queue_offers_each_task_only_to_those_who_may_take_it(client, world, who, expected):
    response = as_(client, world, who).get("/tasks/queue/")
    if expected is None:
        assert_sent_to_login(response, "/tasks/queue/")
        return
    assert response.status_code == 200
    assert named(world, task_rows(response)) == expected
    for name in ("second_review", "recheck", "register", "distribute", "gx_second_review", "gx_recheck"):
        claim = f'action="/tasks/{world.ids["task_" + name]}/claim/"'
        document = world.names[world.tasks[name].state.document_id]
        assert (claim in page(response)) is ((world.tasks[name].state.name, document) in expected), name
    if not expected:
        assert "没有可领取的任务" in page(response)


@pytest.mark.parametrize("who", STAFF)
def test_the_menu_counts_only_the_persons_own_tasks(client, world, who):
    # The counts come from their own query (workflows.context_processors): they must agree
    # with the lists, whatever the other organ has waiting.
    response = as_(client, world, who).get("/documents/")
    assert menu_counts(response) == (len(INBOX[who]), len(QUEUE[who]))


# The steps of the issued document of their organ each member of the casts did.
DONE_ON_ISSUED = {
    "drafter": set(), "head": {"初审"}, "reviewer": {"复审"}, "deputy": {"终审"}, "director": {"签发"},
    "clerk": {"复核", "登记", "印制", "核发"}, "archivist": {"归档"}, "outsider": set(),
    "gx_drafter": set(), "gx_head": {"初审"}, "gx_industry": set(), "gx_digital": set(), "gx_reviewer": {"复审"},
    "gx_deputy": {"终审"}, "gx_director": {"签发"}, "gx_clerk": {"复核", "登记", "印制", "核发"},
    "gx_archivist": {"归档"},
}
# Every 初审 done in the world, by whom.
FIRST_REVIEWS = {
    "head": {"second", "recheck", "registration", "distribution", "issued"},
    "gx_head": {"gx_second", "gx_countersign", "gx_recheck", "gx_issued"},
}


@pytest.mark.parametrize("who", EVERYONE)
def test_done_lists_completed_tasks_to_those_who_did_them(client, world, who):
    response = as_(client, world, who).get("/tasks/done/")
    if who == ANONYMOUS:
        assert_sent_to_login(response, "/tasks/done/")
        return
    assert response.status_code == 200
    rows = named(world, task_rows(response))
    issued = "issued" if ORGAN_OF[who] == QK else "gx_issued"
    assert {step for step, name in rows if name == issued} == DONE_ON_ISSUED[who]
    assert {name for step, name in rows if step == "初审"} == FIRST_REVIEWS.get(who, set())
    # Nobody lists a document they may not see: none of the other organ's.
    assert {name for _, name in rows} <= {name for name, users in VISIBLE_TO.items() if who in users}
    if not rows:
        assert "还没有已办事项" in page(response)


# --- The document list -------------------------------------------------------------------------


@pytest.mark.parametrize("who", STAFF)
def test_the_visibility_table_of_this_module_agrees_with_the_permission_rules(world, who):
    seen = {name for name, document in world.docs.items() if can_view(world.users[who], document)}
    assert seen == {name for name, users in VISIBLE_TO.items() if who in users}


@pytest.mark.parametrize("who", EVERYONE)
def test_the_list_of_all_documents_and_its_search_show_what_the_user_may_see_and_nothing_else(client, world, who):
    as_(client, world, who)
    for query in ("", "科技", "泉科〔", "泉工信〔"):
        url = "/documents/?" + urlencode({"scope": "all", **({"q": query} if query else {})})
        response = client.get(url)
        if who == ANONYMOUS:
            assert_sent_to_login(response, url)
            continue
        assert response.status_code == 200
        expected = {
            document.pk for name, document in world.docs.items()
            if who in VISIBLE_TO[name] and query in document.title + (document.doc_number or "")
        }
        assert document_links(response) == expected, query
        if query == "":
            assert expected == visible(world, who)


@pytest.mark.parametrize("who, expected", row(
    drafter={"draft", "first", "second", "recheck", "registration", "distribution", "issued"},
    head=set(), reviewer=set(), deputy=set(), director=set(), clerk=set(), archivist=set(), outsider={"foreign"},
    gx_drafter={"gx_draft", "gx_second", "gx_countersign", "gx_recheck", "gx_issued"},
    **each(set(GX_CAST) - {"gx_drafter"}, set()), anonymous=None,
))
def test_my_documents_are_the_ones_i_drafted(client, world, who, expected):
    response = as_(client, world, who).get("/documents/?scope=mine")
    if expected is None:
        assert_sent_to_login(response, "/documents/?scope=mine")
        return
    assert response.status_code == 200
    assert document_links(response) == {world.ids[name] for name in expected}


@pytest.mark.parametrize("who", STAFF)
def test_the_document_list_opens_on_own_drafts_for_drafters_and_on_all_for_the_others(client, world, who):
    response = as_(client, world, who).get("/documents/")
    if who in DRAFTS_FOR:
        expected = {document.pk for document in world.docs.values() if document.drafter_id == world.users[who].pk}
    else:
        expected = visible(world, who)
    assert document_links(response) == expected


# --- 拟稿: the new-document page ---------------------------------------------------------------

DRAFTING_ROW = dict(
    drafter=200, head=200, reviewer=403, deputy=403, director=403, clerk=403, archivist=403, outsider=200,
    gx_drafter=200, gx_head=200, gx_industry=200, gx_digital=200, gx_reviewer=403, gx_deputy=403,
    gx_director=403, gx_clerk=403, gx_archivist=403,
)


@pytest.mark.parametrize("who, expected", row(**DRAFTING_ROW, anonymous=302))
def test_only_drafters_may_open_the_new_draft_page_and_it_offers_their_own_organs_departments(
    client, world, who, expected,
):
    response = as_(client, world, who).get("/documents/new/")
    assert_status(response, expected, "/documents/new/")
    if expected == 200:
        text = page(response)
        assert "发文稿纸" in text
        organ = ORGAN_OF[who]
        # Every other 科室 of their organ may countersign; never their own.
        others = set(Department.objects.filter(organ__code=organ).exclude(
            pk=department_of(*DRAFTS_FOR[who])).values_list("pk", flat=True))
        offered = {int(pk) for pk in re.findall(r'<input type="checkbox" name="countersign" value="(\d+)"', text)}
        assert offered == others
        # The other organ's 科室 are not offered, nor named: 政策法规科 is 泉科's alone,
        # 产业发展科 and 信息化推进科 泉工信's.
        for name in {QK: ("产业发展科", "信息化推进科"), GX: ("政策法规科",)}[organ]:
            assert name not in text
    if expected == 403:
        assert "您没有拟稿权限" in page(response)


def draft_form(organ=QK, department=None, **changes):
    name = ORGAN_NAMES[organ]
    data = {
        "doc_type": "通知", "direction": "下行文", "format": "文件", "issuer_marks": name,
        "title": f"{name}关于举办开放日活动的通知", "main_recipients": "市直有关单位",
        "body": "定于2026年9月举办开放日活动。\n一、时间\n9月16日。", "signature_orgs": name,
        "seal": "on", "copies": "5",
    }
    if department is not None:
        data["department"] = str(department)
    data.update(changes)
    return data


def department_of(organ, name):
    return Department.objects.get(organ__code=organ, name=name).pk


@pytest.mark.parametrize("who, expected", row(**{w: 302 if c == 200 else c for w, c in DRAFTING_ROW.items()},
                                              anonymous=302))
def test_only_drafters_may_create_a_draft_for_their_own_department_and_it_stays_private(
    client, world, who, expected,
):
    before = Document.objects.count()
    organ, name = DRAFTS_FOR.get(who, (ORGAN_OF.get(who, QK), "综合科"))
    data = draft_form(organ, department_of(organ, name))
    response = as_(client, world, who).post("/documents/new/", data)
    assert_status(response, expected, "/documents/new/")
    if expected == 302 and who != ANONYMOUS:
        document = Document.objects.latest("pk")
        assert response["Location"] == f"/documents/{document.pk}/"
        assert (document.drafter.username, document.stage, document.copies) == (who, Stage.DRAFTING, 5)
        assert (document.organ.code, document.department.name) == (organ, name)
        assert [member for member in STAFF if can_view(world.users[member], document)] == [who]
    else:
        assert Document.objects.count() == before


@pytest.mark.parametrize("who, department, countersign", [
    ("gx_drafter", (QK, "综合科"), ()),
    ("gx_industry", (QK, "政策法规科"), ()),
    ("drafter", (GX, "综合科"), ()),
    ("drafter", (QK, "综合科"), ((GX, "产业发展科"),)),
    ("gx_drafter", (GX, "综合科"), ((QK, "政策法规科"),)),
])
def test_a_draft_for_or_countersigned_by_a_department_of_the_other_organ_is_a_400(
    client, world, who, department, countersign,
):
    before = world_state()
    data = draft_form(ORGAN_OF[who], department_of(*department))
    data["countersign"] = [str(department_of(*d)) for d in countersign]
    response = as_(client, world, who).post("/documents/new/", data)
    assert response.status_code == 400
    form = response.context["routing"]
    assert set(form.errors) == ({"department"} if not countersign else {"countersign"})
    assert world_state() == before


@pytest.mark.parametrize("field, value, label", [
    ("title", "", "标题"),
    ("body", "", "正文"),
    ("doc_type", "便条", "文种"),
    ("copies", "0", "印发份数"),
    ("date", "2026-13-45", "成文日期"),
])
def test_an_invalid_draft_form_is_a_400_that_names_the_field(client, world, field, value, label):
    before = Document.objects.count()
    data = draft_form(QK, department_of(QK, "综合科"), **{field: value})
    response = as_(client, world, "drafter").post("/documents/new/", data)
    assert response.status_code == 400
    assert "请更正下列标出的错误" in page(response)
    assert field in response.context["form"].errors
    # The field's label and its error message are both on the page.
    assert label in page(response)
    assert response.context["form"].errors[field][0] in page(response)
    assert Document.objects.count() == before


# --- The document page, its PDFs, export and revisions ----------------------------------------


def check_document_pages(client, world, name, who, expected, suffixes):
    """GET each of the document's `suffixes` as `who`: each answers `expected`, and shows
    what it should when it opens (the 404 page when it does not)."""
    document = world.docs[name]
    as_(client, world, who)
    for suffix in suffixes:
        url = f"/documents/{document.pk}/{suffix}"
        response = client.get(url)
        assert_status(response, expected, url)
        if expected == 404:
            assert "没有找到您要访问的页面或公文" in page(response), url
        if expected != 200:
            continue
        if suffix in ("", "edit/", "sheet/") or suffix.startswith("revisions/"):
            assert html.escape(document.title) in page(response), url
        if suffix.startswith("pages/"):
            assert response["Content-Type"] == "image/png", url
            assert response.content.startswith(b"\x89PNG"), url
        if suffix.startswith(("preview.pdf", "issued.pdf")):
            assert response["Content-Type"] == "application/pdf", url
            assert response.content.startswith(b"%PDF"), url
        if suffix == "export.json":
            assert response.json()["title"] == document.title
    return client.get(f"/documents/{document.pk}/") if expected == 200 else None


# The pages of a document, by what it has. (The same view with another parameter, such as
# preview.pdf without ?r= or issued.pdf without ?download=1, is in the tests below.)
DRAFT_PAGES = ["", "preview.pdf", "export.json", "revisions/1/", "edit/", "sheet/", "pages/1.png?w=480"]
SUBMITTED_PAGES = ["", "preview.pdf?r=1", "export.json", "revisions/1/", "sheet/", "pages/1.png?r=1&w=480"]
ISSUED_PAGES = ["", "issued.pdf?download=1", "export.json", "revisions/1/", "sheet/", "pages/1.png"]


@pytest.mark.parametrize("who, expected", row(
    drafter=200, **each(set(CAST) - {"drafter"}, 404), **each(GX_CAST, 404), anonymous=302,
))
def test_an_unsubmitted_draft_of_sciences_exists_only_for_its_drafter(client, world, who, expected):
    check_document_pages(client, world, "draft", who, expected, DRAFT_PAGES)


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), gx_drafter=200, **each(set(GX_CAST) - {"gx_drafter"}, 404), anonymous=302,
))
def test_an_unsubmitted_draft_of_industry_exists_only_for_its_drafter(client, world, who, expected):
    check_document_pages(client, world, "gx_draft", who, expected, DRAFT_PAGES)


@pytest.mark.parametrize("who, expected", row(
    drafter=200, head=200, reviewer=200, deputy=200, director=200, clerk=200, archivist=200, outsider=404,
    **each(GX_CAST, 404), anonymous=302,
))
def test_a_submitted_document_is_visible_to_its_organs_path_and_nobody_else(client, world, who, expected):
    response = check_document_pages(client, world, "first", who, expected, SUBMITTED_PAGES)
    if response is not None:
        assert "初审：陈志明" in page(response)  # the open step and its holder


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), **each(GX_CAST, 200), anonymous=302,
))
def test_a_document_in_countersign_is_visible_to_its_organs_path_and_both_countersigning_heads(
    client, world, who, expected,
):
    response = check_document_pages(client, world, "gx_countersign", who, expected, SUBMITTED_PAGES)
    if response is not None:
        # Both parties of the 会签 are on the page, each with its holder.
        text = page(response)
        assert "会签（产业发展科）：施建华" in text and "会签（信息化推进科）：曾晓东" in text


@pytest.mark.parametrize("who, expected", row(
    drafter=404, head=200, reviewer=200, deputy=200, director=200, clerk=200, archivist=200, outsider=200,
    **each(GX_CAST, 404), anonymous=302,
))
def test_a_document_of_another_department_is_hidden_from_this_departments_drafter(client, world, who, expected):
    check_document_pages(client, world, "foreign", who, expected, SUBMITTED_PAGES)


@pytest.mark.parametrize("who, expected", row(
    drafter=200, head=200, reviewer=200, deputy=200, director=200, clerk=200, archivist=200, outsider=404,
    **each(GX_CAST, 404), anonymous=302,
))
def test_an_issued_document_of_sciences_is_visible_to_its_path_and_nobody_else(client, world, who, expected):
    response = check_document_pages(client, world, "issued", who, expected, ISSUED_PAGES)
    if response is not None:
        assert world.docs["issued"].doc_number in page(response)


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), gx_drafter=200, gx_head=200, gx_industry=404, gx_digital=404, gx_reviewer=200,
    gx_deputy=200, gx_director=200, gx_clerk=200, gx_archivist=200, anonymous=302,
))
def test_an_issued_document_of_industry_is_visible_to_its_path_and_nobody_else(client, world, who, expected):
    response = check_document_pages(client, world, "gx_issued", who, expected, ISSUED_PAGES)
    if response is not None:
        assert world.docs["gx_issued"].doc_number.startswith("泉工信〔")
        assert world.docs["gx_issued"].doc_number in page(response)


@pytest.mark.parametrize("who", EVERYONE)
def test_every_document_page_follows_the_visibility_table(client, world, who):
    """Every document's page, for everyone: it opens for those who may see it, and shows
    nothing of the other organ; for the others it does not exist."""
    traces = traces_of(OTHER[ORGAN_OF[who]]) if who != ANONYMOUS else set()
    as_(client, world, who)
    for name, document in world.docs.items():
        url = f"/documents/{document.pk}/"
        response = client.get(url)
        if who == ANONYMOUS:
            assert_sent_to_login(response, url)
        else:
            assert response.status_code == (200 if who in VISIBLE_TO[name] else 404), name
            assert (html.escape(document.title) in page(response)) is (response.status_code == 200), name
            if response.status_code == 200:
                assert_no_trace(response, traces, url)


@pytest.mark.parametrize("who, expected", row(
    **each(set(QK_PATH) | {"outsider"}, 404), **each(GX_CAST, 404), anonymous=302,
))
def test_a_document_not_yet_printed_has_no_issued_pdf(client, world, who, expected):
    url = f"/documents/{world.ids['registration']}/issued.pdf"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, name", [("drafter", "issued"), ("gx_drafter", "gx_issued")])
def test_the_drafter_downloads_the_issued_pdf_named_after_its_number(client, world, who, name):
    document = world.docs[name]
    assert document.stage == Stage.ARCHIVED and document.doc_number
    response = as_(client, world, who).get(f"/documents/{document.pk}/issued.pdf?download=1")
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


@pytest.mark.parametrize("who, name", [("clerk", "issued"), ("gx_clerk", "gx_issued")])
def test_the_export_of_an_issued_document_is_named_after_its_number(client, world, who, name):
    document = world.docs[name]
    response = as_(client, world, who).get(f"/documents/{document.pk}/export.json")
    assert response.status_code == 200
    filename = re.fullmatch(r"attachment; filename\*=UTF-8''(\S+)", response["Content-Disposition"])[1]
    assert unquote(filename) == f"{document.doc_number}.json"
    assert response.json()["doc_number"] == document.doc_number


# --- 修改: the edit page -----------------------------------------------------------------------


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH, 403), outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_nobody_may_edit_a_document_under_review(client, world, who, expected):
    url = f"/documents/{world.ids['first']}/edit/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 403:
        assert "当前环节您不能修改该公文" in page(response)


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), **each(GX_CAST, 403), anonymous=302,
))
def test_nobody_may_edit_a_document_in_countersign_not_even_a_countersigning_head(client, world, who, expected):
    url = f"/documents/{world.ids['gx_countersign']}/edit/"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=403, reviewer=403, deputy=403, director=403, clerk=200, archivist=403, outsider=404,
    **each(GX_CAST, 404), anonymous=302,
))
def test_only_the_clerk_may_correct_a_document_of_sciences_at_recheck(client, world, who, expected):
    url = f"/documents/{world.ids['recheck']}/edit/"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), gx_drafter=403, gx_head=403, gx_industry=404, gx_digital=404, gx_reviewer=403,
    gx_deputy=403, gx_director=403, gx_clerk=200, gx_archivist=403, anonymous=302,
))
def test_only_the_clerk_of_industry_may_correct_its_document_at_recheck(client, world, who, expected):
    url = f"/documents/{world.ids['gx_recheck']}/edit/"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    drafter=302, **each(set(CAST) - {"drafter"}, 404), **each(GX_CAST, 404), anonymous=302,
))
def test_only_the_drafter_may_save_an_edit_of_a_draft(client, world, who, expected):
    document = world.docs["draft"]
    before = world_state()
    url = f"/documents/{document.pk}/edit/"
    response = as_(client, world, who).post(url, draft_form(title="泉州市科学技术局关于征集科普作品的通知"))
    assert_status(response, expected, url)
    document.refresh_from_db()
    if who == "drafter":
        assert document.revisions.count() == 2
        assert document.title == "泉州市科学技术局关于征集科普作品的通知"
        assert document.copies == 5
    else:
        assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), gx_drafter=302, **each(set(GX_CAST) - {"gx_drafter"}, 404), anonymous=302,
))
def test_only_the_drafter_of_industry_may_save_an_edit_of_its_draft(client, world, who, expected):
    document = world.docs["gx_draft"]
    before = world_state()
    url = f"/documents/{document.pk}/edit/"
    title = "泉州市工业和信息化局关于征集工业设计作品的通知"
    assert_status(as_(client, world, who).post(url, draft_form(GX, title=title)), expected, url)
    if who == "gx_drafter":
        document.refresh_from_db()
        assert (document.revisions.count(), document.title) == (2, title)
    else:
        assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH, 403), outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_a_post_to_the_edit_page_of_a_document_under_review_changes_nothing(client, world, who, expected):
    before = world_state()
    url = f"/documents/{world.ids['first']}/edit/"
    assert_status(as_(client, world, who).post(url, draft_form()), expected, url)
    assert world_state() == before


def test_an_invalid_edit_is_a_400_that_names_the_field(client, world):
    document = world.docs["draft"]
    response = as_(client, world, "drafter").post(f"/documents/{document.pk}/edit/", draft_form(title=""))
    assert response.status_code == 400
    assert "title" in response.context["form"].errors
    assert "标题" in page(response)
    assert document.revisions.count() == 1


def test_a_draft_cannot_be_set_to_be_countersigned_by_the_other_organs_department(client, world):
    document = world.docs["draft"]
    before = world_state()
    data = draft_form(countersign=[str(department_of(GX, "产业发展科"))])
    response = as_(client, world, "drafter").post(f"/documents/{document.pk}/edit/", data)
    assert response.status_code == 400
    assert "countersign" in response.context["routing"].errors
    assert world_state() == before


# --- 送审, 撤回, 授权: POST-only actions -----------------------------------------------------------


POST_ONLY = [
    "/documents/{first}/submit/", "/documents/{second}/withdraw/", "/documents/{gx_issued}/grant/",
    "/documents/999999/submit/", "/tasks/{task_gx_second_review}/claim/", "/tasks/{task_first_review}/release/",
    "/tasks/999999/claim/",
]


@pytest.mark.parametrize("who", STAFF)
def test_actions_that_need_a_post_answer_a_get_with_405(client, world, who):
    # The method is checked before the document: a 405 says nothing about whether the
    # document exists (see the id 999999), so it is no leak to anyone outside either.
    before = world_state()
    as_(client, world, who)
    for template in POST_ONLY:
        assert client.get(template.format(**world.ids)).status_code == 405, template
    assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    drafter=302, **each(set(CAST) - {"drafter"}, 404), **each(GX_CAST, 404), anonymous=302,
))
def test_only_the_drafter_may_submit_a_draft(client, world, who, expected):
    document = world.docs["draft"]
    before = world_state()
    url = f"/documents/{document.pk}/submit/"
    response = as_(client, world, who).post(url, {"note": "请审核。"})
    assert_status(response, expected, url)
    if who == "drafter":
        assert response["Location"] == f"/documents/{document.pk}/"
        assert state(document)[:2] == (Stage.REVIEWING, 1)
        first = actions.open_tasks(document).get()
        assert (first.state.name, first.owner) == ("初审", world.users["head"])
        assert {member for member in STAFF if can_view(world.users[member], document)} == QK_PATH
    else:
        assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), gx_drafter=302, **each(set(GX_CAST) - {"gx_drafter"}, 404), anonymous=302,
))
def test_only_the_drafter_of_industry_may_submit_its_draft_and_its_first_review_goes_to_its_head(
    client, world, who, expected,
):
    document = world.docs["gx_draft"]
    before = world_state()
    url = f"/documents/{document.pk}/submit/"
    assert_status(as_(client, world, who).post(url, {"note": "请审核。"}), expected, url)
    if who == "gx_drafter":
        assert state(document)[:2] == (Stage.REVIEWING, 1)
        first = actions.open_tasks(document).get()
        assert (first.state.name, first.owner) == ("初审", world.users["gx_head"])
        assert {member for member in STAFF if can_view(world.users[member], document)} == GX_PATH
    else:
        assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH, 302), outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_submitting_a_document_already_under_review_changes_nothing(client, world, who, expected):
    before = world_state()
    url = f"/documents/{world.ids['first']}/submit/"
    assert_status(as_(client, world, who).post(url), expected, url)
    assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH, 302), outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_only_the_drafter_may_withdraw_a_submission_nobody_acted_on(client, world, who, expected):
    document, task = world.docs["first"], world.tasks["first_review"]
    before = world_state()
    url = f"/documents/{document.pk}/withdraw/"
    response = as_(client, world, who).post(url, {"reason": "需补充材料"})
    assert_status(response, expected, url)
    if who == "drafter":
        assert state(document)[0] == Stage.DRAFTING
        assert task_state(task)[0] == STATUS.CANCELED
        revise = actions.open_tasks(document).get()
        assert (revise.state.kind, revise.owner_id) == (StepKind.REVISE, world.users["drafter"].pk)
    else:
        assert world_state() == before
        assert task_state(task) == (STATUS.ASSIGNED, world.users["head"].pk)


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH, 302), outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_the_first_reviewer_takes_back_an_approval_until_the_next_step_acts_and_nobody_else_can(
    client, world, who, expected,
):
    document, queued = world.docs["second"], world.tasks["second_review"]
    before = world_state()
    url = f"/documents/{document.pk}/withdraw/"
    follow = expected == 302 and who != ANONYMOUS
    response = as_(client, world, who).post(url, {"reason": "需再核一处数据"}, follow=follow)
    if follow:
        assert response.redirect_chain == [(f"/documents/{document.pk}/", 302)]
    else:
        assert_status(response, expected, url)
    if who == "head":
        assert "已撤回“初审”，请重新办理" in page(response)
        assert state(document)[0] == Stage.REVIEWING
        assert task_state(queued)[0] == STATUS.CANCELED
        reopened = actions.open_tasks(document).get()
        assert (reopened.state.name, reopened.owner_id) == ("初审", world.users["head"].pk)
        assert ("初审", document.pk) in task_rows(client.get("/tasks/inbox/"))
    else:
        assert world_state() == before
        if who == "drafter":
            assert "审核人已办理或公文不在审核中，不能撤回" in page(response)
        elif expected == 302 and who != ANONYMOUS:
            assert "下一环节已办理或您没有可撤回的办理，不能撤回" in page(response)


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), **each(GX_CAST, 302), anonymous=302,
))
def test_the_office_reviewer_takes_back_an_approval_before_any_countersign_and_it_cancels_both_parties(
    client, world, who, expected,
):
    document = world.docs["gx_countersign"]
    parties = world.tasks["gx_industry"], world.tasks["gx_digital"]
    before = world_state()
    url = f"/documents/{document.pk}/withdraw/"
    assert_status(as_(client, world, who).post(url, {"reason": "格式需再核"}), expected, url)
    if who == "gx_reviewer":
        assert [task_state(task)[0] for task in parties] == [STATUS.CANCELED, STATUS.CANCELED]
        reopened = actions.open_tasks(document).get()
        assert (reopened.state.name, reopened.owner_id) == ("复审", world.users["gx_reviewer"].pk)
        # The parties' 待办 are empty again: no count, no row.
        for head in ("gx_industry", "gx_digital"):
            response = as_(client, world, head).get("/tasks/inbox/")
            assert task_rows(response) == set() and menu_counts(response) == (0, 0)
    else:
        assert world_state() == before


def test_a_countersigning_head_takes_back_their_own_agreement_while_the_other_party_is_open(client, world):
    document = world.docs["gx_countersign"]
    industry, digital = world.tasks["gx_industry"], world.tasks["gx_digital"]
    as_(client, world, "gx_industry")
    assert client.post(f"/tasks/{industry.pk}/", DECIDE_APPROVE).status_code == 302
    assert task_state(industry)[0] == STATUS.DONE
    # The reviewer's 复审 has been acted on since: it can no longer be taken back.
    before = world_state()
    response = as_(client, world, "gx_reviewer").post(f"/documents/{document.pk}/withdraw/", follow=True)
    assert "下一环节已办理或您没有可撤回的办理，不能撤回" in page(response)
    assert world_state() == before
    response = as_(client, world, "gx_industry").post(f"/documents/{document.pk}/withdraw/", {"reason": "数据有误"},
                                                       follow=True)
    assert "已撤回“会签（产业发展科）”，请重新办理" in page(response)
    assert task_state(digital) == (STATUS.ASSIGNED, world.users["gx_digital"].pk)
    assert named(world, task_rows(client.get("/tasks/inbox/"))) == {("会签（产业发展科）", "gx_countersign")}
    assert state(document)[0] == Stage.REVIEWING




@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH, 302), outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_only_the_drafter_and_the_office_may_grant_a_document_to_another_user(client, world, who, expected):
    document = world.docs["first"]
    before = state(document)
    url = f"/documents/{document.pk}/grant/"
    assert_status(as_(client, world, who).post(url, {"username": "outsider"}), expected, url)
    granted = who in ("drafter", "reviewer", "clerk")
    outsider = world.users["outsider"]
    assert can_view(outsider, document) is granted
    assert state(document)[:2] == before[:2]
    if granted:  # the outsider now sees it, and only sees it
        as_(client, world, "outsider")
        assert client.get(f"/documents/{document.pk}/").status_code == 200
        assert client.get(f"/tasks/{world.ids['task_first_review']}/").status_code == 403


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), gx_drafter=302, gx_head=302, gx_industry=404, gx_digital=404, gx_reviewer=302,
    gx_deputy=302, gx_director=302, gx_clerk=302, gx_archivist=302, anonymous=302,
))
def test_only_the_drafter_and_the_office_of_industry_may_grant_its_document(client, world, who, expected):
    document = world.docs["gx_issued"]
    url = f"/documents/{document.pk}/grant/"
    assert_status(as_(client, world, who).post(url, {"username": "gx_industry"}), expected, url)
    assert can_view(world.users["gx_industry"], document) is (who in ("gx_drafter", "gx_reviewer", "gx_clerk"))


@pytest.mark.parametrize("username, message", [
    ("", "请填写用户名"), ("  ", "请填写用户名"), ("nobody", "用户“nobody”不存在"),
])
def test_granting_to_a_missing_or_unknown_user_is_refused_with_a_message(client, world, username, message):
    document = world.docs["first"]
    before = world_state()
    url = f"/documents/{document.pk}/grant/"
    response = as_(client, world, "drafter").post(url, {"username": username}, follow=True)
    assert response.status_code == 200
    assert message in page(response)
    assert world_state() == before


# --- Task pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=200, reviewer=403, deputy=403, director=403, clerk=403, archivist=403, outsider=404,
    **each(GX_CAST, 404), anonymous=302,
))
def test_an_assigned_task_opens_only_for_its_owner(client, world, who, expected):
    url = f"/tasks/{world.ids['task_first_review']}/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        text = page(response)
        assert "初审" in text and "提交意见" in text
        assert "退回至" not in text  # 初审 is the first step: a return goes to the drafter
    if expected == 403:
        assert "该任务不由您办理" in page(response)


@pytest.mark.parametrize("who, expected", row(
    drafter=404, head=200, reviewer=403, deputy=403, director=403, clerk=403, archivist=403, outsider=403,
    **each(GX_CAST, 404), anonymous=302,
))
def test_the_first_review_of_a_department_without_a_head_opens_only_for_the_organs_head(client, world, who, expected):
    url = f"/tasks/{world.ids['task_foreign_review']}/"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH - {"reviewer"}, 403), reviewer=200, outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_a_queued_task_opens_only_for_an_eligible_holder_of_its_role(client, world, who, expected):
    url = f"/tasks/{world.ids['task_second_review']}/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        text = page(response)
        assert "该任务尚未领取" in text
        # From 复审 the reviewer may return to the drafter or to 初审.
        assert "退回至" in text
        assert re.search(r'<option value="drafter" selected>拟稿人</option>\s*<option value="1">初审</option>', text)
    if expected == 403:
        assert "您不能领取该任务" in page(response)
    assert task_state(world.tasks["second_review"]) == (STATUS.NEW, None)  # opening it claims nothing


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), gx_drafter=403, gx_head=403, gx_industry=404, gx_digital=404, gx_reviewer=200,
    gx_deputy=403, gx_director=403, gx_clerk=403, gx_archivist=403, anonymous=302,
))
def test_the_queued_second_review_of_industry_opens_only_for_its_office_reviewer(client, world, who, expected):
    url = f"/tasks/{world.ids['task_gx_second_review']}/"
    assert_status(as_(client, world, who).get(url), expected, url)
    assert task_state(world.tasks["gx_second_review"]) == (STATUS.NEW, None)


@pytest.mark.parametrize("party, owner", [("gx_industry", "gx_industry"), ("gx_digital", "gx_digital")])
@pytest.mark.parametrize("who", EVERYONE)
def test_each_countersign_task_opens_only_for_the_head_of_its_department(client, world, party, owner, who):
    url = f"/tasks/{world.ids['task_' + party]}/"
    response = as_(client, world, who).get(url)
    expected = 302 if who == ANONYMOUS else 200 if who == owner else 403 if who in GX_CAST else 404
    assert_status(response, expected, url)
    if expected == 200:
        text = page(response)
        label = {"gx_industry": "会签（产业发展科）", "gx_digital": "会签（信息化推进科）"}[party]
        assert f"<h1>{label}：{html.escape(world.docs['gx_countersign'].title)}</h1>" in text
        assert "退回至" not in text  # a 会签 party returns to the drafter


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH - {"clerk"}, 403), clerk=200, outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_the_office_tasks_of_sciences_open_only_for_its_clerk(client, world, who, expected):
    as_(client, world, who)
    for task in ("register", "recheck", "distribute"):
        url = f"/tasks/{world.ids['task_' + task]}/"
        assert_status(client.get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), gx_drafter=403, gx_head=403, gx_industry=404, gx_digital=404, gx_reviewer=403,
    gx_deputy=403, gx_director=403, gx_clerk=200, gx_archivist=403, anonymous=302,
))
def test_the_recheck_of_industry_opens_only_for_its_clerk(client, world, who, expected):
    url = f"/tasks/{world.ids['task_gx_recheck']}/"
    assert_status(as_(client, world, who).get(url), expected, url)


@pytest.mark.parametrize("who, expected", row(
    drafter=200, **each(QK_PATH - {"drafter"}, 403), outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_the_revise_task_of_a_returned_document_opens_only_for_its_drafter(client, world, who, expected):
    document = world.docs["first"]
    as_(client, world, "head").post(f"/tasks/{world.ids['task_first_review']}/",
                                    {"decision": Decision.RETURN, "text": "请补充活动预算。"})
    revise = actions.open_tasks(document).get()
    assert revise.state.kind == StepKind.REVISE
    url = f"/tasks/{revise.pk}/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        assert "请补充活动预算。" in page(response)
    # A resubmission from that page by anyone else changes nothing.
    before = world_state()
    if who not in ("drafter", ANONYMOUS):
        assert client.post(url, {"note": "已修改"}).status_code == expected
        assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    drafter=403, head=302, reviewer=403, deputy=403, director=403, clerk=403, archivist=403, outsider=404,
    **each(GX_CAST, 404), anonymous=302,
))
def test_only_the_owner_can_complete_an_assigned_task(client, world, who, expected):
    document, task = world.docs["first"], world.tasks["first_review"]
    before = world_state()
    url = f"/tasks/{task.pk}/"
    response = as_(client, world, who).post(url, DECIDE_APPROVE)
    assert_status(response, expected, url)
    if who == "head":
        assert response["Location"] == f"/documents/{document.pk}/"
        assert task_state(task)[0] == STATUS.DONE
        following = actions.open_tasks(document).get()
        assert (following.state.name, following.status, following.owner_id) == ("复审", STATUS.NEW, None)
    else:
        assert world_state() == before
        assert task_state(task) == (STATUS.ASSIGNED, world.users["head"].pk)


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH - {"reviewer"}, 403), reviewer=302, outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_only_an_eligible_holder_of_the_role_can_complete_a_queued_task(client, world, who, expected):
    document, task = world.docs["second"], world.tasks["second_review"]
    before = world_state()
    url = f"/tasks/{task.pk}/"
    assert_status(as_(client, world, who).post(url, DECIDE_APPROVE), expected, url)
    if who == "reviewer":
        assert task_state(task) == (STATUS.DONE, world.users["reviewer"].pk)
        # No 会签科室 were chosen: the 会签 is skipped and 终审 goes to the 分管领导.
        assert [(n, st) for n, _, st in states_of(document)][2:] == [("会签", S.SKIPPED), ("终审", S.OPEN)]
        assert actions.open_tasks(document).get().owner == world.users["deputy"]
    else:
        assert world_state() == before
        assert task_state(task) == (STATUS.NEW, None)


def states_of(document):
    return [(s.name, s.party_label, s.status) for s in document.step_states.order_by("opening", "pk")]


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), gx_drafter=403, gx_head=403, gx_industry=302, gx_digital=403, gx_reviewer=403,
    gx_deputy=403, gx_director=403, gx_clerk=403, gx_archivist=403, anonymous=302,
))
def test_only_its_head_can_countersign_for_a_department_and_the_document_waits_for_the_other(
    client, world, who, expected,
):
    document, task = world.docs["gx_countersign"], world.tasks["gx_industry"]
    before = world_state()
    url = f"/tasks/{task.pk}/"
    assert_status(as_(client, world, who).post(url, {**DECIDE_APPROVE, "text": "同意，本科无意见。"}), expected, url)
    if who == "gx_industry":
        assert task_state(task)[0] == STATUS.DONE
        assert state(document)[0] == Stage.REVIEWING
        assert [str(t.state) for t in actions.open_tasks(document)] == ["会签（信息化推进科）"]
        assert document.opinions.get(step="会签").party == "产业发展科"
        # Once the other party agrees too, 终审 opens for the 分管领导.
        as_(client, world, "gx_digital").post(f"/tasks/{world.ids['task_gx_digital']}/", DECIDE_APPROVE)
        following = actions.open_tasks(document).get()
        assert (following.state.name, following.owner) == ("终审", world.users["gx_deputy"])
    else:
        assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH - {"reviewer"}, 403), reviewer=302, outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_only_the_reviewer_can_return_the_second_review_to_the_first(client, world, who, expected):
    document, task = world.docs["second"], world.tasks["second_review"]
    before = world_state()
    url = f"/tasks/{task.pk}/"
    data = {"decision": Decision.RETURN, "text": "请科室再核数据。", "return_to": "1"}
    assert_status(as_(client, world, who).post(url, data), expected, url)
    if who == "reviewer":
        assert "已退回初审" in page(client.get(f"/documents/{document.pk}/"))  # the message, on the next page
        assert state(document)[0] == Stage.REVIEWING
        reopened = actions.open_tasks(document).get()
        assert (reopened.state.name, reopened.owner) == ("初审", world.users["head"])
        assert document.opinions.filter(step="复审", decision=Decision.RETURN).count() == 1
        assert ("初审", document.pk) in task_rows(as_(client, world, "head").get("/tasks/inbox/"))
    else:
        assert world_state() == before


@pytest.mark.parametrize("return_to", ["2", "3", "5", "0", "abc"])
def test_a_return_to_a_step_that_is_not_earlier_is_a_400_and_changes_nothing(client, world, return_to):
    task = world.tasks["second_review"]
    before = world_state()
    data = {"decision": Decision.RETURN, "text": "请修改。", "return_to": return_to}
    response = as_(client, world, "reviewer").post(f"/tasks/{task.pk}/", data)
    assert response.status_code == 400
    assert "return_to" in response.context["form"].errors
    assert world_state() == before


def test_a_countersign_party_returns_to_the_drafter_whatever_return_to_says_and_cancels_the_other(client, world):
    document = world.docs["gx_countersign"]
    data = {"decision": Decision.RETURN, "text": "数据口径与我科不一致。", "return_to": "1"}
    response = as_(client, world, "gx_digital").post(f"/tasks/{world.ids['task_gx_digital']}/", data)
    assert response.status_code == 302
    assert state(document)[0] == Stage.RETURNED
    assert task_state(world.tasks["gx_industry"])[0] == STATUS.CANCELED
    revise = actions.open_tasks(document).get()
    assert (revise.state.kind, revise.owner) == (StepKind.REVISE, world.users["gx_drafter"])
    assert {party: status for name, party, status in states_of(document) if name == "会签"} == {
        "产业发展科": S.CANCELLED, "信息化推进科": S.RETURNED}
    # The drafter reads the reason on the revise page; the other party's 待办 is empty.
    assert "数据口径与我科不一致。" in page(as_(client, world, "gx_drafter").get(f"/tasks/{revise.pk}/"))
    assert task_rows(as_(client, world, "gx_industry").get("/tasks/inbox/")) == set()


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH, 302), outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_only_an_eligible_holder_of_the_role_can_claim_a_queued_task(client, world, who, expected):
    document, task = world.docs["second"], world.tasks["second_review"]
    before, events = world_state(), Event.objects.count()
    url = f"/tasks/{task.pk}/claim/"
    response = as_(client, world, who).post(url)
    assert_status(response, expected, url)
    if who == "reviewer":
        assert response["Location"] == f"/tasks/{task.pk}/"
        assert task_state(task) == (STATUS.ASSIGNED, world.users["reviewer"].pk)
        assert Event.objects.count() == events + 1  # the claim is in the history
        assert document.events.latest("seq").action == "claim"
        inbox = client.get("/tasks/inbox/")
        assert ("复审", document.pk) in task_rows(inbox)
        assert menu_counts(inbox) == (1, 0)
    else:
        assert world_state() == before
        if expected == 302 and who != ANONYMOUS:
            assert response["Location"] == "/tasks/queue/"
        assert task_state(task) == (STATUS.NEW, None)


@pytest.mark.parametrize("who, expected", row(
    **each(CAST, 404), **each(GX_PATH, 302), gx_industry=404, gx_digital=404, anonymous=302,
))
def test_only_the_office_reviewer_of_industry_can_claim_its_second_review(client, world, who, expected):
    task = world.tasks["gx_second_review"]
    before = world_state()
    url = f"/tasks/{task.pk}/claim/"
    assert_status(as_(client, world, who).post(url), expected, url)
    if who == "gx_reviewer":
        assert task_state(task) == (STATUS.ASSIGNED, world.users["gx_reviewer"].pk)
        assert named(world, task_rows(client.get("/tasks/inbox/"))) == {("复审", "gx_second")}
        # Claimed, the task is the reviewer's alone: the other office staff now get 403.
        assert as_(client, world, "gx_clerk").get(f"/tasks/{task.pk}/").status_code == 403
    else:
        assert world_state() == before
        assert task_state(task) == (STATUS.NEW, None)


@pytest.mark.parametrize("who, task, message", [
    ("gx_digital", "gx_industry", "该任务已由施建华领取"),
    ("gx_industry", "gx_industry", "您已领取该任务"),
    ("head", "first_review", "您已领取该任务"),
    ("deputy", "first_review", "该任务已由陈志明领取"),
])
def test_a_task_assigned_to_someone_cannot_be_claimed(client, world, who, task, message):
    before = world_state()
    response = as_(client, world, who).post(f"/tasks/{world.ids['task_' + task]}/claim/", follow=True)
    assert response.status_code == 200
    assert message in page(response)
    assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH, 302), outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_only_the_person_who_claimed_a_task_can_release_it(client, world, who, expected):
    document, task = world.docs["second"], world.tasks["second_review"]
    reviewer = world.users["reviewer"]
    actions.claim(task, reviewer)
    before, before_document = world_state(), state(document)
    url = f"/tasks/{task.pk}/release/"
    # Once claimed, the task page is the reviewer's alone.
    if who not in ("reviewer", ANONYMOUS):
        assert as_(client, world, who).get(f"/tasks/{task.pk}/").status_code == (403 if who in QK_PATH else 404)
    response = as_(client, world, who).post(url)
    assert_status(response, expected, url)
    if who == "reviewer":
        # Releasing changes no stage or opinion; it adds one entry to the history.
        stage, opinions, events = before_document
        assert state(document) == (stage, opinions, events + 1)
        assert response["Location"] == "/tasks/inbox/"
        assert task_state(task) == (STATUS.NEW, None)
    else:
        assert world_state() == before
        assert task_state(task) == (STATUS.ASSIGNED, reviewer.pk)


@pytest.mark.parametrize("who, task", [("head", "first_review"), ("gx_industry", "gx_industry")])
def test_a_task_assigned_directly_cannot_be_released_into_a_queue(client, world, who, task):
    task = world.tasks[task]
    response = as_(client, world, who).post(f"/tasks/{task.pk}/release/", follow=True)
    assert response.status_code == 200
    assert "该任务直接分配给您，不能退回待领取" in page(response)
    assert task_state(task) == (STATUS.ASSIGNED, world.users[who].pk)


@pytest.mark.parametrize("task, document", [("done_first_review", "second"), ("gx_done_review", "gx_countersign")])
@pytest.mark.parametrize("who", EVERYONE)
def test_a_done_task_sends_those_who_see_the_document_to_it_and_stays_hidden_from_others(
    client, world, who, task, document,
):
    task, document = world.tasks[task], world.docs[document]
    expected = 302 if who == ANONYMOUS or who in VISIBLE_TO[world.names[document.pk]] else 404
    before = world_state()
    as_(client, world, who)
    for suffix, method in (("", "get"), ("", "post"), ("claim/", "post"), ("release/", "post")):
        url = f"/tasks/{task.pk}/{suffix}"
        response = getattr(client, method)(url, DECIDE_APPROVE if method == "post" else None)
        assert_status(response, expected, url)
        if expected == 302 and who != ANONYMOUS and suffix == "":
            assert response["Location"] == f"/documents/{document.pk}/"
    assert world_state() == before


# --- One organ's staff and the other organ's documents --------------------------------------------


def document_gets(pk):
    return [
        f"/documents/{pk}/", f"/documents/{pk}/edit/", f"/documents/{pk}/preview.pdf?r=1",
        f"/documents/{pk}/issued.pdf?download=1", f"/documents/{pk}/export.json",
        f"/documents/{pk}/revisions/1/?compare=1",
    ]


def document_posts(pk):
    return [
        (f"/documents/{pk}/edit/", draft_form()), (f"/documents/{pk}/submit/", {}),
        (f"/documents/{pk}/withdraw/", {"reason": "x"}), (f"/documents/{pk}/grant/", {"username": "outsider"}),
    ]


def task_requests(pk):
    return [
        ("get", f"/tasks/{pk}/", None), ("post", f"/tasks/{pk}/", DECIDE_APPROVE),
        ("post", f"/tasks/{pk}/claim/", {}), ("post", f"/tasks/{pk}/release/", {}),
    ]


def assert_nothing_of(client, pks, tasks_of=()):
    """Every URL of the documents `pks` and of their tasks (the open ones and the first done
    one), and every URL of the tasks of the documents `tasks_of`, answer 404 to the client's user."""
    for pk in pks:
        for url in document_gets(pk):
            assert client.get(url).status_code == 404, url
        for url, data in document_posts(pk):
            assert client.post(url, data).status_code == 404, url
    for pk in (*pks, *tasks_of):
        tasks = queries.human_tasks().filter(state__document_id=pk)
        done = tasks.filter(status=STATUS.DONE).order_by("pk")[:1]
        for task in [*tasks.filter(status__in=queries.OPEN), *done]:
            for method, url, data in task_requests(task.pk):
                assert getattr(client, method)(url, data).status_code == 404, (method, url)


# Of each organ: every URL of the issued document (its PDFs, its archive, a done task), and
# every URL of the tasks of a document in review (a queued 复审 of 泉科, the two assigned 会签
# tasks of 泉工信, and a done step of each). The other documents' URLs answer the other
# organ's staff 404 in the matrices above, every document's own page in
# test_every_document_page_follows_the_visibility_table.
SWEPT = {QK: (("issued",), ("second",)), GX: (("gx_issued",), ("gx_countersign",))}


@pytest.mark.parametrize("who", STAFF)
def test_staff_of_one_organ_get_404_on_every_url_of_the_other_organs_documents_and_change_nothing(
    client, world, who,
):
    before = world_state()
    documents, in_review = SWEPT[OTHER[ORGAN_OF[who]]]
    as_(client, world, who)
    assert_nothing_of(client, [world.ids[name] for name in documents], [world.ids[name] for name in in_review])
    assert world_state() == before


@pytest.mark.parametrize("who, hidden", [
    ("outsider", ("second", "issued")),
    ("drafter", ("foreign",)),
    ("gx_industry", ("gx_second", "gx_issued")),
    ("gx_head", ("gx_draft",)),
])
def test_a_drafter_or_head_gets_404_on_every_url_of_the_documents_of_their_organ_they_may_not_see(
    client, world, who, hidden,
):
    before = world_state()
    as_(client, world, who)
    assert_nothing_of(client, [world.ids[name] for name in hidden])
    assert world_state() == before
    assert not any(can_view(world.users[who], world.docs[name]) for name in hidden)


def traces_of(organ):
    """What of `organ` must never show to the other organ's staff: the titles and 文号 of its
    documents, the names of its people and of the 科室 only it has."""
    documents = Document.objects.filter(organ__code=organ)
    people = get_user_model().objects.filter(appointments__organ__code=organ).distinct()
    others = Department.objects.filter(organ__code=OTHER[organ]).values_list("name", flat=True)
    return (
        {d.title for d in documents} | {d.doc_number for d in documents if d.doc_number}
        | {display_name(p) for p in people}
        | set(Department.objects.filter(organ__code=organ).exclude(name__in=others).values_list("name", flat=True))
    )


def assert_no_trace(response, traces, url):
    found = sorted(trace for trace in traces if html.escape(trace) in page(response))
    assert not found, (url, found)


def pages_of(world, who):
    """The pages whose content depends on the person, each of which opens for `who`: the task
    lists and the document lists, the 拟稿 page, the office's pages, the archive, the chains,
    and the pages of the tasks they hold or may take."""
    prefix = "qk" if ORGAN_OF[who] == QK else "gx"
    urls = ["/tasks/inbox/", "/tasks/queue/", "/tasks/done/", "/documents/", "/documents/?scope=all"]
    if who in DRAFTS_FOR:
        urls += ["/documents/new/"]
    if who in OFFICE:
        urls += ["/numbers/", "/recipients/"]
    if who in ARCHIVE_READERS:
        urls += ["/archive/", f"/archive/{world.ids[prefix + '_record']}/"]
    if who in CLERKS:
        urls += [f"/recipients/{world.ids[prefix + '_recipient']}/", "/chains/", "/chains/new/",
                 f"/chains/{world.ids[prefix + '_chain']}/"]
    tasks = {(str(task.state), world.names[task.state.document_id]): task.pk
             for task in queries.human_tasks().filter(status__in=queries.OPEN)}
    urls += [f"/tasks/{tasks[held]}/" for held in sorted(INBOX[who] | QUEUE[who])]
    return urls


@pytest.mark.parametrize("who", STAFF)
def test_no_list_or_office_page_an_organs_staff_opens_shows_a_trace_of_the_other_organ(client, world, who):
    """(Each document's page is checked in test_every_document_page_follows_the_visibility_table.)"""
    traces = traces_of(OTHER[ORGAN_OF[who]])
    assert len(traces) > 10
    as_(client, world, who)
    for url in pages_of(world, who):
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_trace(response, traces, url)


@pytest.mark.parametrize("who", STAFF)
def test_searching_for_the_other_organs_titles_and_numbers_finds_nothing(client, world, who):
    theirs = Document.objects.filter(organ__code=OTHER[ORGAN_OF[who]])
    # Their draft, a document in review and the issued one, and every 文号 they gave.
    titles = [theirs.filter(stage=stage).order_by("pk")[0].title
              for stage in (Stage.DRAFTING, Stage.REVIEWING, Stage.ARCHIVED)]
    numbers = [d.doc_number for d in theirs if d.doc_number]
    assert numbers
    as_(client, world, who)
    # The search finds what the user may see: the first of their organ's documents they see.
    mine = next(world.docs[name] for name in DOCS_OF[ORGAN_OF[who]] if who in VISIBLE_TO[name])
    response = client.get("/documents/?" + urlencode({"scope": "all", "q": mine.title}))
    assert document_links(response) == {mine.pk}
    for query in titles + numbers + [OTHER[ORGAN_OF[who]]]:
        url = "/documents/?" + urlencode({"scope": "all", "q": query})
        response = client.get(url)
        assert response.status_code == 200
        assert document_links(response) == set(), url
        assert "没有符合条件的公文" in page(response)
    if who in ARCHIVE_READERS:
        own = Document.objects.get(organ__code=ORGAN_OF[who], stage=Stage.ARCHIVED)
        response = client.get("/archive/?" + urlencode({"text": own.title}))
        assert set(re.findall(r'href="/archive/(\d+)/"', page(response))) == {str(own.archive_record.pk)}
        archived = theirs.get(stage=Stage.ARCHIVED)
        for field, query in (("text", archived.title), ("title", archived.title), ("number", archived.doc_number)):
            url = "/archive/?" + urlencode({field: query})
            response = client.get(url)
            assert response.status_code == 200, url
            assert re.findall(r'href="/archive/(\d+)/"', page(response)) == [], url
            # The query is echoed in its search box; nothing else of it is on the page.
            assert query not in page(response).replace(f'value="{html.escape(query)}"', ""), url


# --- The office's pages: 文号登记簿 and 收文机关名录 ---------------------------------------------------

OFFICE_ROW = {who: 200 if who in OFFICE else 403 for who in STAFF}


def numbers_of(organ):
    return set(Document.objects.filter(organ__code=organ).exclude(doc_number="").exclude(
        doc_number__isnull=True).values_list("doc_number", flat=True))


@pytest.mark.parametrize("who, expected", row(**OFFICE_ROW, anonymous=302))
def test_the_number_register_opens_for_the_office_of_each_organ_on_its_own_numbers(client, world, who, expected):
    response = as_(client, world, who).get("/numbers/")
    assert_status(response, expected, "/numbers/")
    if expected == 200:
        organ = ORGAN_OF[who]
        text = page(response)
        own, others = numbers_of(organ), numbers_of(OTHER[organ])
        assert own and others
        assert all(number in text for number in own)
        assert not any(number in text for number in others)
        assert f'<option value="{organ}" selected>' in text
        assert f'<option value="{OTHER[organ]}"' not in text
        assert document_links(response) <= visible(world, who)
    if expected == 403:
        assert "只有本机关办公室可以查看发文字号登记簿" in page(response)


@pytest.mark.parametrize("code", [QK, GX, "泉财", ""])
@pytest.mark.parametrize("who", sorted(OFFICE))
def test_the_office_of_one_organ_gets_403_on_the_number_register_of_another(client, world, who, code):
    url = "/numbers/?" + urlencode({"code": code, "year": "2026"})
    response = as_(client, world, who).get(url)
    assert response.status_code == (200 if code in ("", ORGAN_OF[who]) else 403)


@pytest.mark.parametrize("who, expected", row(
    **{who: 403 for who in STAFF if who not in OFFICE}, reviewer=200, clerk=302, archivist=200,
    gx_reviewer=200, gx_clerk=302, gx_archivist=200, anonymous=302,
))
def test_only_the_clerk_of_an_organ_voids_its_next_number(client, world, who, expected):
    before, voids = world_state(), NumberVoid.objects.count()
    response = as_(client, world, who).post("/numbers/", {"reason": "系统外已使用"})
    assert_status(response, expected, "/numbers/")
    if expected == 302 and who != ANONYMOUS:
        void = NumberVoid.objects.latest("pk")
        assert void.number.startswith(ORGAN_OF[who] + "〔")
        assert NumberVoid.objects.count() == voids + 1
        assert unquote(response["Location"]) == f"/numbers/?code={ORGAN_OF[who]}&year={void.year}"
    else:
        assert world_state() == before
        if expected == 200:
            assert "只有本机关的办公室文书可以作废文号" in page(response)


@pytest.mark.parametrize("who", sorted(CLERKS))
def test_a_clerk_cannot_void_a_number_of_the_other_organ(client, world, who):
    before = world_state()
    url = "/numbers/?" + urlencode({"code": OTHER[ORGAN_OF[who]]})
    response = as_(client, world, who).post(url, {"reason": "系统外已使用"})
    assert response.status_code == 403
    assert world_state() == before


def recipient_names(organ):
    return set(RecipientOrgan.objects.filter(organ__code=organ).values_list("name", flat=True))


@pytest.mark.parametrize("who, expected", row(**OFFICE_ROW, anonymous=302))
def test_the_address_book_opens_for_the_office_of_each_organ_on_its_own_entries(client, world, who, expected):
    response = as_(client, world, who).get("/recipients/")
    assert_status(response, expected, "/recipients/")
    if expected == 200:
        organ = ORGAN_OF[who]
        text = page(response)
        own, only_theirs = recipient_names(organ), recipient_names(OTHER[organ]) - recipient_names(organ)
        assert own and only_theirs
        assert all(f"<td>{html.escape(name)}</td>" in text for name in own)
        assert not any(f"<td>{html.escape(name)}</td>" in text for name in only_theirs)
        edit_links = {int(pk) for pk in re.findall(r'href="/recipients/(\d+)/"', text)}
        mine = set(RecipientOrgan.objects.filter(organ__code=organ).values_list("pk", flat=True))
        assert edit_links == (mine if who in CLERKS else set())


@pytest.mark.parametrize("who", sorted(OFFICE))
def test_the_office_of_one_organ_gets_403_on_the_address_book_of_another(client, world, who):
    own, other = (world.ids["qk_organ"], world.ids["gx_organ"])[:: 1 if ORGAN_OF[who] == QK else -1]
    as_(client, world, who)
    assert client.get(f"/recipients/?organ={own}").status_code == 200
    assert client.get(f"/recipients/?organ={other}").status_code == 403
    # Adding an entry is the clerk's: of their own organ's book only.
    assert client.get(f"/recipients/new/?organ={own}").status_code == (200 if who in CLERKS else 403)
    assert client.get(f"/recipients/new/?organ={other}").status_code == 403
    before = world_state()
    data = {"name": "泉州市统计局", "aliases": "", "active": "on"}
    assert client.post(f"/recipients/new/?organ={other}", data).status_code == 403
    assert world_state() == before


@pytest.mark.parametrize("who, expected", row(
    **{who: 403 for who in STAFF if who not in CLERKS}, clerk=200, gx_clerk=200, anonymous=302,
))
def test_only_the_clerks_may_add_to_the_address_book(client, world, who, expected):
    assert_status(as_(client, world, who).get("/recipients/new/"), expected, "/recipients/new/")
    before = world_state()
    response = as_(client, world, who).post("/recipients/new/", {"name": "泉州市统计局", "aliases": "", "active": "on"})
    if expected == 200:
        assert response.status_code == 302
        added = RecipientOrgan.objects.get(name="泉州市统计局")
        assert added.organ.code == ORGAN_OF[who]
        assert response["Location"] == f"/recipients/?organ={added.organ_id}"
    else:
        assert_status(response, expected, "/recipients/new/")
        assert world_state() == before


@pytest.mark.parametrize("entry", ["qk_recipient", "gx_recipient"])
@pytest.mark.parametrize("who", EVERYONE)
def test_an_entry_of_the_address_book_opens_only_for_the_clerk_of_its_organ(client, world, who, entry):
    organ = QK if entry == "qk_recipient" else GX
    url = f"/recipients/{world.ids[entry]}/"
    expected = 302 if who == ANONYMOUS else (200 if ORGAN_OF[who] == organ else 404) if who in CLERKS else 403
    before = world_state()
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        assert RecipientOrgan.objects.get(pk=world.ids[entry]).name in page(response)
    response = client.post(url, {"name": "改名的机关", "aliases": "", "active": "on"})
    assert_status(response, 302 if expected == 200 else expected, url)
    if expected == 200:
        assert RecipientOrgan.objects.get(pk=world.ids[entry]).name == "改名的机关"
    else:
        assert world_state() == before


# --- The archive --------------------------------------------------------------------------------

ARCHIVE_ROW = {who: 200 if who in ARCHIVE_READERS else 403 for who in STAFF}


@pytest.mark.parametrize("who, expected", row(**ARCHIVE_ROW, anonymous=302))
def test_the_archive_opens_for_the_archive_readers_of_each_organ_on_its_own_records(client, world, who, expected):
    response = as_(client, world, who).get("/archive/")
    assert_status(response, expected, "/archive/")
    if expected == 200:
        organ = ORGAN_OF[who]
        own, theirs = (world.docs["issued"], world.docs["gx_issued"])[:: 1 if organ == QK else -1]
        text = page(response)
        records = {int(pk) for pk in re.findall(r'href="/archive/(\d+)/"', text)}
        assert records == {ArchiveRecord.objects.get(document=own).pk}
        assert own.title in text and own.doc_number in text
        assert theirs.title not in text and theirs.doc_number not in text
    if expected == 403:
        assert "档案仅供档案员、办公室和主要领导查阅" in page(response)


@pytest.mark.parametrize("record", ["qk_record", "gx_record"])
@pytest.mark.parametrize("who", EVERYONE)
def test_an_archive_record_opens_only_for_the_archive_readers_of_its_organ(client, world, who, record):
    organ = QK if record == "qk_record" else GX
    if who == ANONYMOUS:
        expected = 302
    else:
        expected = 403 if who not in ARCHIVE_READERS else 200 if ORGAN_OF[who] == organ else 404
    as_(client, world, who)
    for suffix in ("", "files/issued_pdf/", "files/metadata/", "export.zip"):
        url = f"/archive/{world.ids[record]}/{suffix}"
        response = client.get(url)
        assert_status(response, expected, url)
        if expected == 200 and suffix == "":
            assert ArchiveRecord.objects.get(pk=world.ids[record]).archive_code in page(response)
        if expected == 200 and suffix == "files/issued_pdf/":
            assert response["Content-Type"] == "application/pdf"
        if expected == 200 and suffix == "export.zip":
            assert b"".join(response.streaming_content).startswith(b"PK")


@pytest.mark.parametrize("who", STAFF)
def test_the_archive_has_only_get_views(client, world, who):
    before = world_state()
    as_(client, world, who)
    for name in ("qk_record", "gx_record"):
        for url in ("/archive/", f"/archive/{world.ids[name]}/", f"/archive/{world.ids[name]}/export.zip",
                    f"/archive/{world.ids[name]}/files/issued_pdf/"):
            assert client.post(url).status_code == 405, url
    assert world_state() == before


# --- 审核流程: the 机关管理员's pages -----------------------------------------------------------------

ADMIN_ROW = {who: 200 if who in CLERKS else 403 for who in STAFF}


def chains_of(organ):
    return set(ReviewChain.objects.filter(organ__code=organ).values_list("pk", flat=True))


@pytest.mark.parametrize("who, expected", row(**ADMIN_ROW, anonymous=302))
@pytest.mark.parametrize("url", ["/chains/", "/chains/new/"])
def test_the_chain_pages_open_only_for_the_administrator_of_each_organ_on_its_own_chains(
    client, world, who, expected, url,
):
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        organ = ORGAN_OF[who]
        text = page(response)
        own = world.ids["qk_organ" if organ == QK else "gx_organ"]
        if url == "/chains/":
            assert f"<h1>审核流程 · {ORGAN_NAMES[organ]}</h1>" in text
            assert f'href="/chains/new/?organ={own}"' in text
            assert {int(pk) for pk in re.findall(r'href="/chains/(\d+)/"', text)} == chains_of(organ)
        else:
            assert f'href="/chains/?organ={own}"' in text
    if expected == 403:
        assert "只有本机关的机关管理员可以设置审核流程" in page(response)


@pytest.mark.parametrize("url", ["/chains/?organ={qk_organ}", "/chains/?organ={gx_organ}",
                                 "/chains/new/?organ={qk_organ}", "/chains/new/?organ={gx_organ}"])
@pytest.mark.parametrize("who", sorted(CLERKS))
def test_an_administrator_gets_403_on_the_chains_of_the_other_organ(client, world, who, url):
    url = url.format(**world.ids)
    own = f"organ={world.ids['qk_organ' if ORGAN_OF[who] == QK else 'gx_organ']}"
    assert as_(client, world, who).get(url).status_code == (200 if own in url else 403)


def chain_form(name="纪要审核", doc_types=("纪要",)):
    return {
        "name": name, "doc_types": list(doc_types), "active": "on",
        "s-TOTAL_FORMS": "2", "s-INITIAL_FORMS": "0", "s-MIN_NUM_FORMS": "0", "s-MAX_NUM_FORMS": "12",
        "s-0-name": "初审", "s-0-kind": "review", "s-0-actor": "department_head", "s-0-ORDER": "1",
        "s-1-name": "签发", "s-1-kind": "sign", "s-1-actor": "role", "s-1-role": "principal", "s-1-ORDER": "2",
    }


@pytest.mark.parametrize("chain", ["qk_chain", "gx_chain"])
@pytest.mark.parametrize("who", EVERYONE)
def test_a_chain_opens_and_changes_only_for_the_administrator_of_its_organ(client, world, who, chain):
    organ = QK if chain == "qk_chain" else GX
    url = f"/chains/{world.ids[chain]}/"
    expected = 302 if who == ANONYMOUS else 403 if who not in CLERKS else 200 if ORGAN_OF[who] == organ else 404
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        assert "公文三审" in page(response)
    if expected == 404:
        assert "没有找到您要访问的页面或公文" in page(response)
    before = world_state()
    response = client.post(url, chain_form("公文三审", ()))
    if expected == 200:
        assert response.status_code == 302
        changed = ReviewChain.objects.get(pk=world.ids[chain])
        assert changed.version.number == 2 and changed.organ.code == organ
        assert [s.name for s in changed.version.steps.order_by("position")] == ["初审", "签发"]
    else:
        assert_status(response, expected, url)
        assert world_state() == before


@pytest.mark.parametrize("who", STAFF)
def test_only_an_administrator_creates_a_chain_and_only_for_their_own_organ(client, world, who):
    before = world_state()
    as_(client, world, who)
    other = world.ids["gx_organ" if ORGAN_OF[who] == QK else "qk_organ"]
    assert client.post(f"/chains/new/?organ={other}", chain_form()).status_code == 403
    assert world_state() == before
    response = client.post("/chains/new/", chain_form())
    if who in CLERKS:
        assert response.status_code == 302
        created = ReviewChain.objects.get(name="纪要审核")
        assert created.organ.code == ORGAN_OF[who]
        assert response["Location"] == f"/chains/{created.pk}/"
    else:
        assert response.status_code == 403
        assert world_state() == before


@pytest.mark.parametrize("who", sorted(CLERKS))
def test_an_administrator_cannot_name_the_other_organs_people_on_a_step(client, world, who):
    chain = world.ids["qk_chain" if ORGAN_OF[who] == QK else "gx_chain"]
    stranger = world.users["reviewer" if ORGAN_OF[who] == GX else "gx_reviewer"]
    data = {**chain_form("公文三审", ()), "s-0-actor": "users", "s-0-users": [str(stranger.pk)]}
    before = world_state()
    response = as_(client, world, who).post(f"/chains/{chain}/", data)
    assert response.status_code == 400
    assert "users" in response.context["steps"].forms[0].errors
    assert world_state() == before
    # Nor does the editor offer them.
    assert f'<option value="{stranger.pk}"' not in page(client.get(f"/chains/{chain}/"))


@pytest.mark.parametrize("who, department, people", [
    ("clerk", (QK, "综合科"), ("陈志明", "王丽", "黄建国", "张伟")),
    ("gx_clerk", (GX, "产业发展科"), ("施建华", "庄雅琴", "洪志强", "苏国栋")),
])
def test_the_chain_editor_shows_who_would_act_from_the_administrators_own_organ(client, world, who, department,
                                                                                  people):
    chain = world.ids["qk_chain" if ORGAN_OF[who] == QK else "gx_chain"]
    url = f"/chains/{chain}/?" + urlencode({"department": department_of(*department), "doc_type": "通知",
                                              "direction": "下行文"})
    response = as_(client, world, who).get(url)
    assert response.status_code == 200
    text = page(response)
    assert all(person in text for person in people)
    # A 科室 of the other organ is no valid sample: the page names nobody of it.
    other = (GX, "综合科") if ORGAN_OF[who] == QK else (QK, "综合科")
    url = f"/chains/{chain}/?" + urlencode({"department": department_of(*other), "doc_type": "通知",
                                              "direction": "下行文"})
    response = client.get(url)
    assert response.status_code == 200
    assert not any(trace in page(response) for trace in traces_of(other[0]))


# --- Bad input: 404 and 400, never 500 -------------------------------------------------------


MISSING = [
    "/documents/abc/", "/documents/-1/", "/documents/1.5/", "/documents/999999/", "/documents/999999/edit/",
    "/documents/999999/preview.pdf", "/documents/999999/issued.pdf", "/documents/999999/export.json",
    "/documents/999999/revisions/1/", "/documents/{first}/revisions/abc/", "/documents/{first}/revisions/99/",
    "/documents/{first}/revisions/0/", "/documents/{first}/preview.pdf?r=99", "/documents//",
    "/documents/{first}/revisions/1/?compare=99", "/documents/{first}/issued.pdf",
    "/documents/{gx_countersign}/revisions/99/", "/documents/{gx_countersign}/preview.pdf?r=99",
    "/tasks/abc/", "/tasks/999999/", "/tasks//", "/recipients/999999/", "/archive/999999/",
    "/archive/999999/export.zip", "/archive/{gx_record}/files/bogus/", "/chains/999999/", "/nowhere/",
]


@pytest.mark.parametrize("who", ["drafter", "gx_clerk"])
def test_a_missing_or_malformed_id_is_a_404(client, world, who):
    as_(client, world, who)
    for url in MISSING:
        url = url.format(**world.ids)
        response = client.get(url)
        if who == "drafter" and url.startswith(("/recipients/", "/archive/", "/chains/")):
            assert response.status_code == 403, url  # not the office: the page is closed whatever the id
            continue
        assert response.status_code == 404, url
        assert "页面不存在" in page(response)


@pytest.mark.parametrize("url", [
    "/documents/999999/submit/", "/documents/999999/withdraw/", "/documents/999999/grant/",
    "/documents/999999/edit/", "/tasks/999999/", "/tasks/999999/claim/", "/tasks/999999/release/",
    "/tasks/abc/claim/", "/recipients/999999/", "/chains/999999/",
])
@pytest.mark.parametrize("who", sorted(CLERKS))
def test_a_post_to_a_missing_id_is_a_404(client, world, url, who):
    before = world_state()
    assert as_(client, world, who).post(url, {"username": "outsider", "name": "x"}).status_code == 404
    assert world_state() == before


@pytest.mark.parametrize("who, document", [("head", "first"), ("gx_head", "gx_countersign")])
def test_a_start_node_id_is_no_task_page(client, world, who, document):
    # Only the flow's human tasks have pages; the id of its start (or any machine node) is a 404.
    other = StepTask.objects.exclude(flow_task_type="HUMAN").filter(
        process__documentprocess__document=world.docs[document]
    ).first()
    assert other is not None
    as_(client, world, who)
    assert client.get(f"/tasks/{other.pk}/").status_code == 404
    assert client.post(f"/tasks/{other.pk}/claim/").status_code == 404


def test_a_preview_with_a_non_numeric_revision_shows_the_current_text(client, world):
    response = as_(client, world, "drafter").get(f"/documents/{world.ids['first']}/preview.pdf?r=abc")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"


def test_a_return_without_a_reason_is_a_400_asking_for_the_reason(client, world):
    task = world.tasks["first_review"]
    before = world_state()
    response = as_(client, world, "head").post(f"/tasks/{task.pk}/", {"decision": Decision.RETURN, "text": "  "})
    assert response.status_code == 400
    assert "退回时必须填写退回理由" in page(response)
    assert world_state() == before
    assert task_state(task) == (STATUS.ASSIGNED, world.users["head"].pk)


@pytest.mark.parametrize("who, task", [("head", "first_review"), ("gx_industry", "gx_industry")])
@pytest.mark.parametrize("data", [{}, {"decision": "sign"}, {"decision": Decision.APPROVE, "text": "长" * 2001}])
def test_an_invalid_decision_is_a_400_and_changes_nothing(client, world, data, who, task):
    before = world_state()
    response = as_(client, world, who).post(f"/tasks/{world.ids['task_' + task]}/", data)
    assert response.status_code == 400
    assert world_state() == before


@pytest.mark.parametrize("copies", ["0", "-1", "abc", "", "100001"])
def test_registering_with_an_invalid_number_of_copies_is_a_400(client, world, copies):
    document, task = world.docs["registration"], world.tasks["register"]
    before = world_state()
    response = as_(client, world, "clerk").post(f"/tasks/{task.pk}/", {"copies": copies})
    assert response.status_code == 400
    assert "印发份数" in page(response)
    assert "copies" in response.context["form"].errors
    assert world_state() == before
    document.refresh_from_db()
    assert not document.doc_number
    assert task_state(task) == (STATUS.NEW, None)


def test_registering_with_valid_copies_gives_the_document_the_next_number_of_its_organ(client, world):
    document, task = world.docs["registration"], world.tasks["register"]
    taken = numbers_of(QK) | numbers_of(GX)
    response = as_(client, world, "clerk").post(f"/tasks/{task.pk}/", {"copies": "12"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.stage, document.copies) == (Stage.PRINTING, 12)
    assert re.fullmatch(r"泉科〔\d{4}〕\d+号", document.doc_number)
    assert document.doc_number not in taken


def test_registering_then_printing_is_the_clerks_alone(client, world):
    document, task = world.docs["registration"], world.tasks["register"]
    as_(client, world, "clerk").post(f"/tasks/{task.pk}/", {"copies": "12"})
    printing = actions.open_tasks(document).get()
    assert printing.state.kind == StepKind.PRINT
    for who in STAFF:
        expected = 200 if who == "clerk" else 403 if who in QK_PATH else 404
        assert as_(client, world, who).get(f"/tasks/{printing.pk}/").status_code == expected, who
    assert "印制正式文件" in page(as_(client, world, "clerk").get(f"/tasks/{printing.pk}/"))


# --- 核发 and 复核: the office's other forms ------------------------------------------------------


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH - {"clerk"}, 403), clerk=200, outsider=404, **each(GX_CAST, 404), anonymous=302,
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
    task = world.tasks["distribute"]
    before = world_state()
    response = as_(client, world, "clerk").post(f"/tasks/{task.pk}/", data)
    assert response.status_code == 400
    if message:
        assert message in page(response)
    assert world_state() == before
    assert task_state(task) == (STATUS.NEW, None)


@pytest.mark.parametrize("who, expected", row(
    **each(QK_PATH - {"clerk"}, 403), clerk=302, outsider=404, **each(GX_CAST, 404), anonymous=302,
))
def test_only_the_clerk_may_save_a_correction_at_recheck_and_it_goes_back_to_signing(client, world, who, expected):
    document = world.docs["recheck"]
    before = world_state()
    url = f"/documents/{document.pk}/edit/"
    data = draft_form(title="泉州市科学技术局关于报送2026年度科技统计数据的通知")
    assert_status(as_(client, world, who).post(url, data), expected, url)
    if who == "clerk":
        document.refresh_from_db()
        assert document.stage == Stage.SIGNING and document.signed_revision_id is None
        assert document.revisions.count() == 2
        assert named(world, task_rows(as_(client, world, "director").get("/tasks/queue/"))) == {("签发", "recheck")}
    else:
        assert world_state() == before


def test_an_unchanged_correction_at_recheck_is_a_400_with_the_reason(client, world):
    document = world.docs["recheck"]
    before = world_state()
    content = document.current_revision.content
    data = dict(DraftForm.initial_for(content, document.copies))
    data["seal"] = "on" if content["seal"] else ""
    response = as_(client, world, "clerk").post(f"/documents/{document.pk}/edit/", data)
    assert response.status_code == 400
    assert "内容没有变化，无需重新签发" in page(response)
    assert world_state() == before


def test_a_returned_document_shows_its_drafter_the_reason_and_lets_them_edit(client, world):
    document, task = world.docs["first"], world.tasks["first_review"]
    as_(client, world, "head")
    assert client.post(f"/tasks/{task.pk}/", {"decision": Decision.RETURN, "text": "请补充活动预算。"}).status_code == 302
    document.refresh_from_db()
    assert document.stage == Stage.RETURNED
    for who in STAFF:
        response = as_(client, world, who).get(f"/documents/{document.pk}/")
        assert response.status_code == (200 if who in QK_PATH else 404), who
        edit = client.get(f"/documents/{document.pk}/edit/").status_code
        assert edit == (200 if who == "drafter" else 403 if who in QK_PATH else 404), who
    assert "请补充活动预算。" in page(as_(client, world, "drafter").get(f"/documents/{document.pk}/"))
    assert named(world, task_rows(client.get("/tasks/inbox/"))) == {("修改", "first")}


# --- Documents nobody, or somebody else, can review -------------------------------------------------


def test_a_document_whose_only_first_reviewer_is_its_drafter_cannot_be_submitted(client, world, seed_content):
    head = world.users["head"]
    document = services.create_draft(head, short_content(seed_content, "泉州市科学技术局关于开展科技下乡活动的通知"))
    before = world_state()
    response = as_(client, world, "head").post(f"/documents/{document.pk}/submit/", follow=True)
    assert "“初审”环节没有拟稿人以外可办理的人员" in page(response)
    assert world_state() == before
    assert actions.process_of(document) is None


def test_a_department_without_a_head_has_its_first_review_opened_by_the_organs_head(client, world, seed_content):
    user = world.users["outsider"]
    document = services.create_draft(user, short_content(seed_content, "泉州市科学技术局关于开展科技下乡活动的通知"))
    actions.submit(document, user)
    task = actions.open_tasks(document).get()
    openers = [who for who in STAFF if as_(client, world, who).get(f"/tasks/{task.pk}/").status_code == 200]
    assert openers == ["head"]


def test_a_heads_own_draft_waits_for_the_other_heads_of_the_organ_and_no_one_outside(client, world, seed_content):
    head = world.users["gx_head"]
    document = services.create_draft(head, gx_content(seed_content, "泉州市工业和信息化局关于开展工业诊断服务的通知"))
    actions.submit(document, head)
    task = actions.open_tasks(document).get()
    assert (task.state.name, task.owner_id) == ("初审", None)
    for who in STAFF:
        rows = named(world, task_rows(as_(client, world, who).get("/tasks/queue/")))
        offered = ("初审", document.pk) in rows
        assert offered is (who in ("gx_industry", "gx_digital")), who
        opened = client.get(f"/tasks/{task.pk}/").status_code
        assert opened == (200 if who in ("gx_industry", "gx_digital") else 403 if can_view(world.users[who], document)
                          else 404), who
    assert not any(can_view(world.users[who], document) for who in CAST)


def test_a_joint_document_reaches_the_co_issuing_organ_only_through_its_office_reviewers_countersign(
    client, world, seed_content,
):
    organs = [ORGAN_NAMES[QK], ORGAN_NAMES[GX]]
    content = short_content(seed_content, "泉州市科学技术局 泉州市工业和信息化局关于联合开展科技服务企业活动的通知",
                            issuer_marks=organs, signature_orgs=organs)
    document = demo_path.take_through_path(content, world.users["drafter"], until="会签")
    task = actions.open_tasks(document).get()
    assert (str(task.state), task.owner_id) == ("会签（泉州市工业和信息化局）", None)
    for who in STAFF:
        as_(client, world, who)
        sees = who in QK_PATH or who == "gx_reviewer"
        assert client.get(f"/documents/{document.pk}/").status_code == (200 if sees else 404), who
        opens = 200 if who == "gx_reviewer" else 403 if sees else 404
        assert client.get(f"/tasks/{task.pk}/").status_code == opens, who
        queued = named(world, task_rows(client.get("/tasks/queue/")))
        assert (("会签（泉州市工业和信息化局）", document.pk) in queued) is (who == "gx_reviewer"), who
    # Through that one step only: 泉科's other documents and office pages stay closed to it.
    as_(client, world, "gx_reviewer")
    assert menu_counts(client.get("/documents/")) == (0, 2)
    assert client.get(f"/documents/{world.ids['first']}/").status_code == 404
    assert client.get("/numbers/?" + urlencode({"code": QK})).status_code == 403
    assert client.post(f"/tasks/{task.pk}/", {**DECIDE_APPROVE, "text": "同意联合印发。"}).status_code == 302
    following = actions.open_tasks(document).get()
    assert (following.state.name, following.owner) == ("终审", world.users["deputy"])
    # Having countersigned, the reviewer still sees the document; their colleagues never did.
    assert client.get(f"/documents/{document.pk}/").status_code == 200
    assert as_(client, world, "gx_clerk").get(f"/documents/{document.pk}/").status_code == 404
