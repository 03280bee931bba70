"""Nobody gets in: the login lockout (django-axes) and the 机关管理员's unlock, the password
validators, and the production settings (check --deploy, the Content Security Policy,
framing).

Login attempts come from addresses of the loopback range given as REMOTE_ADDR: the test
client sends nothing over a network.
"""

import datetime
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from issuance import services
from issuance.models import ReviewChain

from .builders import ANONYMOUS, as_

CAST = ("drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist", "outsider")
GX_CAST = ("gx_drafter", "gx_head", "gx_industry", "gx_digital", "gx_reviewer", "gx_deputy", "gx_director",
           "gx_clerk", "gx_archivist")
ADMINISTRATORS = {"clerk", "gx_clerk"}
PASSWORD = "gongwen-demo"
ADDRESS, OTHER_ADDRESS = "127.0.0.2", "127.0.0.3"
BASE_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture
def world(cast):
    return SimpleNamespace(users=cast)


def login(client, username, password, address=ADDRESS):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client):
    return client.get("/tasks/inbox/").status_code == 200


def lock_out(username, address=ADDRESS):
    client = Client()
    for _ in range(5):
        response = login(client, username, "wrong-password", address)
    assert response.status_code == 429
    return response


# The lockout ---------------------------------------------------------------------------

def test_of_200_wrong_passwords_only_the_first_4_get_the_form_again(world):
    client = Client()
    answers = [login(client, "drafter", f"wrong-{n}").status_code for n in range(200)]
    assert answers == [200] * 4 + [429] * 196
    assert AccessAttempt.objects.get(username="drafter", ip_address=ADDRESS).failures_since_start == 200


def test_the_lock_says_so_in_chinese_and_holds_against_the_right_password(world):
    client = Client()
    for _ in range(4):
        page = login(client, "drafter", "wrong").content.decode()
        assert "用户名或密码不正确" in page
    page = login(client, "drafter", "wrong").content.decode()
    assert "登录已锁定" in page and "用户“drafter”从本地址连续 5 次输入错误的密码" in page
    assert "请 15 分钟后再试，或请本机关的机关管理员解除锁定" in page
    response = login(client, "drafter", PASSWORD)
    assert response.status_code == 429 and not logged_in(client)


def test_the_lock_holds_for_that_user_from_that_address_only(world):
    lock_out("drafter")
    for username, address in (("drafter", OTHER_ADDRESS), ("head", ADDRESS)):
        client = Client()
        assert login(client, username, PASSWORD, address).status_code == 302 and logged_in(client), username


def test_the_lock_lifts_by_itself_after_15_minutes(world):
    lock_out("drafter")
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=16))
    client = Client()
    assert login(client, "drafter", PASSWORD).status_code == 302 and logged_in(client)


