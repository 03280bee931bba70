"""Render a 公文 (the dict that `exchange.parse_document` returns) as a GB/T 9704 PDF.

The page is laid out by WeasyPrint from the template issuance/pdf/gongwen.html and the
stylesheet issuance/pdf/gongwen.css, filled with what context.py prepares; then this
module corrects what WeasyPrint cannot do by itself:

* Justification. WeasyPrint justifies only by stretching spaces; after layout every line
  of a justified block except its last is set flush with the right edge of the 版心
  (patches.justify). The glyphs and their order do not change, so the text extracted from
  the PDF stays the document's text. patches.py also makes WeasyPrint draw the glyphs
  where the layout puts them, to a thousandth of a point.
* The 版记. It must sit at the bottom of the 版心 of the last page, and that page must
  be even. It is laid out as a footnote (the footnote area is the bottom of the page
  area); when the layout leaves it on an odd page, or on a page without the end of the
  text, the pages up to the end of the text are kept and the 版记, as laid out, is put
  alone on the next even page (with a blank page before it when the text ends on an even
  page), without page numbers (`layout_document`, `_moved_banji_pages`); only a 版记
  taller than a page is laid out again, in the flow. No second layout of the whole
  document.

The output is PDF/A-2b with the document's title, 发文字号, issuing organ and date in
its XMP metadata (metadata.py). Everything the document says is put into the page by the
template with autoescaping, and the only resources WeasyPrint may load are the app's own
fonts (`FontFetcher`).
"""

import collections
import contextlib
import functools
import gc
import hashlib
import io
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.template import Context, Engine
from weasyprint import CSS, HTML
from weasyprint.document import Page
from weasyprint.formatting_structure import boxes
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from . import fonts, metadata, patches
from .context import build_context

logger = logging.getLogger(__name__)

patches.install()

TEMPLATE = "issuance/pdf/gongwen.html"
STYLESHEET = "issuance/pdf/gongwen.css"
FONT_SCHEME = "gongwen-font"
PDF_VARIANT = "pdf/a-2b"


class FetchRefused(ValueError):
    """The renderer was asked to load something other than its own fonts."""


class FontFetcher(URLFetcher):
    """A URL fetcher that serves the app's font files and refuses everything else.

    Document text is escaped, so no URL of the document's own should ever reach this;
    the fetcher is the second wall: no local file outside the font whitelist, no
    network, no data: URLs.
    """

    def __init__(self):
        # Not fatal: WeasyPrint logs a refused resource and goes on without it.
        super().__init__(fail_on_errors=False)

    def fetch(self, url, headers=None):
        scheme, _, name = url.partition(":")
        if scheme == FONT_SCHEME and name in fonts.FACES:
            path = fonts.font_path(name)
            response = URLFetcherResponse(url, body=path.open("rb"), headers={"Content-Type": "font/otf"})
            # The file it reads: WeasyPrint links it for fontconfig instead of copying its
            # bytes (patches._install_linked_fonts).
            response.font_file = path
            return response
        logger.warning("PDF renderer refused to fetch %.200s", url)
        raise FetchRefused(f"已拒绝读取外部资源：{url[:200]}")


# Rendering ---------------------------------------------------------------------

def _template_dir():
    return Path(settings.BASE_DIR) / "templates" / "issuance" / "pdf"


@functools.cache
def _engine():
    """The template engine of the PDF's templates and stylesheets (templates/issuance/pdf/):
    Django's template language with its built-in tags and filters, autoescaping, templates
    compiled once.

    Not the project's DjangoTemplates backend: making that imports the tag library of every
    installed app, and the document page's signature tags import pyhanko, half a second of
    a process that only renders (manage.py render_gongwen, a worker); no PDF template loads
    a tag library."""
    return Engine(dirs=[str(Path(settings.BASE_DIR) / "templates")], app_dirs=False, autoescape=True)


def render_template(name, context):
    """The text of the PDF template `name` filled with `context`."""
    return _engine().get_template(name).render(Context(context))


class _Resources:
    """A font configuration, a fetcher and the parsed stylesheets: what every render needs
    and no document changes.

    Loading the faces and parsing a stylesheet is a third of the work for a short document,
    and a WeasyPrint `FontConfiguration` is never freed once made (it holds the system's
    fontconfig set and Pango's caches, 75–100 MB, even after the last reference to it is
    dropped), so each set is made once and reused. WeasyPrint's objects must not be used by
    two threads at once: a render borrows a set from the pool for its duration.
    """

    def __init__(self):
        fonts.check_fonts()
        self.fetcher = FontFetcher()
        self.font_config = FontConfiguration()
        self._stylesheets = {}

    def stylesheet(self, name):
        """The parsed stylesheet of template `name` (its @font-face rules go into this set's
        font configuration once)."""
        if name not in self._stylesheets:
            self._stylesheets[name] = CSS(
                string=render_template(name, {}),
                base_url=_template_dir().as_uri() + "/",
                url_fetcher=self.fetcher,
                font_config=self.font_config,
            )
        return self._stylesheets[name]


