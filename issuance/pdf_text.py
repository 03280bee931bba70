"""Exact glyph positions in WeasyPrint's PDF text: a one-token fix, applied at import.

WeasyPrint 70 writes each glyph's position adjustment into the TJ array as
`int(kerning)` (weasyprint/draw/text.py, `draw_first_line`), in thousandths of an em.
`int` truncates: with letter-spacing, every glyph of a line is drawn up to 1/1000 em away
from where the layout put it, and the error adds up along the line: 0.24 pt too long for a
28-character line of 3号 text with the grid's −0.2146 pt spacing, 0.4 pt too short for a
line widened by justification. GB/T 9704's flush right edge cannot be met to a tenth of a
point that way.

PDF allows real numbers in TJ arrays, so the fix is to write the adjustment with three
decimals instead of truncating it; that is the change proposed upstream. Until WeasyPrint
has it, `install()` recompiles `draw_first_line` from WeasyPrint's own source with that
one expression replaced. If the source is not the expected one (another WeasyPrint
version), nothing is patched and `installed()` says so; tests that measure the right edge
to 0.1 pt then fail loudly instead of the layout silently drifting.
"""

import inspect
import logging
import textwrap

from weasyprint.draw import text as draw_text

logger = logging.getLogger(__name__)

ORIGINAL = "string += f'>{int(kerning)}<'"
PATCHED = "string += f'>{_exact_adjustment(kerning)}<'"

_state = {"installed": False}


def _exact_adjustment(value):
    """A TJ adjustment in thousandths of an em, rounded to 1/1000 of that, not truncated."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def install():
    """Replace weasyprint.draw.text.draw_first_line by its exact-positioning variant."""
    if _state["installed"]:
        return True
    function = draw_text.draw_first_line
    try:
        source = textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):  # pragma: no cover - source not shipped
        logger.warning("WeasyPrint source not available: glyph positions stay truncated")
        return False
    if source.count(ORIGINAL) != 1:
        logger.warning("WeasyPrint's draw_first_line changed: glyph positions stay truncated")
        return False
    namespace = dict(vars(draw_text))
    namespace["_exact_adjustment"] = _exact_adjustment
    code = compile(source.replace(ORIGINAL, PATCHED), inspect.getsourcefile(function), "exec")
    exec(code, namespace)  # noqa: S102 - WeasyPrint's own source, one expression changed
    patched = namespace["draw_first_line"]
    patched.__doc__ = (function.__doc__ or "") + " (TJ adjustments exact: issuance.pdf_text)"
    # draw_text() looks the function up in its module at each call; svg/text.py imports it
    # from there at each call too.
    draw_text.draw_first_line = patched
    _state["installed"] = True
    return True


def installed():
    return _state["installed"]