def test_a_successful_login_starts_the_count_again(world):
    client = Client()
    for _ in range(4):
        login(client, "drafter", "wrong")
    assert login(client, "drafter", PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(4):
        assert login(client, "drafter", "wrong").status_code == 200


# The administrator's unlock -------------------------------------------------------------

@pytest.mark.parametrize("who", CAST + GX_CAST + (ANONYMOUS,))
def test_the_lockout_page_opens_only_to_the_organs_administrator(client, world, who):
    response = as_(client, world, who).get("/lockouts/")
    expected = 302 if who == ANONYMOUS else 200 if who in ADMINISTRATORS else 403
    assert response.status_code == expected, who
    if who != ANONYMOUS:
        assert as_(client, world, who).post("/lockouts/", {"username": "drafter"}).status_code in (
            (302,) if who in ADMINISTRATORS else (403,))
    if expected == 200:
        assert "审核流程" in response.content.decode()  # the nav of an administrator
    nav = as_(client, world, who).get("/documents/").content.decode() if who != ANONYMOUS else ""
    assert ('href="/lockouts/"' in nav) == (who in ADMINISTRATORS), who


def test_the_administrator_sees_and_unlocks_only_their_organs_people(client, world):
    lock_out("drafter")
    lock_out("gx_drafter", OTHER_ADDRESS)
    page = as_(client, world, "clerk").get("/lockouts/").content.decode()
    assert "林晓峰（drafter）" in page and ADDRESS in page and "许文杰" not in page
    gx_page = as_(client, world, "gx_clerk").get("/lockouts/").content.decode()
    assert "许文杰（gx_drafter）" in gx_page and "林晓峰" not in gx_page

    # 泉工信's administrator cannot unlock 泉科's drafter.
    response = client.post("/lockouts/", {"username": "drafter"}, follow=True)
    assert "“drafter”不是泉州市工业和信息化局的人员，不能由本机关解锁" in response.content.decode()
    assert login(Client(), "drafter", PASSWORD).status_code == 429

    response = as_(client, world, "clerk").post("/lockouts/", {"username": "drafter"}, follow=True)
    assert "已解除林晓峰（drafter）的登录锁定" in response.content.decode()
    assert "本机关目前没有被锁定的用户" in response.content.decode()
    user = Client()
    assert login(user, "drafter", PASSWORD).status_code == 302 and logged_in(user)
    assert login(Client(), "gx_drafter", PASSWORD, OTHER_ADDRESS).status_code == 429


def test_a_superuser_unlocks_anyone_in_the_admin(client, world):
    lock_out("outsider")
    superuser = get_user_model().objects.create_superuser("root", "root@example.invalid", "x")
    client.force_login(superuser)
    attempt = AccessAttempt.objects.get(username="outsider")
    assert client.get("/admin/axes/accessattempt/").status_code == 200
    assert client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 302
    assert login(Client(), "outsider", PASSWORD).status_code == 302
    as_(client, world, "clerk")
    assert client.get("/admin/axes/accessattempt/").status_code == 302  # to the admin's login


# Passwords -----------------------------------------------------------------------------

@pytest.mark.parametrize("password,message", [
    ("Qz-1x", "密码长度太短。密码必须包含至少 10 个字符。"),
    ("password123", "这个密码太常见了。"),
    ("4815162342", "密码只包含数字。"),
    ("drafter2026x", "密码跟 用户名 太相似了。"),
])
def test_a_weak_new_password_is_refused_in_chinese(client, world, password, message):
    as_(client, world, "drafter")
    response = client.post("/password/", {"old_password": PASSWORD, "new_password1": password,
                                          "new_password2": password})
    page = response.content.decode()
    assert response.status_code == 200 and message in page and "This password" not in page
    assert get_user_model().objects.get(username="drafter").check_password(PASSWORD)


def test_a_user_changes_their_password(client, world):
    as_(client, world, "drafter")
    page = client.get("/documents/").content.decode()
    assert 'href="/password/"' in page
    new = "Quanzhou-Keji-2026!"
    response = client.post("/password/", {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302 and response["Location"] == "/password/done/"
    assert "密码已修改" in client.get("/password/done/").content.decode()
    assert get_user_model().objects.get(username="drafter").check_password(new)


# Production settings -------------------------------------------------------------------

def production_env(tmp_path, **changes):
    """The environment README's 生产部署 documents, with made-up secrets."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update({
        "DEBUG": "false",
        "SECRET_KEY": "t6Qm2-Xy9vRk4pLs8Wd0Jh3Nc7Bf1Gz5Ta_Ue4Ri8Oy2Pw6Lx0Kq",
        "ALLOWED_HOSTS": "gongwen.example.gov.cn",
        "CSRF_TRUSTED_ORIGINS": "https://gongwen.example.gov.cn",
        "GONGWEN_HISTORY_KEY": "Jp4Tn8Rw2Ys6Xa0Kd5Mf9Qh3Vb7Lc1Ge",
        "SECURE_PROXY_SSL_HEADER": "true",
        "VAR_DIR": str(tmp_path / "var"),
    })
    env.update(changes)
    return env


def manage(env, *args):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
                          text=True, timeout=120)


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr + result.stdout


def test_check_deploy_warns_without_them(tmp_path):
    result = manage(production_env(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0"),
                    "check", "--deploy")
    assert "security.W008" in result.stderr + result.stdout and "security.W004" in result.stderr + result.stdout


@pytest.mark.parametrize("changes,message", [
    ({"GONGWEN_HISTORY_KEY": ""}, "GONGWEN_HISTORY_KEY must be set when DEBUG is off"),
    ({"GONGWEN_HISTORY_KEY": "too-short"}, "at least 32 characters"),
    ({"SECRET_KEY": ""}, "SECRET_KEY must be set when DEBUG is off"),
])
def test_production_refuses_to_start_without_its_secrets(tmp_path, changes, message):
    result = manage(production_env(tmp_path, **changes), "check")
    assert result.returncode != 0 and message in result.stderr


NONCE = re.compile(r"'nonce-([^']+)'")


def test_every_page_has_a_content_security_policy_whose_nonce_its_blocks_carry(client, world):
    chain = ReviewChain.objects.filter(organ__code="泉科").first()
    pages = {ANONYMOUS: ["/login/"], "drafter": ["/tasks/inbox/", "/documents/"],
             "clerk": ["/chains/", f"/chains/{chain.pk}/", "/lockouts/", "/password/"], "archivist": ["/archive/"]}
    for who, urls in pages.items():
        as_(client, world, who)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            policy = response["Content-Security-Policy"]
            for directive in ("default-src 'none'", "frame-ancestors 'none'", "object-src 'none'",
                              "base-uri 'none'", "form-action 'self'"):
                assert directive in policy, (url, directive)
            assert "'unsafe-inline'" not in policy.split("style-src-attr")[0], url
            assert response["X-Frame-Options"] == "DENY", url
            nonce = NONCE.search(policy).group(1)
            blocks = re.findall(r"<(style|script)([^>]*)>", response.content.decode())
            assert blocks, url
            for tag, attributes in blocks:
                assert f'nonce="{nonce}"' in attributes, (url, tag)


def test_only_a_pdf_may_be_framed_and_only_by_our_own_pages(client, world, short_content):
    document = services.create_draft(world.users["drafter"], short_content)
    as_(client, world, "drafter")
    response = client.get(f"/documents/{document.pk}/preview.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Content-Security-Policy"] == "frame-ancestors 'self'"
    page = client.get(f"/documents/{document.pk}/")
    assert page["X-Frame-Options"] == "DENY" and "frame-src 'self'" in page["Content-Security-Policy"]
