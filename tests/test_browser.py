"""End to end in a real browser, clicking as each demo user would.

1. One new 通知 of 泉科 from 拟稿 through one return to 归档 on the default 公文三审 chain
   (初审 → 复审 → 会签 → 终审 → 签发, its 会签 skipped since no 会签科室 is chosen), then
   复核 → 登记 → 印制 → 核发 → 归档. At the end the drafter downloads the issued PDF and we
   check that its text carries the 发文字号, the title and every paragraph of the edited body.
2. 泉工信's 机关管理员 sets up a two-review chain for 函 with a 会签 step on /chains/new/,
   checks on the 试算 form who would act, and a 函 goes through it with two 科室
   countersigning and one return from 签发 to 复审. Nobody of 泉科 can find a trace of it.

Each user logs in through the login page, does their step with the buttons a civil servant
would use, and logs out. The queue steps are taken both ways a user can: 复审, 签发, 复核 and
归档 are claimed from 可领取 with 领取; the clerk's 登记, 印制 and 核发 are done straight from
the document page's "办理：…" button, which claims the task on completion.

Needs Debian's chromium (/usr/bin/chromium); Playwright's own browsers are not used.
Screenshots of the key pages go to /tmp/browser-shots/, each at 1366×900 and at 390×844 (a phone).
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

from issuance import chains  # noqa: E402
from issuance.models import Document, ReviewChain  # noqa: E402
from workflows import queries  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run",
]
PASSWORD = "gongwen-demo"
SHOTS = Path("/tmp/browser-shots")
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
NAMES = {
    # 泉州市科学技术局
    "drafter": "林晓峰", "head": "陈志明", "reviewer": "王丽", "deputy": "黄建国",
    "director": "张伟", "clerk": "李娜", "archivist": "郑敏", "outsider": "吴强",
    # 泉州市工业和信息化局
    "gx_drafter": "许文杰", "gx_head": "蔡明辉", "gx_industry": "施建华", "gx_digital": "曾晓东",
    "gx_reviewer": "庄雅琴", "gx_deputy": "洪志强", "gx_director": "苏国栋", "gx_clerk": "叶小红",
    "gx_archivist": "傅丽娟",
}
QK_CAST = ("drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist", "outsider")

# --- the 泉科 通知 ---------------------------------------------------------------------------

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

# --- 泉工信's chain and 函 ------------------------------------------------------------------

CHAIN_NAME = "函件会签两审"
LETTER_TITLE = "泉州市工业和信息化局关于商请支持2026年工业互联网宣传周活动的函"
LETTER_RECIPIENT = "泉州开发区经济发展局"
LETTER_BODY = [
    "为推动工业互联网创新发展，我局拟于2026年6月举办工业互联网宣传周活动。现将有关事项函告如下。",
    "一、活动时间",
    "2026年6月8日至14日。",
    "二、商请事项",
    "请贵局组织辖区重点企业参加工业互联网应用案例展示，并于2026年5月20日前将参展企业名单报送我局。",
    "专此函达。",
]
PARTIES = ("产业发展科", "信息化推进科")
COUNTERSIGN_1 = {"产业发展科": "同意。产业发展科将组织重点企业参展。", "信息化推进科": "同意。建议增加两化融合案例。"}
COUNTERSIGN_2 = {"产业发展科": "同意修改后的意见。", "信息化推进科": "同意，无新意见。"}
SIGN_RETURN_REASON = "请复审核对活动时间与各科室会签意见是否一致后再报签发。"
SECOND_REVIEW_AGAIN = "已核对，活动时间与会签意见一致。"


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
        base_url=live_server.url, viewport=DESKTOP, locale="zh-CN", accept_downloads=True,
    )
    context.set_default_timeout(20_000)
    # The document and task pages show the PDF in an <iframe>; loading it there (and making
    # every navigation wait for it) nearly doubles the run time. The frames get a stand-in,
    # the PDFs themselves are fetched and read by the test where it matters.
    context.route(re.compile(r"\.pdf(\?|$)"), _pdf_frame_stand_in)
    page = context.new_page()
    # Every page must work under its Content Security Policy: chromium logs what it blocked.
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    yield page
    context.close()
    assert not blocked, blocked


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


TWO_FRAMES = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


class Shots:
    """Numbered full-page screenshots under /tmp/browser-shots/, prefixed by a few words of the
    test's name, each taken at the desktop width and again at a phone's."""

    def __init__(self, page, words):
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page = page
        self.prefix = "-".join(words)
        self.count = 0
        for old in SHOTS.glob(f"{self.prefix}-*.png"):
            old.unlink()

    def __call__(self, name):
        self.count += 1
        stem = f"{self.prefix}-{self.count:02d}-{name}"
        try:
            for size in (DESKTOP, PHONE):
                self.page.set_viewport_size(size)
                # Let the page lay itself out and paint at the new width before the shot.
                self.page.evaluate(TWO_FRAMES)
                self.page.screenshot(path=str(SHOTS / f"{stem}-{size['width']}.png"), full_page=True)
        finally:
            self.page.set_viewport_size(DESKTOP)


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


def nav(page, name):
    """Follow a link of the header's menu (待办 and 可领取 carry a count)."""
    with page.expect_navigation():
        page.locator("header nav").get_by_role("link", name=re.compile(f"^{re.escape(name)}")).click()


