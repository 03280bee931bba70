"""End to end in a real browser: one new document clicked from 拟稿 through one return to 归档.

Each demo user logs in through the login page, does their step with the buttons a civil
servant would use, and logs out. At the end the drafter downloads the issued PDF and we
check that its text carries the 发文字号, the title and every paragraph of the edited body.

The queue steps are taken both ways a user can: 复审, 签发, 复核 and 归档 are claimed from
可领取 with 领取; the clerk's 登记, 印制 and 核发 are done straight from the document page's
"办理：…" button, which claims the task on completion.

Needs Debian's chromium (/usr/bin/chromium); Playwright's own browsers are not used.
Screenshots of the key pages go to /tmp/browser-shots/.
"""

import io
import os
import re
import time
from pathlib import Path

# Playwright's sync API runs an asyncio loop in this thread; Django would otherwise refuse
# the ORM calls the fixtures and the live server make from it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from issuance.models import Stage  # noqa: E402
from workflows import demo_path  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
]
PASSWORD = "gongwen-demo"
SHOTS = Path("/tmp/browser-shots")
NAMES = {
    "drafter": "林晓峰", "head": "陈志明", "reviewer": "王丽", "deputy": "黄建国",
    "director": "张伟", "clerk": "李娜", "archivist": "郑敏",
}

# Long enough to wrap in the PDF (a 2号 title line holds 20 characters).
TITLE = "泉州市科学技术局关于开展2026年科技活动周暨科普进社区系列活动的通知"
MAIN_RECIPIENTS = "各县（市、区）科技局、泉州开发区科技局、市直有关单位"
CC = "市科协、市教育局"
# The organs the 核发 list should name, 主送 then 抄送.
RECIPIENTS = [
    ("各县（市、区）科技局", "主送"), ("泉州开发区科技局", "主送"), ("市直有关单位", "主送"), ("市科协", "抄送"), ("市教育局", "抄送"),
]
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


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture
def users(cast):
    for user in cast.values():
        user.set_password(PASSWORD)
        user.save()
    return cast


@pytest.fixture
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    # The document and task pages show the PDF in an <iframe>; loading it there (and making
    # every navigation wait for it) nearly doubles the run time. The frames get a stand-in,
    # the PDFs themselves are fetched and read by the test where it matters.
    context.route(re.compile(r"\.pdf(\?|$)"), _pdf_frame_stand_in)
    page = context.new_page()
    yield page
    context.close()


def _pdf_frame_stand_in(route):
    frame = route.request.frame
    if frame.parent_frame is None:  # a download or a PDF opened on its own: the real thing
        route.continue_()
    else:
        route.fulfill(content_type="text/html; charset=utf-8", body="<p style='color:#888'>（测试中不加载 PDF 预览）</p>")


PAGE_NUMBER = re.compile(r"—\s*\d+\s*—")


def pdf_text(data):
    """All the text of a PDF in reading order, without page numbers (a paragraph may run on
    to the next page) and without whitespace (lines wrap anywhere)."""
    pages = (PAGE_NUMBER.sub("", p.extract_text() or "") for p in PdfReader(io.BytesIO(data)).pages)
    return squash("".join(pages))


@pytest.fixture
def shot(page, request):
    return Shots(page, request.node.name.removeprefix("test_").split("_")[0:3])


class Shots:
    """Numbered full-page screenshots under /tmp/browser-shots/, prefixed by a few words of the test's name."""

    def __init__(self, page, words):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page = page
        self.prefix = "-".join(words)
        self.count = 0
        for old in SHOTS.glob(f"{self.prefix}-*.png"):
            old.unlink()

    def __call__(self, name):
        self.count += 1
        self.page.screenshot(path=str(SHOTS / f"{self.prefix}-{self.count:02d}-{name}.png"), full_page=True)


# --- what a user does -----------------------------------------------------------------------

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
    expect(page.locator("header .who")).to_contain_text(NAMES[username])


def logout(page):
    # 退出 is a POST form in the header.
    with page.expect_navigation():
        page.locator("header").get_by_role("button", name="退出").click()
    expect(page).to_have_url(re.compile(r"/login/"))
    expect(page.get_by_role("heading", name="登录")).to_be_visible()


def heading(page):
    return page.get_by_role("heading", level=1)


