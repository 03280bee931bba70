"""What makes a render fast (issue 11), each on its own: the work done once for the same
input, the changes to WeasyPrint that skip work (issuance/render/patches.py), and the
title words read without loading jieba (issuance/render/words.py).

Every change must leave the PDF byte for byte as it was: each test renders with and
without it and compares the bytes, besides checking that the work was skipped.
"""

import logging
import zlib

import jieba
import pytest
from weasyprint import HTML
from weasyprint import svg as weasy_svg
from weasyprint.layout import inline as layout_inline
from weasyprint.layout import page as layout_page
from weasyprint.layout import preferred as layout_preferred
from weasyprint.pdf import fonts as pdf_fonts
from weasyprint.text import line_break
from weasyprint.text.fonts import FontConfiguration

from issuance.render import context, coverage, lines, patches, titles, words

patches.install()

FACE = "font-family: 'Noto Serif CJK SC'; font-size: 16px; line-height: 24px"


def pdf_of(html, config=None):
    return HTML(string=html).render(font_config=config).write_pdf()


# Work done once for the same input -----------------------------------------------------


def test_a_bounded_cache_drops_the_least_recently_used_entries():
    cache = patches._Bounded(10)
    cache.put("a", b"12345")
    cache.put("b", b"1234")
    assert cache.get("a") == b"12345"  # "a" is now the most recent
    cache.put("c", b"123")
    assert cache.get("b") is None and cache.get("a") == b"12345" and cache.get("c") == b"123"
    cache.put("huge", b"x" * 11)  # larger than the whole cache: not kept
    assert cache.get("huge") is None and len(cache) == 2


def test_a_font_is_subset_once_per_face_and_glyph_set(monkeypatch):
    assert pdf_fonts.Font.subset is patches._subset
    made = []

    def counted(font, to_unicode, hinting):
        made.append(sorted(to_unicode))
        return original(font, to_unicode, hinting)

    original = patches._original_subset
    monkeypatch.setattr(patches, "_original_subset", counted)
    monkeypatch.setattr(patches, "_subsets", patches._Bounded(1 << 24))
    config = FontConfiguration()
    html = f'<p style="{FACE}">国家科学技术</p>'
    first = pdf_of(html, config)
    assert len(made) == 1
    assert pdf_of(html, config) == first and len(made) == 1  # the same glyphs: remembered
    pdf_of(f'<p style="{FACE}">国家科学技术局</p>', config)  # one glyph more: subset again
    assert len(made) == 2
    # Without the change the PDF is the same.
    monkeypatch.setattr(pdf_fonts.Font, "subset", original)
    assert pdf_of(html, config) == first


def test_a_long_stream_is_deflated_once_per_content(monkeypatch):
    calls = []
    real = zlib.compress

    def counted(data, level=-1):
        calls.append(len(data))
        return real(data, level)

    monkeypatch.setattr(zlib, "compress", counted)
    monkeypatch.setattr(patches, "_deflated", patches._Bounded(1 << 24, size=lambda entry: len(entry[1])))
    monkeypatch.setattr(patches, "_deflated_objects", patches._Bounded(1 << 24, size=lambda entry: len(entry[0])))
    data = "国家科学技术".encode() * 10000
    assert len(data) >= patches.REMEMBERED_STREAM
    first = patches._deflate(data)
    assert patches._deflate(data) == first  # the same object
    assert patches._deflate(bytes(bytearray(data))) == first  # equal content, another object
    assert calls == [len(data)] and real(data, patches.COMPRESSION_LEVEL) == first
    short = b"BT /F1 16 Tf ET" * 10
    patches._deflate(short)
    patches._deflate(short)
    assert calls.count(len(short)) == 2  # a page's content is deflated each time: not worth a digest
    deflater = patches._Zlib.compressobj(9)
    assert deflater.compress(data[:7]) + deflater.compress(data[7:]) + deflater.flush() == first