def heading(page):
    return page.get_by_role("heading", level=1)


def message(page):
    return page.locator(".messages")


def stage_badge(page):
    return page.locator(".doc-head .badge")


def progress(page):
    """The document page's chain: one item per step of the path, with each unit's state."""
    return page.get_by_role("region", name="审核流程")


def step_item(page, step):
    return progress(page).get_by_role("listitem").filter(has=page.get_by_text(step, exact=True))


def current_step(page):
    return progress(page).locator("li.current > b")


def task_row(page, step, title=TITLE):
    """The row of our document in the current task list, at the given step."""
    row = page.get_by_role("row").filter(has_text=title).filter(has=page.get_by_role("cell", name=step, exact=True))
    expect(row).to_have_count(1)
    return row


def open_from_inbox(page, step, title=TITLE):
    nav(page, "待办")
    expect(page.get_by_role("heading", name="待办")).to_be_visible()
    row = task_row(page, step, title)
    with page.expect_navigation():
        row.get_by_role("link", name="办理").click()
    expect(heading(page)).to_have_text(f"{step}：{title}")


def claim_from_queue(page, step, title=TITLE):
    nav(page, "可领取")
    expect(page.get_by_role("heading", name="可领取")).to_be_visible()
    row = task_row(page, step, title)
    with page.expect_navigation():
        row.get_by_role("button", name="领取").click()
    expect(message(page)).to_contain_text(f"已领取“{step}”任务")
    expect(heading(page)).to_have_text(f"{step}：{title}")
    expect(page.get_by_text("该任务尚未领取")).to_have_count(0)


def open_document_from_list(page, scope="我起草的", search="科普进社区", title=TITLE):
    """公文 → scope → search → the document's title."""
    nav(page, "公文")
    page.get_by_label("范围").select_option(label=scope)
    page.get_by_placeholder("标题或发文字号").fill(search)
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    with page.expect_navigation():
        page.get_by_role("link", name=title).click()
    expect(heading(page)).to_have_text(title)


def open_queue_task_from_document_page(page, step, title=TITLE):
    """A queue step done straight from the document page: it is claimed when completed."""
    with page.expect_navigation():
        page.get_by_role("link", name=f"办理：{step}").click()
    expect(heading(page)).to_have_text(f"{step}：{title}")
    expect(page.get_by_text("该任务尚未领取；办理时将自动由您领取。")).to_be_visible()


def choose_decision(page, decision="同意", text="", return_to=None, step=None):
    # 签发 is its own act: its choices are 签发 and 退回, its box the 签发意见.
    signing = step == "签发"
    page.get_by_label("签发" if signing and decision == "同意" else decision, exact=True).check()
    if return_to:
        page.get_by_label("退回至").select_option(label=return_to)
    if text:
        page.get_by_label("签发意见" if signing else "意见内容").fill(text)


