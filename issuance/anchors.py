"""Anchors: the heads of the history chains, written outside the database (anchor_history).

Each anchor is one line of JSON appended to GONGWEN_ANCHOR_DIR/<date>.jsonl, fsync'd:
the head (last seq and hash) of every document whose head moved since the anchor before,
the HMAC of the whole (issuance.seals), the HMAC of the anchor before (so that an anchor
removed from between two others shows) and, when GONGWEN_TSA_URL is set, an RFC 3161
time-stamp token over all of it. `verify_archive` then requires every head an anchor
recorded to be still in its chain with the same hash: an entry deleted at the end, or a
chain rehashed, no longer matches what the file says. Entries written before entries
carried an HMAC are covered the same way: the first anchor (written by the migration that
added the HMAC) records the heads they lead to. See docs/tamper-evidence.md.
"""

import asyncio
import base64
import contextlib
import datetime
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from . import seals

LOCK_FILE = ".lock"
# How far the time a TSA certifies may lie from the time the anchor says it was written.
TIMESTAMP_TOLERANCE = datetime.timedelta(minutes=10)


@dataclass(frozen=True)
class Anchor:
    name: str  # "锚定文件 2026-12-01.jsonl 第 1 行"
    heads: dict  # {document id: (seq, hash)}


@dataclass
class Reading:
    anchors: list = field(default_factory=list)  # the intact ones, oldest first
    problems: list = field(default_factory=list)  # (where, message)
    last_mac: str = ""  # what the next anchor links to

    def latest_heads(self):
        """Each document's head as the most recent intact anchor recorded it."""
        heads = {}
        for anchor in self.anchors:
            heads.update(anchor.heads)
        return heads


def directory():
    return Path(settings.GONGWEN_ANCHOR_DIR)


def current_heads(Event):
    """{document id: (seq, hash)} of every document's last history entry. `Event` is the
    model (a migration passes its historical one)."""
    last_seq = Event.objects.filter(document=OuterRef("document")).order_by("-seq").values("seq")[:1]
    rows = Event.objects.filter(seq=Subquery(last_seq)).values_list("document_id", "seq", "hash")
    return {document: (seq, digest) for document, seq, digest in rows}


def _body(data):
    """What an anchor's HMAC covers (its key id only picks the key)."""
    return {"at": data["at"], "prev": data["prev"],
            "heads": {str(document): list(head) for document, head in data["heads"].items()}}


def _sealed(data):
    """The bytes a time-stamp covers: the body with its HMAC."""
    return seals.canonical({**_body(data), "mac": data["mac"]})


def read():
    """Every anchor line, checked: its HMAC, its link to the one before, its time-stamp."""
    reading = Reading()
    folder = directory()
    keys = seals.known_keys()
    for path in sorted(folder.glob("*.jsonl")) if folder.exists() else ():
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"锚定文件 {path.name} 第 {number} 行"
            try:
                data = json.loads(text)
                body, mac, key_id = _body(data), str(data["mac"]), str(data.get("key_id"))
                heads = {int(document): (int(seq), str(digest)) for document, (seq, digest) in data["heads"].items()}
            except (ValueError, KeyError, TypeError, AttributeError):
                reading.problems.append((where, "无法解析（锚定被改动）"))
                continue
            previous, reading.last_mac = reading.last_mac, mac
            verdict = seals.check(seals.canonical(body), key_id, mac, keys)
            if verdict is None:
                reading.problems.append((where, f"HMAC 的密钥 {key_id} 未配置，无法核验"))
                continue
            if not verdict:
                reading.problems.append((where, "HMAC 不符（锚定被改动）"))
                continue
            if body["prev"] != previous:
                reading.problems.append((where, "与上一条锚定不衔接（有锚定被删除或改动）"))
            if "timestamp" in data:
                problem = check_timestamp(data)
                if problem:
                    reading.problems.append((where, problem))
            reading.anchors.append(Anchor(where, heads))
    return reading


