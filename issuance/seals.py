"""The history's HMAC key: where it comes from and how an entry or an anchor is sealed with it.

The key never enters the database: it comes from GONGWEN_HISTORY_KEY (required when DEBUG
is off), or in development from a file under VAR_DIR generated on first use. A database
administrator can rewrite a hash chain, since SHA-256 needs no secret; without the key the
HMAC of a forged or rehashed entry cannot be made. Each seal names its key by an id derived
from the key, so that entries sealed before a rotation verify with the old key kept in
GONGWEN_HISTORY_OLD_KEYS. See docs/tamper-evidence.md.
"""

import functools
import hashlib
import hmac
import json
import os
import secrets

from django.conf import settings

DEVELOPMENT_KEY_FILE = "history.key"


def canonical(data):
    """The bytes a seal covers: JSON with sorted keys and no spaces, as the history's hash."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def key_id(key):
    """A short name of a key that tells nothing of it."""
    return hmac.new(key.encode("utf-8"), b"gongwen history key id", hashlib.sha256).hexdigest()[:16]


@functools.cache
def _read_or_create(path):
    """The key in `path`, written there first if there is none. The key is written to a
    file of its own and linked into place, so that a process starting at the same moment
    finds either no file or the whole key, never an empty one."""
    if not path.exists():
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process was first: its key is the one
        finally:
            os.unlink(draft)
    return path.read_text(encoding="ascii").strip()


def current_key():
    """The key new seals are made with."""
    if settings.GONGWEN_HISTORY_KEY:
        return settings.GONGWEN_HISTORY_KEY
    # settings.py refuses to start without the variable when DEBUG is off.
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    return _read_or_create(settings.VAR_DIR / DEVELOPMENT_KEY_FILE)


def known_keys():
    """Every key a seal may have been made with, by id: the current one and the old ones."""
    keys = [current_key(), *settings.GONGWEN_HISTORY_OLD_KEYS]
    return {key_id(key): key for key in keys}


def _mac(key, data):
    return hmac.new(key.encode("utf-8"), data, hashlib.sha256).hexdigest()


def seal(data):
    """(key id, HMAC) of `data` (bytes) with the current key."""
    key = current_key()
    return key_id(key), _mac(key, data)


def check(data, seal_key_id, mac, keys=None):
    """True if `mac` is the HMAC of `data` with the key `seal_key_id`; None if that key is unknown."""
    key = (keys if keys is not None else known_keys()).get(seal_key_id)
    if key is None:
        return None
    return hmac.compare_digest(_mac(key, data), mac)
