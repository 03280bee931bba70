"""Tamper evidence that survives a database administrator (docs/tamper-evidence.md).

Each test makes one edit the way someone with the database but without the history key
would (through the base manager or raw SQL, past the append-only models), and sees
verify_archive name it with the document and the entry. The archive files' own cases
(a file changed, added, removed) are in test_archive.py.
"""

import datetime
import hashlib
import hmac
import importlib
import io
import json
import os
import socket
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from issuance import anchors, seals, services
from issuance.models import Document, DocumentUserObjectPermission, Event, FormatCheck, Revision
from issuance.services import history

OTHER_KEY = "another-key-that-nobody-configured-0123456789"


@pytest.fixture
def draft(cast, short_content):
    """A draft with four entries, none of which changes its stage: create, save, save, grant."""
    drafter = cast["drafter"]
    document = services.create_draft(drafter, short_content)
    for n in (1, 2):
        services.save_content(document, drafter, {**short_content, "title": f"{short_content['title']}（第{n}次修改）"})
    services.grant_access(document, drafter, "head")
    document = Document.objects.get(pk=document.pk)
    assert [e.action for e in entries(document)] == ["create", "save", "save", "grant"]
    return document


@pytest.fixture
def other(cast, short_content):
    """A second draft, which no test touches: its chain stays quiet."""
    return services.create_draft(cast["head"], short_content)


def entries(document):
    return list(Event.objects.filter(document=document).order_by("seq"))


def entry(document, seq):
    return Event.objects.get(document=document, seq=seq)


def rewrite(event, **changes):
    """An UPDATE of one entry behind the app's back (the base manager skips the refusal)."""
    Event._base_manager.filter(pk=event.pk).update(**changes)


def rehash(document, from_seq):
    """Recompute prev_hash and hash from `from_seq` to the end, as someone who read the code would."""
    previous = Event.objects.filter(document=document, seq=from_seq - 1).first()
    prev_hash = previous.hash if previous else history.GENESIS
    for event in Event.objects.filter(document=document, seq__gte=from_seq).order_by("seq"):
        event.prev_hash = prev_hash
        event.hash = event.compute_hash()
        rewrite(event, prev_hash=event.prev_hash, hash=event.hash)
        prev_hash = event.hash


def forged_mac(event):
    """An HMAC made with a key that is not the history key."""
    return hmac.new(OTHER_KEY.encode(), event.sealed_data(), hashlib.sha256).hexdigest()


def verify():
    out = io.StringIO()
    try:
        call_command("verify_archive", stdout=out)
    except CommandError:
        return False, out.getvalue()
    return True, out.getvalue()


def anchor():
    out = io.StringIO()
    call_command("anchor_history", stdout=out)
    return out.getvalue()


def subject(document):
    return f"公文 {document.pk}（{document.title[:30]}）"


def anchor_file():
    (path,) = sorted(anchors.directory().glob("*.jsonl"))
    return path


def problems(out):
    return [line for line in out.splitlines() if line.startswith("不符 ")]


# What passes -------------------------------------------------------------------------

def test_every_entry_carries_an_hmac_of_its_hash_with_the_history_key(draft):
    for event in entries(draft):
        assert event.key_id == seals.key_id(seals.current_key())
        assert seals.check(event.sealed_data(), event.key_id, event.mac) is True
    ok, out = verify()
    assert ok, out


def test_anchor_history_appends_the_heads_that_moved_to_todays_file(draft, other):
    assert "2 份公文的链头有更新" in anchor()
    path = anchor_file()
    assert path.name == f"{timezone.localdate().isoformat()}.jsonl"
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first["heads"] == {str(draft.pk): [4, entry(draft, 4).hash], str(other.pk): [1, entry(other, 1).hash]}
    assert first["prev"] == "" and first["key_id"] == seals.key_id(seals.current_key())
    services.grant_access(draft, draft.drafter, "reviewer")
    assert "1 份公文的链头有更新" in anchor()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 and lines[1]["heads"] == {str(draft.pk): [5, entry(draft, 5).hash]}
    assert lines[1]["prev"] == first["mac"]
    ok, out = verify()
    assert ok and "锚定 2 条" in out, out


