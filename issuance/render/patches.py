"""The renderer's changes to WeasyPrint 70, in one module, installed by one `install()`.

Each change is small, has its own tests (tests/test_patches.py) and is written so that it
could be offered upstream; docs/upstream/ holds the justification and punctuation
compression as a patch against WeasyPrint 70 itself.

* Exact glyph positions. WeasyPrint writes each glyph's position adjustment into the PDF's
  TJ array as `int(kerning)` thousandths of an em (`weasyprint.draw.text.draw_first_line`).
  `int` truncates: with letter-spacing, every glyph of a line lands up to 1/1000 em away
  from where the layout put it, and the error adds up to 0.24–0.4 pt on a 28-character line
  of 3号 text, too much for GB/T 9704's flush right edge. PDF allows real numbers there;
  `install()` recompiles `draw_first_line` from WeasyPrint's own source with that one
  expression written to three decimals.
* Speed (numbers in docs/benchmarks.md). pydyf compresses every stream with zlib level 9;
  level 3 is three times faster for the subset CJK fonts, for a file 2 % larger. WeasyPrint
  copies the whole font file out of HarfBuzz for every font of every document (27 MB for
  the Noto CJK collection) only to subset it a moment later; the copy is kept per HarfBuzz
  face of Pango's fonts (not for the subset faces, made anew for each document).
  WeasyPrint's subsetting asks cffi for `hb_codepoint_t[N]` arrays, a new C type for every
  new N that cffi parses with pycparser (8 ms each); they are made as `hb_codepoint_t[]`,
  one type parsed once.
* Work done once for the same input (issue 11). A font's subset is a function of the face
  and the glyphs kept: it is remembered per face of Pango's fonts and glyph set, and its
  compressed stream per content, so that a document rendered again (the preview, then the
  issued copy, then the archive's) or another of the organ with the same characters in a
  face does not subset and deflate the same 450 KB again (25–45 ms a document). An SVG
  path (the seal's characters, drawn as outlines) is parsed once per `d` and its drawing
  operations replayed. All three are bounded, and what they return is byte for byte what
  WeasyPrint would have made.
* Work not done (issue 11). A line of preformatted text (`white-space: pre`: the planned
  lines of the 正文) is shaped from its own text, not from the rest of its block, which
  WeasyPrint shapes again for every line (a block of n lines cost n(n+1)/2). Pages that
  the same @page selectors match share their computed styles and their margin boxes'
  instead of computing sixteen margin boxes' styles per page. tests/test_render_speed.py
  renders with and without each and compares the bytes.
* Work done once, not again (issue 11, third round; docs/benchmarks.md). A
  preformatted line is shaped once from its own text and its Pango layout kept for the
  justification and for drawing. The footnote area's final layout on a page is the one
  measured while the page filled, when nothing it depends on changed. The pseudo-elements
  WeasyPrint's stylesheet gives every element (`::marker`, `::footnote-call` …) get a
  computed style only when one is asked for. resolve_percentages, pydyf's streams and
  integer arrays and draw_first_line's glyph loop do the same with fewer calls.
  @font-face files are linked for fontconfig, not copied, and C types named by string
  reach cffi without pycparser (a cold process's first render).
* Inter-character justification (`justify`). CSS's `text-justify: inter-character` spreads
  a line's free space between its characters, which is how Chinese is justified;
  WeasyPrint 70 only stretches spaces. `justify(document)` runs after layout and before
  drawing: it sets the letter-spacing of every line of an element with the class `jf`
  (except each element's last line) so that its last glyph ends on the right edge of its
  block. A full-width closing mark set in half its width (`halt`, see issuance/render/lines.py)
  ends at the middle of its em box, where its ink ends. Nothing is added to the text.

`install()` refuses to run on a WeasyPrint other than `WEASYPRINT_VERSION`: each change
reaches into internals that another version may have moved, and a silent mismatch would
shift glyphs by fractions of a point instead of failing.
"""

import collections
import functools
import hashlib
import importlib
import inspect
import os
import re
import textwrap
import threading
import zlib
from dataclasses import dataclass
from math import inf

import pydyf
import weasyprint
from cffi import model as cffi_model
from pycparser import c_ast
from weasyprint import css as weasy_css
from weasyprint import layout as layout_package
from weasyprint import svg as weasy_svg
from weasyprint.draw import text as draw_text
from weasyprint.formatting_structure import boxes
from weasyprint.layout import block as layout_block
from weasyprint.layout import inline as layout_inline
from weasyprint.layout import page as layout_page
from weasyprint.layout import percent as layout_percent
from weasyprint.layout import preferred as layout_preferred
from weasyprint.pdf import fonts as pdf_fonts
from weasyprint.text import fonts as text_fonts
from weasyprint.text import line_break
from weasyprint.text.ffi import FROM_UNITS, TO_UNITS, ffi, harfbuzz, pango
from weasyprint.text.line_break import line_size

WEASYPRINT_VERSION = "70.0"


class PatchError(RuntimeError):
    """WeasyPrint is not the version these changes were written for."""


_state = {"installed": False}


def check_version(version=None):
    version = weasyprint.__version__ if version is None else version
    if version != WEASYPRINT_VERSION:
        raise PatchError(
            f"公文排版依赖 WeasyPrint {WEASYPRINT_VERSION} 的内部实现，当前安装的是 {version}："
            f"请按 requirements.txt 安装 weasyprint=={WEASYPRINT_VERSION}，"
            f"或先更新 issuance/render/patches.py 并通过其测试。"
        )


def install():
    """Apply the changes to WeasyPrint once per process; PatchError on another version."""
    if _state["installed"]:
        return
    check_version()
    _install_exact_positions()
    _install_linked_fonts()
    _install_c_types()
    _install_speed()
    _install_compression()
    _state["installed"] = True


def installed():
    return _state["installed"]


# Exact glyph positions -------------------------------------------------------------

TRUNCATED = "string += f'>{int(kerning)}<'"
EXACT = "string += f'>{_exact_adjustment(kerning)}<'"


