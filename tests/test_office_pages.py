"""The pages an office lives in: lists that filter, sort and say where each document stands;
the words a stale tab or a taken task shows; the 发文稿纸 as the paper form; the text as page
pictures."""

import html

import pytest
from django.utils import timezone

from issuance import listing, services
from issuance.exceptions import IssuanceError
from issuance.models import Decision, Document
from workflows import actions

from .builders import decide, open_state, short_content, task_of


def submitted(cast, content, who="drafter"):
    document = services.create_draft(cast[who], content)
    actions.submit(document, cast[who], "请审核。")
    document.refresh_from_db()
    return document


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def three(cast, seed_content):
    """A 通知 at 复审, a 请示 still a draft, a 函 at 初审."""
    notice = submitted(cast, short_content(seed_content, "泉州市科学技术局关于开展科技活动周的通知"))
    decide(notice, cast["head"])
    request = services.create_draft(cast["drafter"], short_content(
        seed_content, "泉州市科学技术局关于申请科普经费的请示", doc_type="请示", direction="上行文"))
    letter = submitted(cast, short_content(seed_content, "泉州市科学技术局关于商请支持科普活动的函", doc_type="函",
                                           direction="平行文"))
    return notice, request, letter


def titles(response):
    return [row["document"].title for row in response.context["rows"]]


# --- Filters ---------------------------------------------------------------------------------------


def test_the_documents_list_filters_by_stage_doc_type_year_and_mine(cast, three, client):
    notice, request, letter = three
    client.force_login(cast["drafter"])
    assert set(titles(client.get("/documents/"))) == {notice.title, request.title, letter.title}
    assert titles(client.get("/documents/?doc_type=请示")) == [request.title]
    assert titles(client.get("/documents/?stage=drafting")) == [request.title]
    assert set(titles(client.get("/documents/?stage=reviewing"))) == {notice.title, letter.title}
    this_year = timezone.localdate().year
    assert len(titles(client.get(f"/documents/?year={this_year}"))) == 3
    assert titles(client.get(f"/documents/?year={this_year - 1}")) == []
    # The head sees all of the 科室's submitted documents, none drafted by him.
    client.force_login(cast["head"])
    assert set(titles(client.get("/documents/?scope=all"))) == {notice.title, letter.title}
    assert titles(client.get("/documents/?scope=mine")) == []


def test_the_documents_list_sorts_and_shows_who_holds_each_since_when(cast, three, client):
    notice, request, letter = three
    client.force_login(cast["drafter"])
    assert titles(client.get("/documents/?sort=title")) == sorted([notice.title, request.title, letter.title])
    response = client.get("/documents/")
    rows = {row["document"].pk: row["open"] for row in response.context["rows"]}
    assert [(s["step"], s["holder"]) for s in rows[letter.pk]] == [("初审", "陈志明")]
    assert rows[request.pk] == []
    assert "初审：陈志明" in text(response) and "起" in text(response)


@pytest.mark.parametrize("query", [
    "stage=nonsense", "doc_type=布告", "year=²", "year=1899", "year=" + "9" * 5000, "sort=-pk", "scope=everyone",
])
def test_a_filter_value_that_makes_no_sense_is_left_out(cast, three, client, query):
    client.force_login(cast["drafter"])
    response = client.get(f"/documents/?{query}")
    assert response.status_code == 200
    assert len(response.context["rows"]) == 3


def test_a_search_term_too_long_is_refused_with_a_message(cast, client):
    client.force_login(cast["drafter"])
    response = client.get("/documents/?q=" + "长" * 500)
    assert response.status_code == 400
    assert "检索内容过长（500 字，最多 100 字）" in text(response)


def test_the_task_lists_filter_and_sort(cast, three, client):
    notice, request, letter = three
    client.force_login(cast["head"])
    assert titles(client.get("/tasks/inbox/")) == [letter.title]
    assert titles(client.get("/tasks/inbox/?doc_type=通知")) == []
    done = client.get("/tasks/done/")
    assert titles(done) == [notice.title]
    # 已办 shows where the document stands now: 复审, waiting in the office's queue.
    (row,) = done.context["rows"]
    assert [s["step"] for s in row["open"]] == ["复审"]
    assert "待领取" in row["open"][0]["holder"]
    client.force_login(cast["reviewer"])
    assert titles(client.get("/tasks/queue/?sort=title")) == [notice.title]


def test_the_filter_form_keeps_what_was_chosen():
    filters = listing.ListFilter({"doc_type": "函", "sort": "title"}, listing.DOCUMENT_SORTS, default_scope="mine")
    chosen = {s["name"]: [v for v, _, on in s["options"] if on] for s in filters.selects}
    assert chosen["doc_type"] == ["函"] and chosen["sort"] == ["title"] and chosen["scope"] == ["mine"]
    assert filters.active


