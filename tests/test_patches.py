"""The changes to WeasyPrint 70 (issuance/render/patches.py), each on its own.

Each test lays out a small page with WeasyPrint directly, in Noto Serif CJK SC (a system
face with the OpenType halt feature), not through the 公文 template, so that a failure
names the change that broke and not the layout around it.
"""

import io
import zlib

import pdfplumber
import pydyf
import pytest
import weasyprint
from weasyprint import HTML
from weasyprint.draw import text as draw_text
from weasyprint.formatting_structure import boxes
from weasyprint.pdf import fonts as pdf_fonts
from weasyprint.text.ffi import ffi
from weasyprint.text.fonts import FontConfiguration

from issuance.render import patches

patches.install()

# Sizes in CSS px, WeasyPrint's unit for boxes; the PDF measures in pt (0.75 px).
FACE = "font-family: 'Noto Serif CJK SC'; font-size: 16px; line-height: 24px"
PT = 0.75
RIGHT = 400 - 20  # the right edge of the page's content box


def page(body):
    html = f"<style>@page {{ size: 400px 300px; margin: 20px }} body {{ margin: 0; {FACE} }}</style>{body}"
    return HTML(string=html).render()


def chars_of(document):
    """The PDF's characters, their positions in px."""
    with pdfplumber.open(io.BytesIO(document.write_pdf())) as pdf:
        chars = [dict(c) for c in pdf.pages[0].chars if c["text"].strip()]
    for char in chars:
        char["x0"] /= PT
        char["x1"] /= PT
    return chars


def lines_of(document):
    found = []

    def walk(box):
        if isinstance(box, boxes.LineBox):
            found.append(box)
        for child in getattr(box, "children", ()):
            walk(child)

    walk(document.pages[0]._page_box)
    return found


# install() and the version ---------------------------------------------------------


def test_install_is_done_once_and_only_for_weasyprint_70():
    assert weasyprint.__version__ == patches.WEASYPRINT_VERSION == "70.0"
    assert patches.installed()
    patches.check_version()  # no error for the version the changes were written for
    with pytest.raises(patches.PatchError, match="WeasyPrint 70.0.*71.0"):
        patches.check_version("71.0")


def test_install_refuses_to_start_on_another_weasyprint(monkeypatch):
    monkeypatch.setattr(weasyprint, "__version__", "69.0")
    monkeypatch.setitem(patches._state, "installed", False)
    with pytest.raises(patches.PatchError):
        patches.install()


# Exact glyph positions ----------------------------------------------------------------


@pytest.mark.parametrize("value, text", [(-214.6, "-214.6"), (12.3456, "12.346"), (0.0004, "0"), (-0.0004, "0"), (500, "500")])
def test_tj_adjustments_are_written_to_three_decimals(value, text):
    assert patches._exact_adjustment(value) == text


def test_letter_spaced_glyphs_land_where_the_layout_puts_them():
    # 16 px glyphs 0.2146 px closer than their em: truncated to whole thousandths of an em,
    # each glyph drifted 0.01 px further, 0.16 px over 17 glyphs.
    assert "issuance.render.patches" in draw_text.draw_first_line.__doc__
    chars = chars_of(page("<p style='letter-spacing: -0.2146px'>" + "国" * 17 + "</p>"))
    pitches = [b["x0"] - a["x0"] for a, b in zip(chars, chars[1:])]
    assert all(p == pytest.approx(16 - 0.2146, abs=0.002) for p in pitches)
    # Over 16 pitches within Pango's own unit (1/1024 px of letter-spacing a glyph).
    assert chars[-1]["x0"] - chars[0]["x0"] == pytest.approx(16 * 15.7854, abs=0.02)


# Speed -------------------------------------------------------------------------------


def test_streams_are_compressed_at_level_3():
    assert pydyf.zlib is patches._Zlib
    data = "国家科学技术".encode() * 5000
    assert patches._Zlib.compress(data, 9) == zlib.compress(data, 3)
    stream = patches._Zlib.compressobj(9)
    assert stream.compress(data) + stream.flush() == zlib.compress(data, 3)
    assert zlib.decompress(patches._Zlib.compress(data)) == data


