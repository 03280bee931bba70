"""Bad input never ends in a 500 and changes nothing (issue 9).

- Query parameters go through issuance.params: a NUL in a search term is a 400 page in
  Chinese (PostgreSQL refused it with a 500), a "²" or a 5,000-digit number falls back to
  the default (int() refused them with a 500).
- Every text field of every form refuses characters no one types, in Chinese.
- import_gongwen refuses a lone surrogate, JSON nested 100,000 deep, a 5,000-digit number,
  and a 文号 that 登记 could not record (another organ's, a huge serial, a jump of thousands
  of 空号) with a message, creating nothing.
- Every form that changes something does its work once: posted twice with its one-time
  token (issuance.submissions), the second changes nothing; posted without one, nothing.
"""

import datetime
import json
import re
import threading
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core import signing
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from issuance import numbering, params, services, submissions
from issuance.exceptions import IssuanceError
from issuance.forms import ReasonForm
from issuance.models import Document, Event, FormToken, IssuedNumber, NumberSequence, NumberVoid, Organ, Stage
from workflows import actions, demo_path

from . import endpoints

ROOT = Path(__file__).resolve().parent.parent
HUGE = "9" * 5000
NUL_URLS = [
    "/documents/?q=%00", "/documents/?q=%E9%80%9A%00%E7%9F%A5", "/archive/?text=%00", "/archive/?code=%00",
    "/archive/?title=%00", "/archive/?number=%00", "/archive/?organ=%00", "/numbers/?code=%00",
    "/recipients/?organ=%00", "/chains/?organ=%00", "/lockouts/?organ=%00", f"/documents/?q={'通' * 101}",
]


# --- Query parameters --------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("12", 12), (" 12 ", 12), ("²", None), ("١٢", None), ("１２", None), ("-1", None), ("+1", None), ("1.0", None),
    ("1e3", None), ("0x10", None), ("", None), ("\x00", None), ("0", None), (HUGE, None), ("9" * 10, None),
])
def test_only_ascii_digits_within_bounds_make_an_integer(value, expected):
    assert params.integer({"n": value}, "n") == expected


def test_a_year_is_four_digits_and_a_page_falls_back_to_the_first():
    assert [params.year({"year": v}, default=2026) for v in ("2024", "999", "10000", "²")] == [2024, 2026, 2026, 2026]
    assert [params.page({"page": v}) for v in ("3", "0", "²", HUGE, "")] == [3, 1, 1, 1, 1]


@pytest.mark.parametrize("value", ["a\x00b", "\x1b[31m", "\x7f", "a\x85b", "\ud800", "长" * 101])
def test_a_search_term_no_one_can_type_is_refused_with_a_chinese_message(value):
    with pytest.raises(params.BadParameter, match="检索内容(含有无法识别的字符|过长)"):
        params.text({"q": value}, "q", label="检索内容")


def test_a_search_term_is_stripped_and_a_choice_must_match_exactly():
    assert params.text({"q": "  科技\t"}, "q") == "科技"
    assert params.choice({"s": "all"}, "s", ("mine", "all")) == "all"
    assert params.choice({"s": "ALL"}, "s", ("mine", "all"), default="mine") == "mine"
    assert params.flag({"download": "1"}, "download") and not params.flag({"download": "yes"}, "download")


