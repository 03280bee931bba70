"""Render a 公文 (the dict that `exchange.parse_document` returns) as a GB/T 9704 PDF.

The page is laid out by WeasyPrint from the template issuance/pdf/gongwen.html and the
stylesheet issuance/pdf/gongwen.css; this module prepares what the template cannot
compute (text split into runs per typeface, the size of the red 发文机关标志, the lines
of a long title, the seal) and then corrects what WeasyPrint cannot do by itself:

* Justification. WeasyPrint justifies only by stretching spaces, so Chinese lines end
  ragged wherever a line-breaking rule pushes a character down. After layout, every
  line of a justified block except its last is widened (or, when the grid's spacing
  overshoots, narrowed) with letter-spacing until its last glyph meets the right edge of
  the 版心 (issuance/pdf_justify.py). The glyphs and their order do not change, so the
  text extracted from the PDF stays the document's text. issuance/pdf_text.py makes
  WeasyPrint draw the glyphs where the layout puts them, to a thousandth of a point.
* The 版记. It must sit at the bottom of the 版心 of the last page, and that page must
  be even. It is laid out as a footnote (the footnote area is the bottom of the page
  area); when the layout leaves it on an odd page, or on a page without the end of the
  text, the pages up to the end of the text are kept and the 版记 is laid out alone on
  the next even page (with a blank page before it when the text ends on an even page),
  without page numbers (`render_pdf`). No second layout of the whole document.

The output is PDF/A-2b with the document's title, 发文字号, issuing organ and date in
its XMP metadata (issuance/pdf_meta.py). Everything the document says is put into the
page by the template with autoescaping, and the only resources WeasyPrint may load are
the app's own fonts (`FontFetcher`).
"""

import collections
import functools
import hashlib
import io
import logging
import math
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template.loader import get_template, render_to_string
from django.utils.safestring import mark_safe
from fontTools.ttLib import TTFont
from weasyprint import CSS, HTML
from weasyprint.formatting_structure import boxes
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import fonts, pdf_justify, pdf_meta, pdf_speed, pdf_text, seal
from .exchange import format_date_cn

logger = logging.getLogger(__name__)

pdf_text.install()
pdf_speed.install()

TEMPLATE = "issuance/pdf/gongwen.html"
STYLESHEET = "issuance/pdf/gongwen.css"
FONT_SCHEME = "gongwen-font"
PDF_VARIANT = "pdf/a-2b"

# The grid of GB/T 9704 in points: 22 lines × 28 characters of 3号 (16 pt) fill 156 × 225 mm.
PT_PER_MM = 72 / 25.4
TYPE_AREA_WIDTH = 156 * PT_PER_MM  # 442.20 pt
LINE_PITCH = 28.99  # 225 mm / 22 = 28.9913 pt, rounded down so that 22 lines fit
CHAR_PITCH = 15.785  # 27 pitches and one 16 pt glyph make 156 mm

# 发文机关标志: a bold serif (the stand-in for 方正小标宋) compressed horizontally like the
# real face, never wider than MARK_MAX_WIDTH; below MARK_MIN_SCALE the type gets smaller.
MARK_FONT_SIZE = 58.0  # pt, about 20 mm high
MARK_JOINT_FONT_SIZE = 44.0  # pt, one line per organ when two or three issue together
MARK_JOINT_LINES = 3  # with more organs than this the stacked lines get smaller
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

# The seal: 42 mm across, centred on the 成文日期 (the 署名 is centred over the date), its
# centre SEAL_CENTRE_BELOW the top of the 署名's line, so that 署名 and date lie below the
# centre and, with two empty lines between the 正文 and the 署名, the seal's top comes
# within one line of the 正文 (GB/T 9704 7.3.5.1).
SEAL_DIAMETER = seal.DIAMETER * PT_PER_MM
SEAL_CENTRE_BELOW = 4.0
SEALS_PER_ROW = 3

DOC_NUMBER_PLACEHOLDER = "〔　　〕号"

# 纪要: the lists of those present, on leave and attending without vote.
ATTENDANCE_RE = re.compile(r"^(出席|请假|列席)(人员)?[：:]")


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
            return URLFetcherResponse(url, body=_font_bytes(name), headers={"Content-Type": "font/otf"})
        logger.warning("PDF renderer refused to fetch %.200s", url)
        raise FetchRefused(f"已拒绝读取外部资源：{url[:200]}")


@functools.cache
def _font_bytes(name):
    return fonts.font_path(name).read_bytes()


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