# Adjustments written so far: a 公文's 4,000 glyphs take a few hundred distinct values (the
# same letter-spacing for the same advance).
_ADJUSTMENTS = {}
_ADJUSTMENTS_KEPT = 65536


def _exact_adjustment(value):
    """A TJ adjustment in thousandths of an em, to three decimals instead of truncated."""
    text = _ADJUSTMENTS.get(value)
    if text is None:
        text = f"{value:.3f}".rstrip("0").rstrip(".")
        text = "0" if text in ("", "-0") else text
        if len(_ADJUSTMENTS) < _ADJUSTMENTS_KEPT:
            _ADJUSTMENTS[value] = text
    return text


_GLYPH_LOOP = (
    ("    glyph_id = glyph_info.glyph\n            width = glyph_info.geometry.width\n",
     "    glyph_id = glyph_info.glyph\n            geometry = glyph_info.geometry\n            width = geometry.width\n"),
    ("offset = glyph_info.geometry.x_offset / font_size", "offset = geometry.x_offset / font_size"),
    ("rise = glyph_info.geometry.y_offset / 1000", "rise = geometry.y_offset / 1000"),
)


def _install_exact_positions():
    function = draw_text.draw_first_line
    source = textwrap.dedent(inspect.getsource(function))
    if source.count(TRUNCATED) != 1:
        raise PatchError(f"WeasyPrint {weasyprint.__version__} 的 draw_first_line 与预期不同，无法修正字形位置")
    namespace = dict(vars(draw_text))
    namespace["_exact_adjustment"] = _exact_adjustment
    source = source.replace(TRUNCATED, EXACT)
    # The loop over a line's glyphs (4,000 a 公文), with the same values looked up once: a
    # glyph's geometry is one struct, Pango's glyph constants are numbers.
    for old, new in _GLYPH_LOOP:
        if source.count(old) != 1:
            raise PatchError(f"WeasyPrint {weasyprint.__version__} 的 draw_first_line 与预期不同，无法修正字形位置")
        source = source.replace(old, new)
    source = source.replace("pango.PANGO_GLYPH_EMPTY", "_GLYPH_EMPTY").replace(
        "pango.PANGO_GLYPH_UNKNOWN_FLAG", "_GLYPH_UNKNOWN_FLAG")
    namespace["_GLYPH_EMPTY"] = pango.PANGO_GLYPH_EMPTY
    namespace["_GLYPH_UNKNOWN_FLAG"] = pango.PANGO_GLYPH_UNKNOWN_FLAG
    code = compile(source, inspect.getsourcefile(function), "exec")
    exec(code, namespace)  # noqa: S102 - WeasyPrint's own source, one expression changed
    patched = namespace["draw_first_line"]
    patched.__doc__ = (function.__doc__ or "") + " (TJ adjustments exact: issuance.render.patches)"
    # draw_text() looks the function up in its module at each call, and svg/text.py imports
    # it from there at each call too.
    draw_text.draw_first_line = patched


# Font files linked, not copied ------------------------------------------------------

# WeasyPrint's FontConfiguration.add_font_face reads every @font-face file through the URL
# fetcher and writes the bytes to a temporary folder, where fontconfig finds them: for the
# four Fandol faces 25 MB read and written, 0.2 s of every process's first render. A
# fetcher whose response names the local file it serves (`font_file`, a path) has the
# file linked there instead; fontconfig reads the same bytes. A WOFF font, which
# WeasyPrint decodes first, is read as before.
READ_FONT = "                    font = response.read()\n"
LINKED_FONT = "                    font = _font_content(response)\n"
WRITTEN_FONT = "            font_path.write_bytes(font)\n"
STORED_FONT = "            _store_font(font_path, font)\n"


class _FontFile(bytes):
    """The first bytes of a local font file (what add_font_face looks at to recognise a
    WOFF font), and the file's path."""

    path = None


def _font_content(response):
    path = getattr(response, "font_file", None)
    head = response.read(4)
    if path is None or head[:3] == b"wOF":
        return head + response.read()
    content = _FontFile(head)
    content.path = path
    return content


def _store_font(font_path, font):
    if isinstance(font, _FontFile):
        os.symlink(os.path.abspath(font.path), font_path)
    else:
        font_path.write_bytes(font)


_original_add_font_face = text_fonts.FontConfiguration.add_font_face


def _install_linked_fonts():
    function = _original_add_font_face
    source = textwrap.dedent(inspect.getsource(function))
    if source.count(READ_FONT.lstrip()) != 1 or source.count(WRITTEN_FONT.lstrip()) != 1:
        raise PatchError(f"WeasyPrint {weasyprint.__version__} 的 add_font_face 与预期不同，无法链接字体文件")
    # The method's body, dedented by one level (it was a method of the class).
    source = source.replace(READ_FONT[4:], LINKED_FONT[4:]).replace(WRITTEN_FONT[4:], STORED_FONT[4:])
    namespace = dict(vars(text_fonts))
    namespace.update(_font_content=_font_content, _store_font=_store_font)
    exec(compile(source, inspect.getsourcefile(function), "exec"), namespace)  # noqa: S102 - WeasyPrint's own source
    patched = namespace["add_font_face"]
    patched.__doc__ = (function.__doc__ or "") + " (local font files linked: issuance.render.patches)"
    patched.__qualname__ = function.__qualname__
    text_fonts.FontConfiguration.add_font_face = patched


# C types without the C parser --------------------------------------------------------

# WeasyPrint names C types by string (`ffi.new("PangoRectangle *")`, "hb_codepoint_t[]"), and
# cffi parses each new string with pycparser, inside a prelude that declares every typedef
# of WeasyPrint's cdef again: 2–3 ms a type, a dozen types, 0.03 s of every process's first
# render. A type that is a name (a typedef of the cdef, or words such as "unsigned int"),
# then pointers, then at most one array dimension is given to cffi as the syntax tree
# pycparser would have made of it; cffi turns that tree into its type as before.
_SIMPLE_TYPE = re.compile(r"^\s*([A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)*)\s*(\**)\s*(?:\[\s*(\d*)\s*\])?\s*$")
_NOT_PLAIN_NAMES = frozenset(("struct", "union", "enum", "const", "volatile", "restrict", "__restrict", "__dotdotdot__"))


