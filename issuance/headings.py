"""The numbering of the 正文's headings (GB/T 9704 7.3.3: 一、 （一） 1. （1）).

`detect_kind` is the one definition of which numbering makes a block a heading of which
level: the 发文稿纸 uses it to read the body the drafter typed, recognition uses it for a
document that comes in from a file. `heading_number` also reads the forms that drafters
get wrong ("1、", "一.", half-width brackets), so that the 格式审查 can follow the order of
the headings and point at the wrong form.
"""

import re
from dataclasses import dataclass

LEVEL_OF_KIND = {"heading1": 1, "heading2": 2, "heading3": 3, "heading4": 4}
KIND_OF_LEVEL = {level: kind for kind, level in LEVEL_OF_KIND.items()}
# How each level is written, for messages.
LEVEL_FORMS = {1: "一、", 2: "（一）", 3: "1.", 4: "（1）"}

CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9}
CN_NUMERAL = "[一二三四五六七八九十百]+"

HEADING_PATTERNS = (
    ("heading1", re.compile(rf"^{CN_NUMERAL}、")),
    ("heading2", re.compile(rf"^[（(]{CN_NUMERAL}[）)]")),
    ("heading3", re.compile(r"^\d+[.．](?!\d)")),
    ("heading4", re.compile(r"^[（(]\d+[）)]")),
)

# Every way a heading number is written in practice, right or wrong: (level, pattern).
# The number is group "n", what follows it group "sep" (for 一、 and 1.) or the brackets.
_ANY_NUMBER = (
    (2, re.compile(rf"^(?P<open>[（(])(?P<n>{CN_NUMERAL})(?P<close>[）)])")),
    (4, re.compile(r"^(?P<open>[（(])(?P<n>\d{1,3})(?P<close>[）)])")),
    (1, re.compile(rf"^(?P<n>{CN_NUMERAL})(?P<sep>、|[.．](?!\d))")),
    (3, re.compile(r"^(?P<n>\d{1,3})(?P<sep>、|[.．](?!\d))")),
)
RIGHT_FORM = {1: ("", "、", ""), 2: ("（", "", "）"), 3: ("", ".", ""), 4: ("（", "", "）")}


def detect_kind(line):
    """The kind of a block of the 稿纸's body from its numbering: a heading, or a paragraph."""
    for kind, pattern in HEADING_PATTERNS:
        if pattern.match(line):
            return kind
    return "paragraph"


def chinese_numeral(text):
    """一 → 1, 十二 → 12, 二十 → 20, 一百零五 → 105; None if `text` is no numeral."""
    if not text:
        return None
    if len(text) > 1 and all(ch in CN_DIGITS for ch in text):  # 二〇二四, digit by digit
        return int("".join(str(CN_DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        else:
            return None
    return total + current


@dataclass(frozen=True)
class HeadingNumber:
    level: int
    number: int
    end: int  # where the number, with its mark or brackets, ends in the text
    written: str  # the number as written, e.g. "1、"
    right: str  # the number as it should be written, e.g. "1."


def heading_number(text):
    """The heading number a block starts with, however it is written; None if it has none."""
    for level, pattern in _ANY_NUMBER:
        match = pattern.match(text)
        if not match:
            continue
        raw = match["n"]
        number = int(raw) if raw.isdigit() else chinese_numeral(raw)
        if number is None:
            continue
        opening, mark, closing = RIGHT_FORM[level]
        return HeadingNumber(level, number, match.end(), match.group(0), f"{opening}{raw}{mark}{closing}")
    return None


def to_chinese(number):
    """1 → 一, 10 → 十, 12 → 十二, 20 → 二十: the numerals of 一、 and （一）."""
    digits = "零一二三四五六七八九"
    if number >= 100:
        return str(number)  # no 公文 has a hundred headings of one level
    tens, ones = divmod(number, 10)
    if not tens:
        return digits[ones]
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def written_number(level, number):
    """How heading `number` of `level` is written: 二、 （二） 2. （2）."""
    shown = to_chinese(number) if level in (1, 2) else str(number)
    opening, mark, closing = RIGHT_FORM[level]
    return f"{opening}{shown}{mark}{closing}"
