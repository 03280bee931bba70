"""Which face prints each character, and the refusal of characters that no face has.

Document text reaches the template as runs: `Run(text, fallback=False)` for characters
all three Fandol text faces have (GB 2312), `fallback=True` for the others, which the
stylesheet sets in the fallback faces (issuance/render/fonts.py) inside a zero line-height
span, so that their taller ascent and descent cannot push the line grid down.

A character that no face of the renderer has (an emoji, a private-use code point, a
script no face covers) would print as an empty box and extract as something else. The
exchange format refuses it when a document is saved (`first_unprintable`, called from
`exchange.parse_document`), naming the field, the character's position and its code point.
This module reads nothing but the fonts' character maps, so the check is cheap to import.
"""

import functools
import unicodedata
from dataclasses import dataclass

from . import fonts


@dataclass(frozen=True)
class Run:
    """A piece of text; `fallback` runs hold characters the Fandol faces lack."""

    text: str
    fallback: bool = False


@functools.cache
def _fandol_coverage():
    # Characters all three Fandol text faces have; anything else is set in a fallback face.
    covered_by_all = None
    for key in fonts.TEXT_FACES:
        chars = fonts.cmap(fonts.FACES[key])
        covered_by_all = chars if covered_by_all is None else covered_by_all & chars
    return covered_by_all


# The GB 2312 characters the three Fandol faces lack (tests/test_rendering.py checks that
# the list is complete): U+2015, which Python's codec gives for GB 2312's A1AA.
_GB2312_GAPS = frozenset("\u2015")


@functools.lru_cache(maxsize=65536)
def covered(ch):
    """Whether all three Fandol text faces have `ch`.

    They cover GB 2312 (but for _GB2312_GAPS), so the faces' character maps are only
    read for a character outside it."""
    if ch.isascii():
        return True
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return ord(ch) in _fandol_coverage()
    return ch not in _GB2312_GAPS


def runs(text):
    """Split `text` into runs of covered and fallback characters."""
    if not text:
        return []
    return list(_runs(text))


@functools.lru_cache(maxsize=8192)
def _runs(text):
    result = []
    for ch in text:
        fallback = not ch.isspace() and not covered(ch)
        if result and result[-1].fallback == fallback:
            result[-1] = Run(result[-1].text + ch, fallback)
        else:
            result.append(Run(ch, fallback))
    return tuple(result)


def fallback_face(ch, chain=fonts.SERIF_CHAIN):
    """The first face of a fallback chain that has `ch`, or None."""
    code = ord(ch)
    # Each face's character map is read only when the faces before it lack the character.
    return next((face for face in chain if code in fonts.cmap(face)), None)


def _private_use(ch):
    return unicodedata.category(ch) == "Co"


@functools.lru_cache(maxsize=4096)
def printable(ch):
    """Whether some face of the renderer prints `ch` (white space needs no glyph).

    Private-use code points are never printable: a face may draw something there, but the
    character means nothing to the receiving office and extracts as nothing meaningful."""
    if ch.isspace() or covered(ch):
        return True
    return not _private_use(ch) and fallback_face(ch) is not None


def _kind(ch):
    if _private_use(ch):
        return "私用区字符"
    if unicodedata.category(ch) == "So":
        return "符号或表情符号"
    return "字符"


def _texts(doc):
    """(field, position words, text) of every piece of text in a parsed document."""
    for key, value in doc.items():
        if isinstance(value, str):
            yield key, "", value
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield f"{key}[{index}].text", f"第 {index + 1} 段", item["text"]
                else:
                    yield f"{key}[{index}]", f"第 {index + 1} 项", item


def first_unprintable(doc):
    """(field, message) for the first character of `doc` that no face prints, or None.

    The message, in the user's words, names the character, its code point and where it
    is: "第 4 段第 12 个字“😀”（U+1F600，符号或表情符号）…"."""
    for field, where, text in _texts(doc):
        for offset, ch in enumerate(text):
            if not printable(ch):
                name = f"{_kind(ch)}，U+{ord(ch):04X}"
                return field, (
                    f"{where}第 {offset + 1} 个字“{ch}”（{name}）无法印制：公文所用的字体都没有这个字符，"
                    f"请删除或改用文字表述"
                )
    return None
