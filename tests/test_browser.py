"""End to end in a real browser: one new document clicked from 拟稿 through one return to 归档.

Each demo user logs in through the login page, does their step with the buttons a civil
servant would use, and logs out. At the end the drafter downloads the issued PDF and we
check that its text carries the 发文字号, the title and every paragraph of the edited body.

Needs Debian's chromium (/usr/bin/chromium); Playwright's own browsers are not used.
"""

import os
import re
import time
from pathlib import Path

# Playwright's sync API runs an asyncio loop in this thread; Django would otherwise refuse
# the ORM calls the fixtures and the live server make from it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from playwright import sync_api as playwright_sync  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
]
PASSWORD = "gongwen-demo"
SHOTS = Path("/tmp/browser-shots")

TITLE = "泉州市科学技术局关于开展2026年科技活动周暨科普进社区系列活动的通知"
MAIN_RECIPIENTS = "各县（市、区）科技局、泉州开发区科技局、市直有关单位"
CC = "市科协、市教育局"
BODY_V1 = [
    "为深入实施全民科学素质行动，普及科学知识，弘扬科学精神，经研究，决定于2026年5月开展科技活动周暨科普进社区系列活动。现将有关事项通知如下。",
    "一、活动时间",
    "2026年5月17日至23日。",
    "二、活动内容",
    "（一）科普进社区",
    "各地要组织科技工作者深入社区，开展科普讲座、科技咨询和科普展览等活动。",
    "（二）科技场馆开放",
    "各类科技场馆、重点实验室要在活动期间向公众免费开放。",
    "三、工作要求",
    "各单位要高度重视，精心组织，确保活动取得实效。",
]
# The paragraph the drafter rewrites after the head returns the draft, and its new text.
EDITED_INDEX = 7
EDITED_TEXT = "各类科技场馆、重点实验室、高新技术企业研发中心要在活动期间向公众免费开放，并安排专人讲解。"
BODY_V2 = BODY_V1[:EDITED_INDEX] + [EDITED_TEXT] + BODY_V1[EDITED_INDEX + 1:]
RETURN_REASON = "第（二）项请补充向公众开放的单位范围和讲解安排。"


@pytest.fixture
def users(cast):
    for user in cast.values():
        user.set_password(PASSWORD)
        user.save()
    return cast


@pytest.fixture
def browser():
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        # Where the browser stood when the test failed, for the person reading the failure.
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "failed.png"), full_page=True)
    context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


class Shots:
    """Numbered full-page screenshots under /tmp/browser-shots/."""

    def __init__(self, page):
        SHOTS.mkdir(parents=True, exist_ok=True)
        for old in SHOTS.glob("*.png"):
            old.unlink()
        self.page = page
        self.count = 0

    def __call__(self, name):
        self.count += 1
        self.page.screenshot(path=str(SHOTS / f"{self.count:02d}-{name}.png"), full_page=True)


def squash(text):
    return re.sub(r"\s+", "", text)


def login(page, username):
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    # LOGIN_REDIRECT_URL is the 待办 list.
    expect(page).to_have_url(re.compile(r"/tasks/inbox/$"))
    expect(page.locator("header .who")).to_contain_text(username_display(username))


DISPLAY = {
    "drafter": "林晓峰", "head": "陈志明", "reviewer": "王丽", "deputy": "黄建国",
    "director": "张伟", "clerk": "李娜", "archivist": "郑敏",
}


def username_display(username):
    return DISPLAY[username]


def logout(page):
    with page.expect_navigation():
        page.locator("header").get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()


def task_row(page, step):
    """The row of our document in the current task list, at the given step."""
    row = page.get_by_role("row").filter(has_text=TITLE).filter(has=page.get_by_role("cell", name=step, exact=True))
    expect(row).to_have_count(1)
    return row


def open_from_inbox(page, step):
    page.locator("header nav").get_by_role("link", name=re.compile("^待办")).click()
    expect(page.get_by_role("heading", name="待办")).to_be_visible()
    row = task_row(page, step)
    with page.expect_navigation():
        row.get_by_role("link", name="办理").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{step}：{TITLE}")


def claim_from_queue(page, step):
    page.locator("header nav").get_by_role("link", name="可领取").click()
    expect(page.get_by_role("heading", name="可领取")).to_be_visible()
    row = task_row(page, step)
    with page.expect_navigation():
        row.get_by_role("button", name="领取").click()
    expect(page.locator(".messages")).to_contain_text(f"已领取“{step}”任务")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{step}：{TITLE}")


def open_from_document_page(page, step):
    """From the document page the next holder can do a queue step directly (it is claimed on completion)."""
    with page.expect_navigation():
        page.get_by_role("link", name=f"办理：{step}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{step}：{TITLE}")
    expect(page.get_by_text("该任务尚未领取；办理时将自动由您领取。")).to_be_visible()


def decide(page, step, decision="同意", text=""):
    page.get_by_label(decision, exact=True).check()
    if text:
        page.get_by_label("意见内容").fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="提交意见").click()
    expect(page.locator(".messages")).to_contain_text(f"“{step}”已办理")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)


