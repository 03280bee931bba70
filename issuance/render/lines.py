"""Lines of the 正文 planned on the 28-character grid, with 标点挤压 before letter-spacing.

A line of 3号 text holds 28 grid places. WeasyPrint (Pango) breaks lines as Latin text
is broken: when a line-breaking rule pushes a character down (no "，" or "》" may start
a line, no "“" end one), the line keeps 27 or fewer characters and has to be spread.
A 文书 setting the text in WPS or Word compresses punctuation instead, as GB/T 15834 and
the W3C's Chinese layout requirements (clreq) describe: a full-width mark whose
ink fills half its em box gives up the empty half when it stands next to another mark
("。”", "，“", "》，", "）。"), at the end of a line (a closing mark) or at its start (an
opening mark), so that one more character fits and the line keeps its 28 places.

`plan` does that for a block before layout. It takes the block's text with the face of
every character, finds where a line may break (Pango's rules, the ones WeasyPrint would
use, with clreq's for quotation marks), and fills each line with as much text as fits,
marks next to each other always compressed (two blank halves side by side would leave a
gap of a full em). When a line falls short by half a place or more because what follows
does not fit, it takes what follows by compressing as few more marks as it needs: a
closing mark at the line's end, an opening one at its start, then brackets and commas
inside the line. A line that no compression can fill keeps its slack, which the
justification after layout spreads (patches.justify), and is counted.

The template writes each planned line as it is (`white-space: pre`, a line feed after
each) and lists each line's compressed marks in the block's `data-compress`; after layout
patches.justify sets them with the face's OpenType `halt` feature (Alternate Half Widths:
the Fandol faces halve those marks' advance and, for opening marks, shift the glyph left
by half an em). No character is added or removed, so the text extracted from the PDF
stays the document's text.
"""

import bisect
import functools
import unicodedata
from dataclasses import dataclass
from typing import NamedTuple

from weasyprint.text.line_break import get_log_attrs

from . import fonts
from .coverage import fallback_face
from .grid import CHAR_PITCH, FONT_SIZE, LETTER_SPACING, TYPE_AREA_WIDTH

# Marks whose ink lies in the left half of the em box in the Fandol text faces, and which
# `halt` sets half an em wide (tests/test_lines.py checks both against the fonts). "？"
# is centred in these faces and is never compressed.
CLOSING = frozenset("，。、：；！”’）》〉」』〕】")
# Marks whose ink lies in the right half; `halt` moves them left by half an em.
OPENING = frozenset("“‘（《〈「『〔【")
COMPRESSIBLE = CLOSING | OPENING
# Marks that never start a line besides the closing ones (GB/T 15834: 问号, 叹号, 间隔号,
# 连接号, and the second half of a 破折号 or 省略号).
NO_BREAK_BEFORE = frozenset("？！·—…～")

# A compressed mark takes half a grid place: half its 16 pt advance and half the grid's
# letter-spacing (patches._set_text sets the same).
COMPRESSED_SPACING = LETTER_SPACING / 2
HALF_PLACE = CHAR_PITCH / 2

# A planned line may end this far past the edge: the justification tightens it, by less
# than 0.02 pt between two characters, instead of the line giving a character away.
SQUEEZE = 0.5

# A line takes at most this much more than fits as it is by compressing marks (eight
# marks): more would squeeze a line of enumerated names too visibly.
MAX_PULL = 8 * HALF_PLACE

# The order in which a line compresses more marks when it needs some: a closing mark at
# the line's end, an opening mark at its start, and last a bracket or comma inside the
# line, whose blank half JIS X 4051 and jlreq (3.8, "line adjustment by inter-character
# space reduction") also give up before a line is spread. A full stop or exclamation mark
# keeps its blank inside a line.
LINE_END, LINE_START, IN_LINE_BRACKET, IN_LINE_OPENING, IN_LINE_COMMA = range(5)
IN_LINE_BRACKETS = frozenset("”’）》〉」』〕】")
IN_LINE_COMMAS = frozenset("，、：；")


@dataclass(frozen=True)
class Piece:
    """Consecutive characters of a line in one face: `classes` of their span, or ""."""

    text: str
    classes: str = ""


@dataclass(frozen=True)
class Line:
    pieces: tuple
    compressed: tuple  # offsets in the line of the marks set in half their width
    slack: float  # pt the line falls short of the edge before justification
    final: bool  # the block's last line, which is not justified

    @property
    def text(self):
        return "".join(piece.text for piece in self.pieces)


class _Char(NamedTuple):
    ch: str
    classes: str
    advance: float  # pt, in the face the glyph is drawn in, without letter-spacing


def _face_of(ch, face):
    """The face `ch` is drawn in: `face`, or the first face of a fallback chain with `ch`."""
    return fallback_face(ch, face) if isinstance(face, tuple) else face