def _type_tree(parser, cdecl):
    """The pycparser tree of `cdecl` as a parameter of `void __dummy(…)`, or None when it is
    not of the simple form (or names something the cdef does not declare)."""
    match = _SIMPLE_TYPE.match(cdecl)
    if match is None:
        return None
    words, stars, dimension = match.groups()
    names = words.split()
    if not _NOT_PLAIN_NAMES.isdisjoint(names):
        return None
    if len(names) == 1 and f"typedef {names[0]}" not in parser._declarations:
        if names[0] not in cffi_model.PrimitiveType.ALL_PRIMITIVE_TYPES and names[0] != "void":
            return None
    node = c_ast.TypeDecl(None, [], None, c_ast.IdentifierType(names), attributes=[])
    for _ in stars:
        node = c_ast.PtrDecl([], node, attributes=[])
    if dimension is not None:
        node = c_ast.ArrayDecl(node, c_ast.Constant("int", dimension) if dimension else None, [], attributes=[])
    return node


def _parse_type_and_quals(parser, original, cdecl):
    node = _type_tree(parser, cdecl)
    if node is None:
        return original(cdecl)
    return parser._get_type_and_quals(node)


def _install_c_types():
    parser = ffi._parser
    if getattr(parser.parse_type_and_quals, "func", None) is _parse_type_and_quals:
        return
    parser.parse_type_and_quals = functools.partial(_parse_type_and_quals, parser, parser.parse_type_and_quals)


# Speed -----------------------------------------------------------------------------

COMPRESSION_LEVEL = 3


class _Bounded:
    """A dict of at most `limit` units (bytes, or entries with `size` 1), the least
    recently used entries dropped first; safe to share between render threads."""

    def __init__(self, limit, size=len):
        self._limit = limit
        self._size = size
        self._entries = collections.OrderedDict()
        self._used = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key, value):
        size = self._size(value)
        if size > self._limit:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = value
            self._used += size
            while self._used > self._limit:
                _, dropped = self._entries.popitem(last=False)
                self._used -= self._size(dropped)

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._used = 0

    def __len__(self):
        return len(self._entries)


# Streams at least this long (font files; a page's content is 5–30 KB) are deflated once
# per content. A subset font from _subsets reaches pydyf as the very bytes object it
# remembered, known here without hashing it; other content is known by its SHA-1 (a
# tenth of the time deflating it takes).
REMEMBERED_STREAM = 64 * 1024
_deflated = _Bounded(16 * 1024 * 1024, size=lambda entry: len(entry[1]))
_deflated_objects = _Bounded(16 * 1024 * 1024, size=lambda entry: len(entry[0]))


def _deflate(data):
    if len(data) < REMEMBERED_STREAM:
        return zlib.compress(data, COMPRESSION_LEVEL)
    same = _deflated_objects.get(id(data))
    if same is not None and same[0] is data:
        return same[1]
    key = (len(data), hashlib.sha1(data, usedforsecurity=False).digest())
    entry = _deflated.get(key)
    if entry is None:
        entry = (key, zlib.compress(data, COMPRESSION_LEVEL))
        _deflated.put(key, entry)
    # Holding `data` keeps its id from being reused while the entry exists.
    _deflated_objects.put(id(data), (data, entry[1]))
    return entry[1]


class _Deflater:
    """What zlib.compressobj gives pydyf: it compresses a stream whole, in flush()."""

    def __init__(self):
        self._parts = []

    def compress(self, data):
        self._parts.append(bytes(data))
        return b""

    def flush(self, mode=zlib.Z_FINISH):
        data, self._parts = b"".join(self._parts), []
        return _deflate(data)


class _Zlib:
    """zlib as pydyf sees it: the same functions, at COMPRESSION_LEVEL, a long stream
    deflated once per content."""

    error = zlib.error

    @staticmethod
    def compressobj(level=-1, *args, **kwargs):
        if args or kwargs:
            return zlib.compressobj(COMPRESSION_LEVEL, *args, **kwargs)
        return _Deflater()

    @staticmethod
    def compress(data, level=-1):
        return _deflate(data)

    decompress = staticmethod(zlib.decompress)


_original_stream_data = pydyf.Stream.data
_ONLY_BYTES = frozenset((bytes,))


def _stream_data(self):
    """pydyf.Stream.data, the content joined at once when every item is already bytes (the
    drawing operators WeasyPrint and pydyf append are), not converted item by item: 12,000
    items a 公文."""
    items = self.stream
    if not _ONLY_BYTES.issuperset(map(type, items)):
        return _original_stream_data.fget(self)
    joined = b"\n".join(items)
    extra = pydyf.Dictionary(self.extra.copy())
    if self.compress:
        extra["Filter"] = "/FlateDecode"
        compressobj = pydyf.zlib.compressobj(level=9)
        joined = compressobj.compress(joined) + compressobj.flush()
    extra["Length"] = len(joined)
    return b"\n".join((extra.data, b"stream", joined, b"endstream"))


_original_array_data = pydyf.Array.data
_ONLY_INTEGERS = frozenset((int,))


def _array_data(self):
    """pydyf.Array.data, an array of integers (the fonts' glyph widths, 6,000 numbers a
    公文) written at once: each is `str(n)`, as pydyf writes it."""
    if not self or not _ONLY_INTEGERS.issuperset(map(type, self)):
        return _original_array_data.fget(self)
    return b"[" + " ".join(map(str, self)).encode("ascii") + b"]"


_original_get_data = pdf_fonts.get_hb_object_data
_original_pango_face = pdf_fonts.get_pango_font_hb_face
_face_data = {}
_pango_faces = set()
_face_lock = threading.Lock()


def _key(hb_face):
    return int(ffi.cast("uintptr_t", hb_face))


