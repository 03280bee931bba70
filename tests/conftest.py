import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from issuance import demo, submissions
from issuance.prepared import Prepared

from . import builders

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# 泉州市科学技术局's demo cast, and 泉州市工业和信息化局's.
CAST = ("drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist", "outsider")
GX_CAST = ("gx_drafter", "gx_head", "gx_industry", "gx_digital", "gx_reviewer", "gx_deputy", "gx_director",
           "gx_clerk", "gx_archivist")


def _no_callable(value):
    if callable(value) and not hasattr(value, "__html__"):
        raise TypeError(f"a template printed {value!r}: a method wants ()")
    return value


@pytest.fixture(autouse=True, scope="session")
def checked_prepared_queries():
    """Every prepared query (issuance.prepared) is compiled again with its real values and
    compared with the SQL it runs."""
    Prepared.check = True


@pytest.fixture(autouse=True, scope="session")
def strict_pages():
    """A page that prints a method instead of calling it fails the test (Jinja2 prints it as
    "<bound method …>"; Django's language called it). Set before any template is compiled."""
    from django.template import engines

    engines["jinja2"].env.finalize = _no_callable


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # the demo cast logs in fast
    settings.GONGWEN_RENDER_BACKEND = "inline"  # 印制 renders in the request, so tests see its result
    settings.GONGWEN_MAIL_SENDER = "inline"  # mail goes out on commit in the test itself
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def form_tokens():
    """A browser posts the one-time token of the form it shows (issuance.submissions); the
    test client posts a fresh one with every POST that carries none, as it also skips the
    CSRF check. A test of the tokens passes its own (an empty one is none)."""
    post = Client.post

    def post_with_token(self, path, data=None, *args, **kwargs):
        if data is None or isinstance(data, dict) and submissions.FIELD not in data:
            data = {**(data or {}), submissions.FIELD: submissions.issue()}
        return post(self, path, data, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:  # its own: a test's monkeypatch.undo() leaves it be
        patch.setattr(Client, "post", post_with_token)
        yield


@pytest.fixture(autouse=True)
def anchor_dir(settings, tmp_path):
    """Each test's anchors (issuance.anchors) in a folder of its own, never the machine's VAR_DIR."""
    settings.GONGWEN_ANCHOR_DIR = tmp_path / "anchors"
    return settings.GONGWEN_ANCHOR_DIR


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory):
    """A demo certificate authority and both demo organs' keys, made once per session."""
    directory = tmp_path_factory.mktemp("signing")
    demo.create_signing_keys(directory, demo.signing_organs())
    return directory


@pytest.fixture(autouse=True)
def signing_dir(settings, signing_keys):
    """Every 印制 signs with the session's demo keys (issuance.signing), never the machine's."""
    settings.GONGWEN_SIGNING_DIR = signing_keys
    settings.GONGWEN_SIGNING_CA = ""
    settings.GONGWEN_SIGNING_P12 = {}
    settings.GONGWEN_SIGNING_PASSPHRASE = ""
    settings.GONGWEN_SIGNING_PASSPHRASES = {}
    return signing_keys


@pytest.fixture
def cast(db):
    """Both demo organs and their users, by username."""
    demo.load_organisation()
    User = get_user_model()
    return {user.username: user for user in User.objects.filter(username__in=CAST + GX_CAST)}


@pytest.fixture(scope="session")
def seed_content():
    return json.loads((FIXTURES / "quanzhou-2024-123.json").read_text(encoding="utf-8"))


@pytest.fixture
def short_content(seed_content):
    """A short 通知 without a number: quick to render, like a new draft."""
    return builders.short_content(seed_content)