def decide(page, step, decision="同意", text="", return_to=None, title=TITLE):
    choose_decision(page, decision, text, return_to, step)
    with page.expect_navigation():
        page.get_by_role("button", name="提交意见").click()
    if decision == "退回":
        expect(message(page)).to_contain_text(f"已退回{return_to or '拟稿人'}")
    elif step == "签发":
        expect(message(page)).to_contain_text("已签发（")
    else:
        expect(message(page)).to_contain_text(f"“{step}”已办理")
    expect(heading(page)).to_have_text(title)


def press(page, button):
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def register_print_distribute(page, title, copies, number_pattern):
    """The clerk's 登记, 印制 and 核发 from the document page; returns the 发文字号."""
    open_queue_task_from_document_page(page, "登记", title)
    page.get_by_label("印发份数").fill(str(copies))
    press(page, "登记并编号")
    expect(message(page)).to_contain_text("“登记”已办理")
    number = page.locator(".doc-head .number").inner_text().strip()
    assert re.fullmatch(number_pattern, number), number
    open_queue_task_from_document_page(page, "印制", title)
    expect(page.locator(".card").first).to_contain_text(number)
    press(page, "印制正式文件")
    expect(message(page)).to_contain_text("印制完成")
    open_queue_task_from_document_page(page, "核发", title)
    return number


def proposed_recipients(page):
    recipients = page.locator("input[name$='-recipient']")
    return [value for value in (recipients.nth(i).input_value() for i in range(recipients.count())) if value]


# --- 1. a 泉科 通知 on the default chain -----------------------------------------------------

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
    # No 会签科室 is ticked: the chain's 会签 step will be skipped.
    expect(page.get_by_label("承办科室").locator("option:checked")).to_have_text("综合科")
    boxes = page.locator("input[name='countersign']")
    expect(boxes).to_have_count(2)  # 办公室, 政策法规科: never the drafting 科室 itself
    for i in range(2):
        expect(boxes.nth(i)).not_to_be_checked()
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
    expect(stage_badge(page)).to_have_text("审核")
    expect(progress(page)).to_contain_text("审核流程：公文三审（第1版）· 第1轮送审")
    expect(progress(page).locator("li > b")).to_have_text(
        ["初审", "复审", "会签", "终审", "签发", "复核", "登记", "印制", "核发", "归档"])
    expect(current_step(page)).to_have_text("初审")
    expect(step_item(page, "初审")).to_contain_text("陈志明办理中")  # the 科室's only head: straight to his 待办
    logout(page)

    # 2. The head returns it: first without a reason (refused), then with one.
    login(page, "head")
    open_from_inbox(page, "初审")
    expect(page.get_by_label("退回至")).to_have_count(0)  # the first step returns only to the drafter
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
    open_from_inbox(page, "修改")
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
        page.get_by_role("link", name="办理：修改").click()
    expect(heading(page)).to_have_text(f"修改：{TITLE}")
    expect(page.get_by_text("当前稿：第2稿")).to_be_visible()
    page.get_by_label("送审说明").fill("已按初审意见补充。")
    press(page, "重新送审")
    expect(message(page)).to_contain_text("“修改”已办理")
    expect(stage_badge(page)).to_have_text("审核")
    expect(progress(page)).to_contain_text("第2轮送审")
    expect(current_step(page)).to_have_text("初审")
    logout(page)

    # 4. The reviews, the signature, and the office's steps.
    login(page, "head")
    open_from_inbox(page, "初审")
    decide(page, "初审")
    expect(current_step(page)).to_have_text("复审")
    logout(page)

    login(page, "reviewer")
    expect(page.get_by_text("没有待办事项。")).to_be_visible()  # 复审 is a queue task
    nav(page, "可领取")
    task_row(page, "复审")
    shot("reviewer-queue")
    claim_from_queue(page, "复审")
    shot("reviewer-second-review")
    decide(page, "复审", text="同意。")
    # No 会签科室 was chosen: the 会签 step is skipped and 终审 opens.
    expect(step_item(page, "会签")).to_contain_text("跳过")
    expect(current_step(page)).to_have_text("终审")
    logout(page)

    login(page, "deputy")
    open_from_inbox(page, "终审")
    decide(page, "终审")
    expect(stage_badge(page)).to_have_text("签发")
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
    assert proposed_recipients(page) == [name for name, _ in RECIPIENTS]
    unknown = page.locator("tr", has_text="未在名录中")
    expect(unknown).to_have_count(1)
    expect(unknown.locator("input[name$='-recipient']")).to_have_value("市教育局")
    press(page, "核发")
    expect(message(page)).to_contain_text("“市教育局”不在收文机关名录中")
    page.locator("tr", has_text="未在名录中").get_by_label("加入名录").check()
    press(page, "核发")
    expect(message(page)).to_contain_text("“核发”已办理")
    distribution = page.get_by_role("heading", name="分发记录").locator("xpath=following-sibling::div[contains(@class, 'table-wrap')][1]//table")
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
    for step in ("初审", "复审", "终审", "签发", "复核", "登记", "印制", "核发", "归档"):
        expect(step_item(page, step)).to_have_class(re.compile(r"\bdone\b"))
    expect(step_item(page, "会签")).to_contain_text("跳过")
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