def _pango_face(pango_font):
    """get_pango_font_hb_face, noting the face: such faces belong to Pango's font map and
    live as long as it does, unlike the faces WeasyPrint subsets them into."""
    hb_face = _original_pango_face(pango_font)
    _pango_faces.add(_key(hb_face))
    return hb_face


def _face_bytes(hb_object, ot_color=None, glyph=None):
    """get_hb_object_data, remembered per HarfBuzz face for the whole font files of the
    faces Pango's fonts use (a subset face is made for one document and not kept)."""
    key = _key(hb_object)
    if ot_color is not None or key not in _pango_faces:
        return _original_get_data(hb_object, ot_color, glyph)
    cached = _face_data.get(key)
    if cached is None:
        data = _original_get_data(hb_object)
        with _face_lock:
            if key not in _face_data:
                # Hold a reference: the face can then never be freed and its address reused
                # by another face while the entry exists.
                _face_data[key] = (harfbuzz.hb_face_reference(hb_object), data)
            cached = _face_data[key]
    return cached[1]


_original_subset = pdf_fonts.Font.subset
# Subsets of the faces of Pango's fonts by glyph set (one document's five take 1.1 MB).
_subsets = _Bounded(24 * 1024 * 1024)


def _subset(self, to_unicode, hinting):
    """Font.subset, remembered for a face of Pango's fonts and the glyphs it keeps.

    The subset depends on nothing else: the face, the glyph ids (the keys of to_unicode),
    hinting, and whether glyphs are missing (an outline for .notdef). A face is known by
    its address, which cannot be reused while _face_bytes holds a reference to it."""
    key = _key(self.hb_face)
    if not to_unicode or key not in _face_data:
        return _original_subset(self, to_unicode, hinting)
    remembered = (key, self.index, tuple(sorted(to_unicode)), bool(hinting), bool(self.missing))
    content = _subsets.get(remembered)
    if content is None:
        _original_subset(self, to_unicode, hinting)
        _subsets.put(remembered, self.file_content)
    else:
        self.file_content = content
    return None


_original_path = weasy_svg.TAGS["path"]
# Parsed paths by `d`: the seal's nine paths are 40 KB of numbers.
_paths = _Bounded(256, size=lambda value: 1)
# The stream operations a path is drawn with; pydyf writes each as one item appended to
# the stream's list, and keeps no other state for them.
_PATH_OPERATIONS = frozenset(("move_to", "line_to", "curve_to", "close"))


class _Watch:
    """A stream stand-in for drawing one path: passes everything on, and notes whether
    anything but the path operations was used."""

    def __init__(self, stream):
        self._stream = stream
        self.only_path = True

    def __getattr__(self, name):
        if name not in _PATH_OPERATIONS:
            self.only_path = False
        return getattr(self._stream, name)


def _path(svg, node, font_size):
    """WeasyPrint's SVG path drawing, parsed once per `d`: later the same operations are
    appended to the stream as they were written, and the vertices left on the node (for
    markers) are the same."""
    key = (node.get("d", ""), font_size, svg.inner_width, svg.inner_height)
    known = _paths.get(key)
    if known is not None:
        operations, vertices = known
        svg.stream.stream.extend(operations)
        node.vertices.extend(vertices)
        return
    stream, watch = svg.stream, _Watch(svg.stream)
    written, vertices = len(stream.stream), len(node.vertices)
    svg.stream = watch
    try:
        _original_path(svg, node, font_size)
    finally:
        svg.stream = stream
    if watch.only_path:
        _paths.put(key, (tuple(stream.stream[written:]), tuple(node.vertices)[vertices:]))


_original_split_first_line = line_break.split_first_line
# White space that never wraps: a line ends only at a line feed.
_NOT_WRAPPED = ("pre", "nowrap")


# Characters at which Pango ends a line or a paragraph by itself (UAX #14's mandatory
# breaks and Pango's paragraph separators), besides the line feed.
_HARD_BREAKS = frozenset("\r\x0b\x0c\x85\u2028\u2029")


def _split_first_line(text, style, context, max_width, justification_spacing, is_line_start=True,
                      minimum=False):
    """split_first_line, given only the text up to the first line feed when lines do not
    wrap (`white-space: pre`, the planned lines of the 正文).

    WeasyPrint lays out the whole rest of a block to find where its first line ends, so
    a block of n preformatted lines is shaped n(n+1)/2 lines' worth. Pango ends a line at
    the first paragraph separator and shapes each paragraph on its own: the first line,
    its metrics and where the next line resumes are the same without the text after it.

    A preformatted line followed by a line feed is then shaped once, from its own text
    (WeasyPrint shapes it with the line feed, then again without it, which is what it
    keeps), and its Pango layout is kept for drawing (`_keep`)."""
    if style["white_space"] in _NOT_WRAPPED:
        end = text.find("\n")
        if end != -1:
            if style["white_space"] == "pre":
                line = _preformatted_line(text[:end], style, max_width, justification_spacing)
                if line is not None:
                    return line
            text = text[:end + 1]
    return _original_split_first_line(
        text, style, context, max_width, justification_spacing, is_line_start, minimum)


def _preformatted_line(line_text, style, max_width, justification_spacing):
    """What split_first_line returns for the preformatted `line_text` + "\\n" (layout,
    length, resume index, width, height, baseline), shaping `line_text` once; None when
    the line holds another character at which Pango would break."""
    if not _HARD_BREAKS.isdisjoint(line_text):
        return None
    layout = line_break.Layout(style, justification_spacing, max_width)
    single = _single_paragraph(layout, line_text)
    layout.set_text(line_text)
    first_line, index = layout.get_first_line()
    if index is not None:
        return None
    width, height = line_size(first_line, style)
    baseline = pango.pango_layout_get_baseline(layout.layout) * FROM_UNITS
    length = first_line.length
    _keep(layout, single)
    return layout, length, len(line_text.encode()) + 1, width, height, baseline


