"""A leader signs on a phone: at 390 × 844 the director logs in, finds the document waiting
for 签发, reads it as page pictures (enlarging one), and signs it with a 常用意见. No page on
the way scrolls sideways; the menu folds behind one button; the decision form comes before
the text.

Needs Debian's chromium (/usr/bin/chromium), as tests/test_browser.py.
"""

import os
import re

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import pytest  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from issuance import services  # noqa: E402
from issuance.models import Stage  # noqa: E402
from workflows import actions  # noqa: E402

from .builders import decide, short_content  # noqa: E402
from .test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, SHOTS  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
TITLE = "泉州市科学技术局关于开展2026年科技活动周的通知"


@pytest.fixture
def waiting_for_signature(cast, seed_content, settings):
    """A 通知 that has passed 初审, 复审 and 终审 and waits for the director's 签发."""
    settings.GONGWEN_RENDER_BACKEND = "inline"
    for user in cast.values():
        user.set_password(PASSWORD)
        user.save()
    document = services.create_draft(cast["drafter"], short_content(seed_content, TITLE))
    actions.submit(document, cast["drafter"])
    for who in ("head", "reviewer", "deputy"):
        decide(document, cast[who])
    assert services.open_states(document).get().name == "签发"
    return document


@pytest.fixture
def phone(live_server):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=live_server.url, viewport=PHONE, device_scale_factor=2,
                                      is_mobile=True, has_touch=True, locale="zh-CN")
        context.set_default_timeout(20_000)
        page = context.new_page()
        blocked = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        try:
            yield page
        finally:
            context.close()
            browser.close()
        assert not blocked, blocked


def no_sideways_scroll(page, where):
    """The page is no wider than the screen: nothing to scroll sideways."""
    # Against the phone's width itself: a mobile browser zooms out to show a page that is
    # too wide, and the window then claims the page's width.
    width = page.evaluate("() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
    assert width <= PHONE["width"], f"{where}: page {width} px wide on a {PHONE['width']} px screen"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-{where}.png"), full_page=True)


def open_menu_and_follow(page, name):
    menu = page.locator("header nav")
    expect(menu).to_be_hidden()  # folded on a phone
    page.get_by_role("button", name=re.compile("^菜单")).click()
    expect(menu).to_be_visible()
    with page.expect_navigation():
        menu.get_by_role("link", name=re.compile(f"^{name}")).click()


def test_the_director_signs_a_document_on_a_phone(waiting_for_signature, phone):
    page = phone
    page.goto("/login/")
    no_sideways_scroll(page, "login")
    page.fill("#id_username", "director")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="待办")).to_be_visible()
    no_sideways_scroll(page, "inbox")

    # 签发 waits in the 主要领导's queue: 待办 points there, and so does the menu.
    open_menu_and_follow(page, "可领取")
    row = page.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("签发")
    no_sideways_scroll(page, "queue")
    with page.expect_navigation():
        row.get_by_role("button", name="领取").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"签发：{TITLE}")
    no_sideways_scroll(page, "task")

    # The decision comes first, the text below it, as pictures of the pages.
    form = page.locator("form.stack")
    first_page = page.get_by_role("img", name="第1页")
    expect(first_page).to_be_visible()
    assert form.bounding_box()["y"] < first_page.bounding_box()["y"]
    first_page.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=first_page.element_handle())
    assert first_page.bounding_box()["width"] <= PHONE["width"]
    # A page enlarges: a picture of it, larger than the screen, to zoom into.
    with page.context.expect_page() as enlarged:
        first_page.click()
    big = enlarged.value
    big.wait_for_load_state()
    assert big.evaluate("() => document.images[0].naturalWidth") >= 1600
    big.close()

    page.get_by_label("签发", exact=True).check()
    page.get_by_role("button", name="同意印发").click()
    expect(page.get_by_label("签发意见")).to_have_value("同意印发。")
    with page.expect_navigation():
        page.get_by_role("button", name="提交意见").click()
    expect(page.locator(".messages")).to_contain_text("已签发（张伟")
    expect(page.locator(".signed-off")).to_contain_text("同意印发")
    no_sideways_scroll(page, "document")

    with page.expect_navigation():
        page.get_by_role("link", name="发文稿纸").click()
    expect(page.locator("tr.sign")).to_contain_text("同意印发")
    expect(page.locator("tr.sign")).to_contain_text("张伟")
    no_sideways_scroll(page, "sheet")
    for name in ("已办", "公文", "通知"):
        open_menu_and_follow(page, name)
        no_sideways_scroll(page, name)

    document = waiting_for_signature
    document.refresh_from_db()
    assert document.stage == Stage.RECHECK
    assert document.signed_by.username == "director"
