"""WeasyPrint's system libraries found from the dynamic linker's cache, without a compiler.

When weasyprint.text.ffi is imported it opens Pango, HarfBuzz, fontconfig and GObject
through cffi, trying each library under six names, the Windows and macOS ones included.
For every name that is not a file, cffi asks `ctypes.util.find_library`, which on Linux
runs `ldconfig -p`, then gcc, then ld: 22 look-ups, 15 of them for names that exist on no
Linux system, 0.2 s of every process that renders (a third of a cold render's own work,
on a machine with gcc installed).

`install()` (called when issuance.render is imported, before anything imports WeasyPrint)
arranges that, while that one module runs, `find_library` answers from one reading of
`ldconfig -p` with the pattern ctypes itself uses first. A name the cache does not list
gets None instead of a compiler run: WeasyPrint then tries its next name, and it always
ends with the library's soname (libpango-1.0.so.0 …), which the dynamic linker opens by
itself, LD_LIBRARY_PATH included. Without /sbin/ldconfig (not glibc) nothing changes.
Once the module is imported, `find_library` is ctypes's own again.
"""

import contextlib
import ctypes.util
import importlib.util
import os
import struct
import subprocess
import sys
import types

from config.imports import FirstImport

MODULE = "weasyprint.text.ffi"
LDCONFIG = "/sbin/ldconfig"

# What ctypes.util._findSoname_ldconfig matches: the ABI of this interpreter's libraries.
_ABI = {
    "x86_64-64": "libc6,x86-64",
    "ppc64-64": "libc6,64bit",
    "sparc64-64": "libc6,64bit",
    "s390x-64": "libc6,64bit",
    "ia64-64": "libc6,IA-64",
}


def _abi_type():
    machine = os.uname().machine + ("-32" if struct.calcsize("l") == 4 else "-64")
    return _ABI.get(machine, "libc6")


def read_cache():
    """The output of `ldconfig -p`, or None when there is no glibc ldconfig."""
    try:
        return subprocess.run(
            [LDCONFIG, "-p"], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdout=subprocess.PIPE,
            env={"LC_ALL": "C", "LANG": "C"}, check=False,
        ).stdout
    except OSError:
        return None


def cached_finder(cache):
    """find_library answering from `cache` (ldconfig -p's output) only: the first library
    of this interpreter's ABI whose name is lib<name>.<anything>, as ctypes's pattern
    `\\s+(lib<name>\\.[^\\s]+)\\s+\\(<abi>` finds it, from the cache split into names once."""
    abi = os.fsencode(f"({_abi_type()}")
    names = [
        os.fsdecode(fields[0])
        for fields in (line.split() for line in cache.splitlines()[1:])
        if len(fields) >= 2 and fields[1].startswith(abi)
    ]

    def find_library(name):
        prefix = f"lib{name}."
        return next((found for found in names if found.startswith(prefix)), None)

    return find_library


@contextlib.contextmanager
def libraries_from_cache():
    """While inside, ctypes.util.find_library answers from the linker's cache."""
    cache = read_cache() if sys.platform.startswith("linux") else None
    if not cache:
        yield
        return
    original = ctypes.util.find_library
    ctypes.util.find_library = cached_finder(cache)
    try:
        yield
    finally:
        ctypes.util.find_library = original


def install():
    """Look WeasyPrint's libraries up from the linker's cache when it is first imported,
    and import fontTools' subsetter and variable-font instancer only if WeasyPrint uses
    them (`defer_subsetter`, `_stand_ins`)."""
    _finder.install()
    _fonts_finder.install()
    defer_subsetter()


# weasyprint.pdf.fonts takes `instantiateVariableFont` by name from fontTools.varLib.instancer,
# for variable fonts, which no face of a 公文 is; importing it imports fontTools.varLib and
# the OpenType table modules, 0.03–0.05 s of every process that renders. While that module
# is imported, the name comes from a stand-in module whose function imports the real one
# when first called; the stand-in leaves sys.modules right after, so that any other
# import of fontTools.varLib.instancer gets the real module.
FONTS_MODULE = "weasyprint.pdf.fonts"
STAND_INS = {"fontTools.varLib.instancer": ("instantiateVariableFont",)}


def _forward(module_name, name):
    def forwarded(*args, **kwargs):
        return getattr(importlib.import_module(module_name), name)(*args, **kwargs)

    forwarded.__name__ = forwarded.__qualname__ = name
    forwarded.__doc__ = f"{module_name}.{name}, imported when first called (issuance.render.libraries)."
    return forwarded


@contextlib.contextmanager
def _stand_ins():
    placed = {}
    for module_name, names in STAND_INS.items():
        if module_name in sys.modules:
            continue
        stand_in = types.ModuleType(module_name, "A stand-in while WeasyPrint is imported (issuance.render.libraries).")
        for name in names:
            setattr(stand_in, name, _forward(module_name, name))
        placed[module_name] = sys.modules[module_name] = stand_in
    try:
        yield
    finally:
        for module_name, stand_in in placed.items():
            if sys.modules.get(module_name) is stand_in:
                del sys.modules[module_name]


# fontTools' subsetter: weasyprint.pdf.fonts imports it as a module (`from fontTools import
# subset`) and uses it only when HarfBuzz cannot subset a font, which Debian's
# libharfbuzz-subset always can; importing it (and the table modules it pulls in) is 30–45
# ms of every process that renders.
SUBSETTER = "fontTools.subset"


def defer_subsetter():
    """Put a lazy fontTools.subset in sys.modules: the module runs when one of its names is
    first looked up, not when it is imported."""
    if SUBSETTER in sys.modules:
        return
    parent_name, _, child = SUBSETTER.rpartition(".")
    parent = importlib.import_module(parent_name)
    spec = importlib.util.find_spec(SUBSETTER)
    if spec is None or spec.loader is None:
        return
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[SUBSETTER] = module
    spec.loader.exec_module(module)
    # `from fontTools import subset` takes the package's attribute.
    setattr(parent, child, module)


_finder = FirstImport(MODULE, libraries_from_cache)
_fonts_finder = FirstImport(FONTS_MODULE, _stand_ins)


def uninstall():
    _finder.uninstall()
