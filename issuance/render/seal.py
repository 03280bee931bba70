"""The red round seal (印章) of an issuing organ, drawn as vector paths.

A 公文 that carries a seal shows the organ's round seal over its 署名 and 成文日期
(GB/T 9704-2012, 7.3.5.1). The issued copy is made by the system, so the seal is drawn
from the organ's name: a red ring, the name set along the upper arc in a bold 宋体, and a
five-pointed star in the centre, the layout of the seals of 党政机关 (国发〔1999〕25号:
round, the name around the upper edge, the star in the middle, 宋体).

The name is drawn as glyph outlines (`<path>`), not as `<text>`: the seal is a picture
of a name, and the PDF's extracted text must stay exactly the document's text. The SVG
holds nothing but numbers this module computes, so it is safe to put into the page
unescaped.
"""

import functools
import math

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen

from . import fonts

# Geometry in millimetres. Seals of organs at and above county level are 42 mm across
# (45 mm for the State Council's departments); 42 mm suits a municipal bureau.
DIAMETER = 42.0
RING_WIDTH = 1.2
TEXT_GAP = 0.9  # between the ring and the outer edge of the characters
CHAR_HEIGHT = 7.4
CHAR_ASPECT = 0.82  # seal characters are narrower than they are high
CHAR_MIN_GAP = 0.6  # between two characters along the arc
STEP_ANGLE = 30.0  # degrees between two characters, while the span allows it
MIN_SPAN = 120.0
MAX_SPAN = 250.0  # degrees from the first character's centre to the last one's
STAR_RADIUS = 7.0  # the star's points lie on this circle
COLOR = "#e60012"


def _face(font, glyphs):
    os2 = font["OS/2"]
    return glyphs, font, font.getGlyphSet(), (os2.sTypoAscender + os2.sTypoDescender) / 2, font["head"].unitsPerEm


@functools.cache
def _face_of(face):
    """(HarfBuzz's face for the glyph ids, the fontTools font for the glyph names, its glyph
    set, vertical centre of the em box in font units, units per em)."""
    return _face(fonts.open_face(face), fonts.hb_face(face))


def _faces():
    # A fallback face is opened only for a name with a character the faces before it lack:
    # reading a large face's character map takes a tenth of a second.
    yield _face_of(fonts.SEAL_FACE)
    for face in fonts.SEAL_FALLBACKS:
        yield _face_of(face)


@functools.cache
def glyph_path(char, scale_x, scale_y):
    """SVG path data of `char` centred on (0, 0), y downwards, in millimetres; None when no
    face has the character."""
    for glyphs, font, glyph_set, middle, upem in _faces():
        glyph_id = glyphs.glyph(ord(char))
        if glyph_id is None:
            continue
        glyph = glyph_set[font.getGlyphName(glyph_id)]
        sx = scale_x / upem
        sy = scale_y / upem
        pen = SVGPathPen(glyph_set, ntos=lambda value: f"{value:.3f}".rstrip("0").rstrip("."))
        # Centre the em box on the origin and flip it: fonts count y upwards.
        glyph.draw(TransformPen(pen, (sx, 0, 0, -sy, -glyph.width * sx / 2, middle * sy)))
        return pen.getCommands()
    return None


def _star(radius):
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else radius * 0.382
        angle = math.radians(-90 + 36 * k)
        points.append(f"{r * math.cos(angle):.3f},{r * math.sin(angle):.3f}")
    return "M" + " L".join(points) + " Z"


def _layout(name):
    """Angle (degrees, clockwise from the top) and glyph size of each character."""
    chars = [ch for ch in name if not ch.isspace()]
    n = len(chars)
    radius = DIAMETER / 2 - RING_WIDTH - TEXT_GAP - CHAR_HEIGHT / 2
    if n <= 1:
        return chars, [0.0], radius, CHAR_HEIGHT * CHAR_ASPECT
    # A short name still spreads over a third of the ring; a long one is squeezed into
    # MAX_SPAN.
    span = min(MAX_SPAN, max(MIN_SPAN, STEP_ANGLE * (n - 1)))
    step = span / (n - 1)
    # Narrow the characters when the arc gets crowded, never their height.
    arc = math.radians(step) * radius
    width = min(CHAR_HEIGHT * CHAR_ASPECT, arc - CHAR_MIN_GAP)
    start = -step * (n - 1) / 2
    return chars, [start + step * i for i in range(n)], radius, width


def seal_svg(name, diameter_mm=DIAMETER, ident="seal"):
    """Inline SVG markup of the seal of the organ `name`, `diameter_mm` across.

    The drawing multiplies with what lies under it (feBlend multiply), as ink does on paper:
    black text under the seal stays black and readable. `ident` names the SVG filter and
    must differ between the seals of one page.
    """
    chars, angles, radius, width = _layout(name)
    parts = []
    for char, angle in zip(chars, angles):
        path = glyph_path(char, round(width, 3), CHAR_HEIGHT)
        if not path:
            continue
        parts.append(f'<path transform="rotate({angle:.3f}) translate(0 {-radius:.3f})" d="{path}"/>')
    half = DIAMETER / 2
    ring = half - RING_WIDTH / 2
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="seal" width="{diameter_mm}mm" height="{diameter_mm}mm" '
        f'viewBox="{-half} {-half} {DIAMETER} {DIAMETER}">'
        f'<filter id="{ident}-ink"><feBlend mode="multiply"/></filter>'
        f'<g filter="url(#{ident}-ink)" fill="{COLOR}">'
        f'<circle r="{ring:.3f}" fill="none" stroke="{COLOR}" stroke-width="{RING_WIDTH}"/>'
        f'<path d="{_star(STAR_RADIUS)}"/>'
        + "".join(parts)
        + "</g></svg>"
    )
