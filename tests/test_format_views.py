"""拟稿 from a file and the 格式审查 in the app: the services (a check kept with every revision,
its one-click fixes, 送审 refused while an 错误 stands unless the drafter confirms it with a
reason) and the pages, cell by cell for both demo organs' casts, an outsider and an anonymous
visitor: who may upload, who sees the findings beside the text, who may fix them.

As in test_views, the documents are built once for the module inside a transaction rolled
back at the end, and each test runs in a savepoint on top.
"""

import html
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from issuance import demo, services
from issuance.exceptions import IssuanceError
from issuance.models import Department, Document, Event, FormatCheck, Revision, Stage
from issuance.wording import describe_event
from workflows import actions, demo_path, queries

from . import gongwen_files
from .builders import ANONYMOUS, as_, decide, gx_content, module_world, short_content
from .test_views import (
    CAST, DRAFTING_ROW, GX_CAST, STAFF, Fetched, assert_sent_to_login, assert_status, each, page, row,
    world_state,
)

REASON = "按原件印发，繁体字不改"
QK_PATH = {"drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist"}


def with_errors(content):
    """A draft whose 格式审查 finds one 错误 (a traditional character) and one 提示 (a space)."""
    body = [dict(block) for block in content["body"]]
    body[-1]["text"] = "各单位要高度重視，精心组织，确保活动取得实效。"
    body[2]["text"] = "2026 年5月17日至23日。"
    return {**content, "body": body}


def _build(seed_content):
    demo.load_organisation()
    users = {user.username: user for user in get_user_model().objects.filter(username__in=STAFF)}

    def qk(topic, **changes):
        return with_errors(short_content(seed_content, f"泉州市科学技术局关于{topic}的通知", **changes))

    documents = {
        "draft": services.create_draft(users["drafter"], qk("征集2026年科普作品")),
        "clean": services.create_draft(users["drafter"], short_content(seed_content, "泉州市科学技术局关于举办科普讲座的通知")),
        "gx_draft": services.create_draft(users["gx_drafter"], with_errors(gx_content(seed_content))),
        "second": demo_path.take_through_path(qk("做好2026年科技特派员工作"), users["drafter"], until="复审",
                                              format_reason=REASON),
        "recheck": demo_path.take_through_path(qk("报送2026年科技统计数据"), users["drafter"], until=Stage.RECHECK,
                                               format_reason=REASON),
    }
    docs = {name: document.pk for name, document in documents.items()}
    return SimpleNamespace(docs=docs, tasks={
        "second_review": queries.open_tasks(docs["second"]).get(state__name="复审").pk,
    })


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, seed_content, tmp_path_factory):
    with module_world(django_db_blocker, tmp_path_factory.mktemp("media")):
        yield _build(seed_content)


@pytest.fixture(autouse=True)
def media_root(built):
    """Overrides conftest's per-test media root: the world's PDFs live in the module's."""


@pytest.fixture
def world(built, db):
    User = get_user_model()
    return SimpleNamespace(
        users=Fetched(STAFF, lambda name: User.objects.get(username=name)),
        docs=Fetched(built.docs, lambda name: Document.objects.get(pk=built.docs[name])),
        tasks=built.tasks,
    )


def fix_url(world, name):
    return f"/documents/{world.docs[name].pk}/format/fix/"


def traditional_finding(document):
    """The position in the list of findings of the draft's traditional character."""
    findings = services.format_review.findings_of(document)
    return next(index for index, finding in enumerate(findings) if finding.rule == "traditional")


# --- Services ----------------------------------------------------------------------------------


def test_every_saved_revision_keeps_its_format_check(world):
    document = world.docs["draft"]
    check = FormatCheck.objects.get(revision=document.current_revision)
    assert (check.errors, check.hints) == (1, 1)
    assert [f["rule"] for f in check.findings] == ["spacing", "traditional"]
    content = dict(document.current_revision.content, cc="市科协、市科技馆")
    revision = services.save_content(document, world.users["drafter"], content)
    assert FormatCheck.objects.get(revision=revision).errors == 1
    assert services.save_content(document, world.users["drafter"], content) is None  # unchanged: no new check
    assert FormatCheck.objects.filter(revision__document=document).count() == 2