class _Pool:
    """At most SLOTS resource sets per process, each lent to one render at a time.

    Bounded by concurrency, not by thread: a server that starts a thread per request
    (Django's runserver) would otherwise make, and keep, a set per request.
    """

    # One render at a time per process by default: rendering holds the GIL most of the time,
    # so a second at once gains little and costs a second set of fonts and layout (a web
    # worker of four threads reached 491 MB with renders side by side, 358 MB one at a time;
    # docs/benchmarks.md). More processes render in parallel (gunicorn's workers, Celery's).
    SLOTS = max(1, int(os.environ.get("GONGWEN_RENDER_SLOTS", "1")))

    def __init__(self):
        self._idle = []
        self._lent = 0
        self._generation = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def borrow(self):
        with self._changed:
            while not self._idle and self._lent >= self.SLOTS:
                self._changed.wait()
            self._lent += 1
            generation = self._generation
            resources = self._idle.pop() if self._idle else None
        try:
            resources = resources or _Resources()
            yield resources
        finally:
            with self._changed:
                self._lent -= 1
                if resources is not None and generation == self._generation:
                    self._idle.append(resources)
                self._changed.notify()

    def reset(self):
        """Forget every set made so far: the next render makes a new one."""
        with self._changed:
            self._idle.clear()
            self._generation += 1


_pool = _Pool()


def reset_resources():
    """Start from fresh font configurations and stylesheets (tests that watch fetches)."""
    _pool.reset()


def resources():
    """Borrow a resource set for one render, as `with resources() as res:`. Everything that
    touches the fonts, layout and writing the PDF alike, happens inside the block."""
    return _pool.borrow()


def _layout(res, context):
    html = render_template(TEMPLATE, context)
    return HTML(string=html, base_url=_template_dir().as_uri() + "/", url_fetcher=res.fetcher).render(
        font_config=res.font_config, stylesheets=[res.stylesheet(STYLESHEET)], pdf_variant=PDF_VARIANT
    )


def _walk(box):
    yield box
    for child in getattr(box, "children", ()):
        yield from _walk(child)


def _banji_page(document):
    """Index of the page whose footnote area holds the 版记, or None.

    Only the footnote area counts: a 版记 that does not fit is carried over to the next
    page's footnote area while its (empty) call stays behind in the text.
    """
    for number, page in enumerate(document.pages):
        for area in page._page_box.children:
            if isinstance(area, boxes.FootnoteAreaBox) and any("banji" in patches.classes_of(box) for box in _walk(area)):
                return number
    return None


def _has_text(box):
    return any(isinstance(inner, boxes.TextBox) and inner.text.strip() for inner in _walk(box))


def _last_text_page(document):
    """Index of the last page with a line of the <main> text (正文 to 附件 pages)."""
    last = None
    for number, page in enumerate(document.pages):
        if any(getattr(box, "element_tag", None) == "main" and _has_text(box) for box in _walk(page._page_box)):
            last = number
    return last


def _drop_footnotes(page):
    page._page_box.children = [
        child for child in page._page_box.children if not isinstance(child, boxes.FootnoteAreaBox)
    ]


def _fixed_boxes(box):
    """The fixed boxes (the 草稿 mark) laid out on a page, outermost first."""
    found = []
    for child in getattr(box, "children", ()):
        if child.style["position"] == "fixed":
            found.append(child)
        else:
            found.extend(_fixed_boxes(child))
    return found


def _moved_banji_pages(document, banji, *, blank_before):
    """The 版记's own page (after a blank page when `blank_before`), made from the first
    layout: the 版记 as laid out there, at the foot of page `banji`'s page area, on a page
    that holds nothing else but the fixed boxes (the 草稿 mark) and no page number; None
    when that cannot be done (a 版记 taller than the page area).

    The same pages as laying the 版记 out again alone (context.build_context's
    `banji_only`, which this spares, a tenth of a render): every page has the same size
    and margins, the footnote area is placed from the bottom of the page area, and the
    blank page and the 版记's page carry no number (gongwen.css, `@page banji`)."""
    page_box = document.pages[banji]._page_box
    root = page_box.children[0]
    areas = [child for child in page_box.children if isinstance(child, boxes.FootnoteAreaBox)]
    if len(areas) != 1 or areas[0].margin_height() > page_box.height:
        return None
    fixed = _fixed_boxes(root)

    def page(*children):
        made = page_box.copy_with_children([root.copy_with_children(fixed), *children])
        return Page(made)

    return ([page()] if blank_before else []) + [page(areas[0])]


