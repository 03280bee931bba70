"""The words of a title, as jieba finds them (its dictionary, `HMM=False`), without loading
jieba or its whole dictionary into the process.

`titles.py` breaks a long title only between words. jieba finds them with its dictionary
of 350,000 words: a graph of every dictionary word that starts at each character, and
the most probable way through it (the product of the words' frequencies). Importing
jieba and loading that dictionary took 0.5–1 s of every process that rendered a title,
and 40–80 MB of it (docs/benchmarks.md), for titles of a few dozen characters that need a
few hundred of those words.

So the dictionary (jieba's own file, `jieba/dict.txt`, read as data) is copied once into
an SQLite file under VAR_DIR, with the prefixes jieba marks (a prefix of a word that is
no word itself has frequency 0: the graph keeps looking past it), and a title reads only
the fragments of itself that are there. `cut` is jieba's `Tokenizer.cut(text, HMM=False)`
for that lookup; tests/test_rendering.py checks that both give the same words. When
VAR_DIR cannot be written, the words are read into memory instead, once per process.
"""

import functools
import hashlib
import importlib.util
import logging
import math
import os
import re
import sqlite3
import tempfile
import threading
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

# jieba's blocks: runs of these characters are cut with the dictionary; anything else is
# split into white space (kept whole) and single characters.
_SEGMENTED = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")
_SPACE = re.compile("(\r\n|\\s)")
_LATIN = re.compile("[a-zA-Z0-9]")

# Fragments asked for in one query (SQLite allows 32,766 parameters).
_QUERY_CHUNK = 500
_SCHEMA_VERSION = 1


def dictionary_file():
    """jieba's dictionary, found without importing jieba (its import alone takes 0.2–1 s)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("jieba is not installed: pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "dict.txt"


def read_dictionary(path):
    """({word or prefix: frequency}, total) as jieba reads its dictionary: a prefix that is
    no word itself has frequency 0, and a word listed twice keeps its last frequency."""
    frequencies = {}
    total = 0
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            line = line.strip().decode("utf-8")
            try:
                word, frequency = line.split(" ")[:2]
                frequency = int(frequency)
            except ValueError:
                raise ValueError(f"invalid dictionary entry in {path} at line {number}: {line}") from None
            frequencies[word] = frequency
            total += frequency
            for end in range(1, len(word)):
                frequencies.setdefault(word[:end], 0)
    return frequencies, total


def store_path(dictionary=None):
    """The SQLite copy of `dictionary` under VAR_DIR, named after the file's size and
    modification time, so that another jieba's dictionary gets a copy of its own."""
    dictionary = Path(dictionary or dictionary_file())
    stat = dictionary.stat()
    stamp = hashlib.blake2b(
        f"{_SCHEMA_VERSION}:{dictionary.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode(), digest_size=6
    ).hexdigest()
    return Path(settings.VAR_DIR) / f"title-words-{stamp}.sqlite3"


def build_store(dictionary, target):
    """Write the SQLite copy of `dictionary` to `target` (under a temporary name first, so
    that a process never reads half a file)."""
    frequencies, total = read_dictionary(dictionary)
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=target.name, suffix=".part", dir=target.parent)
    os.close(handle)
    try:
        connection = sqlite3.connect(temporary)
        try:
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("CREATE TABLE words (word TEXT PRIMARY KEY, frequency INTEGER NOT NULL) WITHOUT ROWID")
            connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            connection.executemany("INSERT INTO words VALUES (?, ?)", frequencies.items())
            connection.executemany("INSERT INTO meta VALUES (?, ?)", [
                ("total", total), ("longest", max(map(len, frequencies), default=1)),
            ])
            connection.commit()
        finally:
            connection.close()
        # Readable by the other processes that render (a Celery worker may run as another user).
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _Store:
    """Word frequencies read from the SQLite copy, a title's fragments at a time."""

    def __init__(self, path):
        self.path = path
        with self._connect() as connection:
            meta = dict(connection.execute("SELECT key, value FROM meta"))
        self.total, self.longest = meta["total"], meta["longest"]

    def _connect(self):
        return sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)

    def frequencies(self, fragments):
        fragments = list(fragments)
        found = {}
        connection = self._connect()
        try:
            for start in range(0, len(fragments), _QUERY_CHUNK):
                chunk = fragments[start:start + _QUERY_CHUNK]
                marks = ",".join("?" * len(chunk))
                found.update(connection.execute(f"SELECT word, frequency FROM words WHERE word IN ({marks})", chunk))
        finally:
            connection.close()
        return found


class _InMemory:
    """The whole dictionary in memory: when VAR_DIR cannot hold the copy."""

    def __init__(self, dictionary):
        self._frequencies, self.total = read_dictionary(dictionary)
        self.longest = max(map(len, self._frequencies), default=1)

    def frequencies(self, fragments):
        return {fragment: self._frequencies[fragment] for fragment in fragments if fragment in self._frequencies}


_lock = threading.Lock()


@functools.cache
def _words():
    dictionary = dictionary_file()
    target = store_path(dictionary)
    with _lock:
        try:
            if not target.exists():
                build_store(dictionary, target)
            return _Store(target)
        except (OSError, sqlite3.Error) as exc:
            logger.warning("title words: cannot use %s (%s); reading jieba's dictionary into memory", target, exc)
            return _InMemory(dictionary)


def _fragments(text, longest):
    return {text[start:end] for start in range(len(text)) for end in range(start + 1, min(len(text), start + longest) + 1)}


def _route(text, frequencies, total):
    """The words of `text` (one block of segmented characters) on the most probable path
    through the graph of dictionary words, as jieba's `__cut_DAG_NO_HMM` takes it."""
    n = len(text)
    graph = []
    for start in range(n):
        ends = []
        end = start
        fragment = text[start]
        while end < n and fragment in frequencies:
            if frequencies[fragment]:
                ends.append(end)
            end += 1
            fragment = text[start:end + 1]
        graph.append(ends or [start])
    log_total = math.log(total)
    best = [None] * n + [(0, 0)]
    for start in range(n - 1, -1, -1):
        best[start] = max(
            (math.log(frequencies.get(text[start:end + 1]) or 1) - log_total + best[end + 1][0], end)
            for end in graph[start]
        )
    words = []
    latin = ""
    start = 0
    while start < n:
        end = best[start][1] + 1
        word = text[start:end]
        # Single Latin letters and digits in a row make one word.
        if len(word) == 1 and _LATIN.match(word):
            latin += word
        else:
            if latin:
                words.append(latin)
                latin = ""
            words.append(word)
        start = end
    if latin:
        words.append(latin)
    return words


def cut(text, store=None):
    """The words of `text`, as `jieba.Tokenizer().cut(text, HMM=False)` gives them (from
    `store`, by default the copy under VAR_DIR)."""
    store = store or _words()
    blocks = [block for block in _SEGMENTED.split(text) if block]
    segmented = [block for block in blocks if _SEGMENTED.match(block)]
    fragments = set().union(*(_fragments(block, store.longest) for block in segmented))
    frequencies = store.frequencies(fragments) if fragments else {}
    words = []
    for block in blocks:
        if _SEGMENTED.match(block):
            words.extend(_route(block, frequencies, store.total))
            continue
        for piece in _SPACE.split(block):
            if _SPACE.match(piece):
                words.append(piece)
            else:
                words.extend(piece)
    return words
