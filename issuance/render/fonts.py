"""Where the typefaces of a 公文 live on this machine, and which characters each one has.

GB/T 9704 names commercial faces (仿宋_GB2312, 方正小标宋简体 …); the engine uses the
free faces that Debian packages ship instead (../shared/spec/gbt9704.md, last table).
The Fandol faces are single .otf files that the renderer loads through its own URL
fetcher; the other faces are system fonts that fontconfig already knows by family name,
so they only need to be present.

The Fandol faces cover GB 2312. Characters beyond it are set in the fallback faces, in
this order (docs/layout.md says why): Noto Serif CJK SC (all of CJK Extension A and the
Extension B–G characters used in Hong Kong, Taiwan and Japan), BabelStone Han (Chinese
glyph forms, Extensions B–H in part, all of Extension G's common characters), then
HanaMinA and HanaMinB (all of Extensions B–F). A 黑体 heading tries Noto Sans CJK SC
first. A character none of them has is refused when the document is saved
(issuance/render/coverage.py).

A missing face would silently fall back to whatever fontconfig finds and change the
layout, so every lookup fails loudly instead, naming the file and the package.
"""

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from fontTools.ttLib import TTCollection, TTFont

FANDOL_DIRS = (
    "/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol",
    "/usr/share/texmf/fonts/opentype/public/fandol",
    "/usr/local/share/texmf/fonts/opentype/public/fandol",
)
NOTO_DIRS = (
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
)
BABELSTONE_DIRS = ("/usr/share/fonts/truetype/babelstone",)
HANAZONO_DIRS = ("/usr/share/fonts/truetype/hanazono",)


# The CJK ideographs, radicals and strokes: what the extension faces are installed for.
IDEOGRAPHS = (
    (0x2E80, 0x2FDF),  # CJK and Kangxi radicals
    (0x31C0, 0x31EF),  # strokes
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # the unified ideographs
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0x20000, 0x2FA1F),  # Extensions B to F and I, compatibility supplement
    (0x30000, 0x323AF),  # Extensions G and H
)


# Faces are compared and hashed by identity: each is one of this module's constants, and
# the caches keyed by face (character maps, advances) are looked up for every character.
@dataclass(frozen=True, eq=False)
class Face:
    key: str
    label: str  # the standard's name of the face, for error messages
    filename: str
    dirs: tuple
    package: str
    family: str  # the CSS family name the stylesheet uses
    index: int = 0  # the face's index in a .ttc collection
    # The code point ranges the face stands in for, or None for all it has. BabelStone Han
    # and HanaMinA also draw emoji and other pictographs in outline: those are no part of
    # a 公文, and a character only such a face has is refused, not printed.
    ranges: tuple = None


# Faces the stylesheet loads with @font-face (keys are the names in `gongwen-font:` URLs).
FACES = {
    "fang": Face("fang", "仿宋", "FandolFang-Regular.otf", FANDOL_DIRS, "texlive-lang-chinese", "GwFang"),
    "hei": Face("hei", "黑体", "FandolHei-Regular.otf", FANDOL_DIRS, "texlive-lang-chinese", "GwHei"),
    "kai": Face("kai", "楷体", "FandolKai-Regular.otf", FANDOL_DIRS, "texlive-lang-chinese", "GwKai"),
    # 宋体, for the page numbers' half-width digits and one-character dashes.
    "song": Face("song", "宋体", "FandolSong-Regular.otf", FANDOL_DIRS, "texlive-lang-chinese", "GwSong"),
}
# The faces document text is set in; the Fandol faces cover GB 2312.
TEXT_FACES = ("fang", "hei", "kai")