def test_no_view_reads_a_request_parameter_but_through_issuance_params_or_a_form():
    readers = re.compile(r"request\.(GET|POST)(\.get\(|\[|\.getlist)")
    helpers = {ROOT / "issuance/params.py", ROOT / "issuance/submissions.py"}  # the form token is read by its own
    offenders = [
        f"{path.relative_to(ROOT)}:{number}" for package in ("issuance", "workflows", "config")
        for path in sorted((ROOT / package).rglob("*.py")) if path not in helpers
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if readers.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("url", NUL_URLS)
def test_a_search_term_with_a_nul_or_too_long_is_a_400_page_in_chinese(client, cast, url):
    client.force_login(cast["clerk"])
    response = client.get(url)
    assert response.status_code == 400, url
    text = response.content.decode()
    assert "请求有误" in text and re.search("(含有无法识别的字符|过长)", text)


@pytest.fixture
def revised(cast, short_content):
    """A draft of two revisions."""
    document = services.create_draft(cast["drafter"], short_content)
    services.save_content(document, cast["drafter"], {**short_content, "title": "泉州市科学技术局关于开展科技活动周的通知"})
    return document


@pytest.mark.parametrize("value", ["²", "١", "１", HUGE, "9" * 30, "-1", "%00", "1%00"])
def test_a_number_parameter_that_is_no_number_falls_back_to_the_default(client, cast, revised, value):
    client.force_login(cast["drafter"])
    pk = revised.pk
    revision = client.get(f"/documents/{pk}/revisions/2/?compare={value}")
    assert revision.status_code == 200 and revision.context["base"] is None
    preview = client.get(f"/documents/{pk}/preview.pdf?r={value}")
    assert preview.status_code == 200 and "第2稿" in unquote(preview["Content-Disposition"])
    client.force_login(cast["clerk"])
    register = client.get(f"/numbers/?year={value}")
    assert register.status_code == 200 and register.context["year"] == timezone.localdate().year
    archive = client.get(f"/archive/?year={value}&page={value}")
    assert archive.status_code == 200 and archive.context["year"] == "" and archive.context["page"].number == 1
    for url in (f"/documents/?page={value}", f"/notices/?page={value}", f"/tasks/inbox/?page={value}"):
        assert client.get(url).status_code == 200, url


def test_a_number_parameter_within_bounds_still_chooses(client, cast, revised):
    client.force_login(cast["drafter"])
    assert client.get(f"/documents/{revised.pk}/revisions/2/?compare=1").context["base"].number == 1
    assert "第1稿" in unquote(client.get(f"/documents/{revised.pk}/preview.pdf?r=1")["Content-Disposition"])
    assert client.get(f"/documents/{revised.pk}/preview.pdf?r=3").status_code == 404


# --- Form fields ---------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["关于\x00的通知", "关于\x08的通知", "关于\x9b的通知", "\ud800"])
def test_every_text_field_refuses_characters_no_one_types_in_chinese(value):
    form = ReasonForm({"reason": value})
    assert not form.is_valid()
    assert form.errors["reason"] == ["含有无法识别的字符（如空字符或其他控制字符），请删除后重新提交"]
    assert ReasonForm({"reason": "第一行\r\n第二行\t完"}).is_valid()


def test_a_draft_with_a_nul_in_its_title_is_refused_and_nothing_is_created(client, cast):
    client.force_login(cast["drafter"])
    before = endpoints.database_state()
    data = endpoints.draft_data({"department": cast["drafter"].appointments.first().departments.first().pk},
                                title="泉州市科学技术局关于\x00的通知")
    response = client.post("/documents/new/", data)
    assert response.status_code == 400
    assert "含有无法识别的字符" in response.content.decode()
    assert endpoints.database_state() == before


def test_a_submission_note_with_a_nul_is_refused_not_dropped(client, cast, short_content):
    document = services.create_draft(cast["drafter"], short_content)
    client.force_login(cast["drafter"])
    response = client.post(f"/documents/{document.pk}/submit/", {"note": "请\x00审核"}, follow=True)
    assert "送审说明：含有无法识别的字符" in response.content.decode()
    document.refresh_from_db()
    assert document.stage == Stage.DRAFTING


@pytest.mark.parametrize("username, password", [("draf\x00ter", "x"), ("drafter", "gongwen\x00demo")])
def test_a_login_with_a_nul_is_refused_in_chinese(username, password, cast):
    response = Client().post("/login/", {"username": username, "password": password})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_a_new_password_with_a_nul_is_refused_in_chinese(client, cast):
    client.force_login(cast["drafter"])
    response = client.post("/password/", {"old_password": "gongwen-demo", "new_password1": "Quan\x00zhou-2026",
                                          "new_password2": "Quan\x00zhou-2026"})
    assert response.status_code == 200
    assert "含有无法识别的字符" in response.content.decode()


def test_an_unlock_of_a_user_name_with_a_nul_is_a_400_page(client, cast):
    client.force_login(cast["clerk"])
    response = client.post("/lockouts/", {"username": "out\x00sider"})
    assert response.status_code == 400 and "用户名含有无法识别的字符" in response.content.decode()


# --- import_gongwen ------------------------------------------------------------------------

def _import(tmp_path, text, **options):
    path = tmp_path / "import.json"
    path.write_text(text, encoding="utf-8")
    return call_command("import_gongwen", str(path), **options)


def _refused(tmp_path, text, match, **options):
    before = (Document.objects.count(), NumberVoid.objects.count(), NumberSequence.objects.count())
    with pytest.raises(CommandError, match=match) as refused:
        _import(tmp_path, text, **options)
    message = str(refused.value)
    assert message.startswith("导入失败，未创建任何内容。")
    message.encode("utf-8")  # no lone surrogate in the message: it can be printed, logged, stored
    assert (Document.objects.count(), NumberVoid.objects.count(), NumberSequence.objects.count()) == before
    return message


@pytest.mark.parametrize("field, where", [
    ("title", "标题（title）：第 3 个字"), ("note", "附注（note）：第 3 个字"), ("doc_type", "文种（doc_type）：第 3 个字"),
    ("date", "成文日期（date）：第 3 个字"),
])
def test_a_lone_surrogate_is_refused_at_import_naming_its_field(cast, seed_content, tmp_path, field, where):
    content = {**seed_content, "doc_number": None, field: "关于\ud800"}
    text = json.dumps(content, ensure_ascii=True)  # JSON spells it "\ud800"
    assert "\\ud800" in text
    message = _refused(tmp_path, text, "孤立的 UTF-16 代理项（U\\+D800）")
    assert where in message


def test_a_lone_surrogate_in_a_key_or_a_body_block_is_refused_at_import(cast, seed_content, tmp_path):
    _refused(tmp_path, json.dumps({**seed_content, "\udfff": 1}), "键名含有孤立的 UTF-16 代理项（U\\+DFFF）")
    body = [{"kind": "paragraph", "text": "正文"}, {"kind": "paragraph", "text": "x\udc80"}]
    _refused(tmp_path, json.dumps({**seed_content, "body": body}), r"正文\[1\]\.text（body\[1\]\.text）：第 2 个字")


def test_arguments_of_bytes_that_are_no_utf8_are_refused_at_import(cast, seed_content, tmp_path):
    text = json.dumps(seed_content, ensure_ascii=False)
    _refused(tmp_path, text, "--user 含有无法识别的字符", user="\udced\udca0\udc80")
    _refused(tmp_path, text, "--department 含有无法识别的字符", department="综合\udcff科")
    with pytest.raises(CommandError, match="找不到文件：/tmp/\ufffd.json"):
        call_command("import_gongwen", "/tmp/\udcff.json")
    with pytest.raises(CommandError, match="文件名无效"):
        call_command("import_gongwen", "/tmp/\ud800.json")


def test_json_nested_100000_deep_is_refused_at_import(cast, tmp_path):
    _refused(tmp_path, "[" * 100000, "嵌套层数过多")
    _refused(tmp_path, '{"title": ' + "[" * 100000 + "]" * 100000 + "}", "嵌套层数过多")


def test_a_number_of_5000_digits_is_refused_at_import(cast, seed_content, tmp_path):
    text = json.dumps(seed_content, ensure_ascii=False)[:-1] + f', "copies": {HUGE}}}'
    _refused(tmp_path, text, "含有位数过多的数字")


def test_a_file_too_large_is_refused_before_it_is_read(cast, tmp_path, monkeypatch):
    from issuance import exchange

    monkeypatch.setattr(exchange, "MAX_FILE_BYTES", 1024)
    _refused(tmp_path, json.dumps({"title": "长" * 2000}, ensure_ascii=False), "文件过大")


# --- Numbers carried from an earlier system ------------------------------------------------

def _carrying(seed_content, number):
    return {**seed_content, "doc_number": number}


def test_an_imported_number_with_a_huge_serial_is_refused_at_import(cast, seed_content, tmp_path):
    started = time.monotonic()
    _refused(tmp_path, json.dumps(_carrying(seed_content, "泉科〔2024〕999999999999999999999号"), ensure_ascii=False),
             "稿纸中的发文字号序号过大（21 位数，最大 99999）")
    assert time.monotonic() - started < 5


def test_an_imported_number_far_past_the_next_is_refused_at_import_and_nothing_loops(cast, seed_content):
    with pytest.raises(IssuanceError, match=r"泉科〔2024〕20000号比泉科〔2024〕的下一个号（1号）多出 19999 个号，超过 1000 个"):
        services.create_draft(cast["drafter"], _carrying(seed_content, "泉科〔2024〕20000号"))
    assert not Document.objects.exists() and not NumberVoid.objects.exists()


def test_a_jump_of_the_limit_is_recorded_at_registration_with_its_void_numbers(cast, seed_content):
    number = f"泉科〔2024〕{numbering.MAX_CARRIED_JUMP + 1}号"
    document = demo_path.take_through_path(_carrying(seed_content, number), cast["drafter"], until=Stage.PRINTING,
                                           format_reason=demo_path.SEED_REASON)
    assert document.doc_number == number
    assert NumberVoid.objects.filter(organ_code="泉科", year=2024).count() == numbering.MAX_CARRIED_JUMP


def test_a_number_taken_after_import_is_refused_at_registration(cast, seed_content):
    first = services.create_draft(cast["drafter"], _carrying(seed_content, "泉科〔2024〕5号"))
    second = services.create_draft(cast["drafter"], _carrying(seed_content, "泉科〔2024〕5号"))
    demo_path.advance(actions.submit(first, cast["drafter"], format_reason=demo_path.SEED_REASON), Stage.PRINTING)
    demo_path.advance(actions.submit(second, cast["drafter"], format_reason=demo_path.SEED_REASON), Stage.REGISTRATION)
    with pytest.raises(IssuanceError, match="发文字号泉科〔2024〕5号已被使用"):
        numbering.allocate(second, cast["clerk"])
    with pytest.raises(IssuanceError, match="发文字号泉科〔2024〕5号已被使用"):
        services.create_draft(cast["drafter"], _carrying(seed_content, "泉科〔2024〕5号"))


def test_a_number_of_another_organ_is_refused_at_import(cast, seed_content, tmp_path):
    content = {**seed_content, "issuer_marks": ["泉州市工业和信息化局"], "doc_number": "泉科〔2024〕123号"}
    _refused(tmp_path, json.dumps(content, ensure_ascii=False), "稿纸中的发文字号机关代字“泉科”与本机关“泉工信”不符",
             user="gx_drafter")


@pytest.mark.parametrize("number, match", [
    ("泉科〔２０２４〕１号", "格式不对"), ("泉科〔2024〕٣号", "格式不对"), ("泉科〔2999〕1号", "年份晚于今年"),
])
def test_a_number_in_other_digits_or_of_a_later_year_is_refused_at_import(cast, seed_content, tmp_path, number, match):
    _refused(tmp_path, json.dumps(_carrying(seed_content, number), ensure_ascii=False), match)


def test_a_sequence_stops_at_the_largest_serial(cast, short_content):
    year = timezone.localdate().year
    NumberSequence.objects.create(organ_code="泉科", year=year, last_serial=numbering.MAX_SERIAL)
    with pytest.raises(IssuanceError, match=f"泉科〔{year}〕的发文字号已用到 99999 号"):
        numbering.void_next(Organ.objects.get(code="泉科"), cast["clerk"], "已用于纸质公文")
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.REGISTRATION)
    with pytest.raises(IssuanceError, match="已用到 99999 号"):
        numbering.allocate(document, cast["clerk"])
    assert not IssuedNumber.objects.exists() and not NumberVoid.objects.exists()


