"""The line planner (issuance/render/lines.py): where lines may break, which marks may be
compressed and how much, checked against the fonts' own data and on small paragraphs."""

import pytest
from fontTools.pens.boundsPen import BoundsPen

from issuance.render import context, fonts, lines
from issuance.render.grid import CHAR_PITCH, INDENT


def _halt_values(font):
    """{glyph name: (x placement, x advance)} of the face's halt feature."""
    table = font["GPOS"].table
    indexes = {i for record in table.FeatureList.FeatureRecord if record.FeatureTag == "halt"
               for i in record.Feature.LookupListIndex}
    values = {}
    for index in indexes:
        for subtable in table.LookupList.Lookup[index].SubTable:
            glyphs = subtable.Coverage.glyphs
            found = [subtable.Value] * len(glyphs) if subtable.Format == 1 else subtable.Value
            for glyph, value in zip(glyphs, found):
                values[glyph] = (getattr(value, "XPlacement", 0) or 0, getattr(value, "XAdvance", 0) or 0)
    return values


@pytest.mark.parametrize("key", fonts.TEXT_FACES)
def test_the_compressible_marks_are_those_whose_ink_fills_half_their_em_in_each_face(key):
    font = fonts.open_face(fonts.FACES[key])
    cmap, glyphs, upem = font.getBestCmap(), font.getGlyphSet(), font["head"].unitsPerEm
    halt = _halt_values(font)

    def ink(ch):
        pen = BoundsPen(glyphs)
        glyphs[cmap[ord(ch)]].draw(pen)
        return pen.bounds

    for ch in lines.CLOSING:
        assert halt[cmap[ord(ch)]] == (0, -upem // 2), ch  # half the advance, the glyph in place
        assert ink(ch)[2] <= upem * 0.52, ch  # its ink in the left half
    for ch in lines.OPENING:
        assert halt[cmap[ord(ch)]] == (-upem // 2, -upem // 2), ch  # moved left by half an em
        assert ink(ch)[0] >= upem * 0.48, ch  # its ink in the right half
    # "？" is centred in these faces: compressing it would cut its ink.
    left, _, right, _ = ink("？")
    assert left < upem / 2 < right and "？" not in lines.COMPRESSIBLE


@pytest.mark.parametrize("text, allowed, forbidden", [
    # An opening quotation mark may start a line, a closing one end it (clreq); Pango alone
    # forbids both.
    ("落实“第一议题”制度", ["落实|“", "”|制"], ["“|第", "题|”"]),
    ("参与“2024清明”", ["与|“"], ["“|2", "20|24"]),
    ("“科技特派员”“科技副总”", ["”|“"], ["员|”", "“|科"]),
    # No closing mark at a line's start, no opening mark at its end.
    ("条例》，举办", ["，|举"], ["例|》", "》|，"]),
    ("（一）项目", ["）|项"], ["（|一"]),
])
def test_break_opportunities_follow_pango_and_clreq(text, allowed, forbidden):
    breaks = lines.break_opportunities(text)
    for pair in allowed + forbidden:
        before, after = pair.split("|")
        at = text.index(before + after) + len(before)
        assert (at in breaks) == (pair in allowed), pair


def plan(text, indent=INDENT):
    return lines.plan(context._segments(text, context.TEXT_FACE), indent)


def test_a_line_that_fits_is_not_compressed():
    planned = plan("为" * 26 + "测" * 28 + "试")
    assert [len(line.text) for line in planned] == [26, 28, 1]
    assert all(not line.compressed for line in planned)
    assert planned[0].slack == pytest.approx(0, abs=0.02)


def test_marks_next_to_each_other_and_at_the_end_let_the_line_take_what_would_go_down():
    # "例》，" cannot be broken ("》" and "，" may not start a line): without 标点挤压 it goes
    # down and the indented first line (26 places) keeps 24 characters, two places spread.
    # "》" gives up its blank before "，", "，" its own at the line's end: 27 characters.
    planned = plan("各" * 23 + "条例》，" + "测" * 30)
    first = planned[0]
    assert first.text == "各" * 23 + "条例》，"
    assert [first.text[i] for i in first.compressed] == ["》", "，"]
    assert first.slack == pytest.approx(0, abs=0.5)  # within 0.02 pt a character
    assert lines.spread(planned) == 0
    assert lines.compressed_attribute(planned) == "25,26;;"


def test_only_as_many_marks_are_compressed_as_the_line_needs_adjacent_ones_first():
    # The digit leaves half a place free: one compression lets "测" up, and it is the "。"
    # of "。”", not a mark at the end or inside the line.
    text = "各" * 21 + "1" + "实。”地" + "测" * 20
    first = plan(text)[0]
    assert first.text == text[:len("各" * 21 + "1" + "实。”地") + 1]
    assert [first.text[i] for i in first.compressed] == ["。"]


def test_a_line_no_compression_can_fill_keeps_its_slack_and_is_counted():
    # "2024" cannot be broken and does not fit: the line keeps a place and a half free.
    planned = plan("各" * 24 + "年2024年" + "测" * 20)
    first = planned[0]
    assert first.text == "各" * 24 + "年" and not first.compressed
    assert first.slack == pytest.approx(CHAR_PITCH, abs=0.5)
    assert lines.spread(planned) == 1