def test_a_submission_is_refused_while_an_error_stands_and_nothing_changes(world):
    document = world.docs["draft"]
    before = (document.stage, document.events.count(), document.opinions.count())
    with pytest.raises(IssuanceError, match="格式审查发现 1 处错误：请改正后送审，或写明理由确认送审"):
        actions.submit(document, world.users["drafter"], "请审核。")
    document.refresh_from_db()
    assert (document.stage, document.events.count(), document.opinions.count()) == before
    with pytest.raises(IssuanceError, match="理由过长"):
        actions.submit(document, world.users["drafter"], "", "理" * 201)


def test_the_drafter_confirms_a_submission_with_a_reason_that_the_history_keeps(world):
    document = world.docs["draft"]
    actions.submit(document, world.users["drafter"], "请审核。", REASON)
    event = document.events.get(action="submit")
    assert (event.detail["format_errors"], event.detail["format_reason"]) == (1, REASON)
    assert describe_event(event).endswith(f"格式审查 1 处错误未改正，确认送审：{REASON}")


def test_a_clean_draft_is_submitted_without_a_reason_and_records_none(world):
    document = world.docs["clean"]
    actions.submit(document, world.users["drafter"])
    assert "format_reason" not in document.events.get(action="submit").detail


def test_a_revision_saved_before_the_check_existed_is_checked_when_shown_and_not_held_back(world):
    document = world.docs["draft"]
    revision = document.current_revision
    # As before the migration: a check is append-only, so only a raw delete takes it away.
    FormatCheck.objects.filter(revision=revision)._raw_delete(FormatCheck.objects.db)
    assert [f.rule for f in services.format_review.findings_of(document)] == ["spacing", "traditional"]
    actions.submit(document, world.users["drafter"])
    assert "format_reason" not in document.events.get(action="submit").detail
    assert not FormatCheck.objects.filter(revision=revision).exists()


def test_the_fixed_content_is_refused_for_a_revision_that_is_not_the_current_one(world):
    document = world.docs["draft"]
    with pytest.raises(IssuanceError, match="稿纸已保存为第1稿，请刷新页面后再改正"):
        services.format_review.fixed_content(document, 2, "all")
    with pytest.raises(IssuanceError, match="没有找到要改正的问题"):
        services.format_review.fixed_content(document, 1, [99])
    with pytest.raises(IssuanceError, match="没有可以自动改正的方法"):
        services.format_review.fixed_content(world.docs["clean"], 1, "all")


# --- 拟稿 from a file --------------------------------------------------------------------------


def upload(content, name="通知.docx"):
    data = gongwen_files.docx_of(content) if name.endswith(".docx") else gongwen_files.text_of(content)
    return {"file": SimpleUploadedFile(name, data)}


@pytest.mark.parametrize("who, expected", row(**DRAFTING_ROW, anonymous=302))
def test_drafters_upload_a_word_file_and_get_a_filled_sheet_with_its_findings_and_nothing_is_saved(
    client, world, seed_content, who, expected,
):
    before = world_state()
    content = with_errors(short_content(seed_content))
    response = as_(client, world, who).post("/documents/new/import/", upload(content))
    assert_status(response, expected, "/documents/new/import/")
    assert world_state() == before
    if expected == 403:
        assert "您没有拟稿权限" in page(response)
    if expected != 200:
        return
    text = page(response)
    assert "已从“通知.docx”识别" in text
    form = response.context["form"]
    assert form.initial["title"] == content["title"]
    assert form.initial["main_recipients"] == content["main_recipients"]
    assert form.initial["body"].splitlines()[-1] == "各单位要高度重視，精心组织，确保活动取得实效。"
    assert html.escape(content["title"]) in text
    # The findings, each with its place, rule and level; no fix before anything is saved.
    assert "格式审查：错误 1 处" in text
    assert "繁体字“視”应为“视”" in text and "正文第 5 段第 8 字" in text
    assert 'name="finding"' not in text
    # The filled 稿纸 is saved by the page that creates drafts, not by the upload.
    assert '<form method="post" class="card" action="/documents/new/">' in text