# A history entry changed, inserted, deleted; a chain rehashed ----------------------------

def test_an_entry_changed_in_place_is_named(draft):
    event = entry(draft, 2)
    rewrite(event, detail={**event.detail, "revision": 9})
    ok, out = verify()
    assert not ok
    assert f"{subject(draft)}：办理记录第 2 条的内容与其哈希值不符（记录被改动）" in out


def test_an_entry_changed_and_the_chain_rehashed_after_it_is_named_by_the_hmac(draft, other):
    event = entry(draft, 2)
    rewrite(event, detail={**event.detail, "sha256": "0" * 64})
    rehash(draft, 2)
    ok, out = verify()
    assert not ok
    # The chain alone is consistent again: only the HMAC of each rewritten entry tells.
    assert "不衔接" not in out and "哈希值不符" not in out
    assert problems(out) == [f"不符 {subject(draft)}：办理记录第 {seq} 条的 HMAC 不符（记录被改动或伪造，哈希可能已重算）"
                             for seq in (2, 3, 4)]


def test_a_rehashed_chain_whose_hmacs_were_removed_is_named(draft):
    anchor()
    rewrite(entry(draft, 3), action="copies")
    rehash(draft, 3)
    Event._base_manager.filter(document=draft, seq__gte=3).update(mac="", key_id="")
    ok, out = verify()
    assert not ok
    assert f"{subject(draft)}：办理记录第 4 条的哈希与锚定文件 {anchor_file().name} 第 1 行记录的不同" in out
    # The anchor recorded head 4, so entries 3 and 4 pass as sealed by it without an HMAC:
    # the head's hash is what names them.
    services.grant_access(draft, draft.drafter, "reviewer")
    Event._base_manager.filter(document=draft, seq=5).update(mac="", key_id="")
    ok, out = verify()
    assert f"{subject(draft)}：办理记录第 5 条没有 HMAC，也不在任何锚定之内（记录是绕过系统写入的）" in out


def test_the_last_entry_deleted_is_named_when_an_anchor_recorded_it(draft, other):
    anchor()
    last = entry(draft, 4)
    assert last.stage_before == last.stage_after  # the stage check cannot see it go
    Event._base_manager.filter(pk=last.pk)._raw_delete(connection.alias)
    ok, out = verify()
    assert not ok
    assert problems(out) == [f"不符 {subject(draft)}：锚定文件 {anchor_file().name} 第 1 行记录的办理记录第 4 条已不存在（记录被删除）"]


def test_an_entry_deleted_in_the_middle_is_named(draft):
    Event._base_manager.filter(pk=entry(draft, 2).pk)._raw_delete(connection.alias)
    ok, out = verify()
    assert not ok and f"{subject(draft)}：办理记录序号不连续：第 1 条之后是第 3 条，应为第 2 条（可能有记录被删除）" in out


def test_an_entry_deleted_in_the_middle_with_the_rest_renumbered_and_rehashed_is_named(draft):
    anchor()
    Event._base_manager.filter(pk=entry(draft, 2).pk)._raw_delete(connection.alias)
    for event in entries(draft)[1:]:
        rewrite(event, seq=event.seq - 1)
    rehash(draft, 2)
    ok, out = verify()
    assert not ok
    assert "序号不连续" not in out and "不衔接" not in out
    assert f"{subject(draft)}：办理记录第 2 条的 HMAC 不符" in out and f"{subject(draft)}：办理记录第 3 条的 HMAC 不符" in out
    assert f"{subject(draft)}：锚定文件 {anchor_file().name} 第 1 行记录的办理记录第 4 条已不存在（记录被删除）" in out


def _insert(document, seq, sealed):
    """A forged entry at `seq`, the entries from there on moved up one and the chain rehashed."""
    for event in reversed(entries(document)[seq - 1:]):
        rewrite(event, seq=event.seq + 1)
    previous = entry(document, seq - 1)
    forged = Event(document=document, seq=seq, action="grant", actor=document.drafter, stage_before="drafting",
                   stage_after="drafting", detail={"user": "outsider", "name": "吴强"}, created_at=previous.created_at,
                   prev_hash=previous.hash)
    forged.hash = forged.compute_hash()
    if sealed:
        forged.key_id, forged.mac = seals.key_id(seals.current_key()), forged_mac(forged)
    forged.save()
    rehash(document, seq + 1)


