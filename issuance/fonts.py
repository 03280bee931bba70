"""Where the typefaces of a 公文 live on this machine.

GB/T 9704 names commercial faces (仿宋_GB2312, 方正小标宋简体 …); the engine uses the
free faces that Debian packages ship instead (../shared/spec/gbt9704.md, last table).
The Fandol faces are single .otf files that the renderer loads through its own URL
fetcher; the Noto CJK faces are .ttc collections that fontconfig already knows by
family name, so they only need to be present.

A missing face would silently fall back to whatever fontconfig finds and change the
layout, so every lookup fails loudly instead, naming the file and the package.
"""

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

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


@dataclass(frozen=True)
class Face:
    key: str
    label: str  # the standard's name of the face, for error messages
    filename: str
    dirs: tuple
    package: str
    family: str  # the CSS family name the stylesheet uses


# Faces the stylesheet loads with @font-face (keys are the names in `gongwen-font:` URLs).
FACES = {
    "fang": Face("fang", "仿宋", "FandolFang-Regular.otf", FANDOL_DIRS, "texlive-lang-chinese", "GwFang"),
    "hei": Face("hei", "黑体", "FandolHei-Regular.otf", FANDOL_DIRS, "texlive-lang-chinese", "GwHei"),
    "kai": Face("kai", "楷体", "FandolKai-Regular.otf", FANDOL_DIRS, "texlive-lang-chinese", "GwKai"),
    # 宋体, for the page numbers' half-width digits and one-character dashes.
    "song": Face("song", "宋体", "FandolSong-Regular.otf", FANDOL_DIRS, "texlive-lang-chinese", "GwSong"),
}

# Faces used through fontconfig by family name: 小标宋, and the fallbacks for characters
# outside GB 2312.
SYSTEM_FACES = (
    Face("biaosong", "小标宋", "NotoSerifCJK-Bold.ttc", NOTO_DIRS, "fonts-noto-cjk", "Noto Serif CJK SC"),
    Face("serif", "宋体（后备）", "NotoSerifCJK-Regular.ttc", NOTO_DIRS, "fonts-noto-cjk", "Noto Serif CJK SC"),
    Face("sans", "黑体（后备）", "NotoSansCJK-Regular.ttc", NOTO_DIRS, "fonts-noto-cjk", "Noto Sans CJK SC"),
)


# The seal's face: its outlines are read with fontTools and drawn as paths (issuance/seal.py).
SEAL_FACE = Face("seal", "印章宋体", "FandolSong-Bold.otf", FANDOL_DIRS, "texlive-lang-chinese", "")
# Characters the seal face lacks come from Noto Serif CJK Bold, the SC member of the collection.
SEAL_FALLBACK_INDEX = 2


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
def font_path(key):
    """The file of the @font-face face `key` ("fang", "hei", "kai")."""
    return _find(FACES[key])


@functools.cache
def seal_font_path():
    return _find(SEAL_FACE)


@functools.cache
def seal_fallback_path():
    """(path, index in the collection) of the seal's fallback face."""
    return _find(SYSTEM_FACES[0]), SEAL_FALLBACK_INDEX


@functools.cache
def check_fonts():
    """Fail with a clear message unless every face, loaded or system, is installed."""
    for key in FACES:
        font_path(key)
    for face in SYSTEM_FACES:
        _find(face)
    seal_font_path()
