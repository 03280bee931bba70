"""Files of issued documents, written through Django's storage API under MEDIA_ROOT.

Paths are stored relative to the storage root with the SHA-256 of their bytes.

A file is never seen half-written: `DurableFileSystemStorage` (the default storage, see
settings.STORAGES) writes to a temporary name beside the target, fsyncs it, and links it
into place, so a full disk or a crash leaves either the whole file or none under its
name. A write or read the file system refuses (full, read-only, no permission) is a
`StorageError`, an IssuanceError with a message for the user.
"""

import errno
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage

from .exceptions import IssuanceError

logger = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".part"  # a temporary file being written; never a record's
ISSUED_ROOT = "issued"  # the issued PDFs, by year


class StorageError(IssuanceError):
    """The storage refused to write or read a file; nothing was changed."""

    http_status = 503  # the server cannot do it now; the request itself was fine


def _message(error, what, verb):
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"存储空间已满，{what}未能{verb}。请管理员清理磁盘后重试，已办理的内容不受影响。"
    if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"存储目录只读或没有写入权限，{what}未能{verb}。请管理员检查文件存储目录（MEDIA_ROOT）的权限后重试。"
    return f"文件存储出错（{error.strerror or error}），{what}未能{verb}。请联系管理员后重试。"


class DurableFileSystemStorage(FileSystemStorage):
    """FileSystemStorage whose saves are atomic and on disk when `save` returns.

    Django's own writes straight into the final name: a full disk leaves a truncated file
    that looks like a finished one. Here the bytes go to `.<name>.<token>.part`, are
    fsynced, and the file is hard-linked to its name (which fails if the name is taken, so
    nothing is overwritten), then the directory is fsynced.
    """

    def _save(self, name, content):
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        partial = os.path.join(directory, f".{os.path.basename(full_path)}.{secrets.token_hex(4)}{PARTIAL_SUFFIX}")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
                handle.flush()
                os.fsync(handle.fileno())
            if self.file_permissions_mode is not None:
                os.chmod(partial, self.file_permissions_mode)
            while True:
                try:
                    os.link(partial, full_path)
                    break
                except FileExistsError:
                    name = self.get_available_name(name)
                    full_path = self.path(name)
        finally:
            try:
                os.unlink(partial)
            except FileNotFoundError:
                pass
        _fsync_directory(directory)
        self._ensure_location_group_id(full_path)
        return os.path.relpath(full_path, self.location).replace("\\", "/")


def _fsync_directory(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class StoredFile:
    path: str
    sha256: str
    size: int


def sha256_bytes(data):
    return hashlib.sha256(data).hexdigest()


def store(path, data, what="文件"):
    """Write `data` at `path`; never overwrite: the storage picks a fresh name if it is taken.
    `what` names the file in the message of a StorageError."""
    try:
        name = default_storage.save(path, ContentFile(data))
    except OSError as error:
        logger.error("storage refused to write %s: %s", path, error)
        raise StorageError(_message(error, what, "保存")) from error
    return StoredFile(path=name, sha256=sha256_bytes(data), size=len(data))


def read(path, what="文件"):
    """The bytes at `path`. A missing file raises FileNotFoundError, for the caller to name."""
    try:
        with default_storage.open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise
    except OSError as error:
        logger.error("storage refused to read %s: %s", path, error)
        raise StorageError(_message(error, what, "读取")) from error


def delete(path):
    """Remove a file or an empty folder; False (and a log line) if the storage refused."""
    try:
        default_storage.delete(path)
    except OSError:
        logger.exception("cannot delete %s", path)
        return False
    return True


def store_issued_pdf(document, pdf):
    return store(f"{ISSUED_ROOT}/{document.printed_date.year}/{document.doc_number}.pdf", pdf, what="正式文件")
