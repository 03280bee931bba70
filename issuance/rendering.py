"""Render a 公文 (the dict that `exchange.parse_document` returns) as a GB/T 9704 PDF.

The page is laid out by WeasyPrint from the template issuance/pdf/gongwen.html and the
stylesheet issuance/pdf/gongwen.css; this module prepares what the template cannot
compute (text split into runs per typeface, the size of the red 发文机关标志, the lines
of a long title) and then corrects two things WeasyPrint cannot do by itself:

* Justification. WeasyPrint justifies only by stretching spaces, so Chinese lines end
  ragged wherever a line-breaking rule pushes a character down. After layout, every
  line of a justified block except its last is widened with letter-spacing until its
  last glyph meets the right edge of the 版心 (`_justify`). The glyphs and their order
  do not change, so the text extracted from the PDF stays the document's text.
* The 版记. It must sit at the bottom of the 版心 of the last page, and that page must
  be even. It is laid out as a footnote (the footnote area is the bottom of the page
  area); when the first layout leaves it on an odd page, or on a page without text,
  the document is laid out again with the 版记 on the next even page, alone and
  without a page number (`render_pdf`).

Everything the document says is put into the page by the template with autoescaping,
and the only resources WeasyPrint may load are the app's own fonts (`FontFetcher`).
"""

import functools
import io
import logging
import math
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import get_template, render_to_string
from fontTools.ttLib import TTFont
from pypdf import PdfReader
from weasyprint import CSS, HTML
from weasyprint.formatting_structure import boxes
from weasyprint.text.fonts import FontConfiguration
from weasyprint.text.line_break import create_layout, line_size
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import fonts
from .exchange import format_date_cn

logger = logging.getLogger(__name__)

TEMPLATE = "issuance/pdf/gongwen.html"
STYLESHEET = "issuance/pdf/gongwen.css"
FONT_SCHEME = "gongwen-font"

# The grid of GB/T 9704 in points: 22 lines × 28 characters of 3号 (16 pt) fill 156 × 225 mm.
PT_PER_MM = 72 / 25.4
TYPE_AREA_WIDTH = 156 * PT_PER_MM  # 442.20 pt
LINE_PITCH = 28.99  # 225 mm / 22 = 28.9913 pt, rounded down so that 22 lines fit

# 发文机关标志: a bold serif (the stand-in for 方正小标宋) compressed horizontally like the
# real face, never wider than MARK_MAX_WIDTH; below MARK_MIN_SCALE the type gets smaller.
MARK_FONT_SIZE = 58.0  # pt, about 20 mm high
MARK_JOINT_FONT_SIZE = 44.0  # pt, one line per organ when several issue together
MARK_MAX_WIDTH = 150 * PT_PER_MM
MARK_MIN_SCALE = 0.6
# With line-height equal to the font size, the ink of Noto Serif CJK's ideographs starts
# this fraction of the font size below the top of the line box (measured: baseline at
# 0.9325 em, ideographs reach 0.86 em above it).
MARK_INK_TOP = 0.075
# Ideographs end about this fraction of the font size below such a line box.
MARK_INK_BOTTOM = 0.03
MARK_TOP = 35 * PT_PER_MM  # top of the 标志 below the top of the 版心
LETTER_MARK_TOP = (30 - 37) * PT_PER_MM  # 信函: 30 mm from the paper's top edge