SEAL_LIKE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100" viewBox="-50 -50 100 100">'
    '<path fill="red" d="M-40 -40 L40 -40 C45 0 45 0 40 40 Q0 45 -40 40 Z M-10 -10 h20 v20 h-20 z"/>'
    '<circle r="30" fill="none" stroke="red"/></svg>'
)


def test_an_svg_path_is_parsed_once_and_drawn_as_before(monkeypatch):
    assert weasy_svg.TAGS["path"] is patches._path
    parsed = []

    def counted(svg, node, font_size):
        parsed.append(node.get("d"))
        return original(svg, node, font_size)

    original = patches._original_path
    monkeypatch.setattr(patches, "_original_path", counted)
    monkeypatch.setattr(patches, "_paths", patches._Bounded(16, size=lambda value: 1))
    first = pdf_of(SEAL_LIKE)
    assert pdf_of(SEAL_LIKE) == first and len(parsed) == 1
    monkeypatch.setitem(weasy_svg.TAGS, "path", original)
    assert pdf_of(SEAL_LIKE) == first


PREFORMATTED = (
    f'<p style="{FACE}; white-space: pre">'
    + "&#10;".join(f"第{n}行：国家科学技术，“标点”与数字 2024。" for n in range(12))
    + "</p>"
)


def test_a_preformatted_line_is_laid_out_from_its_own_text(monkeypatch):
    seen, alone = [], []

    def spy(text, style, *args):
        seen.append(text)
        return original(text, style, *args)

    def spy_alone(text, *args):
        alone.append(text)
        return preformatted(text, *args)

    original, preformatted = patches._original_split_first_line, patches._preformatted_line
    monkeypatch.setattr(patches, "_original_split_first_line", spy)
    monkeypatch.setattr(patches, "_preformatted_line", spy_alone)
    first = pdf_of(PREFORMATTED)
    # Each of the 12 lines is shaped alone, not with the lines after it: the 11 followed by
    # a line feed once from their own text, the last one by WeasyPrint.
    assert len(alone) == 11 and not any("\n" in text for text in alone)
    assert len(seen) == 1 and "\n" not in seen[0]
    for module in (line_break, layout_inline, layout_preferred):
        monkeypatch.setattr(module, "split_first_line", original)
    assert pdf_of(PREFORMATTED) == first


def test_a_line_is_shaped_once_for_measuring_and_drawing(monkeypatch):
    """A preformatted line's layout and a justified line's are drawn as they were measured
    (patches._keep), and the PDF is the same as when drawing sets each up again."""
    made = []
    original_setup = line_break.Layout.setup

    def counted(layout, style):
        made.append(layout)
        return original_setup(layout, style)

    monkeypatch.setattr(line_break.Layout, "setup", counted)
    first = pdf_of(PREFORMATTED)
    kept = len(made)
    monkeypatch.setattr(line_break.Layout, "reactivate", patches._original_reactivate)
    made.clear()
    assert pdf_of(PREFORMATTED) == first
    # Drawing set up each of the 11 kept lines again.
    assert len(made) == kept + 11


PAGES = (
    "<style>@page { size: 300px 200px; margin: 40px; @top-center { content: 'head' } }"
    " @page :left { @bottom-left { content: counter(page) } }"
    " @page :right { @bottom-right { content: counter(page) } }"
    " @page :first { @top-center { content: none } }</style>"
    + "".join(f'<p style="{FACE}; break-after: page">第{n}页</p>' for n in range(6))
)


def test_pages_matched_by_the_same_rules_share_their_styles(monkeypatch):
    cascaded = []

    def counted(page_type, html, style_for):
        cascaded.append(page_type.index)
        return original(page_type, html, style_for)

    original = patches._original_page_styles
    monkeypatch.setattr(patches, "_original_page_styles", counted)
    first = pdf_of(PAGES)
    # Page 1 (:first, right), page 2 (left), page 3 (right): later pages take their styles.
    assert cascaded == [0, 1, 2]
    monkeypatch.setattr(layout_page, "set_page_type_computed_styles", original)
    assert pdf_of(PAGES) == first