# --- 2. 泉工信 sets up a 函 chain with 会签, and a 函 runs through it ---------------------------

@pytest.fixture
def gx_without_letter_chain(users):
    """An organ that has not set up a 函 chain yet: 泉工信's default "函件两审" is switched off
    (through issuance.chains, as the 机关管理员's 停用 would), so that the administrator's new
    chain is the only one for 函."""
    chain = ReviewChain.objects.get(organ__code="泉工信", name="函件两审")
    chains.save_chain(chain.organ, None, chain=chain, name=chain.name, steps=chains.specs_of(chain.version),
                      doc_types=chain.doc_types, directions=chain.directions, category=chain.category, active=False)
    assert not [c for c in ReviewChain.objects.filter(organ__code="泉工信", active=True) if "函" in c.doc_types]
    return users


def test_an_organ_sets_up_a_letter_chain_with_countersigning_and_a_letter_runs_through_it(
        gx_without_letter_chain, page, shot):
    started = time.monotonic()
    try:
        chain_url = set_up_letter_chain(page, shot)
        document_url, number = letter_through_the_chain(page, shot)
        nobody_of_quanke_finds_it(page, document_url, number, chain_url)
    except Exception:
        shot("FAILED")
        raise
    print(f"\nbrowser chain walk-through took {time.monotonic() - started:.1f} s")


def step_rows(page):
    return page.locator("table.steps tbody tr")


def fill_step(row, order, name, actor, kind="审核", role=None):
    """One row of the chain editor's step table. The 岗位 applies (and is shown) only once
    the 办理人 is 本机关岗位."""
    row.locator("[name$='-ORDER']").fill(str(order))
    row.locator("[name$='-name']").fill(name)
    row.locator("[name$='-kind']").select_option(label=kind)
    row.locator("[name$='-actor']").select_option(label=actor)
    if role:
        row.locator("[name$='-role']").select_option(label=role)


