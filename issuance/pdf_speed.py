"""Three per-process speed-ups of WeasyPrint's PDF output (numbers in docs/benchmarks.md).

Writing the seed's 8 pages took 190 ms of a 280 ms render; two costs in it do not depend
on the document:

* pydyf compresses every stream with zlib level 9. The streams are mostly the subset
  CJK fonts (about 1 MB); level 3 compresses them three times faster for a file 2 %
  larger. `COMPRESSION_LEVEL` sets it.
* For every font of every document, WeasyPrint copies the whole font file out of
  HarfBuzz into a Python bytes object (`get_hb_object_data(hb_face)`), 27 MB for the Noto
  CJK collection, only to replace it by the subset a moment later. The copy is kept per
  HarfBuzz face instead; the faces belong to the thread's cached font configuration
  (rendering._Resources) and are referenced here so that they stay alive.

* WeasyPrint's font subsetting asks cffi for arrays typed `hb_codepoint_t[N]`, a new C
  type for every new N, and cffi parses each new type with pycparser: 8 ms apiece, ten
  per document with new glyph counts, 90 ms of a cold process. The module's `ffi` is
  wrapped so that such arrays are made as `hb_codepoint_t[]` (length from the
  initialiser, the same array), a type parsed once.

`install()` is idempotent and changes nothing but these three things.
"""

import re
import threading
import zlib

import pydyf
from weasyprint.pdf import fonts as pdf_fonts
from weasyprint.text.ffi import ffi, harfbuzz

COMPRESSION_LEVEL = 3

_state = {"installed": False}
_face_data = {}
_lock = threading.Lock()


class _Zlib:
    """zlib as pydyf sees it: the same functions, at COMPRESSION_LEVEL."""

    error = zlib.error

    @staticmethod
    def compressobj(level=-1, *args, **kwargs):
        return zlib.compressobj(COMPRESSION_LEVEL, *args, **kwargs)

    @staticmethod
    def compress(data, level=-1):
        return zlib.compress(data, COMPRESSION_LEVEL)

    decompress = staticmethod(zlib.decompress)


_original_get_data = pdf_fonts.get_hb_object_data


def _face_bytes(hb_object, ot_color=None, glyph=None):
    if ot_color is not None:
        return _original_get_data(hb_object, ot_color, glyph)
    key = int(ffi.cast("uintptr_t", hb_object))
    cached = _face_data.get(key)
    if cached is None:
        data = _original_get_data(hb_object)
        with _lock:
            if key not in _face_data:
                # Hold a reference: the face can then never be freed and its address
                # reused by another face while the entry exists.
                _face_data[key] = (harfbuzz.hb_face_reference(hb_object), data)
            cached = _face_data[key]
    return cached[1]


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


def install():
    if _state["installed"]:
        return
    pydyf.zlib = _Zlib
    pdf_fonts.get_hb_object_data = _face_bytes
    if not isinstance(pdf_fonts.ffi, _ArrayFFI):
        pdf_fonts.ffi = _ArrayFFI(pdf_fonts.ffi)
    _state["installed"] = True