def test_a_block_title_and_runs_are_planned_once_and_handed_out_as_fresh_lists():
    segments = context._segments("为普及科学知识，“经研究”，决定开展科技活动周。" * 3, context.TEXT_FACE)
    before = lines._plan.cache_info().hits
    planned = lines.plan(segments, 31.57)
    again = lines.plan(list(segments), 31.57)
    assert again == planned and again is not planned and lines._plan.cache_info().hits == before + 1
    again.append("changed by a caller")
    assert lines.plan(segments, 31.57) == planned
    title = "泉州市科学技术局关于开展2026年科技活动周暨科普进社区系列活动的通知"
    assert titles.title_lines(title, "通知") == titles.title_lines(title, "通知")
    assert isinstance(titles.title_lines(title, "通知"), list)
    assert coverage.runs("扩展区汉字𠀀") == coverage.runs("扩展区汉字𠀀") == [
        coverage.Run("扩展区汉字"), coverage.Run("𠀀", fallback=True)]


# The title words without jieba ------------------------------------------------------------

SMALL_DICTIONARY = """\
泉州 30 ns
泉州市 120 ns
科学 200 n
科学技术 80 n
技术 300 n
技术局 5 n
局 50 n
关于 900 p
开展 400 v
科技 500 n
科技活动周 20 n
活动 600 vn
活动周 40 n
通知 700 v
的 5000 uj
2024 3 m
"""

SAMPLES = [
    "泉州市科学技术局关于开展科技活动周的通知",
    "关于开展2024年科技活动周的通知",
    "泉州科学技术局 关于 开展",
    "C++与C#、abc12的x",
    "科技\r\n活动\t周",
    "",
]