def set_up_letter_chain(page, shot):
    """gx_clerk, 泉工信's 机关管理员, makes the 函 chain 初审 → 复审 → 会签 → 签发 on /chains/new/;
    returns its URL."""
    login(page, "gx_clerk")
    nav(page, "审核流程")
    expect(heading(page)).to_have_text("审核流程 · 泉州市工业和信息化局")
    old = page.get_by_role("row").filter(has=page.get_by_role("link", name="函件两审", exact=True))
    expect(old).to_contain_text("停用")
    with page.expect_navigation():
        page.get_by_role("link", name="＋ 新建审核流程").click()
    expect(page).to_have_url(re.compile(r"/chains/new/"))
    expect(heading(page)).to_have_text("新建审核流程")

    page.get_by_label("流程名称").fill(CHAIN_NAME)
    page.get_by_label("函", exact=True).check()
    expect(page.get_by_label("启用")).to_be_checked()
    # The new chain's editor offers 初审 and 签发, and two blank rows to add steps.
    rows = step_rows(page)
    expect(rows).to_have_count(4)
    expect(rows.nth(0).locator("[name$='-name']")).to_have_value("初审")
    expect(rows.nth(1).locator("[name$='-name']")).to_have_value("签发")
    expect(rows.nth(2).locator("[name$='-name']")).to_have_value("")
    expect(rows.nth(3).locator("[name$='-name']")).to_have_value("")
    # 签发 is moved to the end with 顺序 4; the blank rows become 复审 (2) and 会签 (3).
    fill_step(rows.nth(0), 1, "初审", "承办科室负责人")
    fill_step(rows.nth(1), 4, "签发", "本机关岗位", kind="签发", role="主要领导")
    fill_step(rows.nth(2), 2, "复审", "本机关岗位", role="办公室核稿")
    fill_step(rows.nth(3), 3, "会签", "会签单位")
    shot("admin-chain-editor-filled")
    press(page, "保存")
    expect(message(page)).to_contain_text("审核流程已保存为第1版，此后送审的公文按新版本办理")
    expect(page).to_have_url(re.compile(r"/chains/\d+/$"))
    chain_url = page.url
    expect(heading(page)).to_have_text(f"审核流程：{CHAIN_NAME} 第1版")
    # The steps come back in the order given, each with its actor; two blank rows again.
    rows = step_rows(page)
    expect(rows).to_have_count(6)
    saved = [("初审", "review", "department_head", ""), ("复审", "review", "role", "office_reviewer"),
             ("会签", "review", "parties", ""), ("签发", "sign", "role", "principal")]
    for i, (name, kind, actor, role) in enumerate(saved):
        expect(rows.nth(i).locator("[name$='-name']")).to_have_value(name)
        expect(rows.nth(i).locator("[name$='-kind']")).to_have_value(kind)
        expect(rows.nth(i).locator("[name$='-actor']")).to_have_value(actor)
        expect(rows.nth(i).locator("[name$='-role']")).to_have_value(role)
    expect(page.get_by_label("函", exact=True)).to_be_checked()
    versions = page.get_by_role("heading", name="版本记录").locator("xpath=following-sibling::*[1]")
    expect(versions.get_by_role("row").filter(has_text="第1版")).to_contain_text("叶小红")

    # 试算: who would act on a 平行文 函 of 综合科 with two 会签科室.
    sample = page.locator("form").filter(has=page.get_by_role("button", name="试算"))
    sample.get_by_label("承办科室").select_option(label="综合科")
    sample.get_by_label("文种", exact=True).select_option("函")
    sample.get_by_label("行文方向").select_option("平行文")
    for party in PARTIES:
        sample.get_by_label(party, exact=True).check()
    with page.expect_navigation():
        sample.get_by_role("button", name="试算").click()
    acting = page.locator("table.acting")
    expected = [
        ("初审", ["蔡明辉"]),
        ("复审", ["庄雅琴"]),
        ("会签", ["产业发展科：施建华", "信息化推进科：曾晓东"]),
        ("签发", ["苏国栋"]),
        ("复核", ["叶小红"]), ("登记", ["叶小红"]), ("印制", ["叶小红"]), ("核发", ["叶小红"]),
        ("归档", ["傅丽娟"]),
    ]
    expect(acting.locator("tbody tr")).to_have_count(len(expected))
    for i, (step, people) in enumerate(expected):
        cells = acting.locator("tbody tr").nth(i).get_by_role("cell")
        expect(cells.nth(0)).to_have_text(step)
        expect(cells.nth(2).locator("div")).to_have_text(people)
    # The sample's choices stay on the form.
    for party in PARTIES:
        expect(sample.get_by_label(party, exact=True)).to_be_checked()
    shot("admin-chain-sample")
    logout(page)
    return chain_url