# --- One submission per form ---------------------------------------------------------------

@pytest.fixture(scope="class")
def built(django_db_setup, django_db_blocker, seed_content, tmp_path_factory):
    with endpoints.built(django_db_blocker, seed_content, tmp_path_factory.mktemp("media")) as world:
        yield world


@pytest.fixture
def world(built, db, settings):
    settings.MEDIA_ROOT = built.media  # the world's issued PDFs
    return built


def _post(client, world, form, token):
    client.force_login(get_user_model().objects.get(username=form.who))
    return endpoints.post(client, form.path(world.ids), {**form.data(world.ids), submissions.FIELD: token})


def _messages(response):
    return " ".join(str(m) for m in get_messages(response.wsgi_request)) + response.content.decode()


class TestOneSubmissionPerForm:
    """In the world of tests.endpoints, built once for the class."""

    @pytest.mark.parametrize("form", endpoints.FORMS, ids=lambda form: form.name)
    def test_a_form_posted_twice_does_its_work_once(self, client, world, form):
        token = submissions.issue()
        before = endpoints.database_state()
        first = _post(client, world, form, token)
        assert endpoints.succeeded(first), (first.status_code, _messages(first))
        done = endpoints.database_state()
        assert done != before
        files = endpoints.media_files()
        second = _post(client, world, form, token)
        assert second.status_code in (200, 302, 400), second.status_code
        assert not endpoints.succeeded(second)
        assert endpoints.changed_tables(done, endpoints.database_state()) == []
        assert endpoints.media_files() == files


    @pytest.mark.parametrize("form", endpoints.FORMS, ids=lambda form: form.name)
    @pytest.mark.parametrize("token", ["", "forged.token:1a2b3c:xyz"])
    def test_a_form_without_a_valid_token_changes_nothing(self, client, world, form, token):
        before, files = endpoints.database_state(), endpoints.media_files()
        response = _post(client, world, form, token)
        assert not endpoints.succeeded(response)
        assert "表单已失效，请刷新页面后重新提交" in _messages(response)
        assert endpoints.changed_tables(before, endpoints.database_state()) == []
        assert endpoints.media_files() == files


    def test_a_draft_posted_twice_opens_the_first_draft_again(self, client, world):
        form = endpoints.FORMS[0]
        token = submissions.issue()
        first, second = _post(client, world, form, token), _post(client, world, form, token)
        assert second.status_code == 302 and second["Location"] == first["Location"]
        assert "该稿纸已保存过，未重复创建" in _messages(second)


    def test_a_number_voided_twice_is_voided_once_with_a_message(self, client, world):
        form = next(f for f in endpoints.FORMS if f.name == "作废下一个文号")
        token = submissions.issue()
        _post(client, world, form, token)
        second = _post(client, world, form, token)
        assert "该表单已提交过，请勿重复提交" in _messages(second)
        assert NumberVoid.objects.filter(voided_by__username="clerk").count() == 1


    def test_a_grant_posted_twice_writes_one_grant_event(self, client, world):
        form = next(f for f in endpoints.FORMS if f.name == "授权查看")
        token = submissions.issue()
        _post(client, world, form, token), _post(client, world, form, token)
        assert Event.objects.filter(document_id=world.ids["first"], action="grant").count() == 1


    def test_a_refused_submission_leaves_its_token_for_the_corrected_form(self, client, world):
        form = next(f for f in endpoints.FORMS if f.name == "授权查看")
        token = submissions.issue()
        client.force_login(get_user_model().objects.get(username="drafter"))
        url = form.path(world.ids)
        refused = client.post(url, {"username": "nobody", submissions.FIELD: token}, follow=True)
        assert "用户“nobody”不存在" in refused.content.decode()
        assert not FormToken.objects.exists()
        accepted = client.post(url, {"username": "outsider", submissions.FIELD: token}, follow=True)
        assert "已授权" in accepted.content.decode()
        assert FormToken.objects.get().user.username == "drafter"


    def test_a_token_older_than_a_week_is_refused_and_forgotten(self, client, world):
        signer = signing.TimestampSigner(salt=submissions.SALT)
        eight_days_ago = signing.b62_encode(int(time.time() - 8 * 24 * 3600))
        token = signing.Signer(salt=submissions.SALT).sign(f"oldnonce{signer.sep}{eight_days_ago}")
        form = next(f for f in endpoints.FORMS if f.name == "作废下一个文号")
        response = _post(client, world, form, token)
        assert "表单打开时间过长已失效，请重新提交" in _messages(response)
        old = FormToken.objects.create(nonce="old", used_at=timezone.now() - datetime.timedelta(days=8))
        recent = FormToken.objects.create(nonce="recent", used_at=timezone.now() - datetime.timedelta(days=6))
        assert submissions.forget_expired() == 1
        assert not FormToken.objects.filter(pk=old.pk).exists() and FormToken.objects.filter(pk=recent.pk).exists()


    def test_a_rendered_page_gives_each_form_its_own_token(self, client, world):
        client.force_login(get_user_model().objects.get(username="drafter"))
        page = client.get(f"/documents/{world.ids['first']}/").content.decode()
        tokens = re.findall(rf'name="{submissions.FIELD}" value="([^"]+)"', page)
        assert len(tokens) >= 3 and len(set(tokens)) == len(tokens)


