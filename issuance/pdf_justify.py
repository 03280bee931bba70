"""Inter-character justification for WeasyPrint: Chinese lines flush on both edges.

CSS's `text-align: justify` with `text-justify: inter-character` spreads a line's extra
space between all its characters, which is how Chinese text is justified. WeasyPrint 70
only stretches spaces: a Chinese line that gives a character to the next one (no "，" may
start a line, a run of digits or Latin letters does not break) ends 2–11 mm short of the
right edge.

`justify(document)` runs after layout and before drawing. For every line box of an
element with the class `jf`, except the last line of that element, it sets the
letter-spacing of the line's text boxes so that the last glyph ends exactly on the right
edge of the line's block, and moves the following boxes of the line accordingly. A last
line is only touched when it overshoots the edge (the grid's letter-spacing can make a
full last line a hair too long). Nothing is inserted into the text: the glyphs and their
order stay, so the text extracted from the PDF stays the document's text.

Written against WeasyPrint's box tree (`LineBox`, `InlineBox`, `TextBox`) and its
`create_layout`, so it could become the `inter-character` branch of WeasyPrint's own
`layout/inline.py` justification: same inputs (a laid-out line and its available width),
same output (text boxes with a new layout and width).
"""

from weasyprint.formatting_structure import boxes
from weasyprint.text.line_break import create_layout, line_size

JUSTIFY_CLASS = "jf"

# A line is only justified when that takes less than this much extra space per gap (in
# em); wider gaps mean an unbreakable run (a long URL) was pushed down, and a ragged line
# reads better than one with its characters torn apart.
MAX_JUSTIFY_GAP = 0.5

# Lines closer than this to the edge (in CSS px) are left alone.
TOLERANCE = 0.005


def _classes(box):
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


def set_spacing(line, delta):
    """Add `delta` to the letter-spacing of every text box of `line`, moving the boxes."""
    shift = 0.0

    def visit(box):
        nonlocal shift
        if isinstance(box, boxes.TextBox):
            box.position_x += shift
            if not box.text:
                return
            style = box.style.copy()
            style["letter_spacing"] = letter_spacing(box.style) + delta
            # A fresh layout holding only this box's text: the one from line breaking
            # may hold the rest of the paragraph and would wrap again when drawn.
            layout = create_layout(box.text, style, None, None, box.justification_spacing)
            first_line, _ = layout.get_first_line()
            width, _ = line_size(first_line, style)
            # Drawing sets the Pango layout up again; until then it holds no memory.
            layout.deactivate()
            shift += width - box.width
            box.style = style
            box.pango_layout = layout
            box.width = width
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


def justify_line(line, right, final=False):
    """Spread or tighten `line` so that its last glyph ends at `right`; False when the
    line is left as it is."""
    texts = list(text_boxes(line))
    if not texts:
        return False
    extra = right - ink_right(line)
    # A final line stays as it is, unless its letter-spacing made it overshoot.
    if abs(extra) < TOLERANCE or (final and extra > 0):
        return False
    gaps = sum(len(box.text) for box in texts) - 1
    if gaps < 1:
        return False
    delta = extra / gaps
    if delta > MAX_JUSTIFY_GAP * texts[0].style["font_size"]:
        return False
    set_spacing(line, delta)
    return True


def justified_lines(document, class_name=JUSTIFY_CLASS):
    """{element: [(line, block), …]} for the line boxes of elements with `class_name`, in
    order across pages."""
    lines = {}
    for page in document.pages:
        for box, parent in _walk(page._page_box):
            if isinstance(box, boxes.LineBox) and class_name in _classes(box):
                lines.setdefault(id(box.element), []).append((box, parent))
    return lines


def justify(document, class_name=JUSTIFY_CLASS):
    """Justify every line of every `class_name` element of `document` to both edges; the
    number of lines changed."""
    changed = 0
    for element_lines in justified_lines(document, class_name).values():
        for index, (line, block) in enumerate(element_lines):
            right = block.content_box_x() + block.width
            changed += justify_line(line, right, final=index == len(element_lines) - 1)
    return changed
