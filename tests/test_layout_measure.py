"""Proof by measurement: rendered PDFs opened and measured against GB/T 9704-2012.

Each document below is rendered once per module and measured with pdfplumber (text
positions, fonts, rules), pypdf (metadata, fonts) and pypdfium2 (the ink of red elements,
rasterised at 300 dpi). The numbers are the standard's (../shared/spec/gbt9704.md):

* 版心 28 mm from the left, 37 mm from the top, 156 × 225 mm; 22 lines 28.99 pt apart,
  28 characters of 3号 (16 pt) on a full line, continued lines flush right (±0.1 pt);
* 标志 ink 35 mm below the 版心's top (信函: 30 mm from the paper's top), red, centred,
  inside the 版心; the red line 4 mm below the 发文字号, 156 mm wide;
* page numbers "— N —" 7 mm below the 版心, one character in from the outer edge, none on
  a blank page or a page with only the 版记; the 版记's last rule on the 版心's bottom edge,
  on an even page;
* faces of the heading levels; the seal's size and place; PDF/A-2b identification.
"""

import copy
import io
import json
import re
import unicodedata
from pathlib import Path

import pdfplumber
import pypdfium2
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from issuance.exchange import ExchangeError, format_date_cn, parse_document
from issuance.render import layout, lines as planner, patches

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "quanzhou-2024-123.json"

MM = 72 / 25.4
PAGE_HEIGHT = 297 * MM
LEFT = 28 * MM  # 79.37 pt
RIGHT = (28 + 156) * MM  # 521.57 pt
TOP = 37 * MM  # 104.88 pt
BOTTOM = (37 + 225) * MM  # 742.68 pt
PITCH = 28.99
CHAR = 15.785
GRID_SPACING = -0.2146  # the body's letter-spacing
WIDTH = RIGHT - LEFT
RED_LINE_WIDTH = 156 * MM
PAGE_NUMBER = re.compile(r"^—\s*(\d+)\s*—$")
PAGE_NUMBER_IN_TEXT = re.compile(r"—\s*\d+\s*—")

SEED = json.loads(FIXTURE.read_text(encoding="utf-8"))
SEED_PARAGRAPHS = [block["text"] for block in SEED["body"] if block["kind"] in ("paragraph", "heading3")]


# Documents -------------------------------------------------------------------------


def base(**changes):
    data = {
        "doc_type": "通知",
        "direction": "下行文",
        "issuer_marks": ["泉州市科学技术局"],
        "doc_number": "泉科〔2024〕88号",
        "title": "泉州市科学技术局关于做好2025年度科技计划项目申报工作的通知",
        "main_recipients": "各县（市、区）科技局，泉州开发区、泉州台商投资区科技主管部门",
        "body": [
            {"kind": "paragraph", "text": SEED_PARAGRAPHS[0]},
            {"kind": "heading1", "text": "一、申报范围"},
            {"kind": "paragraph", "text": SEED_PARAGRAPHS[1]},
            {"kind": "heading2", "text": "（一）重点研发项目"},
            {"kind": "heading3", "text": SEED_PARAGRAPHS[2]},
            {"kind": "heading4", "text": "（1）申报单位应当具有独立法人资格。"},
            {"kind": "paragraph", "text": SEED_PARAGRAPHS[3]},
        ],
        "signature_orgs": ["泉州市科学技术局"],
        "date": "2024-09-05",
        "seal": True,
        "cc": "市财政局，各有关单位",
        "printed_by": "泉州市科学技术局办公室",
        "printed_date": "2024-09-06",
    }
    data.update(changes)
    return data


ORGANS = ["泉州市科学技术局", "泉州市财政局", "泉州市教育局", "泉州市工业和信息化局"]

QUOTED = [
    "为深入贯彻落实《中华人民共和国科学技术进步法》《福建省科学技术进步条例》和《泉州市“十四五”科技创新发展规划》，"
    "推动“放管服”改革向纵深发展，现就实施“揭榜挂帅”“赛马制”等新型科研组织方式（以下简称“新机制”）提出如下意见。",
    "各单位要坚持“四个面向”，聚焦“卡脖子”技术，按照“谁出题、谁出资、谁验收”的原则，组织实施“揭榜挂帅”项目；"
    "对“赛马制”项目，实行“一次立项、分段支持、动态调整”的管理方式。项目承担单位应当依照《泉州市科技计划项目管理办法》"
    "（泉科规〔2023〕2号）和《泉州市科技计划项目资金管理办法》（泉财教〔2023〕15号）的规定，建立健全“项目负责人＋财务助理”制度。",
    "申报材料包括：（一）《项目申报书》；（二）《承诺书》；（三）“揭榜”方案。材料不全的，不予受理。“科技特派员”“科技副总”"
    "“产业技术创新联盟”等相关工作另行通知，请各单位关注“泉州科技”网站（“通知公告”栏目）和“泉州科技”微信公众号。",
]

# 𠀀 𠀁 𪚥 (Extension B), 𰻝 (G), 䶮 (A), 𬌗 (E), 𫟹 (D).
EXTENSION_TEXT = "扩展区汉字𠀀𠀁𪚥𰻝与䶮、𬌗、𫟹，均应正常印制，不得以其他字代替。"


def long_body(pages):
    body = []
    for number in range(pages):
        body.append({"kind": "heading1", "text": f"{'一二三四五六七八九十'[number % 10]}、第{number + 1}部分"})
        body += [{"kind": "paragraph", "text": text} for text in SEED_PARAGRAPHS[:6]]
    return body