# Faces used through fontconfig by family name: 小标宋, and the fallbacks for characters
# outside GB 2312. Index 2 of each Noto CJK collection is its Simplified Chinese member.
BIAOSONG = Face("biaosong", "小标宋", "NotoSerifCJK-Bold.ttc", NOTO_DIRS, "fonts-noto-cjk", "Noto Serif CJK SC", 2)
SERIF = Face("serif", "宋体（后备）", "NotoSerifCJK-Regular.ttc", NOTO_DIRS, "fonts-noto-cjk", "Noto Serif CJK SC", 2)
SANS = Face("sans", "黑体（后备）", "NotoSansCJK-Regular.ttc", NOTO_DIRS, "fonts-noto-cjk", "Noto Sans CJK SC", 2)
_EXTENSION = "扩展区汉字（后备）"
BABELSTONE = Face(
    "babelstone", _EXTENSION, "BabelStoneHan.ttf", BABELSTONE_DIRS, "fonts-babelstone-han", "BabelStone Han",
    ranges=IDEOGRAPHS,
)
HANA_A = Face("hana_a", _EXTENSION, "HanaMinA.ttf", HANAZONO_DIRS, "fonts-hanazono", "HanaMinA", ranges=IDEOGRAPHS)
HANA_B = Face("hana_b", _EXTENSION, "HanaMinB.ttf", HANAZONO_DIRS, "fonts-hanazono", "HanaMinB", ranges=IDEOGRAPHS)
# After Noto: the faces for the characters of CJK Extensions B to H that Noto lacks.
EXTENSION_FACES = (BABELSTONE, HANA_A, HANA_B)
# The fallback chains the stylesheet (gongwen.css, `.fb`) names for 仿宋, 楷体 and 小标宋
# text, and for 黑体 text; both hold every fallback face, so that a character one of them
# has prints in either.
SERIF_CHAIN = (SERIF,) + EXTENSION_FACES + (SANS,)
SANS_CHAIN = (SANS,) + EXTENSION_FACES + (SERIF,)
SYSTEM_FACES = (BIAOSONG,) + SERIF_CHAIN

# The seal's face: its outlines are read with fontTools and drawn as paths (seal.py);
# characters it lacks come from Noto Serif CJK Bold, then from the extension faces.
SEAL_FACE = Face("seal", "印章宋体", "FandolSong-Bold.otf", FANDOL_DIRS, "texlive-lang-chinese", "")
SEAL_FALLBACKS = (BIAOSONG,) + EXTENSION_FACES


class FontMissingError(RuntimeError):
    """A typeface the layout depends on is not installed."""


def _extra_dirs():
    # GONGWEN_FONT_DIRS (settings or environment, colon-separated) lets a machine whose
    # fonts live elsewhere point at them without code changes.
    configured = getattr(settings, "GONGWEN_FONT_DIRS", None) or os.environ.get("GONGWEN_FONT_DIRS", "")
    if isinstance(configured, str):
        configured = [part for part in configured.split(os.pathsep) if part]
    return tuple(configured)


def _find(face):
    for directory in _extra_dirs() + face.dirs:
        path = Path(directory) / face.filename
        if path.is_file():
            return path
    raise FontMissingError(
        f"缺少{face.label}字体文件 {face.filename}，公文无法按 GB/T 9704 排版。"
        f"请安装 Debian 软件包 {face.package}（apt-get install {face.package}），"
        f"或在 GONGWEN_FONT_DIRS 中指明字体所在目录。"
    )


@functools.cache
def path_of(face):
    return _find(face)


def font_path(key):
    """The file of the @font-face face `key` ("fang", "hei", "kai", "song")."""
    return path_of(FACES[key])


@functools.cache
def open_face(face):
    """The fontTools font of `face`, its tables read only when asked for."""
    path = path_of(face)
    if path.suffix == ".ttc":
        return TTCollection(path, lazy=True).fonts[face.index]
    return TTFont(path, lazy=True)