def letter_through_the_chain(page, shot):
    """The 函 from 拟稿 to 归档 with two 会签 parties and one return from 签发 to 复审; returns
    the document's URL and 发文字号."""
    # 拟稿: a 平行文 函, countersigned by 产业发展科 and 信息化推进科.
    login(page, "gx_drafter")
    page.get_by_role("link", name="＋ 拟稿").click()
    expect(page.get_by_role("heading", name="发文稿纸")).to_be_visible()
    expect(page.get_by_label("印发机关")).to_have_value("泉州市工业和信息化局办公室")
    page.get_by_label("文种").select_option("函")
    page.get_by_label("行文方向").select_option("平行文")
    page.get_by_label("公文格式").select_option("信函")
    page.get_by_label("标题").fill(LETTER_TITLE)
    page.get_by_label("主送机关").fill(LETTER_RECIPIENT)
    page.get_by_label("正文").fill("\n".join(LETTER_BODY))
    expect(page.get_by_label("承办科室")).to_have_value(re.compile(r"\d+"))
    expect(page.get_by_label("承办科室").locator("option:checked")).to_have_text("综合科")
    for party in PARTIES:
        page.get_by_label(party, exact=True).check()
    shot("gx-drafter-letter-form-countersign")
    press(page, "保存")
    expect(message(page)).to_contain_text("草稿已保存")
    expect(heading(page)).to_have_text(LETTER_TITLE)
    document_url = page.url
    assert re.search(r"/documents/\d+/$", document_url), document_url
    # The 稿纸 keeps the 会签科室.
    with page.expect_navigation():
        page.get_by_role("link", name="修改稿纸").click()
    for party in PARTIES:
        expect(page.get_by_label(party, exact=True)).to_be_checked()
    with page.expect_navigation():
        page.get_by_role("link", name="取消").click()
    press(page, "送审")
    expect(message(page)).to_contain_text("已送审，进入初审")
    expect(stage_badge(page)).to_have_text("审核")
    expect(progress(page)).to_contain_text(f"审核流程：{CHAIN_NAME}（第1版）· 第1轮送审")
    expect(progress(page).locator("li > b")).to_have_text(
        ["初审", "复审", "会签", "签发", "复核", "登记", "印制", "核发", "归档"])
    expect(current_step(page)).to_have_text("初审")
    logout(page)

    # 初审 (the 科室's head), 复审 (the office, from the queue).
    login(page, "gx_head")
    open_from_inbox(page, "初审", LETTER_TITLE)
    decide(page, "初审", text="同意。", title=LETTER_TITLE)
    logout(page)

    login(page, "gx_reviewer")
    claim_from_queue(page, "复审", LETTER_TITLE)
    decide(page, "复审", text="同意，请会签。", title=LETTER_TITLE)
    expect(current_step(page)).to_have_text("会签")
    for party, name in zip(PARTIES, ("施建华", "曾晓东")):
        expect(step_item(page, "会签")).to_contain_text(f"{party}：{name}办理中")
    logout(page)

    # 会签: each party's head from their 待办.
    countersign(page, "gx_industry", "产业发展科", COUNTERSIGN_1)
    # One party has agreed, the other not yet: the 会签 is in progress.
    meeting = step_item(page, "会签")
    expect(meeting).to_contain_text("产业发展科：施建华 同意")
    expect(meeting).to_contain_text("信息化推进科：曾晓东办理中")
    expect(current_step(page)).to_have_text("会签")
    shot("gx-document-countersign-in-progress")
    logout(page)
    countersign(page, "gx_digital", "信息化推进科", COUNTERSIGN_1)
    expect(stage_badge(page)).to_have_text("签发")
    expect(current_step(page)).to_have_text("签发")
    logout(page)

    # 签发 returns it to 复审, with a reason.
    login(page, "gx_director")
    claim_from_queue(page, "签发", LETTER_TITLE)
    returns_to = page.get_by_label("退回至")
    expect(returns_to.locator("option")).to_have_text(["拟稿人", "初审", "复审"])  # not to the 会签
    choose_decision(page, "退回", SIGN_RETURN_REASON, return_to="复审", step="签发")
    shot("gx-director-decision-return-to")
    decide(page, "签发", "退回", SIGN_RETURN_REASON, return_to="复审", title=LETTER_TITLE)
    expect(stage_badge(page)).to_have_text("审核")
    expect(current_step(page)).to_have_text("复审")
    expect(step_item(page, "初审")).to_contain_text("蔡明辉 同意")  # kept: it comes up again from 复审
    expect(step_item(page, "会签")).to_contain_text("将重新办理")
    expect(step_item(page, "签发")).to_contain_text("将重新办理")
    expect(progress(page)).to_contain_text("第1轮送审")
    logout(page)

    # 复审 again, both parties again, then 签发.
    login(page, "gx_reviewer")
    claim_from_queue(page, "复审", LETTER_TITLE)
    expect(page.get_by_role("row").filter(has_text=SIGN_RETURN_REASON)).to_have_count(1)  # why it came back
    decide(page, "复审", text=SECOND_REVIEW_AGAIN, title=LETTER_TITLE)
    logout(page)
    countersign(page, "gx_industry", "产业发展科", COUNTERSIGN_2)
    logout(page)
    countersign(page, "gx_digital", "信息化推进科", COUNTERSIGN_2)
    logout(page)

    login(page, "gx_director")
    claim_from_queue(page, "签发", LETTER_TITLE)
    decide(page, "签发", text="同意发出。", title=LETTER_TITLE)
    expect(stage_badge(page)).to_have_text("复核")
    logout(page)

    # The office's steps and the archive.
    login(page, "gx_clerk")
    claim_from_queue(page, "复核", LETTER_TITLE)
    decide(page, "复核", title=LETTER_TITLE)
    number = register_print_distribute(page, LETTER_TITLE, 5, r"泉工信〔20\d\d〕\d+号")
    assert proposed_recipients(page) == [LETTER_RECIPIENT]
    expect(page.locator("tr", has_text="未在名录中")).to_have_count(0)
    press(page, "核发")
    expect(message(page)).to_contain_text("“核发”已办理")
    # 泉工信's own register shows the number and the title (what 泉科's clerk must not see).
    nav(page, "文号登记簿")
    expect(page.get_by_role("row").filter(has_text=number)).to_contain_text(LETTER_TITLE)
    logout(page)

    login(page, "gx_archivist")
    claim_from_queue(page, "归档", LETTER_TITLE)
    press(page, "归档")
    expect(message(page)).to_contain_text("“归档”已办理")
    # 泉工信's archive finds it by its title and by its 文号 (what 泉科's archivist must not).
    nav(page, "档案")
    for label, query in (("题名", LETTER_TITLE), ("文号", number)):
        page.get_by_label(label, exact=True).fill(query)
        with page.expect_navigation():
            page.get_by_role("button", name="检索").click()
        expect(page.get_by_role("row").filter(has_text=number)).to_contain_text(LETTER_TITLE)
        with page.expect_navigation():
            page.get_by_role("link", name="清除").click()
    logout(page)

    # The document page: the chain with each step's state, and every opinion under its author.
    login(page, "gx_drafter")
    open_document_from_list(page, search="工业互联网宣传周", title=LETTER_TITLE)
    assert page.url == document_url
    expect(stage_badge(page)).to_have_text("已归档")
    expect(page.locator(".doc-head .number")).to_have_text(number)
    expect(page.locator(".doc-head")).to_contain_text("函 · 平行文")
    states = {
        "初审": ["蔡明辉 同意"], "复审": ["庄雅琴 同意"],
        "会签": ["产业发展科：施建华 同意", "信息化推进科：曾晓东 同意"], "签发": ["苏国栋 签发"],
        "复核": ["叶小红"], "登记": ["叶小红"], "印制": ["叶小红"], "核发": ["叶小红"], "归档": ["傅丽娟"],
    }
    for step, units in states.items():
        item = step_item(page, step)
        expect(item).to_have_class(re.compile(r"\bdone\b"))
        expect(item.locator(".unit")).to_have_count(len(units))
        for i, unit in enumerate(units):
            expect(item.locator(".unit").nth(i)).to_contain_text(unit)
    opinions = page.get_by_role("heading", name="审批意见").locator("xpath=following-sibling::div[contains(@class, 'table-wrap')][1]//table")

    def opinion_rows(step, name):
        return opinions.get_by_role("row").filter(has=page.get_by_role("cell", name=step, exact=True)).filter(
            has=page.get_by_role("cell", name=name, exact=True))

    for party, name in zip(PARTIES, ("施建华", "曾晓东")):
        rows = opinion_rows(f"会签（{party}）", name)
        expect(rows).to_have_count(2)
        expect(rows.filter(has_text=COUNTERSIGN_1[party])).to_have_count(1)
        expect(rows.filter(has_text=COUNTERSIGN_2[party])).to_have_count(1)
    returned = opinion_rows("签发", "苏国栋").filter(has_text=SIGN_RETURN_REASON)
    expect(returned).to_have_count(1)
    expect(returned).to_contain_text("退回")
    expect(opinion_rows("复审", "庄雅琴").filter(has_text=SECOND_REVIEW_AGAIN)).to_have_count(1)
    shot("gx-archived-letter")
    logout(page)
    return document_url, number