# The GB 2312 characters the three Fandol faces lack (tests/test_rendering.py checks that
# the list is complete): U+2015, which Python's codec gives for GB 2312's A1AA.
_GB2312_GAPS = frozenset("\u2015")


@functools.lru_cache(maxsize=65536)
def covered(ch):
    """Whether all three Fandol text faces have `ch`.

    They cover GB 2312 (but for _GB2312_GAPS), so the faces' character maps, 50 ms to
    read, are only read for a character outside it."""
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
    result = []
    for ch in text:
        fallback = not ch.isspace() and not covered(ch)
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
        # More organs than MARK_JOINT_LINES share the height of that many lines, so that
        # the 正文 still starts on page 1.
        size = MARK_JOINT_FONT_SIZE * min(1.0, MARK_JOINT_LINES / len(organs))
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
    joint_lines = len(joint["lines"]) if joint else 0
    return {
        # Unformatted, for _header_height.
        "size_pt": size,
        "height_pt": joint_lines * size * 1.2 if joint else size,
        "top_pt": top,
        "area_height_pt": max(top, 0),
        "ink_below_pt": max(ink_below, 0),
        "docno_gap_pt": ink_below + 2 * LINE_PITCH,
        "signed_gap_pt": ink_below + 2 * LINE_PITCH - (LINE_PITCH - 16) / 2,
        "rule_gap_pt": ink_below + 4 * PT_PER_MM,
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


def _header_height(doc, mark, signer_lines, doc_number):
    """Height of the <header> (版头) in points, from the same numbers the template and the
    stylesheet use; the test suite checks it against the laid-out page."""
    meta_lines = sum(1 for key in ("copy_number", "secrecy", "urgency") if doc[key])
    if doc["format"] == "信函":
        height = 0.0
        if mark:
            height += mark["top_pt"] + mark["size_pt"]
        height += (mark["rule_gap_pt"] if mark else 0.0) + 1.5 + 2.25 + 0.75  # the double rule
        height += 7.5 + LINE_PITCH * max(meta_lines, 1 if doc_number else 0)
        return height
    height = mark["area_height_pt"] + mark["height_pt"] if mark else meta_lines * LINE_PITCH
    if signer_lines:
        height += (mark["signed_gap_pt"] if mark else 0.0) + LINE_PITCH * max(1, len(signer_lines)) + 4.84
    elif doc_number:
        height += (mark["docno_gap_pt"] if mark else 0.0) + 16 + 4 * PT_PER_MM
    else:
        height += (mark["ink_below_pt"] if mark else 0.0) + 4 * PT_PER_MM
    return height + 2.25  # the red rule


def _title_gap(header_height):
    """Space between the 版头 and the title: two empty lines (GB/T 9704 7.3.1), rounded so
    that the title and all the text after it sit on the page's 22-line grid, as they do
    on the following pages."""
    lines = max(round((header_height + 2 * LINE_PITCH) / LINE_PITCH), math.ceil((header_height + 1.5 * LINE_PITCH) / LINE_PITCH))
    return lines * LINE_PITCH - header_height


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


def _attendance(doc):
    """纪要: split the trailing 出席/请假/列席 paragraphs off the 正文.

    The exchange format has no fields for them; a 纪要 writes them as its last paragraphs,
    "出席：张三、李四". They are set below the 正文 with the label in 黑体 and the names in
    仿宋, wrapped under the first name (GB/T 9704 10.2).
    """
    body = list(doc["body"])
    if doc["format"] != "纪要":
        return body, []
    found = []
    while body and body[-1]["kind"] == "paragraph" and ATTENDANCE_RE.match(body[-1]["text"]):
        found.append(body.pop())
    found.reverse()
    items = []
    for block in found:
        match = ATTENDANCE_RE.match(block["text"])
        label = block["text"][:match.end()]
        hang = _units(label) * CHAR_PITCH
        items.append({
            "label": runs(label),
            "rest": runs(block["text"][match.end():]),
            "hang": _pt(hang),
            "pad": _pt(2 * CHAR_PITCH + hang),
        })
    return body, items


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


def _signature(doc):
    date = format_date_cn(doc["date"])
    orgs = doc["signature_orgs"]
    if not orgs and not date:
        return None
    seal_names = orgs or doc["issuer_marks"][:1]
    sealed = bool(doc["seal"] and seal_names)
    signature = {"orgs": [runs(org) for org in orgs], "date": runs(date), "seal": sealed, "joint": False}
    if not sealed:
        return signature
    if len(orgs) <= 1:
        # One organ: its seal centred on the date, the 署名 centred over the date.
        signature["seal_svg"] = mark_safe(seal.seal_svg(seal_names[0], ident="seal1"))
        return signature
    # 联合行文: each organ's seal over its 署名, at most three to a row, rows filled
    # evenly; the date below, four characters from the right.
    signature["joint"] = True
    count = len(orgs)
    row_count = math.ceil(count / SEALS_PER_ROW)
    per_row = math.ceil(count / row_count)
    cells = [
        {"org": runs(org), "seal_svg": mark_safe(seal.seal_svg(org, ident=f"seal{i + 1}"))}
        for i, org in enumerate(orgs)
    ]
    signature["rows"] = [cells[i:i + per_row] for i in range(0, count, per_row)]
    signature["cell_width"] = _pt(TYPE_AREA_WIDTH / per_row)
    return signature


def _annexes(doc):
    """The 附件 pages: "附件N" on line 1, the attachment's title centred on line 3."""
    names = doc["attachments"]
    result = []
    for number, name in enumerate(names, start=1):
        # One attachment is "附件" without a number, as in the 附件说明 (GB/T 9704 7.3.4).
        label = "附件" if len(names) == 1 else f"附件{number}"
        result.append({"label": label, "lines": [runs(line) for line in title_lines(name)]})
    return result


def _banji(doc):
    printed_date = format_date_cn(doc["printed_date"])
    if doc["format"] == "信函":
        if doc["cc"]:
            return {"cc": runs(doc["cc"]), "printed_by": [], "printed_date": [], "rules": False}
        return None
    if doc["cc"] or doc["printed_by"] or printed_date:
        return {
            "cc": runs(doc["cc"]),
            "printed_by": runs(doc["printed_by"]),
            "printed_date": runs(printed_date + "印发" if printed_date else ""),
            "rules": True,
        }
    return None


def build_context(doc, *, draft=False, banji_only=False, blank_before=False, banji_flow=False):
    """Everything the template needs; all document text is passed as `Run` lists.

    `banji_only` gives the page of the 版记 alone (with a blank page before it when
    `blank_before`), for a 版记 that has to move to the next even page.
    """
    fmt = {"文件": "file", "信函": "letter", "纪要": "minutes"}[doc["format"]]
    banji = _banji(doc)
    if banji_only:
        return {
            "draft": draft,
            "fmt": fmt,
            "banji": banji,
            "banji_only": True,
            "blank_before": blank_before,
            "banji_flow": banji_flow,
        }
    secrecy = None
    if doc["secrecy"]:
        secrecy = doc["secrecy"] + ("★" + doc["secrecy_period"] if doc["secrecy_period"] else "")
    body, attendance = _attendance(doc)
    mark = _mark(doc)
    signer_lines = _signers(doc)
    doc_number = _doc_number(doc)
    return {
        "draft": draft,
        "fmt": fmt,
        "meta_title": doc["title"],
        "copy_number": runs(doc["copy_number"]),
        "secrecy": runs(secrecy),
        "urgency": runs(doc["urgency"]),
        "mark": mark,
        "doc_number": doc_number,
        "signer_lines": signer_lines,
        "title_gap": _pt(_title_gap(_header_height(doc, mark, signer_lines, doc_number))),
        "title_lines": [runs(line) for line in title_lines(doc["title"], doc["doc_type"])],
        "main_recipients": runs(doc["main_recipients"]),
        "blocks": [_block(block, doc["doc_type"]) for block in body],
        "attendance": attendance,
        "attachments": [runs(name) for name in doc["attachments"]],
        "signature": _signature(doc),
        "note": runs(doc["note"]),
        "annexes": _annexes(doc),
        "banji": banji,
    }


# Rendering ---------------------------------------------------------------------

def _template_dir():
    return Path(settings.BASE_DIR) / "templates" / "issuance" / "pdf"


class _Resources(threading.local):
    """The font configuration and the parsed stylesheet, made once per thread.

    Loading the four Fandol faces and parsing the stylesheet is a third of the work for a
    short document; they do not depend on the document. WeasyPrint's objects are not
    meant to be shared between threads, so each thread keeps its own.
    """

    font_config = None
    stylesheet = None
    fetcher = None

    def get(self):
        if self.font_config is None:
            fonts.check_fonts()
            self.fetcher = FontFetcher()
            self.font_config = FontConfiguration()
            self.stylesheet = CSS(
                string=get_template(STYLESHEET).render({}),
                base_url=_template_dir().as_uri() + "/",
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
        return self


_resources = _Resources()


def reset_resources():
    """Forget this thread's font configuration and stylesheet (tests that watch fetches)."""
    _resources.font_config = _resources.stylesheet = _resources.fetcher = None


def _layout(context):
    res = _resources.get()
    html = render_to_string(TEMPLATE, context)
    return HTML(string=html, base_url=_template_dir().as_uri() + "/", url_fetcher=res.fetcher).render(
        font_config=res.font_config, stylesheets=[res.stylesheet], pdf_variant=PDF_VARIANT
    )


def _classes(box):
    element = getattr(box, "element", None)
    if element is None:
        return ()
    return (element.get("class") or "").split()


def _walk(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def _banji_page(document):
    """Index of the page whose footnote area holds the 版记, or None.

    Only the footnote area counts: a 版记 that does not fit is carried over to the next
    page's footnote area while its (empty) call stays behind in the text.
    """
    for number, page in enumerate(document.pages):
        for area in page._page_box.children:
            if isinstance(area, boxes.FootnoteAreaBox) and any("banji" in _classes(box) for box in _walk(area)):
                return number
    return None


def _has_text(box):
    return any(isinstance(inner, boxes.TextBox) and inner.text.strip() for inner in _walk(box))


def _last_text_page(document):
    """Index of the last page with a line of the <main> text (正文 to 附件 pages)."""
    last = None
    for number, page in enumerate(document.pages):
        if any(getattr(box, "element_tag", None) == "main" and _has_text(box) for box in _walk(page._page_box)):
            last = number
    return last


def _drop_footnotes(page):
    page._page_box.children = [
        child for child in page._page_box.children if not isinstance(child, boxes.FootnoteAreaBox)
    ]


def layout_document(doc, *, draft=False):
    """The laid-out WeasyPrint document of `doc`, before justification."""
    document = _layout(build_context(doc, draft=draft))
    banji = _banji_page(document)
    if banji is None:
        return document
    text_end = _last_text_page(document)
    if text_end is None:
        text_end = 0
    # Page numbers count from 1: the 版记 must be on an even page that also holds the
    # end of the text; otherwise it goes alone onto the next even page.
    if banji == text_end and banji % 2 == 1:
        return document
    pages = document.pages[:text_end + 1]
    for page in pages:
        _drop_footnotes(page)
    blank_before = len(pages) % 2 == 0
    extra = _layout(build_context(doc, draft=draft, banji_only=True, blank_before=blank_before))
    if len(extra.pages) != 1 + blank_before:
        # A 版记 taller than a page (a 抄送 of hundreds of organs) cannot sit at the foot of
        # one: it runs in the normal flow from the top of its first page instead, and a
        # blank page before it keeps the last page even.
        logger.warning("版记 taller than a page: set in the flow, not at the foot of the page")
        extra = _layout(build_context(doc, draft=draft, banji_only=True, banji_flow=True))
        if (len(pages) + len(extra.pages)) % 2:
            extra = _layout(build_context(doc, draft=draft, banji_only=True, banji_flow=True, blank_before=True))
    return document.copy(pages + extra.pages)


def render_pdf(doc, *, draft=False):
    """Lay out `doc` per GB/T 9704 and return the PDF/A-2b bytes."""
    document = layout_document(doc, draft=draft)
    pdf_justify.justify(document)
    document.metadata = pdf_meta.metadata_for(doc, document.metadata)
    pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
    _remember_pages(pdf, len(document.pages))
    return pdf


# Page counts of the PDFs this process made lately, by digest: services and the command
# ask right after rendering, and parsing the PDF again (pypdf) would cost more than that.
_PAGE_COUNTS = collections.OrderedDict()
_PAGE_COUNTS_KEPT = 16
_PAGE_COUNTS_LOCK = threading.Lock()


def _digest(pdf_bytes):
    return hashlib.blake2b(pdf_bytes, digest_size=16).digest()


def _remember_pages(pdf_bytes, count):
    with _PAGE_COUNTS_LOCK:
        _PAGE_COUNTS[_digest(pdf_bytes)] = count
        while len(_PAGE_COUNTS) > _PAGE_COUNTS_KEPT:
            _PAGE_COUNTS.popitem(last=False)


def count_pages(pdf_bytes):
    known = _PAGE_COUNTS.get(_digest(pdf_bytes))
    if known is not None:
        return known
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf_bytes)).pages)