def _single_paragraph(layout, text):
    """Set `layout` in single-paragraph mode, as draw_first_line does before drawing, when
    that changes nothing for `text` (no character at which a paragraph or line ends):
    drawing then finds the layout as it was measured. Whether it was set."""
    if "\n" in text or not _HARD_BREAKS.isdisjoint(text):
        return False
    pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
    return True


# Kept layouts ------------------------------------------------------------------------

_original_reactivate = line_break.Layout.reactivate


def _keep(layout, single):
    """Leave `layout` shaped for drawing instead of deactivating it.

    WeasyPrint deactivates a text box's Pango layout once the line is measured and, to
    draw it, makes a new one from the same style and text and shapes it again
    (Layout.reactivate). A layout that draw_first_line would find unchanged (single-
    paragraph mode already set, no width, no justification spacing for set_text's
    `justify`) is kept instead and drawn as it is, once: a second drawing of the same
    box (a copy) sets it up anew, as WeasyPrint does."""
    if single and not layout.justification_spacing:
        layout._kept = True
    else:
        layout.deactivate()


def _reactivate(self, style):
    """Layout.reactivate, a no-op for a layout kept shaped for this very style (`_keep`)."""
    if self.__dict__.pop("_kept", False) and style is self.style:
        return
    _original_reactivate(self, style)


_original_page_styles = layout_page.set_page_type_computed_styles


def _page_rules_matched(page_type, style_for):
    """Which selectors of the stylesheets' @page rules match `page_type`, in order."""
    return tuple(
        style_for._page_type_match(selector[2], page_type)
        for sheet, _origin, _specificity in style_for._sheets
        for _rule, selectors, _declarations in sheet.page_rules
        for selector in selectors
    )


def _set_page_type_computed_styles(page_type, html, style_for):
    """set_page_type_computed_styles, the styles of a page type shared with an earlier page
    type that the same @page selectors match.

    Every page of a document is a page type of its own (its index is part of it, for
    `:nth()`), so WeasyPrint cascades and computes the page's style and its sixteen margin
    boxes' anew for each page, a tenth of the layout of a 公文. Pages that the same
    selectors match get the same declarations, so the same computed styles; the page's
    counters and content live in the page state, not in the style."""
    known = style_for.__dict__.setdefault("_page_types_by_rules", {})
    matched = _page_rules_matched(page_type, style_for)
    earlier = known.get(matched)
    if earlier is None:
        _original_page_styles(page_type, html, style_for)
        known[matched] = page_type
        return
    cascaded, computed = style_for.get_cascaded_styles(), style_for.get_computed_styles()
    # What the original sets: the cascade of the page and of each margin box with
    # declarations (the elements' cascades are gone by now), and their computed styles.
    pseudo_types = [pseudo_type for element, pseudo_type in cascaded if element == earlier]
    for pseudo_type in pseudo_types:
        cascaded[page_type, pseudo_type] = cascaded[earlier, pseudo_type]
    for pseudo_type in {None, *pseudo_types}:
        computed[page_type, pseudo_type] = computed[earlier, pseudo_type]


_original_block_level_layout = layout_block.block_level_layout


def _footnote_area_key(context, box, containing_block):
    """What a footnote area's layout depends on, or None when it may depend on more: its
    style and place on the page, the page, and the footnotes it holds (each laid out
    from a copy of the same box, never changed in place)."""
    if not box.children or context.excluded_shapes:
        return None
    notes = []
    for child in box.children:
        if child.element is None or child.style is None:
            return None
        notes.append((id(child.element), id(child.style), child.element_tag))
    return (id(box.style), box.position_x, box.position_y, id(containing_block), tuple(notes))


def _self_contained(box):
    """No box of `box` was placed out of the flow (absolutely, fixed, floated, running):
    those a layout hands to the caller's lists, which a remembered layout cannot."""
    return not any(
        child.is_absolutely_positioned() or child.is_floated() or child.is_running()
        for child in box.descendants() if child is not box)


def _measure_footnote_area(context, box, bottom_space, skip_stack, containing_block, *args, **kwargs):
    """block_level_layout as LayoutContext._update_footnote_area calls it, to measure the
    footnote area while the page's content is laid out: the laid-out area is remembered
    for the page's final layout of the same area (`_place_footnote_area`)."""
    result = _original_block_level_layout(
        context, box, bottom_space, skip_stack, containing_block, *args, **kwargs)
    key = _footnote_area_key(context, box, containing_block)
    laid_out = result[0]
    context._measured_footnote_area = (
        (key, result) if key is not None and laid_out is not None and _self_contained(laid_out) else None)
    return result


def _place_footnote_area(context, box, *args, **kwargs):
    """block_level_layout in make_page, the footnote area's final layout taken from its last
    measurement when nothing it depends on changed since (WeasyPrint lays it out twice,
    the 版记's cc list and flex row half a render's footnote work)."""
    measured = context.__dict__.pop("_measured_footnote_area", None) if isinstance(box, boxes.FootnoteAreaBox) else None
    if measured is not None:
        containing_block = kwargs.get("containing_block", args[2] if len(args) > 2 else None)
        key, result = measured
        if (
            kwargs.get("skip_stack", args[1] if len(args) > 1 else None) is None
            and _footnote_area_key(context, box, containing_block) == key
            and box.height in ("auto", result[0].height)
        ):
            return result
    return _original_block_level_layout(context, box, *args, **kwargs)


# The used values resolve_percentages sets from the containing block's width (the margins
# and paddings of a page box: from its height), in WeasyPrint's order.
_WIDTH_PERCENTAGES = ("margin_left", "margin_right")
_BLOCK_PERCENTAGES = ("margin_top", "margin_bottom")
_SIDE_PERCENTAGES = ("padding_left", "padding_right")
_BLOCK_SIDE_PERCENTAGES = ("padding_top", "padding_bottom")
_BORDER_WIDTHS = ("border_top_width", "border_right_width", "border_bottom_width", "border_left_width")