DOCUMENTS = {
    "seed": SEED,
    "upward": base(
        doc_type="请示",
        direction="上行文",
        signers=["张三", "李四"],
        doc_number="泉科〔2024〕31号",
        title="泉州市科学技术局关于申请2025年度科技创新专项经费的请示",
        main_recipients="泉州市人民政府",
        note="联系人：王五，电话：0595-22500000",
        cc=None,
    ),
    "joint2": base(issuer_marks=ORGANS[:2], signature_orgs=ORGANS[:2], doc_number="泉科〔2024〕45号"),
    "joint4": base(issuer_marks=ORGANS, signature_orgs=ORGANS, doc_number="泉科〔2024〕46号"),
    "unsealed": base(seal=False, doc_number="泉科〔2024〕47号"),
    "letter": base(
        format="信函",
        doc_type="函",
        direction="平行文",
        doc_number="泉科函〔2024〕5号",
        title="泉州市科学技术局关于商请支持科技活动周有关工作的函",
        main_recipients="泉州市财政局",
        body=base()["body"] * 2,
        cc="市委宣传部",
    ),
    "minutes": base(
        format="纪要",
        doc_type="纪要",
        doc_number=None,
        title="泉州市科学技术局2024年第5次局务会议纪要",
        main_recipients=None,
        body=base()["body"][:3] + [
            {"kind": "paragraph", "text": "出席：张三、李四、王五、赵六、钱七、孙八、周九、吴十、郑十一、王十二、冯十三、陈十四"},
            {"kind": "paragraph", "text": "请假：褚十五"},
            {"kind": "paragraph", "text": "列席：卫十六、蒋十七"},
        ],
        signature_orgs=[],
        seal=False,
    ),
    "secret": base(
        copy_number="000123",
        secrecy="机密",
        secrecy_period="1年",
        urgency="特急",
        doc_number="泉科〔2024〕90号",
    ),
    "long": base(
        doc_number="泉科〔2024〕99号",
        body=long_body(9),
        attachments=["2025年度科技计划项目申报指南", "项目申报书（格式）", "申报单位承诺书"],
    ),
    "rare": base(
        doc_number="泉科〔2024〕100号",
        body=[
            {"kind": "paragraph", "text": "测试生僻字㙟与𠮷，" * 12 + "以及楸樵坤應。"},
            {"kind": "heading1", "text": "一、㙟𠮷镇的标题"},
            {"kind": "paragraph", "text": SEED_PARAGRAPHS[1]},
        ],
    ),
    # Quotation marks and book titles next to each other and at the ends of lines.
    "quotes": base(
        doc_number="泉科〔2024〕103号",
        title="泉州市科学技术局关于实施“揭榜挂帅”“赛马制”等新型科研组织方式的意见",
        doc_type="意见",
        body=[{"kind": "paragraph", "text": text} for text in QUOTED] + [
            {"kind": "heading1", "text": "一、“揭榜挂帅”项目"},
            {"kind": "paragraph", "text": QUOTED[1] + QUOTED[2]},
            {"kind": "heading2", "text": "（一）“赛马制”项目。" + QUOTED[0]},
            {"kind": "paragraph", "text": QUOTED[2] + QUOTED[0]},
        ],
    ),
    # A notice that forwards another organ's document: signed after its own text, the
    # forwarded document from its title on a page of its own.
    "forward": base(
        doc_number="泉科〔2024〕104号",
        title="泉州市科学技术局关于转发《福建省科学技术厅关于组织申报2025年度省级科技特派员项目的通知》的通知",
        main_recipients="各县（市、区）科技局，泉州开发区、泉州台商投资区科技主管部门",
        body=[
            {"kind": "paragraph", "text": "现将《福建省科学技术厅关于组织申报2025年度省级科技特派员项目的通知》（闽科农〔2024〕12号）"
                                          "转发给你们，请按照文件要求认真组织申报，并于2024年10月15日前将申报材料报送我局农村科技科。"},
            {"kind": "title", "text": "福建省科学技术厅关于组织申报2025年度省级科技特派员项目的通知"},
            {"kind": "paragraph", "text": "各设区市科技局，平潭综合实验区经济发展局："},
        ] + long_body(2),
    ),
    # Characters of CJK Extensions B to G, which the Fandol faces lack.
    "extb": base(
        doc_number="泉科〔2024〕105号",
        title="泉州市科学技术局关于规范𠀀𪚥等扩展区汉字使用的通知",
        body=[
            {"kind": "paragraph", "text": EXTENSION_TEXT * 3},
            {"kind": "heading1", "text": "一、𪚥𰻝字的使用"},
            {"kind": "paragraph", "text": SEED_PARAGRAPHS[1]},
        ],
    ),
}


def document(name):
    return parse_document(copy.deepcopy(DOCUMENTS[name]))


# Measuring ---------------------------------------------------------------------------


class Measured:
    """A rendered PDF and what the tests measure on it."""

    def __init__(self, doc, pdf):
        self.doc = doc
        self.pdf = pdf
        self.plumber = pdfplumber.open(io.BytesIO(pdf))
        self.pages = self.plumber.pages
        self.reader = PdfReader(io.BytesIO(pdf))
        self._raster = {}
        self._images = {}

    def close(self):
        self.plumber.close()

    def chars(self, number, size=None):
        chars = self.pages[number].chars
        return [c for c in chars if size is None or abs(c["size"] - size) < 0.05]

    def lines(self, number, size=16, font=None):
        """[(baseline, chars left to right)] of the lines of `size` pt text on a page."""
        rows = {}
        for char in self.chars(number, size):
            if font and font not in char["fontname"]:
                continue
            baseline = round(PAGE_HEIGHT - char["matrix"][5], 1)
            rows.setdefault(baseline, []).append(char)
        return [(base, sorted(rows[base], key=lambda c: c["x0"])) for base in sorted(rows)]

    def text_lines(self, number, size=16):
        return ["".join(c["text"] for c in chars) for _, chars in self.lines(number, size)]

    def page_number(self, number):
        """The "— N —" of a page, as (N, chars), or None."""
        chars = [c for c in self.chars(number, 14) if c["top"] > BOTTOM]
        text = "".join(c["text"] for c in sorted(chars, key=lambda c: c["x0"])).replace(" ", "")
        match = PAGE_NUMBER.match(text)
        return (int(match.group(1)), sorted(chars, key=lambda c: c["x0"])) if match else None

    def ink(self, number, color="red", dpi=300):
        """[(top, bottom, left, right)] in pt (top-down) of each band of consecutive
        pixel rows holding ink of `color` ("red" or "black") on a page, at `dpi`."""
        key = (number, color, dpi)
        if key not in self._raster:
            if (number, dpi) not in self._images:
                document = pypdfium2.PdfDocument(self.pdf)
                try:
                    self._images[number, dpi] = document[number].render(scale=dpi / 72).to_pil().convert("RGB")
                finally:
                    document.close()
            self._raster[key] = ink_bands(self._images[number, dpi], color, 72 / dpi)
        return self._raster[key]

    def text(self):
        return "".join(page.extract_text() or "" for page in self.pages)


def ink_mask(image, color):
    red, green, blue = image.split()
    if color == "red":
        tests = (red.point(lambda v: 255 if v > 170 else 0), green.point(lambda v: 255 if v < 110 else 0),
                 blue.point(lambda v: 255 if v < 110 else 0))
    else:
        tests = tuple(channel.point(lambda v: 255 if v < 90 else 0) for channel in (red, green, blue))
    mask = ImageChops.multiply(ImageChops.multiply(tests[0], tests[1]), tests[2])
    return mask


def ink_bands(image, color, scale):
    mask = ink_mask(image, color)
    width, height = mask.size
    rows = list(mask.resize((1, height), Image.BOX).tobytes())
    bands = []
    start = None
    for y, value in enumerate(rows + [0]):
        if value and start is None:
            start = y
        elif not value and start is not None:
            left, _, right, _ = mask.crop((0, start, width, y)).getbbox()
            bands.append((start * scale, y * scale, left * scale, right * scale))
            start = None
    return bands


_cache = {}


def measured(name):
    if name not in _cache:
        doc = document(name)
        _cache[name] = Measured(doc, layout.render_pdf(doc))
    return _cache[name]


@pytest.fixture(scope="module", autouse=True)
def _close_measured():
    yield
    for item in _cache.values():
        item.close()
    _cache.clear()


ALL = list(DOCUMENTS)


# Helpers over measured pages ----------------------------------------------------------

# A 16 pt line sits this far below the top of its 28.99 pt grid line (measured on the seed's
# page 2, whose first line is the 版心's first line).
BASELINE_IN_LINE = 20.585
# A 2号 (22 pt) title line's baseline, in its 28.99 pt line.
TITLE_BASELINE_IN_LINE = 23.99


def grid_line(baseline):
    """The (fractional) number of the grid line a 16 pt baseline sits on, 0 = first."""
    return (baseline - TOP - BASELINE_IN_LINE) / PITCH


def text_pages(m):
    """Indexes of the pages that hold 3号 text."""
    return [n for n in range(len(m.pages)) if m.lines(n)]


def body_lines(m):
    """[(page, baseline, chars)] of the 3号 lines of the 主体 (below the title on page 1)."""
    result = []
    for n in range(len(m.pages)):
        start = 0.0
        if n == 0:
            titles = [c for c in m.chars(0, 22)]
            if not titles:
                continue
            start = max(PAGE_HEIGHT - c["matrix"][5] for c in titles)
        for baseline, chars in m.lines(n):
            if baseline > start:
                result.append((n, baseline, chars))
    return result


def continued(lines):
    """The lines followed by a continuation of the same paragraph: the next 3号 line starts
    at the 版心's left edge (a paragraph's first line is indented; an 附件 label is not a
    paragraph)."""
    result = []
    for (page, base, chars), (_, _, following) in zip(lines, lines[1:]):
        texts = ["".join(c["text"] for c in line) for line in (chars, following)]
        if any(re.fullmatch(r"附件\d*", text) for text in texts):
            continue
        if abs(line_start(following) - LEFT) < 0.5:
            result.append((page, base, chars))
    return result


