"""The grid of GB/T 9704-2012 in points, shared by the context, the line planner and the CSS.

22 lines × 28 characters of 3号 (16 pt) 仿宋 fill the 156 × 225 mm 版心. The stylesheet
(templates/issuance/pdf/gongwen.css) writes the same numbers out; tests/test_layout_measure.py
measures them on the PDF.
"""

PT_PER_MM = 72 / 25.4
TYPE_AREA_WIDTH = 156 * PT_PER_MM  # 442.20 pt
LINE_PITCH = 28.99  # 225 mm / 22 = 28.9913 pt, rounded down so that 22 lines fit
LINES_PER_PAGE = 22
FONT_SIZE = 16.0  # 3号
CHAR_PITCH = 15.785  # 27 pitches and one 16 pt glyph make 156 mm
LETTER_SPACING = -0.2146  # pt: (156 mm − 16 pt) / 27 − 16 pt, the body's letter-spacing
PLACES_PER_LINE = 28
INDENT = 2 * CHAR_PITCH  # a paragraph's first line starts two characters in
