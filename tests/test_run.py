"""`scripts/run` serves the app as in production, and nobody meets a page or a message in
English or Django's debug page: the local profile's settings and keys (config/serve.py),
gunicorn serving a drafter on a free port of 127.0.0.1, the error pages (400, 403 and
CSRF's, 404, 405, 500), static files by whitenoise, the mail outbox's round
(config/outbox.py) and the validation messages rewritten in locale/.
"""

import gettext
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django import forms
from django.contrib.auth.views import LoginView
from django.test import Client
from django.urls import get_resolver
from django.utils import translation

from config import outbox, serve
from config.middleware import page_above
from issuance import services

BASE_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "gongwen-demo"
DEBUG_PAGE = ("Page not found", "URLconf", "Traceback", "DEBUG = True", "Django")


def page(response):
    return response.content.decode("utf-8")


def assert_chinese_page(text, heading):
    assert f"<h1>{heading}" in text and "公文办理" in text  # base.html's header
    assert not any(words in text for words in DEBUG_PAGE), text


# The local profile ---------------------------------------------------------------------

def machine_env(**changes):
    """This machine's environment without the test run's database and settings module."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(changes)
    return env


def settings_seen_by(env):
    code = ("import json; from django.conf import settings as s; print(json.dumps([s.DEBUG, s.SECRET_KEY, "
            "s.GONGWEN_HISTORY_KEY, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
            "s.SECURE_HSTS_SECONDS, s.ALLOWED_HOSTS]))")
    result = subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_run_profile_generates_its_keys_once_and_keeps_them_for_its_owner(tmp_path):
    var = tmp_path / "var"
    first = serve.local_environment(machine_env(VAR_DIR=str(var)))
    again = serve.local_environment(machine_env(VAR_DIR=str(var)))
    for name, file_name in (("SECRET_KEY", "secret.key"), ("GONGWEN_HISTORY_KEY", "history.key")):
        path = var / file_name
        assert path.stat().st_mode & 0o777 == 0o600, file_name
        assert first[name] == again[name] == path.read_text().strip() and len(first[name]) >= 32
    assert first["SECRET_KEY"] != first["GONGWEN_HISTORY_KEY"]
    debug, secret, history, session_secure, csrf_secure, redirect, hsts, hosts = settings_seen_by(first)
    assert (debug, secret, history) == (False, first["SECRET_KEY"], first["GONGWEN_HISTORY_KEY"])
    # Plain HTTP on this machine: cookies a browser sends back over it, no redirect, no HSTS.
    assert (session_secure, csrf_secure, redirect, hsts) == (False, False, False, 0)
    assert hosts == ["127.0.0.1", "localhost"]


def test_the_run_profile_keeps_the_history_key_that_debug_made_and_a_key_the_environment_gives(tmp_path):
    var = tmp_path / "var"
    var.mkdir()
    (var / "history.key").write_text("k" * 43 + "\n")  # as DEBUG leaves it (issuance.seals)
    env = serve.local_environment(machine_env(VAR_DIR=str(var), SECRET_KEY="s" * 50, DEBUG="true"), "192.0.2.7")
    assert env["GONGWEN_HISTORY_KEY"] == "k" * 43 and env["SECRET_KEY"] == "s" * 50
    assert not (var / "secret.key").exists()
    assert env["DEBUG"] == "false" and env["ALLOWED_HOSTS"] == "127.0.0.1,localhost,192.0.2.7"
    assert env["GONGWEN_SITE_URL"] == "http://192.0.2.7:8000"


def test_the_production_profile_keeps_https(tmp_path):
    """README's 生产部署 is not the run profile: with DEBUG off alone, HTTPS is on."""
    env = machine_env(DEBUG="false", SECRET_KEY="s" * 50, GONGWEN_HISTORY_KEY="h" * 43, VAR_DIR=str(tmp_path))
    _, _, _, session_secure, csrf_secure, redirect, hsts, _ = settings_seen_by(env)
    assert (session_secure, csrf_secure, redirect, hsts) == (True, True, True, 31536000)


# gunicorn on a free port ---------------------------------------------------------------