def _used(box, style, name, refer_to):
    """resolve_one_percentage(box, name, refer_to), its common cases without the calls."""
    value = style[name]
    if value is not None and value != "auto":
        unit = getattr(value, "unit", None)
        if unit is None:
            value = layout_percent.percentage(value, style, refer_to)
        elif unit == "%":
            value = refer_to * value.value / 100
        else:
            value = value.value
    setattr(box, name, value)
    return value


def _resolve_percentages(box, containing_block):
    """layout.percent.resolve_percentages, the same values set in the same order with a
    tenth of the calls: it runs for every box each time a box is laid out (600 times a
    公文), and its 30 calls of two small functions were 4 % of a render."""
    if isinstance(containing_block, boxes.Box):
        cb_width = containing_block.width
        cb_height = containing_block.height
    else:
        cb_width, cb_height = containing_block
    maybe_height = cb_height if isinstance(box, boxes.PageBox) else cb_width
    style = box.style
    for name in _WIDTH_PERCENTAGES:
        _used(box, style, name, cb_width)
    for name in _BLOCK_PERCENTAGES:
        _used(box, style, name, maybe_height)
    for name in _SIDE_PERCENTAGES:
        _used(box, style, name, cb_width)
    for name in _BLOCK_SIDE_PERCENTAGES:
        _used(box, style, name, maybe_height)
    _used(box, style, "width", cb_width)
    if _used(box, style, "min_width", cb_width) == "auto":
        box.min_width = 0
    _used(box, style, "max_width", cb_width)
    if cb_height == "auto":
        height = style["height"]
        if height == "auto" or layout_percent.check_math(height) or height.unit == "%":
            box.height = "auto"
        else:
            assert height.unit.lower() == "px"
            box.height = height.value
        if _used(box, style, "min_height", 0) == "auto":
            box.min_height = 0
        _used(box, style, "max_height", inf)
    else:
        _used(box, style, "height", cb_height)
        if _used(box, style, "min_height", cb_height) == "auto":
            box.min_height = 0
        _used(box, style, "max_height", cb_height)
    collapse = style["border_collapse"] == "collapse"
    for name in _BORDER_WIDTHS:
        if not (collapse and hasattr(box, name)):
            setattr(box, name, style[name])
    layout_percent.adjust_box_sizing(box, "width")
    layout_percent.adjust_box_sizing(box, "height")


_original_resolve_percentages = layout_percent.resolve_percentages
# The modules that call resolve_percentages, each by its own name for it.
_PERCENTAGE_USERS = ("absolute", "block", "column", "float", "grid", "inline", "page", "table")


# Pseudo-elements that WeasyPrint's own stylesheet gives every element (`::marker`,
# `::footnote-call` …) and that only a list item, a footnote or a note ever shows.
_DEFERRED_PSEUDO_TYPES = frozenset(
    ("marker", "footnote-call", "footnote-marker", "note-call", "note-marker", "note-callback"))
_original_set_computed_styles = weasy_css.StyleFor.set_computed_styles
_original_style_for = weasy_css.StyleFor.__call__


def _set_computed_styles(self, element, parent, root=None, pseudo_type=None, base_url=None,
                         target_collector=None):
    """StyleFor.set_computed_styles, a pseudo-element of `_DEFERRED_PSEUDO_TYPES` noted
    with its cascaded declarations and made when it is first asked for (`_style_for`).

    The cascade gives each of a 公文's 90 elements six of them, 540 computed styles a
    render for the one footnote's two. A computed style computes each property when it is
    first read, so making it later gives the same values; one that declares an anchor
    (collected when made) is made at once, as before."""
    if pseudo_type in _DEFERRED_PSEUDO_TYPES:
        cascaded = self.get_cascaded_styles().get((element, pseudo_type), {})
        if "anchor" not in cascaded:
            deferred = self.__dict__.setdefault("_deferred_pseudo", {})
            deferred[element, pseudo_type] = (parent, root, base_url, target_collector, cascaded)
            return
    _original_set_computed_styles(self, element, parent, root, pseudo_type, base_url, target_collector)


def _style_for(self, element, pseudo_type=None):
    """StyleFor.__call__, making a deferred pseudo-element's computed style first."""
    deferred = self.__dict__.get("_deferred_pseudo")
    if deferred and pseudo_type in _DEFERRED_PSEUDO_TYPES:
        noted = deferred.pop((element, pseudo_type), None)
        if noted is not None:
            parent, root, base_url, target_collector, cascaded = noted
            computed_styles = self.get_computed_styles()
            computed = computed_styles[element, pseudo_type] = weasy_css.ComputedStyle(
                computed_styles[parent, None], cascaded, pseudo_type, computed_styles[root, None], base_url,
                self.font_config, self.initial_page_sizes)
            if target_collector and computed["anchor"]:
                target_collector.collect_anchor(computed["anchor"])
    return _original_style_for(self, element, pseudo_type)


# make_margin_boxes makes and resolves all sixteen margin boxes of every page, then drops
# those of a side where none has content: for a 公文's one page number, 13 of 16 a page.
# A side (or corner) is now looked at first and its boxes made only when one of them has
# content; a side with content is made whole, as before (its empty boxes still size it).
_MARGIN_SIDE = (
    "        side_boxes = [\n"
    "            make_box(f'@{prefix}-{suffix}', containing_block)\n"
    "            for suffix in suffixes]\n"
    "        if not any(box.is_generated for box in side_boxes):\n"
    "            continue\n"
)
_MARGIN_SIDE_FIRST = (
    "        if not any(_generates(context, page, f'@{prefix}-{suffix}') for suffix in suffixes):\n"
    "            continue\n"
    "        side_boxes = [\n"
    "            make_box(f'@{prefix}-{suffix}', containing_block)\n"
    "            for suffix in suffixes]\n"
    "        if not any(box.is_generated for box in side_boxes):\n"
    "            continue\n"
)
_MARGIN_CORNER = "        box = make_box(at_keyword, (cb_width, cb_height))\n"
_MARGIN_CORNER_FIRST = (
    "        if not _generates(context, page, at_keyword):\n"
    "            continue\n"
    "        box = make_box(at_keyword, (cb_width, cb_height))\n"
)
_NOT_GENERATED = ("normal", "inhibit", "none")