@contextlib.contextmanager
def _locked(folder):
    """One writer at a time, so that each anchor links to the one before it."""
    with open(folder / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _append(path, line):
    created = not path.exists()
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    if created:  # the new file's name must survive a crash too
        descriptor = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


@dataclass(frozen=True)
class Written:
    path: Path
    heads: int
    timestamped: bool
    timestamp_error: str = ""


def write(Event, now=None):
    """Append an anchor of the heads that moved since the last one; returns what was written.
    A time-stamp authority that does not answer leaves the anchor without a token (and
    says so in `timestamp_error`): the anchor itself must not be lost to a network fault."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    now = timezone.localtime(now or timezone.now())
    with _locked(folder):
        reading = read()
        recorded = reading.latest_heads()
        heads = {document: head for document, head in current_heads(Event).items() if recorded.get(document) != head}
        line = _body({"at": now.isoformat(), "prev": reading.last_mac, "heads": heads})
        line["key_id"], line["mac"] = seals.seal(seals.canonical(line))
        error = ""
        if settings.GONGWEN_TSA_URL:
            try:
                line["timestamp"] = base64.b64encode(_timestamp(_sealed(line))).decode("ascii")
            except Exception as exc:  # any failure of the TSA or the network: the anchor is written anyway
                error = f"{type(exc).__name__}: {exc}"
        path = folder / f"{now.date().isoformat()}.jsonl"
        _append(path, json.dumps(line, ensure_ascii=False, sort_keys=True))
    return Written(path, len(heads), "timestamp" in line, error)


def _timestamp(payload):
    """The DER of an RFC 3161 token over SHA-256(payload) from GONGWEN_TSA_URL (pyHanko's client)."""
    # pyHanko, and aiohttp under it, load only where time-stamps are in use.
    from pyhanko.sign.timestamps.aiohttp_client import HTTPTimeStamper

    stamper = HTTPTimeStamper(settings.GONGWEN_TSA_URL, timeout=settings.GONGWEN_TSA_TIMEOUT)
    token = asyncio.run(stamper.async_timestamp(hashlib.sha256(payload).digest(), "sha256"))
    return token.dump()


def _tsa_context():
    from asn1crypto import pem, x509
    from pyhanko_certvalidator import ValidationContext

    if not settings.GONGWEN_TSA_CERT:
        return None
    data = Path(settings.GONGWEN_TSA_CERT).read_bytes()
    if pem.detect(data):
        data = pem.unarmor(data)[2]
    return ValidationContext(trust_roots=[x509.Certificate.load(data)], allow_fetching=False)


def check_timestamp(data):
    """None if the anchor's time-stamp token covers it (signed by a TSA that GONGWEN_TSA_CERT
    names, when set) at about the time it claims; else what is wrong, in Chinese."""
    from asn1crypto import cms
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data

    payload = _sealed(data)
    try:
        token = cms.ContentInfo.load(base64.b64decode(data["timestamp"]))
        status = asyncio.run(validate_tst_signed_data(
            token["content"], _tsa_context(), lambda algorithm: hashlib.new(algorithm, payload).digest()))
    except Exception as exc:  # a token that does not parse or validate is a finding, not a crash
        return f"时间戳无法解析（{type(exc).__name__}）"
    if not (status["intact"] and status["valid"]):
        return "时间戳与锚定内容不符（锚定被改动）"
    if settings.GONGWEN_TSA_CERT and status["trust_problem_indic"] is not None:
        return "时间戳不是由所配置的时间戳服务机构签发的"
    if abs(status["timestamp"] - datetime.datetime.fromisoformat(data["at"])) > TIMESTAMP_TOLERANCE:
        return f"时间戳的时间 {timezone.localtime(status['timestamp']):%Y-%m-%d %H:%M:%S} 与锚定时间 {data['at']} 不符"
    return None