def test_an_entry_inserted_in_the_middle_is_named(draft):
    _insert(draft, 3, sealed=False)
    ok, out = verify()
    assert not ok
    assert "序号不连续" not in out and "不衔接" not in out and "哈希值不符" not in out
    assert f"{subject(draft)}：办理记录第 3 条没有 HMAC，也不在任何锚定之内（记录是绕过系统写入的）" in out
    assert f"{subject(draft)}：办理记录第 4 条的 HMAC 不符" in out and f"{subject(draft)}：办理记录第 5 条的 HMAC 不符" in out


def test_an_entry_inserted_in_the_middle_of_an_anchored_chain_with_a_made_up_hmac_is_named(draft):
    anchor()
    _insert(draft, 2, sealed=True)
    ok, out = verify()
    assert not ok
    assert f"{subject(draft)}：办理记录第 2 条的 HMAC 不符" in out
    assert f"{subject(draft)}：办理记录第 4 条的哈希与锚定文件 {anchor_file().name} 第 1 行记录的不同" in out


def test_an_entry_added_at_the_end_without_the_key_is_named(draft):
    last = entry(draft, 4)
    forged = Event(document=draft, seq=5, action="grant", actor=draft.drafter, stage_before="drafting",
                   stage_after="drafting", detail={"user": "outsider", "name": "吴强"}, created_at=timezone.now(),
                   prev_hash=last.hash)
    forged.hash = forged.compute_hash()
    forged.key_id, forged.mac = last.key_id, last.mac  # an HMAC copied from a genuine entry
    forged.save()
    ok, out = verify()
    assert not ok
    assert problems(out) == [f"不符 {subject(draft)}：办理记录第 5 条的 HMAC 不符（记录被改动或伪造，哈希可能已重算）"]


def test_an_entry_sealed_with_a_key_that_is_not_configured_is_named(draft):
    event = entry(draft, 4)
    rewrite(event, key_id=seals.key_id(OTHER_KEY), mac=forged_mac(event))
    ok, out = verify()
    assert not ok
    assert f"{subject(draft)}：办理记录第 4 条的 HMAC 密钥 {seals.key_id(OTHER_KEY)} 未配置，无法核验" in out


def test_a_document_deleted_with_its_whole_history_is_named_by_the_anchor(draft, other):
    anchor()
    Document.objects.filter(pk=draft.pk).update(current_revision=None)
    FormatCheck._base_manager.filter(revision__document=draft)._raw_delete(connection.alias)
    for model in (Event, Revision, DocumentUserObjectPermission):
        field = "content_object" if model is DocumentUserObjectPermission else "document"
        model._base_manager.filter(**{field: draft})._raw_delete(connection.alias)
    draft.countersign_departments.clear()
    Document.objects.filter(pk=draft.pk)._raw_delete(connection.alias)
    ok, out = verify()
    assert not ok
    assert problems(out) == [f"不符 公文 {draft.pk}：锚定文件 {anchor_file().name} 第 1 行记录了它的办理记录第 4 条，"
                             "但这份公文已不存在（公文被删除）"]


# The anchor files ----------------------------------------------------------------------

def _lines(path):
    return path.read_text(encoding="utf-8").splitlines()


def test_an_anchor_line_changed_is_named(draft, other):
    anchor()
    path = anchor_file()
    data = json.loads(_lines(path)[0])
    data["heads"][str(draft.pk)] = [3, entry(draft, 3).hash]  # as if entry 4 had never been anchored
    path.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    ok, out = verify()
    assert not ok and f"锚定文件 {path.name} 第 1 行：HMAC 不符（锚定被改动）" in out
    path.write_text("not json\n", encoding="utf-8")
    ok, out = verify()
    assert not ok and f"锚定文件 {path.name} 第 1 行：无法解析（锚定被改动）" in out