# HarfBuzz reads a face's tables where they lie in the file (mapped, not parsed): its
# character map in 1–20 ms, where fontTools takes 50–350 ms to build it as a dict (the Noto
# collections' 44,000 characters). The advances it gives at its default scale (units per
# em) are those of the face's hmtx table. Only these few functions are declared, in an FFI
# of the renderer's own: WeasyPrint's declares none of them.
_HARFBUZZ = """
typedef struct hb_blob_t hb_blob_t;
typedef struct hb_face_t hb_face_t;
typedef struct hb_font_t hb_font_t;
typedef struct hb_set_t hb_set_t;
typedef uint32_t hb_codepoint_t;
typedef int32_t hb_position_t;
typedef int hb_bool_t;
hb_blob_t *hb_blob_create_from_file(const char *file_name);
unsigned int hb_blob_get_length(hb_blob_t *blob);
void hb_blob_destroy(hb_blob_t *blob);
hb_face_t *hb_face_create(hb_blob_t *blob, unsigned int index);
void hb_face_destroy(hb_face_t *face);
unsigned int hb_face_get_upem(const hb_face_t *face);
hb_font_t *hb_font_create(hb_face_t *face);
void hb_font_destroy(hb_font_t *font);
hb_set_t *hb_set_create(void);
void hb_set_destroy(hb_set_t *set);
unsigned int hb_set_get_population(const hb_set_t *set);
unsigned int hb_set_next_many(const hb_set_t *set, hb_codepoint_t codepoint, hb_codepoint_t *out,
                              unsigned int size);
void hb_face_collect_unicodes(hb_face_t *face, hb_set_t *out);
hb_bool_t hb_font_get_nominal_glyph(hb_font_t *font, hb_codepoint_t unicode, hb_codepoint_t *glyph);
hb_position_t hb_font_get_glyph_h_advance(hb_font_t *font, hb_codepoint_t glyph);
"""
_HB_SET_INVALID = 0xFFFFFFFF  # hb_set_next_many starts after this: at the first code point


@functools.cache
def _harfbuzz():
    import ctypes.util

    import cffi

    ffi = cffi.FFI()
    ffi.cdef(_HARFBUZZ)
    try:
        return ffi, ffi.dlopen("libharfbuzz.so.0")
    except OSError:
        return ffi, ffi.dlopen(ctypes.util.find_library("harfbuzz") or "harfbuzz")


class HbFace:
    """A face as HarfBuzz reads it: its characters, glyph ids and advances (hb_face keeps
    one per face for the life of the process; HarfBuzz's objects are freed with it)."""

    def __init__(self, path, index=0):
        self._ffi, self._hb = _harfbuzz()
        # The face holds a reference to the blob, and the font to the face.
        blob = self._ffi.gc(self._hb.hb_blob_create_from_file(str(path).encode()), self._hb.hb_blob_destroy)
        if not self._hb.hb_blob_get_length(blob):
            raise FontMissingError(f"无法读取字体文件 {path}")
        self._face = self._ffi.gc(self._hb.hb_face_create(blob, index), self._hb.hb_face_destroy)
        self._font = self._ffi.gc(self._hb.hb_font_create(self._face), self._hb.hb_font_destroy)
        self.upem = self._hb.hb_face_get_upem(self._face)

    def codes(self):
        """The code points of the face's character map, ascending."""
        found = self._hb.hb_set_create()
        try:
            self._hb.hb_face_collect_unicodes(self._face, found)
            count = self._hb.hb_set_get_population(found)
            codes = self._ffi.new("hb_codepoint_t[]", count)
            self._hb.hb_set_next_many(found, _HB_SET_INVALID, codes, count)
            return self._ffi.unpack(codes, count)
        finally:
            self._hb.hb_set_destroy(found)

    def glyph(self, code):
        """The glyph id of code point `code`, or None when the face lacks it."""
        # A buffer per call: render threads may ask at once (HarfBuzz's font is safe to share).
        glyph = self._ffi.new("hb_codepoint_t *")
        if self._hb.hb_font_get_nominal_glyph(self._font, code, glyph):
            return glyph[0]
        return None

    def advance(self, glyph):
        """The advance width of glyph id `glyph`, in font units."""
        return self._hb.hb_font_get_glyph_h_advance(self._font, glyph)


@functools.cache
def hb_face(face):
    return HbFace(path_of(face), face.index)


@functools.cache
def cmap(face):
    """The characters `face` is used for, as a frozenset of code points: those of its
    character map within its `ranges`."""
    codes = hb_face(face).codes()
    if face.ranges is None:
        return frozenset(codes)
    return frozenset(code for code in codes if any(low <= code <= high for low, high in face.ranges))


@functools.cache
def check_fonts():
    """Fail with a clear message unless every face, loaded or system, is installed."""
    for key in FACES:
        font_path(key)
    for face in SYSTEM_FACES + (SEAL_FACE,):
        path_of(face)