PREPARE = """
import json
from django.contrib.auth import get_user_model
from django.core.management import call_command
from issuance import demo, exchange, services
from tests.builders import short_content
from workflows import actions
call_command("migrate", verbosity=0)
demo.load_organisation()
drafter = get_user_model().objects.get(username="drafter")
document = services.create_draft(drafter, short_content(exchange.read_file(demo.FIXTURES / "quanzhou-2024-123.json")))
actions.submit(document, drafter)
print(json.dumps(document.pk))
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """Requests to the server with a cookie jar, as a browser sends them (no redirect of an error)."""

    def __init__(self, base):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path, data=None, timeout=30):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, body, timeout=timeout) as response:
                return response.status, response.headers, response.read(), response.url
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read(), error.url

    def cookie(self, name):
        return next(c.value for c in self.cookies if c.name == name)


def wait_for(check, deadline, what, log):
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} within the time limit; server log:\n{log.read_text()[-3000:]}")


def manage(env, *args):
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_gunicorn_serves_a_drafter_in_the_run_profile_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = serve.local_environment(machine_env(VAR_DIR=str(tmp_path / "var"), GONGWEN_MAIL_POLL_SECONDS="1"),
                                  "127.0.0.1", str(port))
    document = json.loads(manage({**env, "GONGWEN_MAIL_SENDER": "off"}, "shell", "-c", PREPARE).splitlines()[-1])
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    log = tmp_path / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(serve.gunicorn_command("127.0.0.1", port), cwd=BASE_DIR, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        browser = Browser(f"http://127.0.0.1:{port}")

        def answers():
            try:
                return browser.get("/login/", timeout=2)[0] == 200
            except OSError:
                return False

        wait_for(answers, deadline, "gunicorn did not answer", log)
        status, _, _, url = browser.get("/login/", {"username": "drafter", "password": PASSWORD,
                                                    "csrfmiddlewaretoken": browser.cookie("csrftoken")})
        assert (status, urllib.parse.urlsplit(url).path) == (200, "/tasks/inbox/")
        assert "<h1>待办" in browser.get("/tasks/inbox/")[2].decode()
        status, headers, body, _ = browser.get(f"/documents/{document}/preview.pdf", timeout=50)
        assert status == 200 and headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
        status, _, body, _ = browser.get("/no-such-page/")
        assert status == 404
        assert_chinese_page(body.decode(), "页面不存在")
        status, headers, body, _ = browser.get("/static/admin/css/base.css")
        assert status == 200 and headers["Content-Type"].startswith("text/css") and b"body" in body
        # The head's notice of the submitted draft waited (no sender at the time): the
        # outbox's round of a web worker sends it.
        database = sqlite3.connect(tmp_path / "var" / "gongwen.sqlite3")

        def head_mailed():
            rows = database.execute("SELECT n.mail FROM issuance_notice n JOIN auth_user u ON u.id = n.user_id "
                                    "WHERE u.username = 'head'").fetchall()
            return bool(rows) and {mail for (mail,) in rows} == {"sent"}

        try:
            wait_for(head_mailed, deadline, "the waiting mail was not sent", log)
        finally:
            database.close()
        assert "head@qzkj.example.cn" in log.read_text()
        assert time.monotonic() < deadline
        server.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert server.wait(timeout=20) == 0
        assert "Shutting down: Master" in log.read_text()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# Error pages ---------------------------------------------------------------------------

def test_a_page_that_does_not_exist_answers_in_chinese_without_the_debug_page(client, cast):
    client.force_login(cast["drafter"])
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert_chinese_page(page(response), "页面不存在")
    assert "待办" in page(response)  # the menu of the person logged in


def test_the_500_page_needs_neither_a_database_nor_a_context_processor(rf):
    """No `db` fixture: any query would fail this test."""
    request = rf.get("/")
    request.csp_nonce = "n0nce"
    response = get_resolver().resolve_error_handler(500)(request)
    assert response.status_code == 500
    assert_chinese_page(page(response), "系统错误")
    assert '<style nonce="n0nce">' in page(response)


def test_an_exception_in_a_view_ends_in_the_chinese_500_page_with_its_policy(client, monkeypatch, db):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(LoginView, "get", broken)
    client.raise_request_exception = False
    response = client.get("/login/")
    assert response.status_code == 500
    assert_chinese_page(page(response), "系统错误")
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">' in page(response)


def test_a_get_of_a_post_only_url_shows_a_page_with_a_link_back(client, cast, short_content):
    document = services.create_draft(cast["drafter"], short_content)
    client.force_login(cast["drafter"])
    response = client.get(f"/documents/{document.pk}/submit/")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert_chinese_page(page(response), "请从页面上的按钮操作")
    assert "此操作需要从页面上的按钮提交" in page(response)
    assert f'<a href="/documents/{document.pk}/">返回</a>' in page(response)
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<style nonce="{nonce}">' in page(response)


def test_a_post_to_a_url_that_takes_only_get_stays_a_plain_405(client, cast):
    client.force_login(cast["archivist"])
    response = client.post("/archive/")  # a form's POST to it is no button's: nothing to explain
    assert response.status_code == 405 and response.content == b""


@pytest.mark.parametrize("path,above", [
    ("/documents/5/submit/", "/documents/5/"),
    ("/tasks/7/claim/", "/tasks/7/"),
    ("/delegations/3/end/", "/delegations/"),
    ("/notices/read/", "/notices/"),
    ("/logout/", "/"),
])
def test_the_link_back_leads_to_the_nearest_page_above(path, above):
    assert page_above(path) == above


def test_a_forbidden_page_says_why_in_chinese(client, cast):
    client.force_login(cast["drafter"])
    response = client.get("/chains/")
    assert response.status_code == 403
    assert_chinese_page(page(response), "无权访问")
    assert "只有本机关的机关管理员可以设置审核流程" in page(response)


def test_a_request_for_another_host_gets_the_chinese_400_page(client, db):
    response = client.get("/login/", HTTP_HOST="gongwen.example.org")
    assert response.status_code == 400
    assert_chinese_page(page(response), "请求有误")


def test_a_form_sent_without_its_csrf_token_gets_the_chinese_page(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["drafter"])
    response = client.post("/notices/read/")
    assert response.status_code == 403
    assert_chinese_page(page(response), "页面已过期，未能提交")
    assert "刷新后重新填写提交" in page(response)


def test_whitenoise_serves_static_files(client):
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    assert response["Access-Control-Allow-Origin"] == "*"  # whitenoise's, not Django's static view


# The outbox's round --------------------------------------------------------------------

class Rounds:
    """A stop event that lets a loop run `count` rounds."""

    def __init__(self, count):
        self.left = count

    def wait(self, timeout):
        self.left -= 1
        return self.left < 0


def test_the_outbox_round_goes_on_after_a_failure(monkeypatch):
    calls = []

    def send_due():
        calls.append(len(calls))
        if len(calls) == 1:
            raise ConnectionError("database gone for a moment")

    monkeypatch.setattr(outbox.mailer, "send_due", send_due)
    monkeypatch.setattr(outbox, "close_old_connections", lambda: None)
    outbox.send_due_forever(Rounds(3), 0)
    assert calls == [0, 1, 2]


@pytest.mark.parametrize("sender,started", [("thread", 1), ("off", 0), ("inline", 0)])
def test_a_web_process_runs_the_round_once_and_only_when_it_sends_mail_itself(monkeypatch, settings, sender, started):
    threads = []
    monkeypatch.setattr(outbox.threading, "Thread", lambda **kwargs: threads.append(kwargs) or _NotStarted())
    monkeypatch.setattr(outbox, "_started_in", None)
    settings.GONGWEN_MAIL_SENDER = sender
    outbox.start()
    outbox.start()
    assert len(threads) == started


class _NotStarted:
    def start(self):
        pass


# Validation messages -------------------------------------------------------------------

def test_django_s_validation_messages_are_written_for_people():
    with translation.override("zh-hans"):
        with pytest.raises(forms.ValidationError) as too_long:
            forms.CharField(max_length=200).clean("字" * 213)
        with pytest.raises(forms.ValidationError) as missing:
            forms.CharField().clean("")
        with pytest.raises(forms.ValidationError) as too_big:
            forms.IntegerField(max_value=100000).clean("100001")
    assert too_long.value.messages == ["最多 200 个字，现在 213 个字。"]
    assert missing.value.messages == ["请填写此项。"]
    assert too_big.value.messages == ["不能大于 100000。"]


def test_a_name_too_long_says_so_beside_the_field(client, cast):
    client.force_login(cast["clerk"])
    response = client.post("/recipients/new/", {"name": "泉" * 213, "active": "on"})
    assert response.status_code == 400
    assert "最多 200 个字，现在 213 个字" in page(response) and "确保" not in page(response)
    response = client.post("/recipients/new/", {"name": "", "active": "on"})
    assert "请填写此项" in page(response) and "必填" not in page(response)


def test_the_compiled_messages_are_those_of_their_source(tmp_path):
    source = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "msgfmt is missing: scripts/bootstrap installs gettext"
    subprocess.run([msgfmt, "--check-format", "-o", tmp_path / "django.mo", source], check=True)

    def catalog(path):
        with path.open("rb") as handle:
            return gettext.GNUTranslations(handle)._catalog

    assert catalog(source.with_suffix(".mo")) == catalog(tmp_path / "django.mo")


def test_the_admin_is_named_in_chinese(client, db):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert "公文办理 · 系统管理" in page(response) and "Django" not in page(response)