def test_an_anchor_removed_from_between_two_others_is_named(draft):
    for who in ("reviewer", "clerk"):
        anchor()
        services.grant_access(draft, draft.drafter, who)
    anchor()
    path = anchor_file()
    first, _, third = _lines(path)
    path.write_text(f"{first}\n{third}\n", encoding="utf-8")
    ok, out = verify()
    assert not ok
    assert problems(out) == [f"不符 锚定文件 {path.name} 第 2 行：与上一条锚定不衔接（有锚定被删除或改动）"]


def test_anchors_of_several_days_link_across_their_files(draft, settings):
    yesterday = timezone.now() - datetime.timedelta(days=1)
    anchors.write(Event, now=yesterday)
    services.grant_access(draft, draft.drafter, "reviewer")
    anchor()
    names = sorted(p.name for p in anchors.directory().glob("*.jsonl"))
    assert names == [f"{timezone.localdate(yesterday).isoformat()}.jsonl", f"{timezone.localdate().isoformat()}.jsonl"]
    ok, out = verify()
    assert ok and "锚定 2 条" in out, out
    (anchors.directory() / names[0]).unlink()
    ok, out = verify()
    assert not ok and f"锚定文件 {names[1]} 第 1 行：与上一条锚定不衔接" in out


# Entries written before entries were sealed --------------------------------------------

def _as_before_the_upgrade(*documents):
    """Entries as the code before the HMAC wrote them, and the migration that seals them run."""
    Event._base_manager.filter(document__in=documents).update(mac="", key_id="")
    migration = importlib.import_module("issuance.migrations.0006_event_seals")
    migration.seal_existing_chains(apps, None)


def test_entries_without_an_hmac_are_sealed_by_the_first_anchor(draft, other):
    _as_before_the_upgrade(draft, other)
    assert json.loads(_lines(anchor_file())[0])["heads"][str(draft.pk)] == [4, entry(draft, 4).hash]
    ok, out = verify()
    assert ok, out
    services.grant_access(draft, draft.drafter, "reviewer")  # new entries are sealed as written
    assert entry(draft, 5).mac
    ok, out = verify()
    assert ok, out


def test_an_entry_without_an_hmac_changed_and_rehashed_is_named_by_the_first_anchor(draft, other):
    _as_before_the_upgrade(draft, other)
    rewrite(entry(draft, 1), detail={**entry(draft, 1).detail, "copies": 99})
    rehash(draft, 1)
    ok, out = verify()
    assert not ok
    assert problems(out) == [f"不符 {subject(draft)}：办理记录第 4 条的哈希与锚定文件 {anchor_file().name} "
                             "第 1 行记录的不同（记录被改动后重算了哈希）"]


def test_an_entry_without_an_hmac_deleted_at_the_end_is_named_by_the_first_anchor(draft, other):
    _as_before_the_upgrade(draft, other)
    Event._base_manager.filter(pk=entry(draft, 4).pk)._raw_delete(connection.alias)
    ok, out = verify()
    assert not ok and "记录的办理记录第 4 条已不存在（记录被删除）" in out


def test_the_migration_writes_no_anchor_when_every_entry_is_sealed(draft):
    importlib.import_module("issuance.migrations.0006_event_seals").seal_existing_chains(apps, None)
    assert not anchors.directory().exists() or not list(anchors.directory().glob("*.jsonl"))


# The key -------------------------------------------------------------------------------

def test_a_rotated_key_still_verifies_what_the_old_one_sealed(draft, settings):
    old = seals.current_key()
    anchor()
    settings.GONGWEN_HISTORY_KEY, settings.GONGWEN_HISTORY_OLD_KEYS = OTHER_KEY, [old]
    services.grant_access(draft, draft.drafter, "reviewer")
    assert entry(draft, 5).key_id == seals.key_id(OTHER_KEY) != entry(draft, 4).key_id
    anchor()
    ok, out = verify()
    assert ok, out
    settings.GONGWEN_HISTORY_OLD_KEYS = []
    ok, out = verify()
    assert not ok
    assert f"{subject(draft)}：办理记录第 4 条的 HMAC 密钥 {seals.key_id(old)} 未配置，无法核验" in out
    assert f"锚定文件 {anchor_file().name} 第 1 行：HMAC 的密钥 {seals.key_id(old)} 未配置，无法核验" in out
    assert "第 5 条" not in out