@pytest.fixture
def small_dictionary(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text(SMALL_DICTIONARY, encoding="utf-8")
    return path


def jieba_words(text, dictionary=None):
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer(dictionary) if dictionary else jieba.Tokenizer()
    return list(tokenizer.cut(text, HMM=False))


def test_the_words_of_a_title_are_those_jieba_finds_with_the_same_dictionary(small_dictionary, tmp_path):
    store = tmp_path / "words.sqlite3"
    words.build_store(small_dictionary, store)
    copied = words._Store(store)
    in_memory = words._InMemory(small_dictionary)
    assert copied.total == in_memory.total == sum(int(line.split()[1]) for line in SMALL_DICTIONARY.splitlines())
    for text in SAMPLES:
        expected = jieba_words(text, small_dictionary)
        assert words.cut(text, copied) == expected, text
        assert words.cut(text, in_memory) == expected, text


def test_a_prefix_that_is_no_word_is_kept_with_frequency_zero(small_dictionary):
    frequencies, _ = words.read_dictionary(small_dictionary)
    assert frequencies["科学技"] == 0 and frequencies["科学技术"] == 80 and frequencies["活动周"] == 40


def test_the_seed_titles_break_between_the_words_of_jiebas_own_dictionary():
    for title in (
        "泉州市科学技术局关于印发《泉州市科技局 2024年上半年精神文明工作总结暨下半年工作思路》的通知",
        "关于转发《福建省人民政府办公厅关于进一步优化营商环境的若干措施》的通知",
        "泉州市科学技术局泉州市财政局关于下达2024年度第二批市级科技计划项目经费的通知",
    ):
        assert words.cut(title) == jieba_words(title)


def test_the_words_are_read_into_memory_when_var_dir_cannot_hold_the_copy(settings, tmp_path, monkeypatch,
                                                                          small_dictionary):
    blocked = tmp_path / "a file"
    blocked.write_text("not a folder")
    settings.VAR_DIR = blocked / "var"
    monkeypatch.setattr(words, "dictionary_file", lambda: small_dictionary)
    words._words.cache_clear()
    try:
        store = words._words()
        assert isinstance(store, words._InMemory)
        assert words.cut("泉州市科学技术局", store) == jieba_words("泉州市科学技术局", small_dictionary)
    finally:
        words._words.cache_clear()


def test_the_copy_is_named_after_the_dictionary_and_readable_by_other_processes(settings, tmp_path,
                                                                                 small_dictionary):
    settings.VAR_DIR = tmp_path / "var"
    target = words.store_path(small_dictionary)
    assert target.parent == tmp_path / "var" and target.name.startswith("title-words-")
    words.build_store(small_dictionary, target)
    assert target.stat().st_mode & 0o777 == 0o644
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind
    small_dictionary.write_text(SMALL_DICTIONARY + "周 10 n\n", encoding="utf-8")
    assert words.store_path(small_dictionary) != target


# WeasyPrint's libraries from the linker's cache ------------------------------------------

LIBRARY_NAMES = ("gobject-2.0", "pango-1.0", "harfbuzz", "harfbuzz-subset", "fontconfig", "pangoft2-1.0",
                 "libpango-1.0-0", "pango-1.0-0", "harfbuzz-vector", "no-such-library-at-all")


def test_the_linkers_cache_gives_the_libraries_ctypes_finds_and_nothing_for_other_names():
    import ctypes.util

    from issuance.render import libraries

    cache = libraries.read_cache()
    assert cache, "glibc's ldconfig -p lists the libraries"
    find = libraries.cached_finder(cache)
    for name in LIBRARY_NAMES:
        assert find(name) == ctypes.util.find_library(name), name
    assert find("pango-1.0") == "libpango-1.0.so.0" and find("libpango-1.0-0") is None


def test_weasyprint_is_imported_with_the_cache_and_find_library_is_ctypes_own_afterwards():
    import subprocess
    import sys

    script = (
        "import sys, ctypes.util; original = ctypes.util.find_library; calls = []\n"
        "ctypes.util.find_library = lambda name: calls.append(name) or original(name)\n"
        "import issuance.render.libraries as libraries\n"
        "import issuance.render\n"
        "assert libraries._finder in sys.meta_path\n"
        "import weasyprint.text.ffi as ffi\n"
        "assert libraries._finder not in sys.meta_path\n"
        "assert ctypes.util.find_library is not original and ctypes.util.find_library('c') is not None\n"
        "maps = open('/proc/self/maps').read()\n"
        "print(len(calls), all(name in maps for name in ('libpango-1.0.so', 'libharfbuzz.so', "
        "'libharfbuzz-subset.so', 'libfontconfig.so', 'libgobject-2.0.so', 'libpangoft2-1.0.so')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    # No call reached ctypes's own find_library while WeasyPrint opened its libraries (the
    # one after it, for 'c', did), and every library is loaded.
    assert done.stdout.split() == ["1", "True"]


def test_a_process_that_only_renders_loads_neither_pyhanko_nor_the_pages_templates():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    script = (
        "import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "import django; django.setup()\n"
        "from issuance.exchange import read_file\n"
        "from issuance.render import layout\n"
        "layout.render_pdf(read_file('fixtures/quanzhou-2024-123.json'))\n"
        "print(sorted(name for name in sys.modules if name.startswith(('pyhanko', 'config.templating', 'issuance.wording')))[:3])\n"
    )
    env = {key: value for key, value in __import__("os").environ.items() if key != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=str(root), env=env)
    assert done.stdout.strip() == "[]"


def test_the_pdf_templates_are_rendered_by_the_renderers_engine_only():
    from django.template import TemplateDoesNotExist
    from django.template.loader import render_to_string

    from issuance.exchange import read_file
    from issuance.render import layout
    from issuance.render.context import build_context

    doc = read_file(__import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures" / "quanzhou-2024-123.json")
    assert "<html" in layout.render_template(layout.TEMPLATE, build_context(doc))
    # The pages' engine (Jinja2) never takes them for its own.
    for name in (layout.TEMPLATE, layout.STYLESHEET, "issuance/pdf/draft_sheet.html"):
        with pytest.raises(TemplateDoesNotExist):
            render_to_string(name, {})


# Character maps and advances from HarfBuzz ----------------------------------------------

def test_harfbuzz_reads_the_character_maps_advances_and_glyph_ids_fonttools_reads():
    from issuance.render import fonts

    faces = list(fonts.FACES.values()) + [fonts.BIAOSONG, fonts.SERIF, fonts.SANS, fonts.SEAL_FACE,
                                          *fonts.EXTENSION_FACES]
    for face in faces:
        font = fonts.open_face(face)
        expected = font.getBestCmap()
        read = fonts.hb_face(face)
        assert read.codes() == sorted(expected), face.key
        assert read.upem == font["head"].unitsPerEm
        for code in sorted(expected)[::97]:
            glyph = read.glyph(code)
            assert font.getGlyphName(glyph) == expected[code], (face.key, hex(code))
            assert read.advance(glyph) == font["hmtx"][expected[code]][0], (face.key, hex(code))
        assert read.glyph(0x10FFFD) is None  # private use: in no face
    assert fonts.cmap(fonts.BABELSTONE) == frozenset(
        code for code in fonts.open_face(fonts.BABELSTONE).getBestCmap()
        if any(low <= code <= high for low, high in fonts.IDEOGRAPHS))


# Issue 11, second round: work done once, not again -------------------------------------

SEED = __import__("pathlib").Path(__file__).resolve().parent.parent / "fixtures" / "quanzhou-2024-123.json"


@pytest.fixture(scope="module")
def seed_doc():
    from issuance.exchange import read_file

    return read_file(SEED)


def _render(doc, **options):
    from issuance.render import layout

    return layout.render_pdf(doc, **options)


def test_font_face_files_are_linked_for_fontconfig_not_copied(monkeypatch):
    from weasyprint import CSS
    from weasyprint.text import fonts as text_fonts

    from issuance.render import fonts, layout

    config = FontConfiguration()
    fetcher = layout.FontFetcher()
    CSS(string=layout.render_template(layout.STYLESHEET, {}), url_fetcher=fetcher, font_config=config)
    linked = sorted(config._folder.iterdir())
    assert len(linked) == len(fonts.FACES)
    assert all(path.is_symlink() for path in linked)
    assert {path.resolve() for path in linked} == {fonts.font_path(name).resolve() for name in fonts.FACES}
    html = '<p style="font-family: GwFang; font-size: 16px">国家科学技术，“标点”</p>'

    def pdf_with(font_config):
        stylesheet = CSS(string=layout.render_template(layout.STYLESHEET, {}), url_fetcher=fetcher,
                         font_config=font_config)
        return HTML(string=html, url_fetcher=fetcher).render(
            font_config=font_config, stylesheets=[stylesheet]).write_pdf()

    linked_pdf = pdf_with(FontConfiguration())
    # WeasyPrint's own add_font_face, which copies the bytes: the same PDF.
    monkeypatch.setattr(text_fonts.FontConfiguration, "add_font_face", patches._original_add_font_face)
    copied = FontConfiguration()
    assert pdf_with(copied) == linked_pdf
    assert not any(path.is_symlink() for path in copied._folder.iterdir())


def test_the_footnote_area_is_laid_out_once_per_page(monkeypatch, seed_doc):
    from weasyprint.formatting_structure import boxes

    laid_out = []
    original = patches._original_block_level_layout

    def counted(context, box, *args, **kwargs):
        if isinstance(box, boxes.FootnoteAreaBox) and box.children:
            laid_out.append(box)
        return original(context, box, *args, **kwargs)

    monkeypatch.setattr(patches, "_original_block_level_layout", counted)
    first = _render(seed_doc)
    # The 版记 is measured once on page 7 and placed from that measurement.
    assert len(laid_out) == 1
    # Without it (each call straight to WeasyPrint's block_level_layout): laid out twice.
    monkeypatch.setattr(layout_page, "block_level_layout", counted)
    laid_out.clear()
    assert _render(seed_doc) == first and len(laid_out) == 2


@pytest.mark.parametrize("draft", [False, True])
def test_a_moved_banji_page_is_made_from_the_first_layout_as_its_own_layout_would_make_it(
        monkeypatch, seed_doc, draft):
    from issuance.render import layout

    layouts = []
    original_layout = layout._layout
    monkeypatch.setattr(layout, "_layout", lambda res, context: layouts.append(context) or original_layout(res, context))
    # The seed ends on page 7: the 版记 moves to page 8. This one ends on page 2, low: the
    # 版记 moves to page 4, after a blank page.
    short = dict(seed_doc, body=seed_doc["body"][:5] + [{"kind": "paragraph", "text": "测" * (28 * 8 - 2)}],
                 signature_orgs=[], date=None)
    made = [_render(doc, draft=draft) for doc in (seed_doc, short)]
    assert len(layouts) == 2 and not any(context.get("banji_only") for context in layouts)
    monkeypatch.setattr(layout, "_moved_banji_pages", lambda *args, **kwargs: None)
    layouts.clear()
    assert [_render(doc, draft=draft) for doc in (seed_doc, short)] == made
    assert [bool(context.get("banji_only")) for context in layouts] == [False, True, False, True]


def test_percentages_resolve_as_weasyprint_resolves_them(monkeypatch, seed_doc):
    import copy

    from weasyprint.layout import percent

    compared = []

    def both(box, containing_block):
        mine, theirs = copy.copy(box), copy.copy(box)
        patches._resolve_percentages(mine, containing_block)
        patches._original_resolve_percentages(theirs, containing_block)
        assert vars(mine) == vars(theirs)
        compared.append(type(box))
        return patches._resolve_percentages(box, containing_block)

    monkeypatch.setattr(percent, "resolve_percentages", both)
    for name in patches._PERCENTAGE_USERS:
        module = __import__(f"weasyprint.layout.{name}", fromlist=["x"])
        if getattr(module, "resolve_percentages", None) is patches._resolve_percentages:
            monkeypatch.setattr(module, "resolve_percentages", both)
    _render(seed_doc, draft=True)
    assert len(compared) > 300 and len(set(compared)) > 5


def test_streams_and_arrays_are_written_as_pydyf_writes_them():
    import pydyf

    for items in ([b"BT", b"/F1 16 Tf", b"ET"], [], [b"q", 1.5, 2, "x", b"Q"], [bytearray(b"x"), b"y"]):
        stream = pydyf.Stream(list(items), compress=True)
        assert stream.data == patches._original_stream_data.fget(stream)
    for items in ([1, 2, 300], [], [1, 2.5, True], [1, pydyf.Array([2, 3])], [7]):
        array = pydyf.Array(list(items))
        assert array.data == patches._original_array_data.fget(array)


def test_c_types_named_by_string_are_cffis_own():
    from weasyprint.text.ffi import ffi

    parser = ffi._parser
    original = parser.parse_type_and_quals.args[1]
    for cdecl in ("hb_codepoint_t[]", "PangoFcFontMap *", "FcChar8 **", "PangoRectangle *", "unsigned int *",
                  "uintptr_t", "hb_tag_t[100]", "char[4]", "char[]", "PangoLogAttr[]", "void *", "int[3]",
                  "PangoGlyphInfo *[2]", "const char *", "struct _PangoRectangle *"):
        assert parser.parse_type_and_quals(cdecl) == original(cdecl), cdecl
    assert patches._type_tree(parser, "const char *") is None
    assert patches._type_tree(parser, "NoSuchType *") is None


def _run(script):
    import os
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=str(SEED.parent.parent), env=env)
    return done.stdout.split()


def test_a_rendering_process_freezes_what_it_keeps_after_its_first_render():
    assert _run(
        "import gc, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "import django; django.setup()\n"
        "from issuance.exchange import read_file\n"
        "from issuance.render import layout\n"
        "doc = read_file('fixtures/quanzhou-2024-123.json')\n"
        "layout.render_pdf(doc); first = gc.get_freeze_count()\n"
        "layout.render_pdf(doc); print(first > 50000, gc.get_freeze_count() == first, gc.isenabled())\n"
    ) == ["True", "True", "True"]


def test_render_gongwen_gives_the_collector_back_to_its_caller(tmp_path):
    import gc

    from django.core.management import call_command

    assert gc.isenabled()
    call_command("render_gongwen", str(SEED), "-o", str(tmp_path / "seed.pdf"))
    assert gc.isenabled()


def test_celery_is_imported_with_celery_only_and_its_tasks_bind_to_the_projects_app():
    assert _run(
        "import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "import django; django.setup()\n"
        "print('celery' in sys.modules)\n"
        "from workflows.tasks import print_document\n"
        "import config\n"
        "print(print_document.app is config.celery_app, config.celery_app.main)\n"
    ) == ["False", "True", "gongwen"]
    # `celery -A config` (Celery first, then the project's package) finds the same app.
    assert _run(
        "from celery.app.utils import find_app\n"
        "app = find_app('config'); import config\n"
        "print(app is config.celery_app, app.main)\n"
    ) == ["True", "gongwen"]


def test_fonttools_subsetter_and_instancer_are_imported_only_when_used():
    assert _run(
        "import os, sys; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'config.settings')\n"
        "import django, types; django.setup()\n"
        "from issuance.exchange import read_file\n"
        "from issuance.render import layout\n"
        "layout.render_pdf(read_file('fixtures/quanzhou-2024-123.json'))\n"
        "print(type(sys.modules['fontTools.subset']) is types.ModuleType, 'fontTools.varLib' in sys.modules)\n"
        "from fontTools import subset; subset.Options\n"
        "print(type(sys.modules['fontTools.subset']) is types.ModuleType)\n"
        "from weasyprint.pdf import fonts\n"
        "import fontTools.varLib.instancer as instancer\n"
        "print(type(instancer) is types.ModuleType, fonts.instantiateVariableFont.__name__,\n"
        "      instancer.instantiateVariableFont is not fonts.instantiateVariableFont)\n"
    ) == ["False", "False", "True", "True", "instantiateVariableFont", "True"]


def test_pseudo_elements_no_element_shows_get_no_computed_style(monkeypatch, seed_doc):
    import weasyprint.css as weasy_css

    made = []
    original = patches._original_set_computed_styles

    def counted(style_for, element, parent, root=None, pseudo_type=None, base_url=None, target_collector=None):
        made.append(pseudo_type)
        return original(style_for, element, parent, root, pseudo_type, base_url, target_collector)

    monkeypatch.setattr(patches, "_original_set_computed_styles", counted)
    first = _render(seed_doc)
    assert not set(made) & patches._DEFERRED_PSEUDO_TYPES
    # Made as WeasyPrint makes them (for every element, at once): the same PDF.
    monkeypatch.setattr(weasy_css.StyleFor, "set_computed_styles", counted)
    monkeypatch.setattr(weasy_css.StyleFor, "__call__", patches._original_style_for)
    made.clear()
    assert _render(seed_doc) == first
    assert made.count("footnote-call") > 50


def test_margin_boxes_are_made_only_for_a_side_with_content(monkeypatch):
    import weasyprint.layout as layout_package
    from weasyprint.formatting_structure import boxes

    made = []
    original = boxes.MarginBox.__init__

    def counted(box, at_keyword, style):
        made.append(at_keyword)
        return original(box, at_keyword, style)

    monkeypatch.setattr(boxes.MarginBox, "__init__", counted)
    first = pdf_of(PAGES)
    # Six pages: @top-center on five of them (not :first), a page number on each; each
    # side with content is made whole (three boxes).
    assert len(made) == 5 * 3 + 6 * 3
    monkeypatch.setattr(layout_package, "make_margin_boxes", patches._original_make_margin_boxes)
    made.clear()
    assert pdf_of(PAGES) == first and len(made) == 6 * 16