def countersign(page, username, party, opinions):
    """A 会签 party's head agrees from their 待办."""
    step = f"会签（{party}）"
    login(page, username)
    open_from_inbox(page, step, LETTER_TITLE)
    expect(page.get_by_label("退回至")).to_have_count(0)  # a party returns only to the drafter
    decide(page, step, text=opinions[party], title=LETTER_TITLE)


def nobody_of_quanke_finds_it(page, document_url, number, chain_url):
    """Every 泉科 user: the document's URLs answer 404, and neither its title nor its 文号 is on
    any list or office page they can open."""
    document = Document.objects.get(title=LETTER_TITLE)
    task_urls = [f"/tasks/{task.pk}/" for task in queries.human_tasks().filter(state__document=document)[:3]]
    record_url = f"/archive/{document.archive_record.pk}/"
    secrets = (LETTER_TITLE, number, "工业互联网宣传周")

    def assert_no_trace(where):
        text = page.locator("body").inner_text()
        for secret in secrets:
            assert secret not in text, f"{where}: “{secret}” is shown"

    for username in QK_CAST:
        login(page, username)
        response = page.goto(document_url)
        assert response.status == 404, (username, response.status)
        assert_no_trace(f"{username} {document_url}")
        for url in [f"{document_url}preview.pdf", f"{document_url}issued.pdf", f"{document_url}export.json",
                    f"{document_url}revisions/1/", f"{document_url}edit/", *task_urls]:
            assert page.request.get(url).status == 404, (username, url)
        for url in (record_url, chain_url):
            status = page.request.get(url).status
            assert status in (403, 404), (username, url, status)

        for tab in ("待办", "可领取", "已办"):
            nav(page, tab)
            expect(page.get_by_role("heading", name=tab)).to_be_visible()
            assert_no_trace(f"{username} {tab}")

        nav(page, "公文")
        assert_no_trace(f"{username} 公文")
        for query in (LETTER_TITLE, number):
            page.get_by_label("范围").select_option(label="全部")
            page.get_by_placeholder("标题或发文字号").fill(query)
            with page.expect_navigation():
                page.get_by_role("button", name="查询").click()
            expect(page.get_by_text("没有符合条件的公文。")).to_be_visible()
            assert page.get_by_role("link", name=LETTER_TITLE).count() == 0

        menu = page.locator("header nav")
        if menu.get_by_role("link", name="文号登记簿").count():
            nav(page, "文号登记簿")
            expect(heading(page)).to_have_text("发文字号登记簿")
            expect(page.get_by_label("机关代字").locator("option")).to_have_text(["泉科"])
            assert_no_trace(f"{username} 文号登记簿")
            # Another organ's register is not theirs to open.
            assert page.request.get("/numbers/?code=泉工信").status == 403, username
        if menu.get_by_role("link", name="档案").count():
            nav(page, "档案")
            assert_no_trace(f"{username} 档案")
            for label, query in (("题名", LETTER_TITLE), ("文号", number)):
                page.get_by_label(label, exact=True).fill(query)
                with page.expect_navigation():
                    page.get_by_role("button", name="检索").click()
                assert_no_trace(f"{username} 档案 {label}")
                with page.expect_navigation():
                    page.get_by_role("link", name="清除").click()
        if menu.get_by_role("link", name="审核流程").count():
            nav(page, "审核流程")
            expect(heading(page)).to_have_text("审核流程 · 泉州市科学技术局")
            expect(page.get_by_role("link", name=CHAIN_NAME)).to_have_count(0)
        logout(page)