TITLE_FONT_SIZE = 22.0
TITLE_CAPACITY = int(TYPE_AREA_WIDTH // TITLE_FONT_SIZE)  # 20 characters of 2号

# A line is only justified when that takes less than this much extra space per gap
# (in em); wider gaps mean an unbreakable run (a long URL) was pushed down, and a
# ragged line reads better than one with its characters torn apart.
MAX_JUSTIFY_GAP = 0.5

DOC_NUMBER_PLACEHOLDER = "〔　　〕号"


class FetchRefused(ValueError):
    """The renderer was asked to load something other than its own fonts."""


class FontFetcher(URLFetcher):
    """A URL fetcher that serves the app's font files and refuses everything else.

    Document text is escaped, so no URL of the document's own should ever reach this;
    the fetcher is the second wall: no local file outside the font whitelist, no
    network, no data: URLs.
    """

    def __init__(self):
        # Not fatal: WeasyPrint logs a refused resource and goes on without it.
        super().__init__(fail_on_errors=False)

    def fetch(self, url, headers=None):
        scheme, _, name = url.partition(":")
        if scheme == FONT_SCHEME and name in fonts.FACES:
            path = fonts.font_path(name)
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": "font/otf"})
        logger.warning("PDF renderer refused to fetch %.200s", url)
        raise FetchRefused(f"已拒绝读取外部资源：{url[:200]}")


# Text runs ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Run:
    """A piece of text; `fallback` runs hold characters the Fandol faces lack."""

    text: str
    fallback: bool = False


@functools.cache
def _fandol_coverage():
    # Characters all three Fandol text faces have; anything else is set in Noto CJK. The
    # template wraps those characters in a zero line-height span, because a fallback
    # glyph in the same run would make Pango use Noto's taller ascent and descent for
    # the whole line and push the line grid down by 2 pt.
    covered = None
    for key in ("fang", "hei", "kai"):
        with TTFont(fonts.font_path(key), lazy=True) as font:
            chars = set(font.getBestCmap())
        covered = chars if covered is None else covered & chars
    return frozenset(covered)


def runs(text):
    """Split `text` into runs of covered and fallback characters."""
    if not text:
        return []
    covered = _fandol_coverage()
    result = []
    for ch in text:
        fallback = ord(ch) not in covered and not ch.isspace()
        if result and result[-1].fallback == fallback:
            result[-1] = Run(result[-1].text + ch, fallback)
        else:
            result.append(Run(ch, fallback))
    return result


def _pt(value):
    """A CSS length in points, formatted here so that no locale gets a say."""
    return f"{value:.3f}pt"


# The advance of a half-width character in em: digits of Noto Serif CJK SC Bold (the 标志
# and title face) are 0.594 em wide, so counting them as half an em would overfill a line.
HALF_WIDTH_EM = 0.6


def _units(text):
    """Width of `text` in em, counting half-width characters as HALF_WIDTH_EM."""
    return sum(HALF_WIDTH_EM if ord(ch) < 0x2E80 and ch not in "—…“”‘’·★" else 1 for ch in text)


# The 标志 -------------------------------------------------------------------------

def _mark(doc):
    """Geometry of the 发文机关标志: one line, or stacked organs beside 文件."""
    title = doc["header_title"]
    if not title:
        return None
    organs = doc["issuer_marks"]
    suffix = next((s for s in ("文件", "纪要") if title == "".join(organs) + s), None)
    if len(organs) > 1 and suffix and doc["format"] != "信函":
        size = MARK_JOINT_FONT_SIZE
        widest = max(_units(organ) for organ in organs)
        natural = (widest + 0.5 + _units(suffix)) * size
        lines = []
        for organ in organs:
            # Spread each organ's name to the width of the longest one.
            gaps = len(organ) - 1
            spacing = (widest - _units(organ)) * size / gaps if gaps else 0
            lines.append({"runs": runs(organ), "spacing": spacing})
        joint = {"lines": lines, "suffix": runs(suffix)}
    else:
        size = MARK_FONT_SIZE
        natural = _units(title) * size
        joint = None
    scale = min(1.0, MARK_MAX_WIDTH / natural)
    if scale < MARK_MIN_SCALE:
        # Too long even when compressed: the type gets smaller instead.
        shrink = scale / MARK_MIN_SCALE
        size *= shrink
        natural *= shrink
        scale = MARK_MIN_SCALE
        if joint:
            for line in joint["lines"]:
                line["spacing"] *= shrink
    if joint:
        joint["line_height"] = _pt(size * 1.2)
        for line in joint["lines"]:
            # WeasyPrint counts a letter-spacing after the last character too; the
            # negative margin takes it back so the cell is as wide as the ink.
            line["trail"] = _pt(-line["spacing"])
            line["spacing"] = _pt(line["spacing"])
    top = (LETTER_MARK_TOP if doc["format"] == "信函" else MARK_TOP) - MARK_INK_TOP * size
    ink_below = MARK_INK_BOTTOM * size
    if joint:
        # Stacked lines are 1.2 em apart: 0.1 em more leading above and below the ink.
        top -= size * 0.1
        ink_below -= size * 0.1
    return {
        "runs": runs(title),
        "joint": joint,
        "font_size": _pt(size),
        "scale": f"{scale:.4f}",
        # The box is as wide as the unscaled text and centred on the 版心, so that
        # scaling about its centre keeps the 标志 centred.
        "width": _pt(natural + 1),
        "offset": _pt((TYPE_AREA_WIDTH - natural - 1) / 2),
        "top": _pt(top),
        "area_height": _pt(max(top, 0)),
        "ink_below": _pt(max(ink_below, 0)),
        # 发文字号 two empty lines below the 标志, and 信函's double rule 4 mm below it.
        "docno_gap": _pt(ink_below + 2 * LINE_PITCH),
        # With 签发人 the 发文字号 shares an L-high line whose glyphs sit lower.
        "signed_gap": _pt(ink_below + 2 * LINE_PITCH - (LINE_PITCH - 16) / 2),
        "rule_gap": _pt(ink_below + 4 * PT_PER_MM),
    }


# Titles --------------------------------------------------------------------------

_OPENING = "（《〈「『“‘〔【"
_CLOSING = "）》〉」』”’〕】、，。：；？！"
_GOOD_AFTER = ("关于", "印发", "转发", "批转", "》", "、", "，", " ")
# Words that often start a phrase in a title; without a word segmenter these are the
# safe places to break a run of Chinese characters.
_GOOD_BEFORE = ("《", "关于", "暨", "工作", "实施", "管理", "方案", "办法", "意见", "规定", "若干")


def _break_penalty(text, i, doc_type):
    """Cost of a line break before text[i]; None where a break is not allowed."""
    before, after = text[i - 1], text[i]
    if after in _CLOSING or before in _OPENING:
        return None
    if (before.isascii() and before.isalnum()) and (after.isascii() and after.isalnum() or after in "年月日号"):
        return None
    if doc_type and text[i:] == "的" + doc_type:
        return 0
    if any(text[:i].endswith(s) for s in _GOOD_AFTER) or any(text[i:].startswith(s) for s in _GOOD_BEFORE):
        return 0
    opened = text.rfind("《", 0, i)
    if opened > text.rfind("》", 0, i):
        # Inside a quoted title: worst next to its ends ("《泉州|市…", "…思|路》").
        closing = text.find("》", i)
        near_end = i - opened <= 3 or (closing != -1 and closing - i < 3)
        return 30 if near_end else 12
    return 8


def title_lines(text, doc_type=None, capacity=TITLE_CAPACITY):
    """Break a title into balanced lines, preferring breaks between words and phrases.

    GB/T 9704 wants a long title in a trapezoid or diamond that keeps words whole. With
    no word segmenter at hand this picks the fewest lines, then the breaks at phrase
    boundaries (after 关于, around 《》, before 的通知, …) that keep the lines close to
    equal length; a break between two Chinese characters is the last resort.
    """
    total = _units(text)
    if total <= capacity:
        return [text]
    count = math.ceil(total / capacity)
    n = len(text)
    widths = [0.0]
    for ch in text:
        widths.append(widths[-1] + _units(ch))
    penalties = {i: _break_penalty(text, i, doc_type) for i in range(1, n)}

    for lines in range(count, count + 3):
        target = total / lines

        @functools.cache
        def best(start, left):
            # Minimal cost of setting text[start:] in `left` lines.
            rest = widths[n] - widths[start]
            if left == 1:
                return (0.0, ()) if rest <= capacity else (math.inf, ())
            result = (math.inf, ())
            for end in range(start + 1, n):
                width = widths[end] - widths[start]
                if width > capacity:
                    break
                penalty = penalties[end]
                if penalty is None:
                    continue
                tail_cost, tail = best(end, left - 1)
                cost = penalty + 2 * abs(width - target) + tail_cost
                if cost < result[0]:
                    result = (cost, (end, *tail))
            return result

        cost, ends = best(0, lines)
        if cost < math.inf:
            bounds = (0, *ends, n)
            return [text[a:b].strip() for a, b in zip(bounds, bounds[1:])]
    return [text]


# Context ------------------------------------------------------------------------

def _block(block, doc_type):
    kind = block["kind"]
    text = block["text"]
    if kind == "title":
        return {"kind": kind, "lines": [runs(line) for line in title_lines(text, doc_type)]}
    if kind.startswith("heading"):
        # Only the heading sentence, up to its first "。", takes the heading's face.
        head, stop, rest = text.partition("。")
        if stop and rest:
            return {"kind": kind, "head": runs(head + stop), "rest": runs(rest), "standalone": False}
        return {"kind": kind, "head": runs(text), "rest": [], "standalone": True}
    return {"kind": kind, "head": [], "rest": runs(text), "standalone": False}


def _signers(doc):
    # 上行文 only; two names a line, "签发人：" before the first.
    if doc["direction"] != "上行文" or not doc["signers"]:
        return []
    names = doc["signers"]
    return [[runs(name) for name in names[i:i + 2]] for i in range(0, len(names), 2)]


def _doc_number(doc):
    if doc["doc_number"]:
        return runs(doc["doc_number"])
    if doc["format"] == "纪要":
        return []
    return runs(DOC_NUMBER_PLACEHOLDER)


def build_context(doc, *, draft=False, banji_page=False):
    """Everything the template needs; all document text is passed as `Run` lists."""
    fmt = {"文件": "file", "信函": "letter", "纪要": "minutes"}[doc["format"]]
    secrecy = None
    if doc["secrecy"]:
        secrecy = doc["secrecy"] + ("★" + doc["secrecy_period"] if doc["secrecy_period"] else "")
    attachments = [runs(name) for name in doc["attachments"]]
    date = format_date_cn(doc["date"])
    signature = None
    if doc["signature_orgs"] or date:
        signature = {
            "orgs": [runs(org) for org in doc["signature_orgs"]],
            "date": runs(date),
            "seal": doc["seal"],
        }
    printed_date = format_date_cn(doc["printed_date"])
    banji = None
    if doc["format"] == "信函":
        if doc["cc"]:
            banji = {"cc": runs(doc["cc"]), "printed_by": [], "printed_date": [], "rules": False}
    elif doc["cc"] or doc["printed_by"] or printed_date:
        banji = {
            "cc": runs(doc["cc"]),
            "printed_by": runs(doc["printed_by"]),
            "printed_date": runs(printed_date + "印发" if printed_date else ""),
            "rules": True,
        }
    return {
        "draft": draft,
        "fmt": fmt,
        "meta_title": doc["title"],
        "meta_author": "、".join(doc["signature_orgs"] or doc["issuer_marks"]),
        "copy_number": runs(doc["copy_number"]),
        "secrecy": runs(secrecy),
        "urgency": runs(doc["urgency"]),
        "mark": _mark(doc),
        "doc_number": _doc_number(doc),
        "signer_lines": _signers(doc),
        "title_lines": [runs(line) for line in title_lines(doc["title"], doc["doc_type"])],
        "main_recipients": runs(doc["main_recipients"]),
        "blocks": [_block(block, doc["doc_type"]) for block in doc["body"]],
        "attachments": attachments,
        "signature": signature,
        "note": runs(doc["note"]),
        "banji": banji,
        "banji_page": banji_page,
    }


# Layout corrections -------------------------------------------------------------

def _classes(box):
    element = getattr(box, "element", None)
    if element is None:
        return ()
    return (element.get("class") or "").split()


def _walk(box, parent=None):
    """Yield (box, parent) for `box` and all its descendants, in document order."""
    yield box, parent
    for child in getattr(box, "children", ()):
        yield from _walk(child, box)


def _text_boxes(box):
    if isinstance(box, boxes.TextBox):
        if box.text:
            yield box
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        for child in box.children:
            yield from _text_boxes(child)


def _letter_spacing(style):
    value = style["letter_spacing"]
    return 0 if value == "normal" else value


def _set_spacing(line, delta):
    """Add `delta` to the letter-spacing of every text box of `line`, moving the boxes."""
    shift = 0.0

    def visit(box):
        nonlocal shift
        if isinstance(box, boxes.TextBox):
            box.position_x += shift
            if not box.text:
                return
            style = box.style.copy()
            style["letter_spacing"] = _letter_spacing(box.style) + delta
            # A fresh layout holding only this box's text: the one from line breaking
            # may hold the rest of the paragraph and would wrap again when drawn.
            layout = create_layout(box.text, style, None, None, box.justification_spacing)
            first_line, _ = layout.get_first_line()
            width, _ = line_size(first_line, style)
            layout.deactivate()
            shift += width - box.width
            box.style = style
            box.pango_layout = layout
            box.width = width
        elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
            before = shift
            if isinstance(box, boxes.InlineBox):
                box.position_x += shift
            for child in box.children:
                visit(child)
            box.width += shift - before
        else:
            box.translate(dx=shift)

    visit(line)


def _ink_right(line):
    """x of the end of the last glyph of `line` (a text box's width includes one
    trailing letter-spacing that is never drawn)."""
    last = list(_text_boxes(line))[-1]
    return last.position_x + last.width - _letter_spacing(last.style)


def _justify(document):
    """Widen every non-final line of each `.jf` block to the full width of its block."""
    lines = {}
    for page in document.pages:
        for box, parent in _walk(page._page_box):
            if isinstance(box, boxes.LineBox) and "jf" in _classes(box):
                lines.setdefault(id(box.element), []).append((box, parent))
    for element_lines in lines.values():
        for index, (line, block) in enumerate(element_lines):
            texts = list(_text_boxes(line))
            if not texts:
                continue
            target = block.content_box_x() + block.width
            extra = target - _ink_right(line)
            final = index == len(element_lines) - 1
            # A final line stays as it is, unless its letter-spacing made it overshoot.
            if abs(extra) < 0.05 or (final and extra > 0):
                continue
            gaps = sum(len(box.text) for box in texts) - 1
            if gaps < 1:
                continue
            delta = extra / gaps
            if delta > MAX_JUSTIFY_GAP * texts[0].style["font_size"]:
                continue
            _set_spacing(line, delta)


# Rendering ---------------------------------------------------------------------

def _template_dir():
    return Path(settings.BASE_DIR) / "templates" / "issuance" / "pdf"


def _layout(doc, draft, banji_page, font_config, fetcher):
    html = render_to_string(TEMPLATE, build_context(doc, draft=draft, banji_page=banji_page))
    stylesheet = CSS(
        string=get_template(STYLESHEET).render({}),
        base_url=_template_dir().as_uri() + "/",
        url_fetcher=fetcher,
        font_config=font_config,
    )
    document = HTML(string=html, base_url=_template_dir().as_uri() + "/", url_fetcher=fetcher).render(
        font_config=font_config, stylesheets=[stylesheet]
    )
    return document


def _banji_page(document):
    """Index of the page whose footnote area holds the 版记, or None.

    Only the footnote area counts: a 版记 that does not fit is carried over to the next
    page's footnote area while its (empty) call stays behind in the text.
    """
    for number, page in enumerate(document.pages):
        for area in page._page_box.children:
            if isinstance(area, boxes.FootnoteAreaBox) and any(
                "banji" in _classes(box) for box, _ in _walk(area)
            ):
                return number
    return None


def _last_text_page(document):
    """Index of the last page with a line of the <main> text (正文 to 附注)."""
    last = None
    for number, page in enumerate(document.pages):
        for box, _ in _walk(page._page_box):
            if getattr(box, "element_tag", None) == "main" and any(
                isinstance(inner, boxes.LineBox) and next(_text_boxes(inner), None)
                for inner, _ in _walk(box)
            ):
                last = number
                break
    return last


def render_pdf(doc, *, draft=False):
    """Lay out `doc` per GB/T 9704 and return the PDF bytes."""
    fonts.check_fonts()
    font_config = FontConfiguration()
    fetcher = FontFetcher()
    document = _layout(doc, draft, False, font_config, fetcher)
    banji = _banji_page(document)
    if banji is not None:
        text_end = _last_text_page(document)
        # Page numbers count from 1: the 版记 must end up on an even page that also
        # holds the end of the text; otherwise it moves to the next even page.
        if banji != text_end or banji % 2 == 0:
            document = _layout(doc, draft, True, font_config, fetcher)
    _justify(document)
    return document.write_pdf()


def count_pages(pdf_bytes):
    return len(PdfReader(io.BytesIO(pdf_bytes)).pages)