def message(page):
    return page.locator(".messages")


def stage_badge(page):
    return page.locator(".doc-head .badge")


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
    expect(heading(page)).to_have_text(f"{step}：{TITLE}")


def claim_from_queue(page, step):
    page.locator("header nav").get_by_role("link", name="可领取").click()
    expect(page.get_by_role("heading", name="可领取")).to_be_visible()
    row = task_row(page, step)
    with page.expect_navigation():
        row.get_by_role("button", name="领取").click()
    expect(message(page)).to_contain_text(f"已领取“{step}”任务")
    expect(heading(page)).to_have_text(f"{step}：{TITLE}")
    expect(page.get_by_text("该任务尚未领取")).to_have_count(0)


def open_document_from_list(page, scope="我起草的"):
    """公文 → scope → search → the document's title."""
    page.locator("header nav").get_by_role("link", name="公文").click()
    page.get_by_label("范围").select_option(label=scope)
    page.get_by_placeholder("标题或发文字号").fill("科普进社区")
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    with page.expect_navigation():
        page.get_by_role("link", name=TITLE).click()
    expect(heading(page)).to_have_text(TITLE)


def open_queue_task_from_document_page(page, step):
    """A queue step done straight from the document page: it is claimed when completed."""
    with page.expect_navigation():
        page.get_by_role("link", name=f"办理：{step}").click()
    expect(heading(page)).to_have_text(f"{step}：{TITLE}")
    expect(page.get_by_text("该任务尚未领取；办理时将自动由您领取。")).to_be_visible()


def decide(page, step, decision="同意", text=""):
    page.get_by_label(decision, exact=True).check()
    if text:
        page.get_by_label("意见内容").fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="提交意见").click()
    expect(message(page)).to_contain_text(f"“{step}”已办理")
    expect(heading(page)).to_have_text(TITLE)


def press(page, button):
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


# --- the tests ------------------------------------------------------------------------------

def test_a_new_document_from_draft_through_a_return_to_the_archive(users, page, shot):
    started = time.monotonic()
    try:
        walk_through(page, shot)
    except Exception:
        # Where the browser stood when it failed, for whoever reads the failure.
        shot("FAILED")
        raise
    print(f"\nbrowser walk-through took {time.monotonic() - started:.1f} s")


