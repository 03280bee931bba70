"""Documents the tests build: small, quick to render, like a new draft."""

import copy

SHORT_TITLE = "泉州市科学技术局关于开展2026年科技活动周的通知"


def short_content(seed_content, title=SHORT_TITLE, **changes):
    """A short 通知 without a number, made from the seed's header fields."""
    content = copy.deepcopy(seed_content)
    content.update(
        doc_number=None,
        printed_date=None,
        date=None,
        title=title,
        body=[
            {"kind": "paragraph", "text": "为普及科学知识，经研究，决定开展2026年科技活动周。现将有关事项通知如下。"},
            {"kind": "heading1", "text": "一、活动时间"},
            {"kind": "paragraph", "text": "2026年5月17日至23日。"},
            {"kind": "heading1", "text": "二、工作要求"},
            {"kind": "paragraph", "text": "各单位要高度重视，精心组织，确保活动取得实效。"},
        ],
        cc="市科协",
    )
    content.update(changes)
    return content


ANONYMOUS = "anonymous"


def as_(client, world, who):
    """The client, logged in as the cast member `who` of `world` (or anonymous)."""
    if client.cookies:
        client.logout()
    if who != ANONYMOUS:
        client.force_login(world.users[who])
    return client