def layout_document(res, doc, *, draft=False):
    """The laid-out WeasyPrint document of `doc`, before justification, made with the
    borrowed resource set `res`."""
    document = _layout(res, build_context(doc, draft=draft))
    banji = _banji_page(document)
    if banji is None:
        return document
    text_end = _last_text_page(document)
    if text_end is None:
        text_end = 0
    # Page numbers count from 1: the 版记 must be on an even page that also holds the
    # end of the text; otherwise it goes alone onto the next even page.
    if banji == text_end and banji % 2 == 1:
        return document
    pages = document.pages[:text_end + 1]
    blank_before = len(pages) % 2 == 0
    moved = _moved_banji_pages(document, banji, blank_before=blank_before)  # before the footnotes go
    for page in pages:
        _drop_footnotes(page)
    if moved is not None:
        return document.copy(pages + moved)
    extra = _layout(res, build_context(doc, draft=draft, banji_only=True, blank_before=blank_before))
    if len(extra.pages) != 1 + blank_before:
        # A 版记 taller than a page (a 抄送 of hundreds of organs) cannot sit at the foot of
        # one: it runs in the normal flow from the top of its first page instead, and a
        # blank page before it keeps the last page even.
        logger.warning("版记 taller than a page: set in the flow, not at the foot of the page")
        extra = _layout(res, build_context(doc, draft=draft, banji_only=True, banji_flow=True))
        if (len(pages) + len(extra.pages)) % 2:
            extra = _layout(res, build_context(doc, draft=draft, banji_only=True, banji_flow=True, blank_before=True))
    return document.copy(pages + extra.pages)


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    spread_lines: int  # lines letter-spaced by half an em or more: no 标点挤压 could fill them


def render(doc, *, draft=False):
    """Lay out `doc` per GB/T 9704: the PDF/A-2b bytes and what the layout had to do."""
    with resources() as res:
        document = layout_document(res, doc, draft=draft)
        justified = patches.justify(document)
        document.metadata = metadata.metadata_for(doc, document.metadata)
        pdf = document.write_pdf(pdf_variant=PDF_VARIANT)
    remember_pages(pdf, len(document.pages))
    rendered = Rendered(pdf, len(document.pages), justified.spread)
    del document
    _freeze_once()
    return rendered


_frozen = threading.Event()


def _freeze_once():
    """After the first render of a process, move every object then alive out of reach of
    the cyclic garbage collector (`gc.freeze`).

    What a rendering process keeps (Django, WeasyPrint and their modules, the fonts, the
    stylesheets, the caches: 100,000 objects) would otherwise be walked again by every
    full collection, which a render's allocations set off: full collections took 7.7 ms a
    warm render on average, 2.6 ms with the freeze (docs/benchmarks.md). A full
    collection first frees what is garbage by
    then, so that only live objects are frozen. Frozen objects are still freed when
    nothing refers to them; only a reference cycle among them would stay. Not done
    when the collector is off (manage.py render_gongwen, a process that renders once)."""
    if _frozen.is_set() or not gc.isenabled():
        return
    _frozen.set()
    gc.collect()
    gc.freeze()


def render_pdf(doc, *, draft=False):
    """Lay out `doc` per GB/T 9704 and return the PDF/A-2b bytes."""
    return render(doc, draft=draft).pdf


# Page counts of the PDFs this process made or counted lately, by digest: services, the command
# and the document page
# ask right after rendering or on every view, and parsing the PDF again would cost more than that.
_PAGE_COUNTS = collections.OrderedDict()
_PAGE_COUNTS_KEPT = 256  # digests and counts: a few KB
_PAGE_COUNTS_LOCK = threading.Lock()


def _digest(pdf_bytes):
    # SHA-1 through OpenSSL: this Python's BLAKE2 is its portable C, four times slower.
    return hashlib.sha1(pdf_bytes, usedforsecurity=False).digest()


def remember_pages(pdf_bytes, count):
    """Let `count_pages` know the page count of `pdf_bytes` (a render's PDF, signed)."""
    with _PAGE_COUNTS_LOCK:
        _PAGE_COUNTS[_digest(pdf_bytes)] = count
        while len(_PAGE_COUNTS) > _PAGE_COUNTS_KEPT:
            _PAGE_COUNTS.popitem(last=False)


def known_pages(pdf_bytes):
    """The page count of `pdf_bytes` if this process knows it (see `remember_pages`), else None."""
    with _PAGE_COUNTS_LOCK:
        digest = _digest(pdf_bytes)
        known = _PAGE_COUNTS.get(digest)
        if known is not None:
            _PAGE_COUNTS.move_to_end(digest)
        return known


def count_pages(pdf_bytes):
    known = known_pages(pdf_bytes)
    if known is not None:
        return known
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf_bytes)).pages)
