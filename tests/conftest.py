import copy
import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from issuance import demo

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CAST = ("drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist", "outsider")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the demo cast logs in fast
    settings.GONGWEN_RENDER_BACKEND = "inline"  # 印制 renders in the request, so tests see its result
    return settings.MEDIA_ROOT


@pytest.fixture
def cast(db):
    """The demo organisation and its users, by username."""
    demo.load_organisation()
    User = get_user_model()
    return {user.username: user for user in User.objects.filter(username__in=CAST)}


@pytest.fixture(scope="session")
def seed_content():
    return json.loads((FIXTURES / "quanzhou-2024-123.json").read_text(encoding="utf-8"))


@pytest.fixture
def short_content(seed_content):
    """A short 通知 without a number: quick to render, like a new draft."""
    content = copy.deepcopy(seed_content)
    content.update(
        doc_number=None,
        printed_date=None,
        date=None,
        title="泉州市科学技术局关于开展2026年科技活动周的通知",
        body=[
            {"kind": "paragraph", "text": "为普及科学知识，经研究，决定开展2026年科技活动周。现将有关事项通知如下。"},
            {"kind": "heading1", "text": "一、活动时间"},
            {"kind": "paragraph", "text": "2026年5月17日至23日。"},
            {"kind": "heading1", "text": "二、工作要求"},
            {"kind": "paragraph", "text": "各单位要高度重视，精心组织，确保活动取得实效。"},
        ],
        cc="市科协",
    )
    return content
