"""Draft previews: the PDF of any revision, marked 草稿, cached by the revision's hash."""

import logging

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