# 标点挤压 --------------------------------------------------------------------------------

HALF = 8.0  # the half em a compressed 3号 mark gives up


def _half_places(width):
    return round(2 * width / CHAR) / 2


def compressed_at_end(chars):
    """Whether the line's last glyph is a closing mark set in half its width: its em box
    then reaches half an em past the edge, its ink (the left half) does not."""
    last = chars[-1]
    return last["text"] in planner.CLOSING and last["x1"] - RIGHT > HALF / 2


def compressed_at_start(chars):
    """Whether the line's first glyph is an opening mark set in half its width: its em box
    starts half an em before the edge (or the indent), its ink (the right half) does not."""
    first = chars[0]
    return first["text"] in planner.OPENING and any(
        abs(first["x0"] - (LEFT + indent - HALF)) < 0.5 for indent in (0, 2 * CHAR)
    )


def line_start(chars):
    return chars[0]["x0"] + (HALF if compressed_at_start(chars) else 0)


def line_end(chars):
    """x of the end of the line's ink half of its last em box."""
    return chars[-1]["x1"] - (HALF if compressed_at_end(chars) else 0)


def places(chars):
    """The grid places a line of 3号 text fills, indent included: each glyph's cell (to the
    next glyph's origin) rounded to half places, so that the justification's spacing of
    less than a quarter place a character does not count. A full-width character fills
    one, a half-width one or a compressed mark half (an opening mark's half shows in the
    cell before it)."""
    total = _half_places(chars[0]["x0"] - LEFT)
    for a, b in zip(chars, chars[1:]):
        total += _half_places(b["x0"] - a["x0"])
    last = chars[-1]
    return total + _half_places((last["x1"] - last["x0"]) / (2 if compressed_at_end(chars) else 1))


def natural_width(chars):
    """The width the line's glyphs take before justification, from the edge (or the indent)
    to the end of the last glyph's ink half: each glyph's advance plus the grid's
    letter-spacing, a compressed mark's both halved."""
    compressed = set(compressed_marks(chars))
    width = line_start(chars) - LEFT
    for i, char in enumerate(chars):
        advance = char["x1"] - char["x0"]
        if i == len(chars) - 1:
            width += advance / 2 if i in compressed else advance
        else:
            width += (advance + GRID_SPACING) / (2 if i in compressed else 1)
    return width


def compressed_marks(chars):
    """[index] of the glyphs of a line set in half their width, measured: a cell of half a
    place belongs to a closing mark, or is the cell before an opening mark."""
    found = []
    for i, (a, b) in enumerate(zip(chars, chars[1:])):
        if _half_places(b["x0"] - a["x0"]) != 0.5:
            continue
        if a["text"] in planner.CLOSING:
            found.append(i)
        elif b["text"] in planner.OPENING:
            found.append(i + 1)
        elif unicodedata.east_asian_width(a["text"]) in "WF":
            found.append(i)  # a full-width character narrowed: reported, so that tests fail
    if compressed_at_end(chars):
        found.append(len(chars) - 1)
    if compressed_at_start(chars):
        found.append(0)
    return sorted(set(found))


def may_compress(text):
    """How many marks of a line of `text` may give up half their width (lines.py): a mark
    next to another, a closing mark at the line's end, an opening mark anywhere but after
    another, a comma, colon or bracket inside the line; never a full stop inside it."""
    count = 0
    for i, ch in enumerate(text):
        after = text[i + 1] if i + 1 < len(text) else None
        if ch in planner.CLOSING:
            count += after is None or after in planner.COMPRESSIBLE or ch in planner.IN_LINE_BRACKETS | planner.IN_LINE_COMMAS
        elif ch in planner.OPENING:
            count += 1
    return count


def first_unit(line_text, next_text):
    """The start of `next_text` that no line may be broken within: up to its first break
    opportunity (lines.break_opportunities, Pango's rules with clreq's for quotes)."""
    joined = line_text + next_text
    breaks = [i for i in sorted(planner.break_opportunities(joined)) if i > len(line_text)]
    return joined[len(line_text):breaks[0] if breaks else len(joined)].rstrip()


def text_places(text):
    # FandolFang's half-width digits are half an em, its space a third.
    return sum(1 if ord(ch) >= 0x2E80 else 1 / 3 if ch == " " else 0.5 for ch in text)


def signature_page(m):
    day = format_date_cn(m.doc["date"])
    for n in range(len(m.pages)):
        for baseline, chars in m.lines(n):
            if "".join(c["text"] for c in chars) == day:
                return n, baseline, chars
    raise AssertionError("成文日期 not found")


def xmp(m):
    return m.reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


# The 版心 and the grid --------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_pages_are_a4_and_the_text_stays_in_the_type_area(name):
    m = measured(name)
    for n, page in enumerate(m.pages):
        assert page.width == pytest.approx(595.28, abs=0.05) and page.height == pytest.approx(841.89, abs=0.05)
        for char in page.chars:
            baseline = PAGE_HEIGHT - char["matrix"][5]
            if abs(char["size"] - 14) < 0.05 and baseline > BOTTOM:
                continue  # the page number, below the 版心 by rule
            if m.doc["format"] == "信函" and n == 0 and char["size"] > 30:
                continue  # the 信函's 标志 sits 30 mm from the paper's top, above the 版心
            # A compressed mark's blank half may lie outside (its ink does not: see below).
            left = LEFT - (HALF if char["text"] in planner.OPENING else 0)
            right = RIGHT + (HALF if char["text"] in planner.CLOSING else 0)
            assert left - 0.5 <= char["x0"] and char["x1"] <= right + 0.5, (name, n, char["text"])
            assert TOP <= baseline <= BOTTOM, (name, n, char["text"], baseline)


@pytest.mark.parametrize("name", ["seed", "quotes", "forward", "upward", "extb"])
def test_no_ink_outside_the_type_area(name):
    # Never a glyph outside the 版心: every band of black or red ink within the 版心's
    # height lies between its left and right edges (100 dpi, so within 1 pt).
    m = measured(name)
    for n in range(len(m.pages)):
        for color in ("black", "red"):
            for top, bottom, left, right in m.ink(n, color, dpi=100):
                if bottom < TOP or top > BOTTOM:
                    continue
                assert LEFT - 1 <= left and right <= RIGHT + 1, (name, n, color, top)


@pytest.mark.parametrize("name", ALL)
def test_every_line_sits_on_the_22_line_grid(name):
    # Lines 28.99 pt apart on every page, page 1 included (the title's gap is rounded so
    # that the 主体 starts on a grid line), and a full page holds 22 of them.
    m = measured(name)
    lines = body_lines(m)
    assert lines
    for page, baseline, chars in lines:
        line = grid_line(baseline)
        assert abs(line - round(line)) < 0.01, (name, page, "".join(c["text"] for c in chars))
        assert 0 <= round(line) <= 21
    per_page = {}
    for page, _, _ in lines:
        per_page[page] = per_page.get(page, 0) + 1
    assert max(per_page.values()) <= 22


def test_a_full_page_holds_22_lines_of_28_characters():
    m = measured("seed")
    full = [n for n in range(1, len(m.pages)) if len(m.lines(n)) == 22]
    assert len(full) >= 3  # pages 3, 5 and 6; page 2 opens with the 2号 inner title
    for n in full:
        bases = [base for base, _ in m.lines(n)]
        assert bases[0] == pytest.approx(TOP + BASELINE_IN_LINE, abs=0.05)
        assert all(b - a == pytest.approx(PITCH, abs=0.11) for a, b in zip(bases, bases[1:]))  # baselines rounded to 0.1
        assert bases[-1] == pytest.approx(TOP + BASELINE_IN_LINE + 21 * PITCH, abs=0.1)


