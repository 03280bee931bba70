"""Draft previews: the PDF of any revision, marked 草稿, cached by the revision's hash."""

import hashlib
import io
import logging
import threading

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from . import exchange, storage
from .render import layout

logger = logging.getLogger(__name__)


def draft_pdf(document, revision):
    path = f"previews/{revision.sha256}.pdf"
    if default_storage.exists(path):
        return storage.read(path, what="预览")
    content = exchange.parse_document(revision.content)
    pdf = layout.render_pdf(content, draft=True)
    # Two requests may render the same preview at once; the cache keeps whichever lands first.
    if not default_storage.exists(path):
        try:
            default_storage.save(path, ContentFile(pdf))
        except OSError as error:
            # Only a cache: a full or read-only storage costs the next request a render.
            logger.warning("preview not cached at %s: %s", path, error)
    return pdf


# Page images ---------------------------------------------------------------------------
# A phone's browser often cannot show a PDF in a frame: the pages are shown as pictures,
# each a link to a larger one. Rendered from the same PDF (the draft preview or the issued
# file) by PDFium, cached by the PDF's hash, the page and the width.

PAGE_WIDTHS = (480, 960, 1600)  # a column, a phone's screen at 2x, an enlarged page

_pdfium_lock = threading.Lock()  # PDFium is not thread-safe


def page_count(pdf):
    """How many pages `pdf` has: known if this process rendered it lately or counted it
    before (the document page asks on every view), else counted by PDFium."""
    known = layout.known_pages(pdf)
    if known is not None:
        return known
    import pypdfium2 as pdfium

    with _pdfium_lock:
        document = pdfium.PdfDocument(pdf)
        try:
            count = len(document)
        finally:
            document.close()
    layout.remember_pages(pdf, count)
    return count


def page_png(pdf, number, width):
    """Page `number` (from 1) of `pdf` as PNG bytes `width` pixels wide; None past the last page."""
    if width not in PAGE_WIDTHS:
        raise ValueError(f"width {width} not one of {PAGE_WIDTHS}")
    digest = hashlib.sha256(pdf).hexdigest()
    path = f"previews/pages/{digest}-{number}-{width}.png"
    if default_storage.exists(path):
        return storage.read(path, what="预览")
    import pypdfium2 as pdfium

    with _pdfium_lock:
        document = pdfium.PdfDocument(pdf)
        try:
            if not 1 <= number <= len(document):
                return None
            page = document[number - 1]
            bitmap = page.render(scale=width / page.get_width())
            image = bitmap.to_pil()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    png = out.getvalue()
    if not default_storage.exists(path):
        try:
            default_storage.save(path, ContentFile(png))
        except OSError as error:
            logger.warning("page image not cached at %s: %s", path, error)
    return png