def test_the_doc_type_follows_the_current_revision(cast, seed_content):
    document = services.create_draft(cast["drafter"], short_content(seed_content))
    assert document.doc_type == "通知"
    services.save_content(document, cast["drafter"], short_content(seed_content, doc_type="通报"), None)
    assert Document.objects.get(pk=document.pk).doc_type == "通报"


# --- Words ------------------------------------------------------------------------------------


def test_a_task_opened_after_the_drafter_withdrew_says_so(cast, three, client):
    notice, request, letter = three
    task = task_of(open_state(letter))
    actions.take_back(letter, cast["drafter"])
    with pytest.raises(IssuanceError, match="拟稿人已撤回"):
        actions.complete(task, cast["head"], lambda: None)
    client.force_login(cast["head"])
    response = client.get(f"/tasks/{task.pk}/", follow=True)
    assert "拟稿人已撤回，该任务无需再办理" in text(response)


def test_a_task_someone_else_claimed_names_who_holds_it(cast, three):
    notice, request, letter = three
    task = task_of(open_state(notice))
    actions.claim(task, cast["reviewer"])
    task.refresh_from_db()
    with pytest.raises(IssuanceError, match="该任务已由王丽领取"):
        actions.claim(task, cast["clerk"])


def test_a_task_done_by_someone_else_names_who_did_it(cast, three, client):
    notice, request, letter = three
    task = task_of(open_state(letter))
    decide(letter, cast["head"])
    client.force_login(cast["head"])
    response = client.get(f"/tasks/{task.pk}/", follow=True)
    assert "“初审”已由陈志明办理" in text(response)


def test_a_claimed_task_can_be_released_from_its_page(cast, three, client):
    notice, request, letter = three
    task = task_of(open_state(notice))
    actions.claim(task, cast["reviewer"])
    client.force_login(cast["reviewer"])
    page = client.get(f"/tasks/{task.pk}/")
    assert f'action="/tasks/{task.pk}/release/"' in page.content.decode()
    response = client.post(f"/tasks/{task.pk}/release/", follow=True)
    assert "任务已退回待领取" in text(response)
    assert open_state(notice).claimed_by is None
    # A task given straight to someone has nothing to release.
    client.force_login(cast["head"])
    page = client.get(f"/tasks/{task_of(open_state(letter)).pk}/")
    assert "退回待领取" not in text(page)


def test_a_return_says_returned_not_done(cast, three, client):
    notice, request, letter = three
    task = task_of(open_state(letter))
    client.force_login(cast["head"])
    response = client.post(f"/tasks/{task.pk}/", {"decision": Decision.RETURN, "text": "请补充经费测算。"},
                           follow=True)
    assert [str(m) for m in response.context["messages"]] == ["已退回拟稿人"]


# --- The 发文稿纸 and the page pictures ----------------------------------------------------------


def test_the_sheet_has_the_boxes_of_the_paper_form_with_each_opinion(cast, three, client):
    notice, request, letter = three
    decide(notice, cast["reviewer"], text="格式、文字已核，同意。")
    client.force_login(cast["drafter"])
    response = client.get(f"/documents/{notice.pk}/sheet/")
    assert response.status_code == 200
    page = text(response)
    for label in ("签　发", "会　签", "核　稿", "拟　稿", "发文字号", "标　题", "主　送", "抄　送"):
        assert label in page
    boxes = {row["step"]: row for row in response.context["reviewed"]}
    assert set(boxes) == {"初审", "复审"}
    assert boxes["复审"]["text"] == "格式、文字已核，同意。" and boxes["复审"]["user"] == "王丽"
    assert "（登记时编号）" in page  # not numbered yet
    assert response.context["signing"] is None


def test_the_text_shows_as_page_pictures_of_each_width(cast, three, client):
    notice, request, letter = three
    client.force_login(cast["drafter"])
    response = client.get(f"/documents/{notice.pk}/")
    count = len(response.context["pages"]["count"])
    assert count >= 1
    assert f'/documents/{notice.pk}/pages/1.png?w=960' in response.content.decode()
    small = client.get(f"/documents/{notice.pk}/pages/1.png?w=480")
    large = client.get(f"/documents/{notice.pk}/pages/1.png?w=1600")
    assert small["Content-Type"] == large["Content-Type"] == "image/png"
    assert len(small.content) < len(large.content)
    assert client.get(f"/documents/{notice.pk}/pages/{count + 1}.png").status_code == 404
    # A width not offered falls back to the phone's, a revision that does not exist is 404.
    assert client.get(f"/documents/{notice.pk}/pages/1.png?w=99999").status_code == 200
    assert client.get(f"/documents/{notice.pk}/pages/1.png?r=9").status_code == 404