@functools.lru_cache(maxsize=65536)
def _advance(face, ch):
    """The advance of `ch` in `face` at 3号, in points (CJK faces: 16 pt, digits 8 pt)."""
    if face is None:
        return FONT_SIZE
    font = fonts.hb_face(face)
    glyph = font.glyph(ord(ch))
    if glyph is None:
        return FONT_SIZE if unicodedata.east_asian_width(ch) in "WF" else FONT_SIZE / 2
    return font.advance(glyph) / font.upem * FONT_SIZE


def _east_asian(ch):
    # Ambiguous-width characters (“”‘’, ……, ——) are full-width in Chinese text (UAX #11).
    return unicodedata.east_asian_width(ch) in "WFA"


def break_opportunities(text):
    """The indexes i where a line may break before text[i] (0 < i < len(text)).

    Pango's rules (UAX #14, as WeasyPrint breaks), with the quotation marks of Chinese text
    as GB/T 15834 and clreq treat them: an opening mark may start a line after an East
    Asian character, a closing mark may end a line before one ("落实|“第一议题”|制度",
    "参与|“2024"). Pango 1.50 forbids both breaks (UAX #14's LB19; Unicode 15.1's LB19a
    allows them only between East Asian characters on both sides)."""
    attrs = get_log_attrs(text, "zh")
    found = {i for i in range(1, len(text)) if attrs[i].is_line_break}
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category == "Pi" and i > 0:
            before = text[i - 1]
            if _east_asian(before) and before not in OPENING:
                found.add(i)
        elif category == "Pf" and i + 1 < len(text):
            after = text[i + 1]
            if _east_asian(after) and after not in CLOSING and after not in NO_BREAK_BEFORE:
                found.add(i + 1)
    return found


def _pairs(chars):
    """[(first, compressed)] of the pairs of adjacent marks of a text: the index of the
    pair's first mark, and of the one of them that gives up its blank half (the first when
    it is a closing mark, else the second when both open). On a line that holds both,
    one of two blank halves side by side is always removed: they leave a gap of a full em."""
    found = []
    for i, (a, b) in enumerate(zip(chars, chars[1:])):
        if a.ch in CLOSING and b.ch in COMPRESSIBLE:
            found.append((i, i))
        elif a.ch in OPENING and b.ch in OPENING:
            found.append((i, i + 1))
    return found


def _candidates(chars, start, end):
    """{index: priority} of the marks of chars[start:end] that may also be compressed when
    the line needs it."""
    found = {}
    if chars[end - 1].ch in CLOSING:
        found[end - 1] = LINE_END
    if chars[start].ch in OPENING:
        found.setdefault(start, LINE_START)
    for i in range(start, end - 1):
        ch = chars[i].ch
        if ch in IN_LINE_BRACKETS:
            found.setdefault(i, IN_LINE_BRACKET)
        elif ch in OPENING and i > start and chars[i - 1].ch not in COMPRESSIBLE:
            # After another mark the pair is already compressed by one half: giving up both
            # would leave no gap at all (and put both glyphs' em boxes on one place).
            found.setdefault(i, IN_LINE_OPENING)
        elif ch in IN_LINE_COMMAS:
            found.setdefault(i, IN_LINE_COMMA)
    return found


def _saving(chars, i, end):
    """How much shorter a line ending before `end` gets when chars[i] is compressed."""
    half = chars[i].advance / 2
    return half if i == end - 1 else half - COMPRESSED_SPACING


class _Text:
    def __init__(self, chars):
        self.chars = chars
        # starts[i]: x of the start of chars[i] from the start of the text, uncompressed.
        self.starts = [0.0]
        for char in chars:
            self.starts.append(self.starts[-1] + char.advance + LETTER_SPACING)
        self.pairs = _pairs(chars)
        self.pair_starts = [first for first, _ in self.pairs]
        # paired[i]: what the compressed marks of the pairs that start before chars[i] save.
        # A pair's compressed mark is never a line's last character (an opening mark cannot
        # end a line, and a closing one is the first of its pair).
        self.paired = [0.0] * (len(chars) + 1)
        for first, compressed in self.pairs:
            self.paired[first + 1] = _saving(chars, compressed, len(chars) + 1)
        for i in range(1, len(self.paired)):
            self.paired[i] += self.paired[i - 1]

    def extent(self, start, end):
        """Width of chars[start:end] uncompressed, to the end of the last glyph."""
        return self.starts[end - 1] - self.starts[start] + self.chars[end - 1].advance

    def adjacent(self, start, end):
        """The compressed marks of the pairs that chars[start:end] hold whole."""
        low = bisect.bisect_left(self.pair_starts, start)
        high = bisect.bisect_left(self.pair_starts, end - 1)
        return {compressed for _, compressed in self.pairs[low:high]}

    def adjacent_saving(self, start, end):
        return self.paired[max(end - 1, start)] - self.paired[start]


def _content_end(chars, start, end):
    """`end` without the spaces before it: spaces at a line's end are not set."""
    while end > start and chars[end - 1].ch.isspace():
        end -= 1
    return end