def test_every_form_that_posts_carries_a_token():
    """Each form of the templates beside its csrf_input; login, logout and the password change
    are left to their nature (see endpoints.NATURAL_FORMS), and the 稿纸 from a file saves
    nothing (endpoints.READING_FORMS)."""
    forms, without = 0, set()
    for path in sorted((ROOT / "templates").rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for form in re.findall(r'<form method="post".*?</form>', text, flags=re.S):
            forms += 1
            if "{{ csrf_input }}{{ form_token() }}" not in form and "{{ url('document_import') }}" not in form:
                without.add(str(path.relative_to(ROOT)))
    assert forms > 20
    assert without == {"templates/base.html", "templates/registration/login.html",
                       "templates/registration/password_change_form.html"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="two connections at once need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_identical_posts_at_the_same_moment_create_one_draft(cast, monkeypatch):
    """The second waits on the token's unique index until the first commits, then finds it used."""
    create_draft = services.create_draft

    def slow_create_draft(*args, **kwargs):
        document = create_draft(*args, **kwargs)
        time.sleep(0.5)  # the second post arrives while the first is still in its transaction
        return document

    monkeypatch.setattr(services, "create_draft", slow_create_draft)
    drafter = cast["drafter"]
    data = endpoints.draft_data({"department": drafter.appointments.first().departments.first().pk})
    data[submissions.FIELD] = submissions.issue()
    start, responses = threading.Barrier(2), []

    def post():
        client = Client()
        client.force_login(drafter)
        start.wait()
        responses.append(client.post("/documents/new/", data))
        connections.close_all()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Document.objects.filter(drafter=drafter).count() == 1
    assert [r.status_code for r in responses] == [302, 302]
    assert responses[0]["Location"] == responses[1]["Location"]