def _generates(context, page, at_keyword):
    """Whether make_box would make the margin box `at_keyword` of `page` with content (its
    `is_generated`), from the same style."""
    style = context.style_for(page.page_type, at_keyword)
    if style is None:
        style = page.style.anonymous_style
    return style["content"] not in _NOT_GENERATED


_original_make_margin_boxes = layout_page.make_margin_boxes


def _margin_boxes_with_content_first():
    function = _original_make_margin_boxes
    source = textwrap.dedent(inspect.getsource(function))
    if (source.count(_MARGIN_SIDE) != 1 or source.count(_MARGIN_CORNER) != 1
            or "box.is_generated = style['content'] not in (\n            'normal', 'inhibit', 'none')" not in source):
        raise PatchError(f"WeasyPrint {weasyprint.__version__} 的 make_margin_boxes 与预期不同")
    source = source.replace(_MARGIN_SIDE, _MARGIN_SIDE_FIRST).replace(_MARGIN_CORNER, _MARGIN_CORNER_FIRST)
    namespace = dict(vars(layout_page))
    namespace["_generates"] = _generates
    exec(compile(source, inspect.getsourcefile(function), "exec"), namespace)  # noqa: S102 - WeasyPrint's own source
    patched = namespace["make_margin_boxes"]
    patched.__doc__ = (function.__doc__ or "") + " (sides without content skipped first: issuance.render.patches)"
    return patched


_SIZED_ARRAY = re.compile(r"^(\w+)\[\d+\]$")


class _ArrayFFI:
    """WeasyPrint's cffi FFI, making `T[N]` arrays with an initialiser as `T[]`."""

    def __init__(self, real):
        self._real = real

    def new(self, cdecl, init=None):
        if init is not None:
            match = _SIZED_ARRAY.match(cdecl)
            if match:
                return self._real.new(f"{match.group(1)}[]", init)
        return self._real.new(cdecl, init)

    def __getattr__(self, name):
        return getattr(self._real, name)


def _install_speed():
    pydyf.zlib = _Zlib
    pydyf.Stream.data = property(_stream_data)
    pydyf.Array.data = property(_array_data)
    pdf_fonts.get_pango_font_hb_face = _pango_face
    pdf_fonts.get_hb_object_data = _face_bytes
    pdf_fonts.Font.subset = _subset
    layout_page.set_page_type_computed_styles = _set_page_type_computed_styles
    layout_package.block_level_layout = _measure_footnote_area
    weasy_css.StyleFor.set_computed_styles = _set_computed_styles
    weasy_css.StyleFor.__call__ = _style_for
    for name in _PERCENTAGE_USERS:
        module = importlib.import_module(f"weasyprint.layout.{name}")
        if getattr(module, "resolve_percentages", None) is _original_resolve_percentages:
            module.resolve_percentages = _resolve_percentages
    # layout.flex calls it through its module.
    layout_percent.resolve_percentages = _resolve_percentages
    layout_page.block_level_layout = _place_footnote_area
    # layout.inline and layout.preferred import the function by name.
    for module in (line_break, layout_inline, layout_preferred):
        module.split_first_line = _split_first_line
    line_break.Layout.reactivate = _reactivate
    weasy_svg.TAGS["path"] = _path
    if not isinstance(pdf_fonts.ffi, _ArrayFFI):
        pdf_fonts.ffi = _ArrayFFI(pdf_fonts.ffi)
    # Last: it is compiled with layout.page's names as they are now (resolve_percentages).
    # layout/__init__.py calls it by its own name for it.
    layout_page.make_margin_boxes = layout_package.make_margin_boxes = _margin_boxes_with_content_first()


# Punctuation compression and inter-character justification ----------------------------

JUSTIFY_CLASS = "jf"
COMPRESS_ATTRIBUTE = "data-compress"

# A line is only justified when that takes less than this much extra space per gap (in em);
# wider gaps mean an unbreakable run (a long URL) was pushed down, and a ragged line reads
# better than one with its characters torn apart.
MAX_JUSTIFY_GAP = 0.5

# Lines closer than this to the edge (in CSS px) are left alone.
TOLERANCE = 0.005
# A line this close to the edge is corrected in one of its text boxes only (the longest):
# the difference is spread over fewer gaps, invisibly, and the other boxes are not set again.
SMALL_CORRECTION = 1.0

_original_set_text = line_break.Layout.set_text


def _set_text(self, text, justify=False):
    """Layout.set_text, then the marks at the offsets in `self.compressed` set in half
    their width: the face's OpenType `halt` feature (Alternate Half Widths) halves their
    advance and moves opening marks left by half an em, and they take half the
    letter-spacing, so that a compressed mark is exactly half a character."""
    _original_set_text(self, text, justify)
    offsets = getattr(self, "compressed", ())
    if not offsets or not self.text:
        return
    encoded = [len(ch.encode()) for ch in self.text]
    starts = [0]
    for size in encoded:
        starts.append(starts[-1] + size)
    attributes = pango.pango_layout_get_attributes(self.layout)
    if attributes == ffi.NULL:
        attributes = ffi.gc(pango.pango_attr_list_new(), pango.pango_attr_list_unref)
    spacing = letter_spacing(self.style) / 2
    for offset in offsets:
        if offset >= len(encoded):
            continue
        start, end = starts[offset], starts[offset + 1]
        feature = pango.pango_attr_font_features_new(b"halt")
        feature.start_index, feature.end_index = start, end
        pango.pango_attr_list_insert(attributes, feature)
        spaced = pango.pango_attr_letter_spacing_new(int(spacing * TO_UNITS))
        spaced.start_index, spaced.end_index = start, end
        pango.pango_attr_list_change(attributes, spaced)
    pango.pango_layout_set_attributes(self.layout, attributes)


