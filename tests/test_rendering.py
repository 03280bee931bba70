"""The PDF renderer: text, page geometry (GB/T 9704), formats, and the URL fetcher wall."""

import copy
import io
import json
import math
import re
import time
from pathlib import Path

import pdfplumber
import pytest
from django.core.management import CommandError, call_command
from pypdf import PdfReader
from weasyprint import HTML

from issuance import exchange
from issuance.render import context, coverage, fonts, layout, seal, titles
from issuance.exchange import ExchangeError, parse_document

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "quanzhou-2024-123.json"

PT_PER_MM = 72 / 25.4
LEFT_EDGE = 28 * PT_PER_MM  # 79.37 pt
RIGHT_EDGE = (28 + 156) * PT_PER_MM  # 521.57 pt
TYPE_AREA_BOTTOM = (297 - 35) * PT_PER_MM  # 742.68 pt
PAGE_NUMBER = re.compile(r"—\s*\d+\s*—")

MARKUP = '<img src="file:///etc/passwd"><img src="http://127.0.0.1/x.png"><link rel="stylesheet" href="http://127.0.0.1/x.css">'


def squash(text):
    """Text without any whitespace: line breaks and justification must not matter."""
    return re.sub(r"\s+", "", text)


def page_texts(pdf):
    """The text of each page, its page number removed."""
    return [PAGE_NUMBER.sub("", page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def body_lines(page):
    """(baseline, chars) of each line of 3号 text on a pdfplumber page, top to bottom."""
    rows = {}
    for char in page.chars:
        if abs(char["size"] - 16) < 0.1:
            rows.setdefault(round(page.height - char["matrix"][5], 1), []).append(char)
    return [(base, sorted(rows[base], key=lambda c: c["x0"])) for base in sorted(rows)]


def small_doc(**changes):
    data = {
        "doc_number": "泉科〔2024〕7号",
        "issuer_marks": ["泉州市科学技术局"],
        "title": "泉州市科学技术局关于开展科技活动周的通知",
        "main_recipients": "各县（市、区）科技局",
        "body": [
            {"kind": "paragraph", "text": "为普及科学知识，经研究，决定开展科技活动周。现将有关事项通知如下。"},
            {"kind": "heading1", "text": "一、活动时间"},
            {"kind": "paragraph", "text": "2026年5月17日至23日。"},
        ],
        "signature_orgs": ["泉州市科学技术局"],
        "date": "2024-09-05",
        "cc": "市科协",
        "printed_by": "泉州市科学技术局办公室",
        "printed_date": "2024-09-05",
    }
    data.update(changes)
    return parse_document(data)


@pytest.fixture(scope="module")
def seed_doc():
    return parse_document(json.loads(FIXTURE.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def seed_pdf(seed_doc):
    return layout.render_pdf(seed_doc)


@pytest.fixture(scope="module")
def seed_plumber(seed_pdf):
    with pdfplumber.open(io.BytesIO(seed_pdf)) as pdf:
        yield pdf


# Text ---------------------------------------------------------------------------


def test_seed_text_has_number_title_and_every_paragraph(seed_doc, seed_pdf):
    text = squash("".join(page_texts(seed_pdf)))
    assert seed_doc["doc_number"] in text
    assert squash(seed_doc["title"]) in text
    for block in seed_doc["body"]:
        assert squash(block["text"]) in text, block["text"][:20]
    assert "局机关各科室、各直属单位：" in text
    assert "抄送：市直机关文明办、局机关工会、机关妇委会，局领导。" in text
    assert "2024年9月5日印发" in text


def test_seed_text_is_exactly_the_documents_text_in_order(seed_doc, seed_plumber):
    # Justification and 标点挤压 only move glyphs: the body comes out exactly, character for
    # character, the notice's own text, its signature, then the document it issues.
    # (pdfplumber reads in reading order; pypdf in painting order, where floats come first.)
    text = squash("".join(PAGE_NUMBER.sub("", page.extract_text()) for page in seed_plumber.pages))
    body = [squash(block["text"]) for block in seed_doc["body"]]
    issued = next(i for i, block in enumerate(seed_doc["body"]) if block["kind"] == "title")
    signature = squash(seed_doc["signature_orgs"][0] + exchange.format_date_cn(seed_doc["date"]))
    expected = "".join(body[:issued]) + signature + "".join(body[issued:])
    start = text.index(expected[:30])
    assert text[start:start + len(expected)] == expected


def test_rare_characters_render_with_a_fallback_face_and_keep_the_grid():
    doc = small_doc(body=[{"kind": "paragraph", "text": "测试生僻字㙟与𠮷，" * 12 + "以及楸樵坤應。"}])
    pdf = layout.render_pdf(doc)
    with pdfplumber.open(io.BytesIO(pdf)) as plumber:
        page = plumber.pages[0]
        rare = [c for c in page.chars if c["text"] in "㙟𠮷"]
        assert len(rare) == 24
        assert all("Noto" in c["fontname"] for c in rare)
        bases = [base for base, _ in body_lines(page)]
    pitches = [b - a for a, b in zip(bases, bases[1:]) if b - a < 40]
    assert pitches and all(abs(p - 28.99) < 0.15 for p in pitches)
    assert "以及楸樵坤應。" in squash("".join(page_texts(pdf)))


def test_coverage_shortcut_agrees_with_the_fonts():
    # runs() skips reading the Fandol character maps for GB 2312 characters.
    full = coverage._fandol_coverage()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                ch = bytes([high, low]).decode("gb2312")
            except UnicodeDecodeError:
                continue
            assert coverage.covered(ch) == (ord(ch) in full), ch
    assert all(coverage.covered(chr(c)) for c in range(0x20, 0x7F))
    assert not coverage.covered("㙟") and not coverage.covered("𠮷")


def test_a_character_prints_when_a_face_has_it_for_what_the_face_is_for():
    # Extension A to G: Noto, BabelStone Han or Hanazono.
    assert all(coverage.printable(ch) for ch in "㙟䶮𠀀𠀁𪚥𫟹𬌗𰻝")
    assert coverage.fallback_face("𠀀").key == "babelstone"
    # BabelStone Han and HanaMinA draw 😀 too, but stand in for ideographs only.
    assert ord("😀") in fonts.open_face(fonts.BABELSTONE).getBestCmap() and not coverage.printable("😀")
    assert not coverage.printable("\ue000")  # private use, whatever a face draws there
    assert coverage.printable(" ") and coverage.printable("★") and coverage.printable("é")
    doc = {"title": "标题", "body": [{"kind": "paragraph", "text": "正文"}, {"kind": "paragraph", "text": "请于月底前报送😀"}],
           "attachments": ["附件\ue000"]}
    field, message = coverage.first_unprintable(doc)
    assert field == "body[1].text" and message.startswith("第 2 段第 8 个字“😀”（符号或表情符号，U+1F600）无法印制")
    assert coverage.first_unprintable({"title": "标题𠀀", "body": []}) is None


def test_run_in_heading_takes_the_heading_face_up_to_the_first_full_stop(seed_plumber):
    for page in seed_plumber.pages:
        text = "".join(c["text"] for c in page.chars)
        start = text.find("（一）深学细悟党的创新理论。巩固")
        if start != -1:
            chars = page.chars[start:start + 16]
            break
    else:
        pytest.fail("run-in heading not found")
    assert all("GwKai" in c["fontname"] for c in chars[:14])  # （一）深学细悟党的创新理论。
    assert all("GwFang" in c["fontname"] for c in chars[14:])  # 巩固


# Pages and geometry ---------------------------------------------------------------


def test_seed_pages_are_a4_and_plausibly_many(seed_pdf):
    reader = PdfReader(io.BytesIO(seed_pdf))
    assert 6 <= len(reader.pages) <= 8
    assert layout.count_pages(seed_pdf) == len(reader.pages)
    # Also for a PDF this process did not just render (counted by parsing it).
    layout._PAGE_COUNTS.clear()
    assert layout.count_pages(seed_pdf) == len(reader.pages)
    # The 版记 ends the document on an even page (double-sided printing).
    assert len(reader.pages) % 2 == 0
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(595.28, abs=0.05)
        assert float(page.mediabox.height) == pytest.approx(841.89, abs=0.05)


def test_fonts_are_embedded(seed_pdf):
    reader = PdfReader(io.BytesIO(seed_pdf))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor_owner = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descriptor_owner["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")), font["/BaseFont"]
            names.add(str(font["/BaseFont"]).split("+")[-1])
    assert {"GwFang", "GwHei", "GwKai", "GwSong"} <= names
    assert any(name.startswith("Noto-Serif-CJK-SC-Bold") for name in names)  # 标志 and title


def test_body_fills_the_grid_flush_on_both_sides(seed_plumber):
    pitches, rights = [], []
    for page in seed_plumber.pages[1:]:
        lines = body_lines(page)
        bases = [base for base, _ in lines]
        pitches += [b - a for a, b in zip(bases, bases[1:]) if b - a < 40]
        for (_, chars), (_, following) in zip(lines, lines[1:]):
            last = chars[-1]
            # A closing mark compressed at the line's end (标点挤压) ends its ink half there;
            # one compressed at a line's start begins its ink half at the edge.
            right = last["x1"] - (8 if last["x1"] > RIGHT_EDGE + 4 else 0)
            if min(abs(following[0]["x0"] + shift - LEFT_EDGE) for shift in (0, 8)) < 0.3:
                rights.append(right)
    assert pitches and all(abs(p - 28.99) < 0.15 for p in pitches)
    # Every line that is not the end of a paragraph reaches the right edge of the 版心
    # (tests/test_layout_measure.py counts the characters they hold).
    assert len(rights) > 50
    assert all(abs(x - RIGHT_EDGE) < 0.1 for x in rights), sorted(rights)[:3]
    # A full page of text holds 22 lines.
    assert max(len(body_lines(page)) for page in seed_plumber.pages) == 22


def test_banji_sits_on_the_bottom_of_the_last_page(seed_plumber):
    last = seed_plumber.pages[-1]
    text = last.extract_text()
    assert "抄送：" in text and "印发" in text
    bottom = max(line["bottom"] for line in last.lines + last.rects)
    assert bottom == pytest.approx(TYPE_AREA_BOTTOM, abs=1.5)
    # The 版记 page carries no page number when it holds nothing else.
    if not body_lines(last):
        assert not PAGE_NUMBER.search(text)


def test_banji_that_does_not_fit_an_even_page_goes_after_a_blank_page(seed_doc):
    # The text ends low on page 2: the 版记 cannot follow it there, and page 3 is odd.
    body = seed_doc["body"][:5] + [{"kind": "paragraph", "text": "测" * (28 * 8 - 2)}]
    doc = dict(seed_doc, body=body, signature_orgs=[], date=None)
    pdf = layout.render_pdf(doc)
    raw = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    assert len(raw) == 4
    assert not raw[2].strip()  # blank, and without a number
    assert "抄送：" in raw[3]
    assert [bool(PAGE_NUMBER.search(text)) for text in raw] == [True, True, False, False]


def test_a_banji_taller_than_a_page_runs_in_the_flow_and_keeps_every_organ(seed_doc):
    cc = "、".join(f"第{i}县（市、区）科技局" for i in range(1, 150))
    doc = dict(seed_doc, cc=cc)
    pdf = layout.render_pdf(doc)
    texts = page_texts(pdf)
    assert len(texts) % 2 == 0
    assert squash("抄送：" + cc + "。") in squash("".join(texts))
    assert "印发" in texts[-1]


def test_page_numbers_alternate_sides(seed_plumber):
    for number, page in enumerate(seed_plumber.pages[:4], start=1):
        dashes = [c for c in page.chars if c["text"] == "—" and c["top"] > TYPE_AREA_BOTTOM]
        assert len(dashes) == 2
        if number % 2:
            assert dashes[-1]["x1"] == pytest.approx(RIGHT_EDGE - 14, abs=1)
        else:
            assert dashes[0]["x0"] == pytest.approx(LEFT_EDGE + 14, abs=1)


# Formats and empty fields --------------------------------------------------------


def test_draft_mark_on_every_page_without_moving_the_text():
    doc = small_doc(body=small_doc()["body"] * 12)
    final = layout.render_pdf(doc)
    draft = layout.render_pdf(doc, draft=True)
    assert layout.count_pages(draft) == layout.count_pages(final) > 1
    assert all("草稿" in squash(text) for text in page_texts(draft))
    with pdfplumber.open(io.BytesIO(final)) as a, pdfplumber.open(io.BytesIO(draft)) as b:
        for page_a, page_b in zip(a.pages, b.pages):
            assert body_lines(page_a) == body_lines(page_b)


def test_only_title_and_body():
    doc = parse_document({"title": "标题", "body": [{"kind": "paragraph", "text": "正文。"}]})
    text = squash("".join(page_texts(layout.render_pdf(doc))))
    assert "标题" in text and "正文。" in text
    assert "〔" in text  # a draft without a number shows an empty 〔　　〕


def test_every_optional_field():
    doc = small_doc(
        direction="上行文",
        doc_type="请示",
        signers=["张三", "李四", "王五"],
        copy_number="000123",
        secrecy="机密",
        secrecy_period="1年",
        urgency="特急",
        attachments=["泉州市科技活动周方案", "经费预算表"],
        seal=False,
        note="联系人：张三，电话：0595-12345678",
        body=[
            {"kind": "heading2", "text": "（一）总体要求"},
            {"kind": "heading3", "text": "1.时间安排。全年。"},
            {"kind": "heading4", "text": "（1）第一阶段"},
            {"kind": "title", "text": "泉州市科技活动周方案"},
            {"kind": "paragraph", "text": "正文。"},
        ],
    )
    text = squash("".join(page_texts(layout.render_pdf(doc))))
    for expected in (
        "000123", "机密★1年", "特急", "签发人：", "张三", "王五", "泉科〔2024〕7号",
        "附件：1.泉州市科技活动周方案", "2.经费预算表", "泉州市科学技术局2024年9月5日",
        "（联系人：张三，电话：0595-12345678）", "抄送：市科协。",
    ):
        assert expected in text, expected


@pytest.mark.parametrize("fmt, mark", [("信函", "泉州市科学技术局"), ("纪要", "泉州市科学技术局纪要")])
def test_letter_and_minutes_formats(fmt, mark):
    pdf = layout.render_pdf(small_doc(format=fmt, doc_number=None if fmt == "纪要" else "泉科函〔2024〕5号"))
    texts = page_texts(pdf)
    assert mark in squash(texts[0])
    assert "为普及科学知识" in squash("".join(texts))


def test_letter_has_no_number_on_its_first_page():
    pdf = layout.render_pdf(small_doc(format="信函", body=small_doc()["body"] * 15))
    reader = PdfReader(io.BytesIO(pdf))
    assert not re.search(r"—\s*1\s*—", reader.pages[0].extract_text())
    assert re.search(r"—\s*2\s*—", reader.pages[1].extract_text())


def test_joint_issuers_are_stacked_beside_wenjian():
    doc = small_doc(issuer_marks=["泉州市科学技术局", "泉州市财政局"], header_title=None)
    with pdfplumber.open(io.BytesIO(layout.render_pdf(doc))) as pdf:
        red = [c for c in pdf.pages[0].chars if c["size"] > 30]
    tops = {round(c["top"]) for c in red if c["text"] in "局"}
    assert len(tops) == 2  # one line per organ
    assert "".join(c["text"] for c in red if c["text"] in "文件") == "文件"


def test_long_mark_and_title_stay_inside_the_type_area():
    doc = small_doc(
        issuer_marks=["中华人民共和国科学技术部国际合作司港澳台办公室"],
        header_title=None,
        title="关于" + "加强科技创新" * 12 + "的通知",
    )
    with pdfplumber.open(io.BytesIO(layout.render_pdf(doc))) as pdf:
        chars = pdf.pages[0].chars
    assert min(c["x0"] for c in chars) >= LEFT_EDGE - 0.5
    assert max(c["x1"] for c in chars) <= RIGHT_EDGE + 0.5


def _breaks(lines):
    """Index in the joined text of each line break."""
    positions, at = [], 0
    for line in lines[:-1]:
        at += len(line)
        positions.append(at)
    return positions


def _not_an_hourglass(widths):
    return not any(widths[i] < widths[i - 1] and widths[i] < widths[i + 1] for i in range(1, len(widths) - 1))


TITLES = [
    ("泉州市科学技术局关于印发《泉州市科技局2024年上半年精神文明工作总结暨下半年工作思路》的通知", "通知"),
    ("泉州市科学技术局关于开展2026年科技活动周暨科普进社区系列活动的通知", "通知"),
    ("关于转发《福建省人民政府办公厅关于进一步优化营商环境的若干措施》的通知", "通知"),
    ("泉州市科学技术局关于做好2025年度科技计划项目申报工作的通知", "通知"),
    ("关于印发《泉州市科技创新专项资金管理办法》的通知", "通知"),
    ("泉州市科学技术局泉州市财政局关于下达2024年度第二批市级科技计划项目经费的通知", "通知"),
]


@pytest.mark.parametrize("title, doc_type", TITLES)
def test_title_lines_break_between_words_in_a_trapezoid_or_diamond(title, doc_type):
    lines = titles.title_lines(title, doc_type)
    assert "".join(lines) == title
    # The fewest lines, or one more when the words do not fit the fewest.
    assert len(lines) - math.ceil(titles.units(title) / titles.TITLE_CAPACITY) in (0, 1)
    assert all(titles.units(line) <= titles.TITLE_CAPACITY for line in lines)
    # Every break falls between two of the words jieba finds.
    assert set(_breaks(lines)) <= titles.word_boundaries(title)
    assert _not_an_hourglass([titles.units(line) for line in lines])
    # A name in 《》 that fits on a line is never split; a longer one is split once.
    for start in [i for i, ch in enumerate(title) if ch == "《"]:
        end = title.index("》", start)
        inside = [b for b in _breaks(lines) if start < b <= end]
        assert len(inside) == (0 if titles.units(title[start:end + 1]) <= titles.TITLE_CAPACITY else 1), lines


def test_title_lines_keep_a_short_title_and_the_doc_type_whole():
    assert titles.title_lines("短标题") == ["短标题"]
    lines = titles.title_lines("泉州市科学技术局关于开展2026年科技活动周暨科普进社区系列活动的通知", "通知")
    assert not lines[-1].startswith("通知") and "2026年" in "".join(lines[:1] + lines[1:2])
    assert all(not line.endswith("2026") for line in lines)


# Security -----------------------------------------------------------------------


@pytest.fixture
def fetched(monkeypatch):
    """Every URL the renderer asks its fetcher for."""
    urls = []
    original = layout.FontFetcher.fetch

    def spy(self, url, headers=None):
        urls.append(url)
        return original(self, url, headers)

    monkeypatch.setattr(layout.FontFetcher, "fetch", spy)
    # Fonts are loaded once per thread: start afresh so that this render loads them.
    layout.reset_resources()
    return urls


def test_markup_in_document_text_is_printed_literally_and_fetches_nothing(fetched):
    doc = small_doc(
        title="标题" + MARKUP,
        main_recipients="主送" + MARKUP,
        body=[{"kind": "paragraph", "text": "正文" + MARKUP + "<script>alert(1)</script>&amp;"}],
        cc="抄送" + MARKUP,
        # No 标志: pypdf extracts it after the text, in painting order, and the text
        # here runs over onto page 2.
        issuer_marks=[],
    )
    pdf = layout.render_pdf(doc)
    assert fetched and all(url.startswith("gongwen-font:") for url in fetched)
    text = squash("".join(page_texts(pdf)))
    assert squash("正文" + MARKUP + "<script>alert(1)</script>&amp;") in text
    assert squash(MARKUP) in text.replace(squash("正文" + MARKUP), "", 1)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1/",
    "https://example.com/font.otf",
    "data:text/plain,hello",
    "gongwen-font:../../../etc/passwd",
    "gongwen-font:/etc/passwd",
    "gongwen-font:nosuchface",
])
def test_fetcher_refuses_everything_but_its_fonts(url):
    with pytest.raises(layout.FetchRefused):
        layout.FontFetcher().fetch(url)


def test_fetcher_refuses_a_font_file_by_path():
    # Only the scheme names a font: even a whitelisted file is refused as a file: URL.
    with pytest.raises(layout.FetchRefused):
        layout.FontFetcher().fetch(fonts.font_path("fang").as_uri())


def test_fetcher_serves_the_fonts():
    response = layout.FontFetcher().fetch("gongwen-font:fang")
    assert response.read(4) == b"OTTO"
    response.close()


def test_fetcher_stops_markup_that_reaches_weasyprint(fetched):
    # Should markup ever bypass the template's escaping, the fetcher still refuses it.
    html = f"<p>x</p>{MARKUP}"
    HTML(string=html, url_fetcher=layout.FontFetcher()).write_pdf()
    assert set(fetched) >= {"file:///etc/passwd", "http://127.0.0.1/x.png", "http://127.0.0.1/x.css"}


def test_a_missing_font_is_named_with_its_package():
    face = fonts.Face("fang", "仿宋", "NoSuchFang.otf", ("/nonexistent",), "texlive-lang-chinese", "GwFang")
    with pytest.raises(fonts.FontMissingError, match="仿宋.*NoSuchFang.otf.*texlive-lang-chinese"):
        fonts._find(face)


# The command ----------------------------------------------------------------------


def test_command_renders_the_seed(tmp_path):
    out = tmp_path / "seed.pdf"
    call_command("render_gongwen", str(FIXTURE), "-o", str(out), "--draft")
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert "草稿" in squash(page_texts(pdf)[0])


def test_command_rejects_invalid_json_naming_the_field(tmp_path):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    del data["title"]
    source = tmp_path / "bad.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "bad.pdf"
    with pytest.raises(CommandError, match="标题"):
        call_command("render_gongwen", str(source), "-o", str(out))
    assert not out.exists()


def test_command_rejects_broken_json_and_a_missing_file(tmp_path):
    source = tmp_path / "broken.json"
    source.write_text("{", encoding="utf-8")
    out = tmp_path / "out.pdf"
    with pytest.raises(CommandError, match="JSON"):
        call_command("render_gongwen", str(source), "-o", str(out))
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("render_gongwen", str(tmp_path / "missing.json"), "-o", str(out))
    assert not out.exists()


def test_render_does_not_change_the_document(seed_doc):
    before = copy.deepcopy(seed_doc)
    context.build_context(seed_doc)
    assert seed_doc == before


def test_a_long_title_with_digits_is_set_on_the_planned_lines():
    # Digits of the title face are 0.594 em wide: a line planned with half-em digits
    # overflowed the 版心 and pushed its last character onto a line of its own.
    title = "泉州市科学技术局关于开展2026年科技活动周暨科普进社区系列活动的通知"
    doc = small_doc(title=title)
    lines = [line.strip() for line in PdfReader(io.BytesIO(layout.render_pdf(doc))).pages[0].extract_text().splitlines()]
    start = lines.index(doc["doc_number"]) + 1
    end = next(i for i, line in enumerate(lines) if line.endswith("："))
    assert lines[start:end] == titles.title_lines(title, "通知")
    assert len(lines[start:end]) == 2


# The seal -------------------------------------------------------------------------


def red_chars(pdf):
    with pdfplumber.open(io.BytesIO(pdf)) as plumber:
        return [c for page in plumber.pages for c in page.chars if c["non_stroking_color"] in ((1, 0, 0), [1, 0, 0])]


def test_seal_is_drawn_as_paths_only_when_asked_for():
    sealed = layout.render_pdf(small_doc(seal=True))
    plain = layout.render_pdf(small_doc(seal=False))
    # The seal adds no text: both PDFs hold the same characters.
    assert squash("".join(page_texts(sealed))) == squash("".join(page_texts(plain)))
    # Only the 标志 is red text; the seal's name is drawn as outlines, with the
    # "multiply" blend of ink on paper.
    assert {c["text"] for c in red_chars(sealed)} == set("泉州市科学技术局文件")
    def blend_modes(pdf):
        reader = PdfReader(io.BytesIO(pdf))
        return {
            str(state.get_object().get("/BM"))
            for page in reader.pages
            for state in page["/Resources"].get("/ExtGState", {}).values()
        }

    assert "/Multiply" in blend_modes(sealed)
    assert "/Multiply" not in blend_modes(plain)


def test_seal_svg_draws_ring_star_and_each_character():
    svg = seal.seal_svg("泉州市科学技术局", ident="x")
    assert svg.count("<path") == 1 + 8  # the star and eight characters
    assert "<text" not in svg and "泉" not in svg
    assert 'mode="multiply"' in svg and 'id="x-ink"' in svg
    # A character the seal face lacks comes from the fallback face; a space is skipped.
    assert seal.seal_svg("泉州 㙟局").count("<path") == 1 + 4


# Pathological documents -------------------------------------------------------------


def big_document(blocks, chars_per_block):
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    text = ("测试正文" * (chars_per_block // 4 + 1))[:chars_per_block]
    data["body"] = [{"kind": "paragraph", "text": text} for _ in range(blocks)]
    return data


@pytest.mark.parametrize("blocks, chars, message", [
    (20000, 10, "段落过多（20000 段，最多 3000 段）"),  # 20,000 paragraphs
    (500, 4000, "正文过长（2000000 字，最多 300000 字）"),  # a 6 MB 正文, under the file's 8 MB
])
def test_a_pathological_document_is_refused_with_a_clear_message(tmp_path, blocks, chars, message):
    data = big_document(blocks, chars)
    with pytest.raises(ExchangeError) as caught:
        parse_document(data)
    assert message in str(caught.value) and str(caught.value).startswith("正文（body）")
    source = tmp_path / "big.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert source.stat().st_size > 10 ** 5
    out = tmp_path / "big.pdf"
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("render_gongwen", str(source), "-o", str(out))
    assert not out.exists()


# Measured on the 2-core development machine: 11 s and 360 MB for 548 pages (docs/benchmarks.md).
CAPS_BOUND_S = 60


def test_a_document_at_the_caps_renders_within_a_bound():
    data = big_document(exchange.MAX_BLOCKS, exchange.MAX_BODY_CHARS // exchange.MAX_BLOCKS)
    doc = parse_document(data)
    assert sum(len(block["text"]) for block in doc["body"]) == exchange.MAX_BODY_CHARS
    start = time.perf_counter()
    pdf = layout.render_pdf(doc)
    elapsed = time.perf_counter() - start
    assert elapsed < CAPS_BOUND_S
    assert layout.count_pages(pdf) > 400


def test_text_is_read_in_order_when_a_paragraph_runs_from_page_one_to_page_two():
    # The 标志 is squeezed with a transform; text extractors must still read it first, not in
    # the middle of a paragraph that page 1 hands on to page 2.
    paragraph = "各单位要高度重视科技活动周的组织工作，精心安排，确保各项活动取得实效。" * 12
    doc = small_doc(body=[{"kind": "paragraph", "text": "现将有关事项通知如下。"}, {"kind": "paragraph", "text": paragraph}])
    pages = page_texts(layout.render_pdf(doc))
    assert len(pages) >= 2
    text = squash("".join(pages))
    assert text.startswith(squash(doc["header_title"] + doc["doc_number"]))
    assert squash(paragraph) in text
