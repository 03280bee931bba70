"""Long titles broken into lines between words, in a trapezoid or a diamond.

GB/T 9704 7.3.1 wants a title that does not fit one line "排列对称，长短适宜，回行时要做到
词意完整", as a trapezoid (lines growing or shrinking downwards) or a diamond (the middle
line longest), never an hourglass. `title_lines` picks the fewest lines, breaking only
between the words a segmenter finds (jieba's, words.py), at phrase boundaries
(after 关于/印发/转发, around 《》, before 暨 and 的通知) where it can, and inside a name in
《》 only when the name is longer than a line or no other break gives a fair shape.
"""

import functools
import math

from . import words
from .grid import TYPE_AREA_WIDTH

TITLE_FONT_SIZE = 22.0
TITLE_CAPACITY = int(TYPE_AREA_WIDTH // TITLE_FONT_SIZE)  # 20 characters of 2号

# The advance of a half-width character in em: digits of Noto Serif CJK SC Bold (the 标志
# and title face) are 0.594 em wide, so counting them as half an em would overfill a line.
HALF_WIDTH_EM = 0.6


def units(text):
    """Width of `text` in em, counting half-width characters as HALF_WIDTH_EM."""
    return sum(HALF_WIDTH_EM if ord(ch) < 0x2E80 and ch not in "—…“”‘’·★" else 1 for ch in text)


_OPENING = "（《〈「『“‘〔【"
_CLOSING = "）》〉」』”’〕】、，。：；？！"
# Joiners that begin a phrase of their own; the segmenter's dictionary glues some of them
# to the word before ("总结暨"), so the text is split on them first.
_JOINERS = "暨"
_GOOD_AFTER = ("关于", "印发", "转发", "批转", "》", "、", "，", " ")
_GOOD_BEFORE = ("《", "关于", "暨")

# Costs of a break (added to twice the distance of each line from the mean length, in em).
PHRASE = 0  # at a phrase boundary
WORD = 6  # between two words
IN_NAME = 40  # between two words of a name in 《》
IN_NAME_END = 60  # within three characters of the name's ends
IN_WORD = 100  # inside a word: only when no other break fits
HOURGLASS = 25  # a line shorter than the lines above and below it
EXTRA_LINE = 30  # one line more than the fewest that can hold the title
# With more lines than this the shape is not weighed: such a title is a paragraph.
SHAPED_LINES = 4


def word_boundaries(text):
    """The indexes i (0 < i < len(text)) where a word ends before text[i]."""
    found = set()
    start = 0
    pieces = []
    for i, ch in enumerate(text):
        if ch in _JOINERS or ch.isspace():
            pieces.append((start, i))
            pieces.append((i, i + 1))
            start = i + 1
    pieces.append((start, len(text)))
    for a, b in pieces:
        if a == b:
            continue
        found.add(a)
        position = a
        for word in words.cut(text[a:b]):
            position += len(word)
            found.add(position)
    return {i for i in found if 0 < i < len(text)}


def _break_cost(text, i, doc_type, boundaries):
    """Cost of a line break before text[i]; None where a break is not allowed."""
    before, after = text[i - 1], text[i]
    if after in _CLOSING or before in _OPENING:
        return None
    if (before.isascii() and before.isalnum()) and (after.isascii() and after.isalnum() or after in "年月日号"):
        return None
    if i not in boundaries:
        return IN_WORD
    if doc_type and text[i:] == "的" + doc_type:
        return PHRASE
    opened = text.rfind("《", 0, i)
    if opened > text.rfind("》", 0, i):
        closing = text.find("》", i)
        near_end = i - opened <= 3 or (closing != -1 and closing - i < 3)
        return IN_NAME_END if near_end else IN_NAME
    if any(text[:i].endswith(s) for s in _GOOD_AFTER) or any(text[i:].startswith(s) for s in _GOOD_BEFORE):
        return PHRASE
    return WORD


def _best_breaks(widths, costs, lines, capacity):
    """(cost, ends) of the best way to set the text in `lines` lines, or (inf, ())."""
    n = len(widths) - 1
    target = widths[n] / lines
    shaped = lines <= SHAPED_LINES

    @functools.cache
    def best(start, left, last, shrinking):
        # The cheapest way to set text[start:] in `left` lines after a line `last` em wide
        # that was narrower than the one before it (`shrinking`).
        if left == 1:
            width = widths[n] - widths[start]
            if width > capacity:
                return math.inf, ()
            return _shape(width, last, shrinking) + 2 * abs(width - target), ()
        result = (math.inf, ())
        for end in range(start + 1, n):
            width = widths[end] - widths[start]
            if width > capacity:
                break
            cost = costs[end]
            if cost is None:
                continue
            tail_cost, tail = best(end, left - 1, width, last is not None and width < last)
            total = cost + 2 * abs(width - target) + _shape(width, last, shrinking) + tail_cost
            if total < result[0]:
                result = (total, (end, *tail))
        return result

    def _shape(width, last, shrinking):
        # The previous line is a valley when it was narrower than the one before and is
        # narrower than this one.
        return HOURGLASS if shaped and shrinking and width > last else 0

    return best(0, lines, None, False)


def title_lines(text, doc_type=None, capacity=TITLE_CAPACITY):
    """Break a title into balanced lines between words (see the module's docstring)."""
    return list(_title_lines(text, doc_type, capacity))


# Weighing every way to break a long title takes 5–10 ms; a document is rendered more than
# once (preview, issued copy, archive) with the same title.
@functools.lru_cache(maxsize=1024)
def _title_lines(text, doc_type, capacity):
    total = units(text)
    if total <= capacity:
        return (text,)
    fewest = math.ceil(total / capacity)
    widths = [0.0]
    for ch in text:
        widths.append(widths[-1] + units(ch))
    boundaries = word_boundaries(text)
    costs = [None] + [_break_cost(text, i, doc_type, boundaries) for i in range(1, len(text))]
    for count in range(fewest, fewest + 3):
        # A title is set in the fewest lines that can hold it, unless one line more avoids a
        # break costlier than EXTRA_LINE (such as one inside a name that fits a line).
        options = [(cost + EXTRA_LINE * extra, ends) for extra, (cost, ends) in
                   enumerate(_best_breaks(widths, costs, lines, capacity) for lines in (count, count + 1))]
        cost, ends = min(options, key=lambda option: option[0])
        if cost < math.inf:
            bounds = (0, *ends, len(text))
            return tuple(text[a:b].strip() for a, b in zip(bounds, bounds[1:]))
    return (text,)