def _with_adjacent(text, start, end):
    """The width of chars[start:end] set as a line with its adjacent marks compressed (the
    spaces at its end not set)."""
    content = _content_end(text.chars, start, end)
    if content == start:
        return 0.0
    return text.extent(start, content) - text.adjacent_saving(start, content)


def _fit(text, start, end, available):
    """(compressed indexes, width) of chars[start:end] set as a line with its adjacent
    marks and as few more as make it fit in `available`; None when it does not fit."""
    content = _content_end(text.chars, start, end)
    chosen = text.adjacent(start, content)
    width = _with_adjacent(text, start, end)
    if width <= available + SQUEEZE:
        return chosen, width
    candidates = _candidates(text.chars, start, content)
    for i in sorted(set(candidates) - chosen, key=lambda i: (candidates[i], i)):
        chosen.add(i)
        width -= _saving(text.chars, i, content)
        if width <= available + SQUEEZE:
            return chosen, width
    return None


def plan(segments, first_indent=0.0, width=TYPE_AREA_WIDTH):
    """The lines of one block.

    `segments` is a sequence of (text, face, classes): the face of the text (a fonts.Face,
    or for characters outside the Fandol faces the chain of fallback faces the stylesheet
    names for them) and the classes of its span. The first line starts `first_indent` in.
    """
    return list(_plan(tuple(segments), first_indent, width))


# A block's plan depends on nothing but its text, faces and indent: a document rendered
# again (preview, issued copy, archive) or edited in one paragraph plans only what changed.
@functools.lru_cache(maxsize=2048)
def _plan(segments, first_indent, width):
    chars = [
        _Char(ch, classes, _advance(_face_of(ch, face), ch)) for text, face, classes in segments for ch in text
    ]
    if not chars:
        return ()
    text = _Text(chars)
    joined = "".join(char.ch for char in chars)
    breaks = sorted(break_opportunities(joined)) + [len(chars)]
    lines = []
    start = 0
    first = 0  # index of the first break after `start`
    available = width - first_indent
    while start < len(chars):
        while breaks[first] <= start:
            first += 1
        end, compressed, used = _next_line(text, breaks, first, start, available)
        final = end == len(chars)
        content = _content_end(chars, start, end)
        lines.append(_line(chars, start, content, compressed, available - used, final))
        start = end
        available = width
    return tuple(lines)


def _next_line(text, breaks, first, start, available):
    """(end, compressed indexes, width) of the line that starts at chars[start].

    The longest line that fits with its adjacent marks compressed, unless it falls short of
    the edge by half a grid place or more because what follows did not fit: then the line
    that takes more of what follows by compressing more marks, if one fills the line, with
    the fewest compressions."""
    chars = text.chars
    natural = None
    k = first
    while k < len(breaks):
        used = _with_adjacent(text, start, breaks[k])
        if used > available + SQUEEZE:
            break
        natural = (breaks[k], used)
        k += 1
    if natural:
        end, used = natural
        natural = (end, text.adjacent(start, _content_end(chars, start, end)), used)
        if end == len(chars) or available - used < HALF_PLACE:
            return natural
    best = None
    for end in breaks[k:]:
        if _with_adjacent(text, start, end) > available + MAX_PULL:
            break
        fitted = _fit(text, start, end, available)
        if fitted is None:
            continue
        compressed, used = fitted
        rank = (available - used >= HALF_PLACE, len(compressed), available - used)
        if best is None or rank < best[0]:
            best = (rank, (end, compressed, used))
        if not rank[0]:
            # The first line that fills the edge needs the fewest compressions.
            break
    if best and (natural is None or not best[0][0]):
        return best[1]
    if natural:
        return natural
    # An unbreakable run longer than the line (a long URL): broken where it reaches the
    # edge, as overflow-wrap: break-word does.
    end = start + 1
    while end < len(chars) and text.extent(start, end + 1) <= available:
        end += 1
    return end, set(), text.extent(start, end)


def _line(chars, start, end, compressed, slack, final):
    pieces = []
    for char in chars[start:end]:
        if pieces and pieces[-1][1] == char.classes:
            pieces[-1][0].append(char.ch)
        else:
            pieces.append(([char.ch], char.classes))
    return Line(
        tuple(Piece("".join(text), classes) for text, classes in pieces),
        tuple(sorted(i - start for i in compressed)),
        slack,
        final,
    )


def compressed_attribute(lines):
    """The compressed marks of a block's lines for the template's `data-compress`: the
    offsets in each line, comma-separated, the lines separated by ";"."""
    return ";".join(",".join(str(i) for i in line.compressed) for line in lines)


def spread(lines):
    """How many of `lines` could not be filled to within half a grid place of the edge and
    are letter-spaced by the justification (final lines are never spread)."""
    return sum(1 for line in lines if not line.final and line.slack >= HALF_PLACE)