def walk_through(page, shot):
    # 1. The drafter fills in the 发文稿纸 and submits it.
    login(page, "drafter")
    shot("drafter-inbox")
    page.get_by_role("link", name="＋ 拟稿").click()
    expect(page.get_by_role("heading", name="发文稿纸")).to_be_visible()
    expect(page.locator("#id_printed_by")).to_have_value("泉州市科学技术局办公室")  # the organ's defaults
    page.fill("#id_title", TITLE)
    page.fill("#id_main_recipients", MAIN_RECIPIENTS)
    page.fill("#id_body", "\n".join(BODY_V1))
    page.fill("#id_cc", CC)
    shot("drafter-draft-form")
    press(page, "保存")
    expect(message(page)).to_contain_text("草稿已保存")
    expect(heading(page)).to_have_text(TITLE)
    document_url = page.url
    assert re.search(r"/documents/\d+/$", document_url), document_url
    expect(stage_badge(page)).to_have_text("拟稿")
    shot("drafter-document-saved")
    press(page, "送审")
    expect(message(page)).to_contain_text("已送审，进入初审")
    expect(stage_badge(page)).to_have_text("初审")
    logout(page)

    # 2. The head returns it: first without a reason (refused), then with one.
    login(page, "head")
    open_from_inbox(page, "初审")
    page.get_by_label("退回", exact=True).check()
    press(page, "提交意见")
    expect(page.get_by_text("退回时必须填写退回理由")).to_be_visible()
    expect(page.get_by_label("退回", exact=True)).to_be_checked()  # the choice survives the error
    shot("head-return-without-reason")
    decide(page, "初审", "退回", RETURN_REASON)
    expect(stage_badge(page)).to_have_text("退回修改")
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
    press(page, "保存")
    expect(message(page)).to_contain_text("已保存为第2稿")
    # The draft preview shows the edited text.
    preview = page.request.get(page.get_by_role("link", name="草稿预览 PDF").get_attribute("href"))
    assert preview.ok and preview.headers["content-type"] == "application/pdf"
    preview_text = pdf_text(preview.body())
    assert squash(EDITED_TEXT) in preview_text
    assert squash(BODY_V1[EDITED_INDEX]) not in preview_text
    # Back to the task from the document page.
    with page.expect_navigation():
        page.get_by_role("link", name="办理：修改后重新送审").click()
    expect(heading(page)).to_have_text(f"修改后重新送审：{TITLE}")
    expect(page.get_by_text("当前稿：第2稿")).to_be_visible()
    page.get_by_label("送审说明").fill("已按初审意见补充。")
    press(page, "重新送审")
    expect(message(page)).to_contain_text("“修改后重新送审”已办理")
    expect(stage_badge(page)).to_have_text("初审")
    logout(page)

    # 4. The three reviews, the signature, and the office's steps.
    login(page, "head")
    open_from_inbox(page, "初审")
    decide(page, "初审")
    logout(page)

    login(page, "reviewer")
    expect(page.get_by_text("没有待办事项。")).to_be_visible()  # 复审 is a queue task
    page.locator("header nav").get_by_role("link", name="可领取").click()
    task_row(page, "复审")
    shot("reviewer-queue")
    claim_from_queue(page, "复审")
    shot("reviewer-second-review")
    decide(page, "复审", text="同意。")
    logout(page)

    login(page, "deputy")
    open_from_inbox(page, "终审")
    decide(page, "终审")
    logout(page)

    login(page, "director")
    claim_from_queue(page, "签发")
    decide(page, "签发", text="同意印发。")
    expect(stage_badge(page)).to_have_text("复核")
    logout(page)

    login(page, "clerk")
    claim_from_queue(page, "复核")
    decide(page, "复核")
    expect(stage_badge(page)).to_have_text("登记")
    open_queue_task_from_document_page(page, "登记")
    page.get_by_label("印发份数").fill("20")
    shot("clerk-register")
    press(page, "登记并编号")
    expect(message(page)).to_contain_text("“登记”已办理")
    number = page.locator(".doc-head .number").inner_text().strip()
    assert re.fullmatch(r"泉科〔20\d\d〕\d+号", number), number
    open_queue_task_from_document_page(page, "印制")
    expect(page.locator(".card").first).to_contain_text(number)
    press(page, "印制正式文件")
    expect(message(page)).to_contain_text("印制完成")
    open_queue_task_from_document_page(page, "核发")
    shot("clerk-distribute")
    # The list is proposed from 主送 and 抄送, organ names kept whole; 市教育局 is not in the
    # address book yet, so the form says so and the clerk confirms it.
    recipients = page.locator("input[name$='-recipient']")
    proposed = [recipients.nth(i).input_value() for i in range(recipients.count())]
    assert [name for name in proposed if name] == [name for name, _ in RECIPIENTS]
    unknown = page.locator("tr", has_text="未在名录中")
    expect(unknown).to_have_count(1)
    expect(unknown.locator("input[name$='-recipient']")).to_have_value("市教育局")
    press(page, "核发")
    expect(message(page)).to_contain_text("“市教育局”不在收文机关名录中")
    page.locator("tr", has_text="未在名录中").get_by_label("加入名录").check()
    press(page, "核发")
    expect(message(page)).to_contain_text("“核发”已办理")
    distribution = page.get_by_role("heading", name="分发记录").locator("xpath=following-sibling::table[1]")
    for name, role in RECIPIENTS:
        row = distribution.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))
        expect(row.get_by_role("cell").nth(1)).to_have_text(role)
    logout(page)

    login(page, "archivist")
    claim_from_queue(page, "归档")
    shot("archivist-archive")
    press(page, "归档")
    expect(message(page)).to_contain_text("“归档”已办理")
    logout(page)

    # 5. The drafter sees the archived document and downloads the issued PDF.
    login(page, "drafter")
    open_document_from_list(page)
    assert page.url == document_url
    expect(stage_badge(page)).to_have_text("已归档")
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

    text = pdf_text(pdf_path.read_bytes())
    assert squash(number) in text
    assert squash(TITLE) in text
    for paragraph in BODY_V2:
        assert squash(paragraph) in text, paragraph
    assert squash(BODY_V1[EDITED_INDEX]) not in text  # the issued text is the edited one
    logout(page)
