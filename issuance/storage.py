"""Files of issued documents, written through Django's storage API under MEDIA_ROOT.

Paths are stored relative to the storage root with the SHA-256 of their bytes.
"""

import hashlib
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage


@dataclass(frozen=True)
class StoredFile:
    path: str
    sha256: str
    size: int


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def store(path, data):
    """Write `data` at `path`; never overwrite: the storage picks a fresh name if it is taken."""
    name = default_storage.save(path, ContentFile(data))
    return StoredFile(path=name, sha256=sha256_bytes(data), size=len(data))


def read(path):
    with default_storage.open(path, "rb") as handle:
        return handle.read()


def store_issued_pdf(document, pdf):
    return store(f"issued/{document.printed_date.year}/{document.doc_number}.pdf", pdf)