@pytest.mark.parametrize("name", ALL)
def test_continued_lines_end_flush_with_the_right_edge(name):
    # Justified to both edges, also when a line gave a character to the next one (no "，"
    # at a line's start) or holds digits and Latin letters: within 0.1 pt. A closing mark
    # compressed at the line's end ends its ink half there.
    m = measured(name)
    lines = continued(body_lines(m))
    assert lines or name == "minutes"
    for page, _, chars in lines:
        assert line_end(chars) == pytest.approx(RIGHT, abs=0.1), (name, page, "".join(c["text"] for c in chars))


@pytest.mark.parametrize("name", ALL)
def test_continued_lines_hold_28_grid_places(name):
    # 标点挤压 before letter-spacing: a line that could not take a character, because "，"
    # or "》" may not start a line or "“" may not end one, compresses marks (a compressed
    # mark counts half) and keeps its 28 places: its glyphs, before justification, fill the
    # 版心 to within less than half a place (digits, Latin letters and spaces are not
    # multiples of half a place), and a line of full-width characters and marks fills
    # exactly 28. Only a line that no compression can fill is letter-spaced: the
    # unbreakable start of the next line ("“2024", "面加") is wider than the line's free
    # places and every mark it may compress.
    m = measured(name)
    lines = body_lines(m)
    spread = []
    for (page, _, chars), (_, _, following) in zip(lines, lines[1:]):
        if abs(line_start(following) - LEFT) > 0.5 or re.fullmatch(r"附件\d*", "".join(c["text"] for c in following)):
            continue
        text = "".join(c["text"] for c in chars)
        natural = natural_width(chars)
        assert natural <= WIDTH + planner.SQUEEZE + 0.05, (name, page, text)
        if all(ord(ch) >= 0x2E80 for ch in text):
            assert places(chars) in (28, 27.5, 27, 26.5, 26) and (places(chars) == 28) == (natural > WIDTH - 1)
        if natural > WIDTH - CHAR / 2:
            continue
        unit = first_unit(text, "".join(c["text"] for c in following))
        free = (WIDTH - natural) / CHAR + 0.5 * may_compress(text + unit)
        assert text_places(unit) > free, (name, page, text, unit)
        spread.append(text)
    # Rare: one line in twenty at most.
    assert len(spread) <= max(2, len(lines) // 20), spread


@pytest.mark.parametrize("name", ["seed", "quotes", "forward"])
def test_only_marks_are_compressed_and_only_where_clreq_allows(name):
    m = measured(name)
    found = 0
    for page, _, chars in body_lines(m):
        text = "".join(c["text"] for c in chars)
        for i in compressed_marks(chars):
            ch = text[i]
            assert ch in planner.COMPRESSIBLE, (name, page, text, i)
            if ch in "。！":
                # A full stop gives up its blank only at the line's end or before a mark.
                assert i == len(text) - 1 or text[i + 1] in planner.COMPRESSIBLE, (name, page, text)
            found += 1
    assert found


def test_quotation_marks_and_book_titles_compress_at_line_ends_and_next_to_each_other():
    m = measured("quotes")
    kinds = set()
    for page, _, chars in continued(body_lines(m)):
        text = "".join(c["text"] for c in chars)
        for i in compressed_marks(chars):
            if i == len(text) - 1:
                kinds.add("end")
            elif i + 1 < len(text) and text[i] in planner.CLOSING and text[i + 1] in planner.COMPRESSIBLE:
                kinds.add("adjacent")
    assert kinds == {"end", "adjacent"}
    # The text is still the document's, character for character.
    extracted = re.sub(r"\s+", "", "".join(PAGE_NUMBER_IN_TEXT.sub("", page.extract_text()) for page in m.pages))
    for block in m.doc["body"]:
        assert re.sub(r"\s+", "", block["text"]) in extracted


def test_full_lines_hold_28_characters_on_a_15_785_pt_pitch():
    counts = []
    for name in ("seed", "long", "joint2"):
        m = measured(name)
        for _, _, chars in continued(body_lines(m)):
            if abs(chars[0]["x0"] - LEFT) < 0.1 and all(ord(c["text"]) >= 0x3000 for c in chars):
                counts.append(len(chars))
                if len(chars) == 28 and not compressed_marks(chars):
                    pitches = [b["x0"] - a["x0"] for a, b in zip(chars, chars[1:])]
                    assert all(p == pytest.approx(CHAR, abs=0.02) for p in pitches)
    # 28 characters, or more when marks are compressed.
    assert counts.count(28) >= 0.6 * len(counts) and min(counts) >= 27


def test_justification_without_letter_spacing_errors():
    # WeasyPrint truncated each glyph's position to 1/1000 em; issuance.pdf_text fixes it.
    assert patches.installed()


# 版头 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in ALL if n != "letter"])
def test_mark_is_red_centred_35_mm_below_the_type_area_top(name):
    m = measured(name)
    bands = m.ink(0, "red")
    rule = next(i for i, band in enumerate(bands) if band[3] - band[2] > 150 * MM)
    top = bands[0][0]
    left = min(band[2] for band in bands[:rule])
    right = max(band[3] for band in bands[:rule])
    assert top == pytest.approx(TOP + 35 * MM, abs=0.5 * MM)
    assert left >= LEFT - 0.5 and right <= RIGHT + 0.5
    assert (left + right) / 2 == pytest.approx((LEFT + RIGHT) / 2, abs=1.5)
    marks = [c for c in m.chars(0) if c["size"] > 30]
    assert marks and all("Noto-Serif-CJK-SC-Bold" in c["fontname"] for c in marks)
    assert all(c["non_stroking_color"] in ((1, 0, 0), [1, 0, 0], (1.0, 0.0, 0.0)) for c in marks)


@pytest.mark.parametrize("name", ["joint2", "joint4"])
def test_joint_mark_stacks_the_organs_beside_wenjian(name):
    m = measured(name)
    organs = m.doc["issuer_marks"]
    big = [c for c in m.chars(0) if c["size"] > 30]
    rows = {}
    for c in big:
        rows.setdefault(round(c["top"]), []).append(c)
    stacked = [r for r in rows.values() if len(r) > 2]
    assert len(stacked) == len(organs)
    # Each organ's line spread to the width of the longest.
    lefts = [min(c["x0"] for c in r) for r in stacked]
    rights = [max(c["x1"] for c in r) for r in stacked]
    assert max(lefts) - min(lefts) < 1 and max(rights) - min(rights) < 1
    wenjian = [c for c in big if c["text"] in "文件" and c["x0"] > max(rights)]
    assert len(wenjian) == 2
    # 文件 centred on the stack.
    middle = (min(c["top"] for c in big) + max(c["bottom"] for c in big)) / 2
    assert (wenjian[0]["top"] + wenjian[0]["bottom"]) / 2 == pytest.approx(middle, abs=3)


@pytest.mark.parametrize("name", [n for n in ALL if n not in ("letter", "minutes")])
def test_red_line_is_4_mm_below_the_doc_number_and_156_mm_wide(name):
    m = measured(name)
    rule = next(band for band in m.ink(0, "red") if band[1] - band[0] < 1.5 * MM)
    top, bottom, left, right = rule
    assert right - left == pytest.approx(RED_LINE_WIDTH, abs=0.3 * MM)
    assert left == pytest.approx(LEFT, abs=0.3 * MM)
    docno = [band for band in m.ink(0, "black") if band[1] <= top]
    assert top - docno[-1][1] == pytest.approx(4 * MM, abs=0.5 * MM)
    number = m.doc["doc_number"]
    line = next(text for text in m.text_lines(0) if number in text)
    assert "〔" in line and "〕" in line


def test_upward_document_has_signers_right_and_doc_number_left_on_one_line():
    m = measured("upward")
    for baseline, chars in m.lines(0):
        text = "".join(c["text"] for c in chars)
        if "签发人" in text:
            break
    else:
        pytest.fail("签发人 line not found")
    assert text == m.doc["doc_number"] + "签发人：张三李四"  # the space between the names is not a glyph
    assert chars[0]["x0"] == pytest.approx(LEFT + CHAR, abs=0.5)  # 发文字号 one character in
    assert chars[-1]["x1"] == pytest.approx(RIGHT - CHAR, abs=0.5)  # names one character from the right
    names = [c for c in chars if c["text"] in "张三李四"]
    assert len(names) == 4 and all("GwKai" in c["fontname"] for c in names)
    label = [c for c in chars if c["text"] in "签发人"]
    assert all("GwFang" in c["fontname"] for c in label)


def test_secret_and_urgent_document_shows_copy_number_secrecy_and_urgency_top_left():
    m = measured("secret")
    lines = m.lines(0)[:3]
    texts = ["".join(c["text"] for c in chars) for _, chars in lines]
    assert texts == ["000123", "机密★1年", "特急"]
    for n, (baseline, chars) in enumerate(lines):
        assert grid_line(baseline) == pytest.approx(n, abs=0.01)
        assert chars[0]["x0"] == pytest.approx(LEFT, abs=0.3)
    assert all("GwHei" in c["fontname"] for _, chars in lines[1:] for c in chars if c["text"] != "★")


# 主体 -------------------------------------------------------------------------------------


def faces(m, prefix):
    for n in range(len(m.pages)):
        for _, chars in m.lines(n):
            text = "".join(c["text"] for c in chars)
            if text.startswith(prefix):
                return {c["fontname"].split("+")[-1] for c in chars[:len(prefix)]}
    raise AssertionError(prefix)


@pytest.mark.parametrize("name", ["seed", "secret"])
def test_heading_levels_in_their_faces(name):
    m = measured(name)
    body = m.doc["body"]
    prefixes = {kind: next(b["text"][:4] for b in body if b["kind"] == kind) for kind in ("heading1", "heading2", "heading3")}
    assert faces(m, prefixes["heading1"]) == {"GwHei"}
    assert faces(m, prefixes["heading2"]) == {"GwKai"}
    assert faces(m, prefixes["heading3"]) == {"GwFang"}
    if any(b["kind"] == "heading4" for b in body):
        assert faces(m, "（1）") == {"GwFang"}
    titles = [c for n in range(len(m.pages)) for c in m.chars(n, 22)]
    assert titles and {c["fontname"].split("+")[-1] for c in titles} == {"Noto-Serif-CJK-SC-Bold"}
    paragraph = next(b["text"][:6] for b in body if b["kind"] == "paragraph")
    assert faces(m, paragraph) == {"GwFang"}


def test_title_is_centred_two_lines_below_the_red_line():
    m = measured("seed")
    rule_bottom = next(b for b in m.ink(0, "red") if b[1] - b[0] < 1.5 * MM)[1]
    rows = {}
    for c in m.chars(0, 22):
        rows.setdefault(round(c["top"], 1), []).append(c)
    first = min(rows)
    # Two empty lines, rounded to the grid: between 1.5 and 2.5 lines of space.
    assert 1.5 * PITCH <= first - rule_bottom + 3 <= 2.5 * PITCH + 3
    for chars in rows.values():
        middle = (min(c["x0"] for c in chars) + max(c["x1"] for c in chars)) / 2
        assert middle == pytest.approx((LEFT + RIGHT) / 2, abs=1.0)


# 署名, 成文日期 and the seal -----------------------------------------------------------------


def seal_bands(m, page):
    # The seals are the only red ink taller than 30 mm (the 标志 is 20 mm high).
    return [b for b in m.ink(page, "red") if b[1] - b[0] > 30 * MM]


@pytest.mark.parametrize("name", ["seed", "upward", "secret", "letter", "rare", "long"])
def test_seal_is_42_mm_centred_on_the_date_within_one_line_of_the_text(name):
    m = measured(name)
    page, date_base, date_chars = signature_page(m)
    seals = seal_bands(m, page)
    assert len(seals) == 1
    top, bottom, left, right = seals[0]
    assert bottom - top == pytest.approx(42 * MM, abs=0.5 * MM)
    assert right - left == pytest.approx(42 * MM, abs=0.5 * MM)
    # The date four characters from the right edge; seal and 署名 centred on it.
    assert date_chars[-1]["x1"] == pytest.approx(RIGHT - 4 * CHAR, abs=0.5)
    date_middle = (date_chars[0]["x0"] + date_chars[-1]["x1"]) / 2
    assert (left + right) / 2 == pytest.approx(date_middle, abs=1.0)
    org_line = [chars for base, chars in m.lines(page) if base == pytest.approx(date_base - PITCH, abs=0.1)]
    if m.doc["signature_orgs"]:
        org = org_line[0]
        assert "".join(c["text"] for c in org) == m.doc["signature_orgs"][0]
        assert (org[0]["x0"] + org[-1]["x1"]) / 2 == pytest.approx(date_middle, abs=1.0)
    # 署名 and date lie below the seal's centre, inside it.
    centre = (top + bottom) / 2
    assert centre < date_base - PITCH - 10 and bottom > date_base
    # Its top within one line below the last line of text above it (正文 or 附件说明).
    above = [base for base, _ in m.lines(page) if base < date_base - PITCH - 1]
    last_text_bottom = max(above) + (PITCH - BASELINE_IN_LINE) if above else TOP
    assert 0 < top - last_text_bottom + 8 and top - last_text_bottom <= PITCH
    # Drawn as paths: the seal adds no text, so the page's text is unchanged by it.
    # (On page 1 the red 标志 is text, in type larger than 30 pt.)
    assert not any(c["non_stroking_color"] in ((1, 0, 0), [1, 0, 0]) for c in m.pages[page].chars if c["size"] < 30)


@pytest.mark.parametrize("name", ["joint2", "joint4"])
def test_joint_seals_one_per_organ_in_rows_of_at_most_three_not_touching(name):
    m = measured(name)
    page, date_base, date_chars = signature_page(m)
    seals = []
    for band in seal_bands(m, page):
        # A row of seals is one band of rows; split it by columns of red.
        seals.append(band)
    organs = m.doc["signature_orgs"]
    rows = len(seals)
    assert rows == (1 if len(organs) <= 3 else 2)
    image = m._images[page, 300]
    mask = ink_mask(image, "red")
    found = []
    for top, bottom, _, _ in seals:
        scale = 300 / 72
        strip = mask.crop((0, int(top * scale), mask.size[0], int(bottom * scale)))
        columns = list(strip.resize((strip.size[0], 1), Image.BOX).tobytes())
        start = None
        for x, value in enumerate(columns + [0]):
            if value and start is None:
                start = x
            elif not value and start is not None:
                found.append((top, bottom, start / scale, x / scale))
                start = None
    assert len(found) == len(organs)
    for top, bottom, left, right in found:
        assert right - left == pytest.approx(42 * MM, abs=0.5 * MM)
        assert LEFT - 0.5 <= left and right <= RIGHT + 0.5
    # Not touching: separate columns of red in a row, separate bands between rows.
    assert date_chars[-1]["x1"] == pytest.approx(RIGHT - 4 * CHAR, abs=0.5)


def test_unsealed_signature_two_characters_from_the_right_date_two_further_in():
    m = measured("unsealed")
    page, date_base, date_chars = signature_page(m)
    assert not seal_bands(m, page)
    org = next(chars for base, chars in m.lines(page) if base == pytest.approx(date_base - PITCH, abs=0.1))
    assert org[-1]["x1"] == pytest.approx(RIGHT - 2 * CHAR, abs=0.5)
    assert date_chars[0]["x0"] == pytest.approx(org[0]["x0"] + 2 * CHAR, abs=0.5)
    # One empty line between the 正文 and the 署名.
    above = max(base for base, _ in m.lines(page) if base < date_base - PITCH - 1)
    assert date_base - PITCH - above == pytest.approx(2 * PITCH, abs=0.1)


def test_note_follows_the_date_two_characters_in():
    m = measured("upward")
    page, date_base, _ = signature_page(m)
    note = next(chars for base, chars in m.lines(page) if base == pytest.approx(date_base + PITCH, abs=0.1))
    assert "".join(c["text"] for c in note) == "（" + m.doc["note"] + "）"
    assert note[0]["x0"] == pytest.approx(LEFT + 2 * CHAR, abs=0.5)


# 版记 and page numbers -----------------------------------------------------------------------


def rules(page):
    """Horizontal black rules of a page: [(top, bottom, x0, x1)], top to bottom.

    WeasyPrint paints a box's borders as one even-odd filled path of two rectangles, the
    border box and the padding box; pdfplumber reports both, one after the other."""
    found = set()
    rects = [r for r in page.rects if r["fill"] and r["width"] > 100]
    for outer, inner in zip(rects, rects[1:]):
        if not (outer["top"] <= inner["top"] and inner["bottom"] <= outer["bottom"]
                and outer["x0"] == inner["x0"] and outer["x1"] == inner["x1"]):
            continue
        for top, bottom in ((outer["top"], inner["top"]), (inner["bottom"], outer["bottom"])):
            if 0.1 < bottom - top < 2:
                found.add((round(top, 2), round(bottom, 2), round(outer["x0"], 2), round(outer["x1"], 2)))
    return sorted(found)


@pytest.mark.parametrize("name", [n for n in ALL if n != "letter"])
def test_banji_ends_on_the_type_area_bottom_of_an_even_last_page(name):
    m = measured(name)
    assert len(m.pages) % 2 == 0
    last = m.pages[-1]
    found = rules(last)
    assert found, "版记 rules"
    bottom = max(r[1] for r in found)
    assert bottom == pytest.approx(BOTTOM, abs=0.3)
    for top, bottom_, x0, x1 in found:
        assert x0 == pytest.approx(LEFT, abs=0.3) and x1 == pytest.approx(RIGHT, abs=0.3)
    # First and last rules 0.35 mm, the one between 0.25 mm.
    thick = [b - t for t, b, _, _ in found]
    assert thick[0] == pytest.approx(0.35 * MM, abs=0.05) and thick[-1] == pytest.approx(0.35 * MM, abs=0.05)
    if len(found) == 3:
        assert thick[1] == pytest.approx(0.25 * MM, abs=0.05)
    text = last.extract_text()
    assert "印发" in text
    if m.doc["cc"]:
        assert "抄送：" + m.doc["cc"] + "。" in text.replace("\n", "")


@pytest.mark.parametrize("name", ALL)
def test_page_numbers_7_mm_below_the_type_area_on_the_outer_side(name):
    m = measured(name)
    count = len(m.pages)
    last_text = max(text_pages(m))
    for n in range(count):
        number = m.page_number(n)
        has_body = bool(m.lines(n)) or bool(m.chars(n, 22))
        letter_first = m.doc["format"] == "信函" and n == 0
        if not has_body or letter_first:
            # A blank page and a page with the 版记 alone carry no number; nor a 信函's first page.
            assert number is None, (name, n)
            continue
        assert number is not None, (name, n)
        value, chars = number
        assert value == n + 1
        assert all(c["top"] == pytest.approx(BOTTOM + 7 * MM, abs=0.3) for c in chars)
        assert all("GwSong" in c["fontname"] for c in chars if c["text"].strip())
        if (n + 1) % 2:
            assert chars[-1]["x1"] == pytest.approx(RIGHT - 14, abs=0.5)
        else:
            assert chars[0]["x0"] == pytest.approx(LEFT + 14, abs=0.5)
    assert last_text <= count - 1


# Formats --------------------------------------------------------------------------------------


def test_letter_format_mark_rules_number_and_banji():
    m = measured("letter")
    bands = m.ink(0, "red")
    mark = bands[0]
    assert mark[0] == pytest.approx(30 * MM, abs=0.5 * MM)  # 30 mm from the paper's top
    # Thick over thin 4 mm below the 标志, thin over thick 20 mm above the paper's bottom.
    thick_top, thin_top, thin_bottom, thick_bottom = bands[1:5]
    assert thick_top[0] - mark[1] == pytest.approx(4 * MM, abs=0.5 * MM)
    assert thick_top[1] - thick_top[0] > 2 * (thin_top[1] - thin_top[0])
    assert thick_bottom[1] - thick_bottom[0] > 2 * (thin_bottom[1] - thin_bottom[0])
    assert thin_bottom[0] > thick_top[1]
    assert PAGE_HEIGHT - thick_bottom[1] == pytest.approx(20 * MM, abs=0.5 * MM)
    for band in bands[1:5]:
        assert band[3] - band[2] == pytest.approx(170 * MM, abs=0.3 * MM)
        assert (band[2] + band[3]) / 2 == pytest.approx((LEFT + RIGHT) / 2, abs=0.5)
    # 发文字号 flush right on the first line under the rule.
    baseline, chars = m.lines(0)[0]
    assert "".join(c["text"] for c in chars) == m.doc["doc_number"]
    assert chars[-1]["x1"] == pytest.approx(RIGHT, abs=0.3)
    assert baseline < thick_top[1] + 2 * PITCH
    # No 印发 line and no rules in the 版记.
    last = m.pages[-1]
    assert not rules(last)
    assert "印发" not in last.extract_text()
    assert "抄送：" + m.doc["cc"] + "。" in last.extract_text().replace("\n", "")


def test_minutes_format_mark_and_attendance():
    m = measured("minutes")
    mark = "".join(c["text"] for c in m.chars(0) if c["size"] > 30)
    assert mark == "泉州市科学技术局纪要"
    lines = [(n, base, chars) for n in range(len(m.pages)) for base, chars in m.lines(n)]
    found = {}
    for index, (n, base, chars) in enumerate(lines):
        text = "".join(c["text"] for c in chars)
        for label in ("出席：", "请假：", "列席："):
            if text.startswith(label):
                found[label] = index
                assert chars[0]["x0"] == pytest.approx(LEFT + 2 * CHAR, abs=0.5)
                assert all("GwHei" in c["fontname"] for c in chars[:3])
                assert all("GwFang" in c["fontname"] for c in chars[3:])
    assert set(found) == {"出席：", "请假：", "列席："}
    # 出席 wraps under the first name.
    wrapped = lines[found["出席："] + 1][2]
    assert wrapped[0]["x0"] == pytest.approx(LEFT + 5 * CHAR, abs=0.5)
    # One empty line between the 正文 and the list.
    first = lines[found["出席："]]
    previous = lines[found["出席："] - 1]
    if previous[0] == first[0]:
        assert first[1] - previous[1] == pytest.approx(2 * PITCH, abs=0.1)


def test_long_document_has_attachment_pages_numbered_on_before_the_banji():
    m = measured("long")
    assert len(m.pages) >= 10
    names = m.doc["attachments"]
    annex_pages = []
    for n in range(len(m.pages)):
        lines = m.lines(n)
        if lines and re.fullmatch(r"附件\d", "".join(c["text"] for c in lines[0][1])):
            annex_pages.append(n)
            label = lines[0][1]
            assert grid_line(lines[0][0]) == pytest.approx(0, abs=0.01)
            assert label[0]["x0"] == pytest.approx(LEFT, abs=0.3)
            assert all("GwHei" in c["fontname"] for c in label)
            title = m.chars(n, 22)
            assert "".join(c["text"] for c in title) == names[len(annex_pages) - 1]
            base = PAGE_HEIGHT - title[0]["matrix"][5]
            # On line 3: two lines below the label's line, centred.
            assert base - TITLE_BASELINE_IN_LINE == pytest.approx(lines[0][0] - BASELINE_IN_LINE + 2 * PITCH, abs=0.1)
            assert (title[0]["x0"] + title[-1]["x1"]) / 2 == pytest.approx((LEFT + RIGHT) / 2, abs=1)
    assert len(annex_pages) == len(names)
    assert annex_pages == list(range(annex_pages[0], annex_pages[0] + len(names)))
    # Page numbers run on through the 附件; the 版记 follows them on an even page.
    for n in annex_pages:
        assert m.page_number(n)[0] == n + 1
    assert annex_pages[-1] < len(m.pages) - 1 or (annex_pages[-1] + 1) % 2 == 0
    text = m.text()
    assert text.index("附件：") < text.index("附件1")


def test_rare_characters_fall_back_without_moving_the_grid():
    m = measured("rare")
    rare = [c for c in m.pages[0].chars if c["text"] in "㙟𠮷"]
    assert len(rare) >= 24
    assert all("Noto" in c["fontname"] for c in rare)
    heading = [c for c in rare if abs(PAGE_HEIGHT - c["matrix"][5] - TOP) > 0 and "Sans" in c["fontname"]]
    assert heading  # the 黑体 heading's rare characters fall back to a sans face


# PDF/A ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["seed", "letter", "joint4", "long"])
def test_pdfa_2b_with_xmp_identification_and_metadata(name):
    m = measured(name)
    reader = m.reader
    assert m.pdf.startswith(b"%PDF-1.7")
    data = xmp(m)
    assert 'pdfaid:part="2"' in data and 'pdfaid:conformance="B"' in data
    doc = m.doc
    assert f"<rdf:li xml:lang=\"x-default\">{doc['title']}</rdf:li>" in data
    if doc["doc_number"]:
        assert f"<dc:identifier>{doc['doc_number']}</dc:identifier>" in data
    organs = doc["signature_orgs"] or doc["issuer_marks"]
    assert f"<dc:creator><rdf:Seq><rdf:li>{'、'.join(organs)}</rdf:li></rdf:Seq></dc:creator>" in data
    for organ in organs:
        assert f"<rdf:li>{organ}</rdf:li>" in data  # dc:publisher
    assert f"<dc:date><rdf:Seq><rdf:li>{doc['date']}</rdf:li></rdf:Seq></dc:date>" in data
    # Info and XMP agree.
    info = reader.metadata
    assert info["/Title"] == doc["title"]
    assert info["/Author"] == "、".join(organs)
    assert f"<pdf:Keywords>{info['/Keywords']}</pdf:Keywords>" in data
    # An sRGB output intent, a document ID.
    root = reader.trailer["/Root"]
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    assert len(reader.trailer["/ID"]) == 2
    assert root["/Lang"] == "zh-CN"
    # Every font embedded and subset.
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert re.match(r"^/[A-Z]{6}\+", str(font["/BaseFont"])), font["/BaseFont"]
            owner = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = owner["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert "/Encrypt" not in reader.trailer


# A text that ends exactly at the foot of a page -------------------------------------------


def foot_document(extra):
    body = long_body(1) + [{"kind": "paragraph", "text": f"第{i + 1}项工作已按计划完成。"} for i in range(extra)]
    return parse_document(base(signature_orgs=[], date=None, body=body, doc_number="泉科〔2024〕101号"))


def last_line(m):
    page, baseline, _ = body_lines(m)[-1]
    return page, round(grid_line(baseline))


def ending_at_foot_of(page_index):
    """A document whose last line is the 22nd line of page `page_index` (0-based), built by
    measuring: render, see where the text ends, add one-line paragraphs to reach the foot."""
    extra = 1
    m = Measured(foot_document(extra), layout.render_pdf(foot_document(extra)))
    page, line = last_line(m)
    m.close()
    assert 1 <= page <= page_index
    extra += (page_index - page) * 22 + (21 - line)
    doc = foot_document(extra)
    return Measured(doc, layout.render_pdf(doc))


@pytest.fixture(scope="module")
def odd_foot():
    m = ending_at_foot_of(2)
    yield m
    m.close()


@pytest.fixture(scope="module")
def even_foot():
    m = ending_at_foot_of(3)
    yield m
    m.close()


def test_text_ending_at_the_foot_of_an_odd_page_puts_the_banji_alone_on_the_next_even_page(odd_foot):
    m = odd_foot
    assert last_line(m) == (2, 21)  # the 22nd line of page 3
    # GB/T 9704 wants the 版记 on the last page, an even one: page 4, with nothing else, no
    # blank page before it, no number on it.
    assert len(m.pages) == 4
    assert not m.lines(3) and m.page_number(3) is None
    assert m.page_number(2)[0] == 3
    assert max(r[1] for r in rules(m.pages[3])) == pytest.approx(BOTTOM, abs=0.3)
    assert "抄送：" in m.pages[3].extract_text()


def test_text_ending_at_the_foot_of_an_even_page_adds_a_blank_page_before_the_banji(even_foot):
    m = even_foot
    assert last_line(m) == (3, 21)  # the 22nd line of page 4: no room for the 版记
    assert len(m.pages) == 6
    assert not m.pages[4].chars and not m.pages[4].rects  # page 5 blank, unnumbered
    assert not m.lines(5) and m.page_number(5) is None
    assert "抄送：" in m.pages[5].extract_text()
    assert max(r[1] for r in rules(m.pages[5])) == pytest.approx(BOTTOM, abs=0.3)


@pytest.mark.parametrize("name", ALL)
def test_no_heading_is_left_alone_at_the_foot_of_a_page(name):
    m = measured(name)
    headings = {b["text"] for b in m.doc["body"] if b["kind"].startswith("heading") and "。" not in b["text"][:-1]}
    lines = body_lines(m)
    for (page, _, chars), following in zip(lines, lines[1:] + [None]):
        if following is not None and following[0] != page:
            assert "".join(c["text"] for c in chars) not in headings, (name, page)


# Full pages -----------------------------------------------------------------------------------


def _line_text(chars):
    return "".join(c["text"] for c in chars)


def _starts_after_a_forced_break(m, page):
    """Whether `page` starts with what GB/T 9704 puts on a new page: an 附件 (its label on
    line 1) or the document a notice issues (its 2号 title on line 1)."""
    lines = m.lines(page)
    if lines and re.fullmatch(r"附件\d*", _line_text(lines[0][1])) and round(grid_line(lines[0][0])) == 0:
        return True
    titles = m.chars(page, 22)
    return bool(titles) and min(PAGE_HEIGHT - c["matrix"][5] for c in titles) == pytest.approx(
        TOP + TITLE_BASELINE_IN_LINE, abs=0.1)


def check_full_pages(m):
    """A page whose 正文 runs on to the next ends on its 22nd line, but for two deliberate
    exceptions: a heading that would stand alone at the foot goes to the next page (at
    most two lines given up), and the last lines of the 正文 go with the 署名 and 成文日期
    (and the 附件说明 and 附注 that keep with them) when these cannot follow them."""
    headings = {b["text"] for b in m.doc["body"] if b["kind"].startswith("heading") and "。" not in b["text"][:-1]}
    signature = signature_page(m) if m.doc["date"] else None
    for page in range(len(m.pages) - 1):
        here, following = m.lines(page), m.lines(page + 1)
        if not here or not following or _starts_after_a_forced_break(m, page + 1):
            continue
        last = round(grid_line(here[-1][0]))
        if last == 21:
            continue
        free = 21 - last
        first = _line_text(following[0][1])
        if first in headings:
            assert free <= 2, (page, first)
            continue
        assert signature and signature[0] == page + 1, (page, last, first)
        # The signature page carries 正文 above its 附件说明 or 署名 …
        texts = [_line_text(chars) for _, chars in following]
        block_start = next(i for i, text in enumerate(texts)
                           if text.startswith("附件：") or text in m.doc["signature_orgs"]
                           or text == format_date_cn(m.doc["date"]))
        assert block_start >= 1, (page, texts[:3])
        # … and what moved would not have fitted where the page ended: the lines from the
        # top of the signature page to the end of the 附注 (or the date).
        used = round(grid_line(following[-1][0])) + 1
        assert used > free, (page, used, free)


@pytest.mark.parametrize("name", ALL)
def test_a_page_whose_text_runs_on_ends_on_its_22nd_line(name):
    check_full_pages(measured(name))


def piece_document(extra, piece=True):
    body = long_body(1) + [{"kind": "paragraph", "text": f"第{i + 1}项工作已按计划完成。"} for i in range(extra)]
    if piece:
        changes = {"attachments": ["2025年度科技计划项目申报指南"], "note": "联系人：王五，电话：0595-22500000"}
    else:
        changes = {"signature_orgs": [], "date": None}
    return parse_document(base(body=body, doc_number="泉科〔2024〕102号", **changes))


@pytest.fixture(scope="module")
def piece_at_foot():
    """A 通知 with one 附件 and a 附注 (as the real one the issue saw) whose 正文 ends on line
    18 of page 3: the 附件说明, 署名, 成文日期 and 附注 with their gaps take 7 lines and
    cannot follow it there. Built by measuring where the 正文 alone ends."""
    extra = 1
    bare = piece_document(extra, piece=False)
    m = Measured(bare, layout.render_pdf(bare))
    page, line = last_line(m)
    m.close()
    extra += (2 - page) * 22 + (17 - line)
    doc = piece_document(extra)
    m = Measured(doc, layout.render_pdf(doc))
    yield m
    m.close()


def test_the_page_with_the_seal_carries_text_when_attachment_signature_and_note_fall_at_a_foot(piece_at_foot):
    m = piece_at_foot
    page, date_base, _ = signature_page(m)
    assert page == 3
    texts = [_line_text(chars) for _, chars in m.lines(page)]
    attachment = next(i for i, text in enumerate(texts) if text.startswith("附件："))
    # The last lines of the 正文 came along (one suffices), so the seal's page is no
    # page without 正文 (GB/T 9704 7.3.5.1 forbids "此页无正文").
    assert attachment >= 1
    assert all(text.startswith("第") and text.endswith("完成。") for text in texts[:attachment])
    assert texts[-1] == "（" + m.doc["note"] + "）"
    # The seal sits within one line of the text above it: here the 附件说明.
    seal = seal_bands(m, page)
    assert len(seal) == 1
    check_full_pages(m)


def test_text_ending_at_a_foot_keeps_the_pages_full(odd_foot, even_foot):
    for m in (odd_foot, even_foot):
        check_full_pages(m)


# 印发 and 转发 notices ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["seed", "forward"])
def test_a_notice_that_issues_a_document_is_signed_before_it(name):
    m = measured(name)
    body = m.doc["body"]
    issued = next(i for i, block in enumerate(body) if block["kind"] == "title")
    page, date_base, _ = signature_page(m)
    # The 署名, 成文日期 and seal close the notice's own text, on the page where it ends.
    above = "".join(_line_text(chars) for n in range(page + 1) for base_, chars in m.lines(n)
                    if n < page or base_ < date_base - PITCH - 1)
    assert re.sub(r"\s+", "", above).endswith(re.sub(r"\s+", "", body[issued - 1]["text"]))
    assert len(seal_bands(m, page)) == 1
    # The issued document starts on the next page, its title on the first line …
    title = m.chars(page + 1, 22)
    assert re.sub(r"\s+", "", "".join(c["text"] for c in title)) == re.sub(r"\s+", "", body[issued]["text"])
    assert min(PAGE_HEIGHT - c["matrix"][5] for c in title) == pytest.approx(TOP + TITLE_BASELINE_IN_LINE, abs=0.1)
    # … and none of it stands before that page.
    before = re.sub(r"\s+", "", "".join(m.pages[n].extract_text() for n in range(page + 1)))
    assert re.sub(r"\s+", "", body[issued + 1]["text"])[:20] not in before
    # The 版记 ends the whole, on an even page after the issued document.
    assert len(m.pages) % 2 == 0 and "印发" in m.pages[-1].extract_text()
    assert signature_page(m)[0] < len(m.pages) - 2


def test_the_seeds_notice_and_signature_share_page_one():
    m = measured("seed")
    assert signature_page(m)[0] == 0
    # The printed seed left three empty lines after the notice's paragraph, where its
    # signature stood: 署名 and date there now, two empty lines above them for the seal.
    lines = m.lines(0)
    texts = [_line_text(chars) for _, chars in lines]
    org = texts.index("泉州市科学技术局")
    assert texts[org - 1].endswith("狠抓各项工作落实。")
    assert round(grid_line(lines[org][0]) - grid_line(lines[org - 1][0])) == 3


# Every character prints -----------------------------------------------------------------------


def test_extension_characters_print_in_a_fallback_face_on_the_grid_and_extract_as_themselves():
    m = measured("extb")
    wanted = set("𠀀𠀁𪚥𰻝䶮𬌗𫟹")
    found = {}
    for n in range(len(m.pages)):
        for char in m.pages[n].chars:
            if char["text"] in wanted:
                found.setdefault(char["text"], set()).add(char["fontname"].split("+")[-1])
    # Each one, extracted as its own code point, from a face that has it: no .notdef box.
    assert set(found) == wanted
    faces = {face for names in found.values() for face in names}
    assert faces <= {"BabelStone-Han", "BabelStone-Han-Bold", "HanaMinA", "HanaMinB", "Noto-Serif-CJK-SC",
                     "Noto-Serif-CJK-SC-Bold", "Noto-Sans-CJK-SC"}
    assert any(face.startswith("BabelStone") for face in faces)
    text = re.sub(r"\s+", "", "".join(PAGE_NUMBER_IN_TEXT.sub("", page.extract_text()) for page in m.pages))
    assert EXTENSION_TEXT * 3 in text and m.doc["title"] in text
    # On the grid, 28 places a full line (tested for every document above).
    for page, baseline, chars in body_lines(m):
        assert abs(grid_line(baseline) - round(grid_line(baseline))) < 0.01


@pytest.mark.parametrize("field, value, where", [
    ("body", [{"kind": "paragraph", "text": "正文。"}, {"kind": "paragraph", "text": "请各单位于月底前报送👍材料。"}],
     "body[1].text"),
    ("title", "关于\ue000字的通知", "title"),
    ("signature_orgs", ["泉州市科学技术局😀"], "signature_orgs[0]"),
])
def test_a_character_no_face_has_is_refused_when_the_draft_is_saved(field, value, where):
    with pytest.raises(ExchangeError) as caught:
        parse_document(base(**{field: value}))
    error = caught.value
    assert error.field == where
    text = value if isinstance(value, str) else value[-1] if isinstance(value[-1], str) else value[-1]["text"]
    bad = next(ch for ch in text if ord(ch) >= 0xE000)  # the private-use or emoji character
    assert f"第 {text.index(bad) + 1} 个字“{bad}”" in error.message and f"U+{ord(bad):04X}" in error.message
    if field == "body":
        assert error.message.startswith("第 2 段")
    assert "无法印制" in str(error)