def test_a_font_file_is_copied_out_of_harfbuzz_once_per_face(monkeypatch):
    assert pdf_fonts.get_hb_object_data is patches._face_bytes
    copies = []

    def counted(hb_object, *args):
        copies.append(patches._key(hb_object))
        return original(hb_object, *args)

    original = patches._original_get_data
    monkeypatch.setattr(patches, "_original_get_data", counted)
    monkeypatch.setattr(patches, "_face_data", {})
    config = FontConfiguration()  # one per thread in the renderer, as here
    html = f"<p style=\"{FACE}\">国家科学技术</p>"

    def render():
        copies.clear()
        pdf = HTML(string=html).render(font_config=config).write_pdf()
        assert pdf.startswith(b"%PDF")
        return [key for key in copies if key in patches._pango_faces]

    assert render()  # the collection of Noto Serif CJK, copied once …
    assert render() == []  # … and not again for the next document
    # Only the faces of Pango's fonts are kept, not the subset made for each document.
    assert set(patches._face_data) <= patches._pango_faces
    kept = len(patches._face_data)
    render()
    assert len(patches._face_data) == kept


def test_sized_cffi_arrays_are_made_without_a_new_c_type():
    array = pdf_fonts.ffi.new("hb_codepoint_t[3]", [7, 8, 9])
    assert list(array) == [7, 8, 9] and len(array) == 3
    assert ffi.typeof(array) is ffi.typeof("hb_codepoint_t[]")
    # Anything else goes to cffi unchanged.
    assert ffi.typeof(pdf_fonts.ffi.new("unsigned int *")) is ffi.typeof("unsigned int *")
    assert pdf_fonts.ffi.NULL is ffi.NULL


# Punctuation compression ------------------------------------------------------------


def test_compressed_marks_take_half_their_width():
    document = page("<p class='jf' style='white-space: pre'>甲，“乙”。丙</p>")
    line = lines_of(document)[0]
    before = patches.ink_right(line)
    # "，" and "“" (offsets 1 and 2): the closing mark keeps its ink on the left, the opening
    # mark moves half an em left; both take half an em less.
    patches.compress_line(line, (1, 2))
    assert before - patches.ink_right(line) == pytest.approx(16, abs=0.05)
    chars = chars_of(document)
    x = {c["text"]: c["x0"] for c in chars}
    # "“" is drawn half an em left of where the pen stands, half an em after "，": its em box
    # starts where the comma's does, its ink (the right half) after the comma's.
    assert x["“"] - x["，"] == pytest.approx(0, abs=0.3)
    assert x["乙"] - x["，"] == pytest.approx(8 + 8, abs=0.05)
    assert [c["text"] for c in chars] == list("甲，“乙”。丙")


def test_compression_survives_drawing_and_letter_spacing():
    document = page("<p class='jf' style='white-space: pre'>甲，乙</p>")
    line = lines_of(document)[0]
    patches.compress_line(line, (1,))
    patches.set_spacing(line, 1.0)
    box = next(patches.text_boxes(line))
    assert box.pango_layout.compressed == (1,)
    chars = chars_of(document)
    # 甲 16 + 1 px, "，" half of that: 8 + 0.5 px (Pango shares the spacing out at the
    # boundary of the two runs, so only the sum is exact).
    assert chars[2]["x0"] - chars[0]["x0"] == pytest.approx(17 + 8.5, abs=0.05)
    assert chars[2]["x0"] - chars[1]["x0"] < 10


# Inter-character justification -------------------------------------------------------


def test_justify_spreads_every_line_but_the_last_to_the_right_edge():
    # 360 px hold 22 characters and a half; "，" may not start a line, so lines end short.
    text = "为普及科学知识经研究决定开展科技活动周，" * 4
    document = page(f"<p class='jf'>{text}</p>")
    lines = lines_of(document)
    right = RIGHT
    assert any(abs(patches.ink_right(line) - right) > 1 for line in lines[:-1])
    justified = patches.justify(document)
    # Each line but the last was half an em short: spread, and counted as letter-spaced.
    assert justified.changed == justified.spread == 3
    for line in lines[:-1]:
        assert patches.ink_right(line) == pytest.approx(right, abs=0.01)
    assert patches.ink_right(lines[-1]) < right
    chars = chars_of(document)
    assert "".join(c["text"] for c in chars) == text


def test_justify_reads_the_marks_to_compress_from_data_compress():
    document = page("<p class='jf' style='white-space: pre' data-compress='1;'>甲，乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉\n戌</p>")
    first, last = lines_of(document)
    patches.justify(document)
    assert patches.ink_right(first) == pytest.approx(RIGHT, abs=0.01)
    box = next(patches.text_boxes(first))
    assert box.pango_layout.compressed == (1,)
