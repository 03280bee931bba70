"""Draft previews: the PDF of any revision, marked 草稿, cached by the revision's hash."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from . import exchange, storage
from .render import layout


def draft_pdf(document, revision):
    path = f"previews/{revision.sha256}.pdf"
    if default_storage.exists(path):
        return storage.read(path)
    content = exchange.parse_document(revision.content)
    pdf = layout.render_pdf(content, draft=True)
    # Two requests may render the same preview at once; the cache keeps whichever lands first.
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(pdf))
    return pdf