def test_without_the_variable_development_keeps_a_generated_key_in_var_dir(settings, tmp_path):
    settings.GONGWEN_HISTORY_KEY, settings.VAR_DIR = "", tmp_path / "var"
    key = seals.current_key()
    path = tmp_path / "var" / seals.DEVELOPMENT_KEY_FILE
    assert path.read_text().strip() == key and len(key) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert seals.current_key() == key
    settings.GONGWEN_HISTORY_KEY = OTHER_KEY
    assert seals.current_key() == OTHER_KEY


# RFC 3161 time-stamps, from a TSA on 127.0.0.1 -------------------------------------------

def tsa_identity(name):
    """A self-signed time-stamping certificate and its key, in asn1crypto's types."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(subject_name).issuer_name(subject_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    key_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return asn1_x509.Certificate.load(der), asn1_keys.PrivateKeyInfo.load(key_der), certificate


class _TSAHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
        body = self.server.stamper.request_tsa_response(request).dump()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Quiet: the test reads the answers, not the server's log."""


@pytest.fixture
def tsa(settings, tmp_path):
    """A time-stamp authority on 127.0.0.1 (pyHanko's test TSA behind an HTTP server), set as
    GONGWEN_TSA_URL, with its certificate as GONGWEN_TSA_CERT."""
    certificate, key, pyca = tsa_identity("gongwen test TSA")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TSAHandler)
    server.stamper = DummyTimeStamper(tsa_cert=certificate, tsa_key=key)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cert_path = tmp_path / "tsa.pem"
    cert_path.write_bytes(pyca.public_bytes(serialization.Encoding.PEM))
    settings.GONGWEN_TSA_URL = f"http://127.0.0.1:{server.server_address[1]}/"
    settings.GONGWEN_TSA_CERT = str(cert_path)
    settings.GONGWEN_TSA_TIMEOUT = 5
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_an_anchor_is_time_stamped_by_the_configured_authority(draft, tsa):
    assert "已加盖时间戳" in anchor()
    line = json.loads(_lines(anchor_file())[0])
    assert line["timestamp"] and anchors.check_timestamp(line) is None
    ok, out = verify()
    assert ok, out


def test_a_time_stamp_that_does_not_cover_its_anchor_is_named(draft, tsa):
    anchor()
    services.grant_access(draft, draft.drafter, "reviewer")
    anchor()
    path = anchor_file()
    first, second = (json.loads(line) for line in _lines(path))
    second["timestamp"] = first["timestamp"]  # a genuine token, over another anchor
    path.write_text(_lines(path)[0] + "\n" + json.dumps(second, ensure_ascii=False) + "\n", encoding="utf-8")
    ok, out = verify()
    assert not ok and problems(out) == [f"不符 锚定文件 {path.name} 第 2 行：时间戳与锚定内容不符（锚定被改动）"]


def test_a_time_stamp_of_another_authority_is_named(draft, tsa, tmp_path, settings):
    anchor()
    *_, stranger = tsa_identity("somebody else")
    other_cert = tmp_path / "other.pem"
    other_cert.write_bytes(stranger.public_bytes(serialization.Encoding.PEM))
    settings.GONGWEN_TSA_CERT = str(other_cert)
    ok, out = verify()
    assert not ok and f"锚定文件 {anchor_file().name} 第 1 行：时间戳不是由所配置的时间戳服务机构签发的" in out


def closed_port():
    """A port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_authority_that_does_not_answer_leaves_the_anchor_without_a_token_and_exits_1(draft, settings):
    settings.GONGWEN_TSA_URL, settings.GONGWEN_TSA_TIMEOUT = f"http://127.0.0.1:{closed_port()}/", 2
    with pytest.raises(CommandError, match="锚定已写入，但时间戳服务未能加盖时间戳"):
        anchor()
    line = json.loads(_lines(anchor_file())[0])
    assert "timestamp" not in line and line["heads"][str(draft.pk)][0] == 4
    ok, out = verify()
    assert ok, out