def _install_compression():
    # Layouts are set up again from their text when drawn (Layout.reactivate calls
    # set_text), so the offsets live on the Layout and survive that.
    line_break.Layout.compressed = ()
    line_break.Layout.set_text = _set_text


def classes_of(box):
    """The classes of the element a box was made for."""
    element = getattr(box, "element", None)
    if element is None:
        return ()
    return (element.get("class") or "").split()


def _walk(box, parent=None):
    """Yield (box, parent) for `box` and all its descendants, in document order."""
    yield box, parent
    for child in getattr(box, "children", ()):
        yield from _walk(child, box)


def text_boxes(box):
    """The non-empty text boxes of a line, in order."""
    if isinstance(box, boxes.TextBox):
        if box.text:
            yield box
    elif isinstance(box, (boxes.LineBox, boxes.InlineBox)):
        for child in box.children:
            yield from text_boxes(child)


def letter_spacing(style):
    value = style["letter_spacing"]
    return 0 if value == "normal" else value


def ink_right(line):
    """x of the end of the last glyph of `line` (a text box's width includes one trailing
    letter-spacing that is never drawn)."""
    last = list(text_boxes(line))[-1]
    return last.position_x + last.width - letter_spacing(last.style)


def _relayout(box, style, compressed):
    """Set `box` again with `style` and the marks at `compressed` halved; its new width."""
    layout = box.pango_layout
    if (
        layout.__dict__.get("_kept") and not layout.compressed and layout.text == box.text
        and layout.justification_spacing == box.justification_spacing
    ):
        # The line's layout from line breaking, still shaped (`_keep`): set again with the
        # new spacing rather than made anew (a Pango context, a layout, a font description).
        del layout._kept
        layout.style = style
        single = True
    else:
        layout = line_break.Layout(style, box.justification_spacing)
        single = _single_paragraph(layout, box.text)
    layout.compressed = compressed
    # A fresh layout holding only this box's text: the one from line breaking may hold the
    # rest of the paragraph and would wrap again when drawn.
    layout.set_text(box.text)
    first_line, _ = layout.get_first_line()
    width, _ = line_size(first_line, style)
    # Drawn as it is (`_keep`), or set up again by drawing.
    _keep(layout, single)
    box.style = style
    box.pango_layout = layout
    return width


def _shift_after(line, changes):
    """Apply {text box: new width} to `line`, moving every box after a changed one."""
    shift = 0.0

    def visit(box):
        nonlocal shift
        if isinstance(box, boxes.TextBox):
            box.position_x += shift
            if box in changes:
                shift += changes[box] - box.width
                box.width = changes[box]
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


def compress_line(line, offsets):
    """Set the marks at `offsets` (in the text of `line`) in half their width."""
    changes = {}
    start = 0
    for box in text_boxes(line):
        local = tuple(i - start for i in offsets if start <= i < start + len(box.text))
        start += len(box.text)
        if local:
            changes[box] = _relayout(box, box.style, local)
    _shift_after(line, changes)


def set_spacing(line, delta, only=None):
    """Add `delta` to the letter-spacing of the text boxes of `line` (of `only` if given),
    moving the boxes after them."""
    changes = {}
    for box in text_boxes(line):
        if only is None or box is only:
            style = box.style.copy()
            style["letter_spacing"] = letter_spacing(box.style) + delta
            changes[box] = _relayout(box, style, getattr(box.pango_layout, "compressed", ()))
    _shift_after(line, changes)


def _gaps(box):
    # A compressed mark is half a character, so it takes half a gap's justification.
    return len(box.text) - len(getattr(box.pango_layout, "compressed", ())) / 2


def justify_line(line, right, final=False):
    """Spread or tighten `line` so that its last glyph ends at `right`; the space added (or,
    negative, taken away), 0 when the line is left as it is."""
    texts = list(text_boxes(line))
    if not texts:
        return 0.0
    extra = right - ink_right(line)
    # A final line stays as it is, unless its letter-spacing made it overshoot.
    if abs(extra) < TOLERANCE or (final and extra > 0):
        return 0.0
    if abs(extra) < SMALL_CORRECTION:
        longest = max(texts, key=_gaps)
        if _gaps(longest) >= 2:
            last = longest is texts[-1]
            set_spacing(line, extra / (_gaps(longest) - last), only=longest)
            return extra
    gaps = sum(_gaps(box) for box in texts) - 1
    if gaps < 1:
        return 0.0
    delta = extra / gaps
    if delta > MAX_JUSTIFY_GAP * texts[0].style["font_size"]:
        return 0.0
    set_spacing(line, delta)
    return extra


def _compressed(element):
    """[offsets of the compressed marks of each line] from the element's data-compress."""
    value = element.get(COMPRESS_ATTRIBUTE) or ""
    return [tuple(int(i) for i in line.split(",") if i) for line in value.split(";")] if value else []


def justified_lines(document, class_name=JUSTIFY_CLASS):
    """{element: [(line, block), …]} for the line boxes of elements with `class_name`, in
    order across pages."""
    lines = {}
    for page in document.pages:
        for box, parent in _walk(page._page_box):
            if isinstance(box, boxes.LineBox) and class_name in classes_of(box):
                lines.setdefault(id(box.element), []).append((box, parent))
    return lines


@dataclass(frozen=True)
class Justified:
    changed: int  # lines whose spacing was set
    spread: int  # lines that took half an em or more of letter-spacing: no compression filled them


def justify(document, class_name=JUSTIFY_CLASS):
    """Compress the marks each `class_name` element lists in its data-compress, then justify
    every line of those elements to both edges."""
    changed = spread = 0
    for element_lines in justified_lines(document, class_name).values():
        compressed = _compressed(element_lines[0][0].element)
        for index, (line, block) in enumerate(element_lines):
            if index < len(compressed) and compressed[index]:
                compress_line(line, compressed[index])
            right = block.content_box_x() + block.width
            added = justify_line(line, right, final=index == len(element_lines) - 1)
            changed += bool(added)
            spread += added >= line.style["font_size"] / 2
    return Justified(changed, spread)