@pytest.mark.parametrize("name, data, words", [
    ("通知.docx", b"not a zip", "不是 Word 文件"),
    ("通知.txt", "今天天气很好。\n".encode(), "未能识别为公文"),
    ("通知.pdf", b"%PDF-1.7", "不支持的文件类型"),
    ("通知.txt", b"", "上传的文件是空的"),
])
def test_a_bad_upload_is_a_400_with_its_message_and_nothing_is_created(client, world, name, data, words):
    before = world_state()
    response = as_(client, world, "drafter").post("/documents/new/import/", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 400
    assert words in page(response)
    assert world_state() == before


def test_an_upload_too_large_is_refused_before_it_is_read(client, world, settings):
    response = as_(client, world, "gx_drafter").post("/documents/new/import/", {
        "file": SimpleUploadedFile("通知.txt", b"x" * (4 * 1024 * 1024 + 1))})
    assert response.status_code == 400
    assert "文本文件过大" in page(response)


def test_the_import_page_takes_only_a_post(client, world):
    assert as_(client, world, "drafter").get("/documents/new/import/").status_code == 405
    assert_sent_to_login(as_(client, world, ANONYMOUS).get("/documents/new/import/"), "/documents/new/import/")


def test_the_sheet_filled_from_a_text_saves_as_a_draft_with_its_findings(client, world, seed_content):
    content = with_errors(short_content(seed_content))
    as_(client, world, "drafter")
    form = client.post("/documents/new/import/", upload(content, "通知.txt")).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data["department"] = str(Department.objects.get(organ__code="泉科", name="综合科").pk)
    response = client.post("/documents/new/", data)
    document = Document.objects.latest("pk")
    assert response["Location"] == f"/documents/{document.pk}/"
    assert gongwen_files.visible(document.current_revision.content) == gongwen_files.visible(content)
    assert FormatCheck.objects.get(revision=document.current_revision).errors == 1


# --- The findings beside the text ----------------------------------------------------------------


@pytest.mark.parametrize("who, expected", row(drafter=200, **each(set(CAST) - {"drafter"}, 404), **each(GX_CAST, 404),
                                              anonymous=302))
def test_the_drafter_sees_the_findings_of_a_draft_with_its_fixes(client, world, who, expected):
    url = f"/documents/{world.docs['draft'].pk}/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        text = page(response)
        assert "格式审查（第1稿）：" in text and "错误 1 处" in text
        assert "繁体字“視”应为“视”" in text and "“視”改为“视”" in text
        assert "全部一键改正（2 处）" in text
        assert 'name="format_reason"' in text  # the confirmation of 送审 with a reason


def test_the_sheet_being_edited_shows_the_findings_of_its_revision_without_fixes(client, world):
    text = page(as_(client, world, "drafter").get(f"/documents/{world.docs['draft'].pk}/edit/"))
    assert "第1稿的格式审查：错误 1 处，提示 1 处" in text and "繁体字“視”应为“视”" in text
    assert 'name="finding"' not in text  # a fix there would drop what is being typed


@pytest.mark.parametrize("who, expected", row(**each(QK_PATH, 200), outsider=404, **each(GX_CAST, 404),
                                              anonymous=302))
def test_the_organs_path_sees_the_findings_of_a_submitted_document_and_only_the_drafter_confirms(
    client, world, who, expected,
):
    url = f"/documents/{world.docs['second'].pk}/"
    response = as_(client, world, who).get(url)
    assert_status(response, expected, url)
    if expected == 200:
        text = page(response)
        assert "繁体字“視”应为“视”" in text
        # Under review the text is nobody's to edit: no fix, and nothing to confirm any more.
        assert 'name="finding"' not in text and 'name="format_reason"' not in text
        assert f"确认送审：{REASON}" in text  # the 办理日志 keeps the reason


def test_the_reviewer_sees_the_findings_beside_the_text_on_the_task_page(client, world):
    response = as_(client, world, "reviewer").get(f"/tasks/{world.tasks['second_review']}/")
    assert response.status_code == 200
    text = page(response)
    assert "格式审查（第1稿）" in text and "繁体字“視”应为“视”" in text and "正文第 5 段第 8 字" in text
    assert f"拟稿人确认送审的理由：</b>{REASON}" in text
    assert 'name="finding"' not in text


@pytest.mark.parametrize("who", ["gx_reviewer", "outsider"])
def test_nobody_outside_the_path_opens_the_task_page_with_its_findings(client, world, who):
    assert as_(client, world, who).get(f"/tasks/{world.tasks['second_review']}/").status_code == 404


# --- One-click fixes ---------------------------------------------------------------------------


@pytest.mark.parametrize("who, expected", row(drafter=302, **each(set(CAST) - {"drafter"}, 404),
                                              **each(GX_CAST, 404), anonymous=302))
def test_only_the_drafter_fixes_a_draft_in_one_click(client, world, who, expected):
    document = world.docs["draft"]
    before = world_state()
    url = fix_url(world, "draft")
    response = as_(client, world, who).post(url, {"revision": "1", "finding": str(traditional_finding(document))})
    assert_status(response, expected, url)
    if who != "drafter":
        assert world_state() == before
        return
    document.refresh_from_db()
    assert document.current_revision.number == 2
    assert document.current_revision.content["body"][-1]["text"] == "各单位要高度重视，精心组织，确保活动取得实效。"
    assert FormatCheck.objects.get(revision=document.current_revision).errors == 0
    event = document.events.get(action="save")
    assert describe_event(event) == "保存修改（第2稿），格式审查一键改正 1 处（繁体字）"
    # Now the drafter submits it without a reason.
    actions.submit(document, world.users["drafter"])


def test_all_safe_fixes_in_one_click(client, world):
    document = world.docs["gx_draft"]
    response = as_(client, world, "gx_drafter").post(fix_url(world, "gx_draft"), {"revision": "1", "finding": "all"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert services.format_review.findings_of(document) == []
    assert "已改正 2 处，保存为第2稿" in [str(m) for m in response.wsgi_request._messages]


@pytest.mark.parametrize("who, expected", row(**each(QK_PATH, 403), outsider=404, **each(GX_CAST, 404),
                                              anonymous=302))
def test_nobody_fixes_a_document_under_review(client, world, who, expected):
    before = world_state()
    url = fix_url(world, "second")
    response = as_(client, world, who).post(url, {"revision": "1", "finding": "all"})
    assert_status(response, expected, url)
    assert world_state() == before


def test_the_office_fixes_at_recheck_and_the_text_goes_back_to_signing(client, world):
    document = world.docs["recheck"]
    as_(client, world, "clerk")
    assert "全部一键改正（2 处）" in page(client.get(f"/documents/{document.pk}/"))
    response = client.post(fix_url(world, "recheck"), {"revision": "1", "finding": "all"})
    assert response.status_code == 302
    document.refresh_from_db()
    assert (document.stage, document.current_revision.number, document.signed_revision_id) == (Stage.SIGNING, 2, None)


@pytest.mark.parametrize("data, words", [
    ({"revision": "2", "finding": "all"}, "稿纸已保存为第1稿"),
    ({"revision": "1", "finding": "x"}, "请选择要改正的问题"),
    ({"revision": "1", "finding": "99"}, "没有找到要改正的问题"),
    ({"revision": "1", "finding": "-1"}, "请选择要改正的问题"),
    ({"finding": "all"}, "请选择要改正的问题"),
])
def test_a_stale_or_unknown_fix_changes_nothing_and_says_why(client, world, data, words):
    before = world_state()
    response = as_(client, world, "drafter").post(fix_url(world, "draft"), data, follow=True)
    assert words in page(response)
    assert world_state() == before


def test_the_fix_url_takes_only_a_post(client, world):
    assert as_(client, world, "drafter").get(fix_url(world, "draft")).status_code == 405


# --- 送审 in the browser -------------------------------------------------------------------------


def test_submit_without_a_reason_is_refused_with_the_message_and_with_one_it_goes(client, world):
    document = world.docs["draft"]
    as_(client, world, "drafter")
    response = client.post(f"/documents/{document.pk}/submit/", {}, follow=True)
    assert "格式审查发现 1 处错误" in page(response)
    document.refresh_from_db()
    assert document.stage == Stage.DRAFTING
    client.post(f"/documents/{document.pk}/submit/", {"format_reason": REASON})
    document.refresh_from_db()
    assert document.stage == Stage.REVIEWING
    assert Event.objects.get(document=document, action="submit").detail["format_reason"] == REASON


def test_a_returned_draft_is_resubmitted_from_its_task_page_with_a_reason(client, world):
    document = world.docs["second"]
    decide(document, world.users["reviewer"], "return", "请修改格式。")
    task = queries.open_tasks(document).get(state__name="修改")
    as_(client, world, "drafter")
    text = page(client.get(f"/tasks/{task.pk}/"))
    assert "繁体字“視”应为“视”" in text and 'name="format_reason"' in text
    response = client.post(f"/tasks/{task.pk}/", {"note": "已核。"}, follow=True)
    assert "格式审查发现 1 处错误" in page(response)
    client.post(f"/tasks/{task.pk}/", {"note": "已核。", "format_reason": REASON})
    document.refresh_from_db()
    assert document.stage == Stage.REVIEWING and document.round == 2
    assert Revision.objects.filter(document=document).count() == 1

