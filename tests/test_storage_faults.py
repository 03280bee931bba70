"""Storage faults at 印制 and 归档: a full disk, a read-only MEDIA_ROOT (issue 9).

Faults are injected below Django's storage, where both the storage Django ships and
issuance.storage.DurableFileSystemStorage pass: a full disk as a file object whose first
write stops half-way with ENOSPC (`os.fdopen`), a read-only file system as EROFS from
`os.open` for writing, `os.mkdir`, `os.link`, `os.remove`, `os.unlink` and `os.rmdir`
under MEDIA_ROOT. The tests run as root, for whom chmod 0555 stops no write, and a bind
mount read-only is not possible here; so EROFS is simulated, not made.

Every refusal must answer with a Chinese message (503 for the storage, never 500), leave
the database as it was and no file behind, not even a partial one; an archive attempt's
journal stays until its files are gone.
"""

import errno
import io
import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from issuance import archiving, storage, verification
from issuance.models import ArchiveRecord, Document, Event, PrintJob, Stage
from workflows import actions, demo_path, printing


class _FillsUp:
    """A file on a disk that fills up half-way through its first write."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, data):
        self._handle.write(data[:len(data) // 2])
        self._handle.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._handle.close()


def full_disk(monkeypatch, name):
    """The disk fills up while a file whose path contains `name` is written."""
    real = os.fdopen

    def fdopen(fd, *args, **kwargs):
        handle = real(fd, *args, **kwargs)
        return _FillsUp(handle) if name in os.readlink(f"/proc/self/fd/{fd}") else handle

    monkeypatch.setattr(os, "fdopen", fdopen)


def read_only(monkeypatch, root, calls=("open", "mkdir", "link", "remove", "unlink", "rmdir")):
    """The file system under `root` refuses every change with EROFS (the `calls` given)."""
    root = str(root)

    def refusing(real, writes_only=False):
        def call(path, *args, **kwargs):
            flags = args[0] if args else kwargs.get("flags", 0)
            target = args[0] if real is os.link and args else path
            changes = not writes_only or flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)
            if changes and any(str(p).startswith(root) for p in (path, target)):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
            return real(path, *args, **kwargs)
        return call

    for name in calls:
        monkeypatch.setattr(os, name, refusing(getattr(os, name), writes_only=name == "open"))


def files_under(root):
    return {p.relative_to(root).as_posix() for p in Path(root).rglob("*") if p.is_file()}


@pytest.fixture
def at_archiving(cast, short_content):
    return demo_path.take_through_path(short_content, cast["drafter"], until=Stage.ARCHIVING)


@pytest.fixture
def at_printing(cast, short_content):
    return demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)


def post_archive(client, cast, document):
    client.force_login(cast["archivist"])
    task = actions.open_tasks(document).get()
    return client.post(f"/tasks/{task.pk}/", {"retention": "Y", "remarks": ""})


def unchanged_at_archiving(document, events):
    assert not ArchiveRecord.objects.filter(document=document).exists()
    assert Document.objects.get(pk=document.pk).stage == Stage.ARCHIVING
    assert Event.objects.filter(document=document).count() == events
    assert actions.open_tasks(document).get().state.name == "归档"


# 归档 --------------------------------------------------------------------------------------

def test_a_full_disk_while_the_draft_sheet_is_written_leaves_no_file_and_says_so(
        client, cast, at_archiving, media_root, monkeypatch):
    before, events = files_under(media_root), at_archiving.events.count()
    full_disk(monkeypatch, "发文稿纸")
    response = post_archive(client, cast, at_archiving)
    page = response.content.decode()
    assert response.status_code == 503
    assert "存储空间已满" in page and "发文稿纸.pdf" in page
    unchanged_at_archiving(at_archiving, events)
    # No truncated 发文稿纸.pdf, no temporary file, no other file of the attempt; and since
    # the cleanup succeeded, no journal either.
    assert files_under(media_root) == before


def test_a_journal_stays_until_its_files_are_gone(client, cast, at_archiving, media_root, monkeypatch):
    before, events = files_under(media_root), at_archiving.events.count()
    full_disk(monkeypatch, "分发清单")
    # The storage also refuses to delete what the attempt wrote (as a file system that went
    # read-only after the error would).
    read_only(monkeypatch, media_root / archiving.ARCHIVE_ROOT, calls=("remove", "rmdir"))
    assert post_archive(client, cast, at_archiving).status_code == 503
    unchanged_at_archiving(at_archiving, events)
    left = files_under(media_root) - before
    journals = {path for path in left if path.startswith(archiving.PENDING_DIR)}
    assert len(journals) == 1, left
    written = left - journals
    assert {Path(path).name for path in written} == {f"{at_archiving.doc_number}.pdf", "定稿.json", "发文稿纸.pdf"}

    monkeypatch.undo()  # the storage is writable again; the next sweep finishes the cleanup
    out = io.StringIO()
    call_command("verify_archive", stdout=out)
    assert "全部一致" in out.getvalue()
    assert files_under(media_root) == before


def test_a_read_only_media_root_at_archiving_is_a_message_not_a_500(client, cast, at_archiving, media_root, monkeypatch):
    before, events = files_under(media_root), at_archiving.events.count()
    read_only(monkeypatch, media_root)
    response = post_archive(client, cast, at_archiving)
    assert response.status_code == 503
    assert "只读或没有写入权限" in response.content.decode()
    unchanged_at_archiving(at_archiving, events)
    assert files_under(media_root) == before
    monkeypatch.undo()
    assert post_archive(client, cast, at_archiving).status_code == 302
    assert Document.objects.get(pk=at_archiving.pk).stage == Stage.ARCHIVED


# 印制 --------------------------------------------------------------------------------------

def post_print(client, cast, document):
    client.force_login(cast["clerk"])
    task = actions.open_tasks(document).get()
    response = client.post(f"/tasks/{task.pk}/", {"action": "print"}, follow=True)
    return response, task


@pytest.mark.parametrize("fault, message", [
    (lambda monkeypatch, root: full_disk(monkeypatch, ".pdf"), "存储空间已满，正式文件未能保存"),
    (lambda monkeypatch, root: read_only(monkeypatch, root), "存储目录只读或没有写入权限，正式文件未能保存"),
])
def test_a_storage_that_refuses_the_issued_pdf_leaves_no_file_and_shows_why(
        client, cast, at_printing, media_root, monkeypatch, fault, message):
    before = files_under(media_root)
    fault(monkeypatch, media_root)
    response, task = post_print(client, cast, at_printing)
    assert response.status_code == 200 and message in response.content.decode()
    job = PrintJob.objects.get(document=at_printing)
    assert (job.status, job.attempts) == (PrintJob.Status.FAILED, printing.MAX_ATTEMPTS)
    assert job.error.startswith(message)
    document = Document.objects.get(pk=at_printing.pk)
    assert document.stage == Stage.PRINTING and not document.issued_pdf
    assert files_under(media_root) == before  # not a byte of the PDF, under any name

    monkeypatch.undo()
    client.post(f"/tasks/{task.pk}/", {"action": "retry"})
    assert Document.objects.get(pk=at_printing.pk).stage == Stage.DISTRIBUTION


def test_a_read_only_media_root_still_serves_a_draft_preview(client, cast, at_printing, media_root, monkeypatch):
    before = files_under(media_root)
    read_only(monkeypatch, media_root)
    client.force_login(cast["drafter"])
    response = client.get(f"/documents/{at_printing.pk}/preview.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert files_under(media_root) == before


# The storage itself --------------------------------------------------------------------------

def test_a_write_cut_short_leaves_nothing_under_the_files_name(media_root, monkeypatch):
    full_disk(monkeypatch, "half.bin")
    with pytest.raises(storage.StorageError, match="存储空间已满，档案文件未能保存"):
        storage.store("archive/half.bin", b"x" * 1000, what="档案文件")
    assert not default_storage.exists("archive/half.bin")
    assert files_under(media_root) == set()


def test_a_saved_file_is_whole_and_never_overwritten(media_root):
    first = storage.store("issued/2026/a.pdf", b"first")
    second = storage.store("issued/2026/a.pdf", b"second")
    assert first.path == "issued/2026/a.pdf" and second.path != first.path
    assert storage.read(first.path) == b"first" and storage.read(second.path) == b"second"
    assert files_under(media_root) == {first.path, second.path}
    assert default_storage.save("previews/text.txt", ContentFile("文字")) == "previews/text.txt"
    assert storage.read("previews/text.txt") == "文字".encode()


# verify_archive ------------------------------------------------------------------------------

def test_verify_archive_reports_files_that_no_record_claims(cast, at_archiving, media_root):
    assert verification.verify().ok
    year = at_archiving.printed_date.year
    strays = [f"issued/{year}/泉科〔{year}〕99号.pdf", f"issued/{year}/.泉科〔{year}〕98号.pdf.0a1b2c3d.part",
              "archive/X001/.发文稿纸.pdf.0a1b2c3d.part"]
    for stray in strays:
        path = media_root / stray
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.7")
    report = verification.verify()
    problems = [str(problem) for problem in report.problems]
    assert len(problems) == 3, problems
    assert f"正式文件目录：有不属于任何公文的文件：{strays[0]}" in problems
    assert f"正式文件目录：有不属于任何公文的文件：{strays[1]}（写入中断留下的临时文件）" in problems
    assert f"档案目录：有未登记的文件：{strays[2]}（写入中断留下的临时文件）" in problems
