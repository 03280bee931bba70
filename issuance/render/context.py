"""The template's context: what GB/T 9704's layout needs that a template cannot compute.

`build_context(doc)` turns a parsed 公文 (`exchange.parse_document`) into what
templates/issuance/pdf/gongwen.html fills in: all document text as runs per typeface
(coverage.py), the size of the red 发文机关标志 and the gap that puts the title on the
page's grid, the lines of long titles (titles.py), the seal (seal.py), the 附件 pages and
the 版记. Nothing here changes the document.
"""

import math
import re

from django.utils.safestring import mark_safe

from ..exchange import format_date_cn
from . import fonts, lines, seal
from .coverage import runs
from .grid import CHAR_PITCH, INDENT, LINE_PITCH, PT_PER_MM, TYPE_AREA_WIDTH
from .titles import title_lines, units

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


def _pt(value):
    """A CSS length in points, formatted here so that no locale gets a say."""
    return f"{value:.3f}pt"


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
        widest = max(units(organ) for organ in organs)
        natural = (widest + 0.5 + units(suffix)) * size
        lines = []
        for organ in organs:
            # Spread each organ's name to the width of the longest one.
            gaps = len(organ) - 1
            spacing = (widest - units(organ)) * size / gaps if gaps else 0
            lines.append({"runs": runs(organ), "spacing": spacing})
        joint = {"lines": lines, "suffix": runs(suffix)}
    else:
        size = MARK_FONT_SIZE
        natural = units(title) * size
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


# Context ------------------------------------------------------------------------

# The face of a heading's run-in sentence (GB/T 9704 7.3.3: 一、 黑体, （一） 楷体, 1. and
# （1） 仿宋), with the fallback chain its stylesheet rule names; the rest is 仿宋.
HEAD_FACES = {
    "heading1": (fonts.FACES["hei"], fonts.SANS_CHAIN),
    "heading2": (fonts.FACES["kai"], fonts.SERIF_CHAIN),
    "heading3": (fonts.FACES["fang"], fonts.SERIF_CHAIN),
    "heading4": (fonts.FACES["fang"], fonts.SERIF_CHAIN),
}
TEXT_FACE = (fonts.FACES["fang"], fonts.SERIF_CHAIN)


def _segments(text, faces, classes=""):
    """(text, face, classes) of the runs of `text` for lines.plan."""
    face, chain = faces
    return [
        (run.text, chain, f"{classes} fb".strip()) if run.fallback else (run.text, face, classes)
        for run in runs(text)
    ]


def _planned(segments, first_indent=INDENT, **extra):
    """A planned block for the template: its lines and the `data-compress` of its marks."""
    planned = lines.plan(segments, first_indent)
    return {"lines": planned, "compress": lines.compressed_attribute(planned), **extra}


def _block(block, doc_type):
    kind = block["kind"]
    text = block["text"]
    if kind == "title":
        return {"kind": kind, "lines": [runs(line) for line in title_lines(text, doc_type)]}
    if kind.startswith("heading"):
        # Only the heading sentence, up to its first "。", takes the heading's face.
        head, stop, rest = text.partition("。")
        if not (stop and rest):
            head, stop, rest = text, "", ""
        segments = _segments(head + stop, HEAD_FACES[kind], "hd") + _segments(rest, TEXT_FACE)
        return _planned(segments, kind=kind, standalone=not rest)
    return _planned(_segments(text, TEXT_FACE), kind=kind, standalone=False)


def _split_issued(blocks):
    """(the notice's own blocks, the issued document's blocks).

    A notice that issues or forwards another document (印发, 转发, 批转) carries that
    document's title as a `title` block: the notice is signed after its own text, and the
    issued document, from its title on, follows on a page of its own."""
    for index, block in enumerate(blocks):
        if block["kind"] == "title" and index > 0:
            return blocks[:index], blocks[index:]
    return blocks, []


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
        hang = units(label) * CHAR_PITCH
        items.append({
            "label": runs(label),
            "rest": runs(block["text"][match.end():]),
            "hang": _pt(hang),
            "pad": _pt(2 * CHAR_PITCH + hang),
        })
    return body, items


def _recipients(doc):
    # 主送机关 flush left, wrapped flush left, ending with a full-width colon.
    if not doc["main_recipients"]:
        return None
    return _planned(_segments(doc["main_recipients"] + "：", TEXT_FACE), first_indent=0.0)


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
    own, issued = _split_issued(body)
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
        "main_recipients": _recipients(doc),
        "blocks": [_block(block, doc["doc_type"]) for block in own],
        "issued_blocks": [_block(block, doc["doc_type"]) for block in issued],
        "attendance": attendance,
        "attachments": [runs(name) for name in doc["attachments"]],
        "signature": _signature(doc),
        "note": _planned(_segments(f"（{doc['note']}）", TEXT_FACE)) if doc["note"] else None,
        "annexes": _annexes(doc),
        "banji": banji,
    }