def submit_button(page, name):
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_a_new_document_from_draft_through_a_return_to_the_archive(users, page):
    started = time.monotonic()
    shot = Shots(page)

    # 1. The drafter fills in the 发文稿纸 and submits it.
    login(page, "drafter")
    shot("drafter-inbox")
    page.get_by_role("link", name="＋ 拟稿").click()
    expect(page.get_by_role("heading", name="发文稿纸")).to_be_visible()
    # The organ's defaults are filled in for a new draft.
    expect(page.locator("#id_printed_by")).to_have_value("泉州市科学技术局办公室")
    page.fill("#id_title", TITLE)
    page.fill("#id_main_recipients", MAIN_RECIPIENTS)
    page.fill("#id_body", "\n".join(BODY_V1))
    page.fill("#id_cc", CC)
    shot("drafter-draft-form")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("草稿已保存")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    document_url = page.url
    assert re.search(r"/documents/\d+/$", document_url), document_url
    expect(page.locator(".doc-head .badge")).to_have_text("拟稿")
    shot("drafter-document-saved")
    submit_button(page, "送审")
    expect(page.locator(".messages")).to_contain_text("已送审，进入初审")
    expect(page.locator(".doc-head .badge")).to_have_text("初审")
    logout(page)

    # 2. The head returns it: first without a reason (refused), then with one.
    login(page, "head")
    open_from_inbox(page, "初审")
    page.get_by_label("退回", exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="提交意见").click()
    expect(page.get_by_text("退回时必须填写退回理由")).to_be_visible()
    shot("head-return-without-reason")
    expect(page.get_by_label("退回", exact=True)).to_be_checked()  # the choice survives the error
    decide(page, "初审", "退回", RETURN_REASON)
    expect(page.locator(".doc-head .badge")).to_have_text("退回修改")
    logout(page)

    # 3. The drafter revises one paragraph and submits again.
    login(page, "drafter")
    open_from_inbox(page, "修改后重新送审")
    expect(page.get_by_text("公文已被退回，请按意见修改后重新送审。")).to_be_visible()
    expect(page.locator(".card").first).to_contain_text(RETURN_REASON)
    shot("drafter-revise-task")
    with page.expect_navigation():
        page.get_by_role("link", name="修改稿纸").click()
    body = page.locator("#id_body")
    expect(body).to_have_value("\n".join(BODY_V1))
    body.fill("\n".join(BODY_V2))
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    expect(page.locator(".messages")).to_contain_text("已保存为第2稿")
    with page.expect_navigation():
        page.get_by_role("link", name="办理：修改后重新送审").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"修改后重新送审：{TITLE}")
    expect(page.get_by_text("当前稿：第2稿")).to_be_visible()
    page.get_by_label("送审说明").fill("已按初审意见补充。")
    submit_button(page, "重新送审")
    expect(page.locator(".messages")).to_contain_text("“修改后重新送审”已办理")
    expect(page.locator(".doc-head .badge")).to_have_text("初审")
    logout(page)

    # 4. The three reviews, the signature, and the office's steps.
    login(page, "head")
    open_from_inbox(page, "初审")
    decide(page, "初审")
    logout(page)

    login(page, "reviewer")
    expect(page.get_by_text("没有待办事项。")).to_be_visible()
    claim_from_queue(page, "复审")
    shot("reviewer-claimed")
    decide(page, "复审", text="同意。")
    logout(page)

    login(page, "deputy")
    open_from_inbox(page, "终审")
    decide(page, "终审")
    logout(page)

    login(page, "director")
    claim_from_queue(page, "签发")
    decide(page, "签发", text="同意印发。")
    expect(page.locator(".doc-head .badge")).to_have_text("复核")
    logout(page)

    login(page, "clerk")
    claim_from_queue(page, "复核")
    decide(page, "复核")
    expect(page.locator(".doc-head .badge")).to_have_text("登记")
    open_from_document_page(page, "登记")
    page.get_by_label("印发份数").fill("20")
    shot("clerk-register")
    submit_button(page, "登记并编号")
    expect(page.locator(".messages")).to_contain_text("“登记”已办理")
    number = page.locator(".doc-head .number").inner_text().strip()
    assert re.fullmatch(r"泉科〔20\d\d〕\d+号", number), number
    open_from_document_page(page, "印制")
    expect(page.locator(".card").first).to_contain_text(number)
    submit_button(page, "印制正式文件")
    expect(page.locator(".messages")).to_contain_text("“印制”已办理")
    open_from_document_page(page, "核发")
    recipients = page.locator("input[name$='-recipient']")
    filled = [value for value in (recipients.nth(i).input_value() for i in range(recipients.count())) if value]
    assert filled == ["各县（市、区）科技局", "泉州开发区科技局", "市直有关单位", "市科协", "市教育局"]
    shot("clerk-distribute")
    submit_button(page, "核发")
    expect(page.locator(".messages")).to_contain_text("“核发”已办理")
    logout(page)

    login(page, "archivist")
    claim_from_queue(page, "归档")
    shot("archivist-archive")
    submit_button(page, "归档")
    expect(page.locator(".messages")).to_contain_text("“归档”已办理")
    logout(page)

    # 5. The drafter sees the archived document and downloads the issued PDF.
    login(page, "drafter")
    page.goto(document_url)
    expect(page.locator(".doc-head .badge")).to_have_text("已归档")
    expect(page.locator(".doc-head .number")).to_have_text(number)
    expect(page.locator(".card").first).to_contain_text("已办结归档")
    expect(page.get_by_role("heading", name="档案")).to_be_visible()
    shot("drafter-archived-document")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^下载正式文件")).click()
    download = download_info.value
    assert "download=1" in download.url
    assert download.suggested_filename == f"{number}.pdf"
    pdf_path = SHOTS / "issued.pdf"
    download.save_as(pdf_path)

    reader = PdfReader(pdf_path)
    text = squash("".join(p.extract_text() or "" for p in reader.pages))
    assert squash(number) in text
    assert squash(TITLE) in text
    for paragraph in BODY_V2:
        assert squash(paragraph) in text, paragraph
    assert squash(BODY_V1[EDITED_INDEX]) not in text  # the signed text is the edited one
    logout(page)

    print(f"\nbrowser walk-through took {time.monotonic() - started:.1f} s")
