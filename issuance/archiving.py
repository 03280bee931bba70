"""归档: one archive record (件) per issued document, after DA/T 22-2015.

The package holds, each file with its SHA-256 and stored through Django's storage API
by a path relative to MEDIA_ROOT:
- the issued PDF, byte for byte as 印制 made it;
- the signed 定稿 in the exchange format (JSON);
- the 发文稿纸 as a PDF: the form's header and every opinion of every round;
- the distribution list (分发清单, JSON);
- a metadata JSON with the catalogue fields and the hashes of the other files.
Intermediate drafts stay in the app's history, not in the archive.

Files and rows are written so that neither outlives the other:
- Each attempt writes into a folder of its own (档号 plus a random token), announced
  beforehand in a journal file under PENDING_DIR.
- A failure inside `create_record` deletes what it wrote.
- A rollback of the caller's transaction after `create_record` returned discards the
  attempt's on-commit hook; Django has no on-rollback hook, so the hook's finalizer
  does the cleanup, at once in CPython. On commit the hook removes the journal.
- If the process dies before either happens, the journal stays; `discard_unfinished`
  (run by every later archive attempt and by `verify_archive`) then removes the files
  that no record references, once the attempt's transaction is known to be over.
- Each file appears whole or not at all (storage.DurableFileSystemStorage), and a
  journal is removed only once every file of its attempt is: a storage that refuses
  the cleanup (read-only, full) leaves the journal for the next sweep.
A storage that refuses a write is a StorageError with a message for the archivist, and
the attempt leaves nothing.
"""

import datetime
import json
import logging
import secrets
import weakref
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from . import exchange, storage
from .exceptions import IssuanceError
from .models import ArchiveFile, ArchiveRecord, Decision, Document, Organ, Retention, StepKind, display_name

logger = logging.getLogger(__name__)

ARCHIVE_ROOT = "archive"
PENDING_DIR = "archive_pending"
DRAFT_SHEET_TEMPLATE = "issuance/pdf/draft_sheet.html"
DRAFT_SHEET_STYLESHEET = "issuance/pdf/draft_sheet.css"
PDF_VARIANT = "pdf/a-2u"  # archival PDF with Unicode text, so that the sheet stays searchable

# The files of a package, in the order they are written, and their names in it.
PACKAGE = (
    (ArchiveFile.Kind.ISSUED_PDF, None),  # named after the 文号
    (ArchiveFile.Kind.SIGNED_JSON, "定稿.json"),
    (ArchiveFile.Kind.DRAFT_SHEET, "发文稿纸.pdf"),
    (ArchiveFile.Kind.DISTRIBUTION, "分发清单.json"),
    (ArchiveFile.Kind.METADATA, "元数据.json"),
)
KINDS = tuple(kind for kind, _ in PACKAGE)


def archive_code(fonds_code, year, retention, department_code, item_number):
    """X001-WS·2024-Y-BGS-0123: 全宗号-门类代码·年度-保管期限-机构代码-件号."""
    return f"{fonds_code}-WS·{year}-{retention}-{department_code}-{item_number:04d}"


def _next_item_number(organ, year, retention):
    # The organ's row lock serialises the 件号 of its 全宗 until the transaction ends, also
    # when the year has no record yet to lock; the unique constraint stays the backstop.
    Organ.objects.select_for_update().filter(pk=organ.pk).first()
    last = (
        ArchiveRecord.objects.filter(fonds_code=organ.fonds_code, year=year, retention=retention)
        .order_by("-item_number")
        .values_list("item_number", flat=True)
        .first()
    )
    return (last or 0) + 1


def full_text(content):
    """What the full-text search looks in: 标题, 主送, every block of the 正文, 附件 names, 抄送."""
    parts = [content.get("title"), content.get("main_recipients")]
    parts += [block["text"] for block in content.get("body") or []]
    parts += list(content.get("attachments") or [])
    parts.append(content.get("cc"))
    return "\n".join(part for part in parts if part)


def _local(moment):
    return timezone.localtime(moment)


def _cn_datetime(moment):
    moment = _local(moment)
    return f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}"


def opinions(document):
    """Every opinion of every round, in the order given."""
    rows, last_round = [], None
    for opinion in document.opinions.select_related("user", "on_behalf_of", "revision", "state").order_by("created_at", "pk"):
        rows.append({
            "round": opinion.round,
            "round_start": last_round is not None and opinion.round != last_round,
            "step": opinion.step,
            "party": opinion.party,
            "kind": opinion.state.kind if opinion.state_id else "draft",
            "decision": opinion.get_decision_display(),
            "decision_key": opinion.decision,
            "returned": opinion.decision == Decision.RETURN,
            "text": opinion.text,
            "user": opinion.signed_name,
            "time": opinion.created_at.isoformat(),
            "date": _cn_datetime(opinion.created_at),
            "revision": opinion.revision.number,
        })
        last_round = opinion.round
    return rows


def distribution_list(record, document):
    """分发清单: each recipient organ's copies, their 份号, when and by whom they were sent."""
    entries = []
    for d in document.distributions.select_related("sent_by", "recipient_organ").order_by("pk"):
        entries.append({
            "recipient": d.recipient,
            "organ": d.recipient_organ.name if d.recipient_organ_id else None,
            "role": d.get_role_display(),
            "copies": d.copies,
            "first_copy": d.first_copy,
            "last_copy": d.last_copy,
            "copy_numbers": d.copy_numbers,
            "sent_by": display_name(d.sent_by),
            "sent_at": d.sent_at.isoformat(),
        })
    return {
        "档号": record.archive_code,
        "文号": record.doc_number,
        "印发份数": document.copies,
        "分发份数合计": sum(entry["copies"] for entry in entries),
        "分发": entries,
    }


def catalogue(record):
    """The catalogue fields of DA/T 22-2015 and the parts of the 档号."""
    return {
        "序号": record.item_number,
        "档号": record.archive_code,
        "全宗号": record.fonds_code,
        "年度": record.year,
        "保管期限": record.get_retention_display(),
        "机构代码": record.department_code,
        "件号": record.item_number,
        "文号": record.doc_number,
        "责任者": record.responsible,
        "题名": record.title,
        "日期": record.date.isoformat(),
        "密级": record.secrecy,
        "页数": record.pages,
        "备注": record.remarks,
    }


def metadata(record, document, files):
    return {
        **catalogue(record),
        "归档人": display_name(record.archived_by),
        "归档时间": record.archived_at.isoformat(),
        "签发稿本": {"number": document.signed_revision.number, "sha256": document.signed_revision.sha256},
        "签发人": display_name(document.signed_by),
        "签发时间": document.signed_at.isoformat() if document.signed_at else None,
        "正式文件": {"sha256": document.issued_pdf_sha256, "页数": document.issued_pages},
        "审批意见": [
            {key: row[key] for key in ("round", "step", "party", "decision", "text", "user", "time", "revision")}
            for row in opinions(document)
        ],
        "分发": distribution_list(record, document)["分发"],
        "文件": files,
    }


def draft_sheet(document, content):
    """What the 发文稿纸 shows: every opinion in order, and the boxes of the paper form: 签发,
    会签 (each party's last approval in the round that was signed), 核稿 (the review steps'
    last opinions of the current round), 拟稿."""
    rows = opinions(document)
    signing = next((row for row in reversed(rows) if row["kind"] == StepKind.SIGN and row["decision_key"] == "approve"),
                   None)
    countersigned, reviewed = {}, {}
    for row in rows:
        if row["round"] != document.round:
            continue
        if row["party"] and row["decision_key"] == "approve":
            countersigned[row["party"]] = row
        elif row["kind"] in (StepKind.REVIEW, StepKind.RECHECK) and not row["party"]:
            reviewed[row["step"]] = row
    return {
        "document": document,
        "content": content,
        "organ_name": document.organ.name,
        "drafter": display_name(document.drafter),
        "drafted_date": _cn_datetime(document.created_at).split(" ")[0],
        "written_date": exchange.format_date_cn(content.get("date")),
        "opinions": rows,
        "signing": signing,
        "countersigned": list(countersigned.values()),
        "reviewed": list(reviewed.values()),
    }


def render_draft_sheet(record, document, content):
    """The 发文稿纸 with every opinion, as PDF/A bytes (one A4 page, more if needed)."""
    from weasyprint import HTML

    from .render import layout

    context = {**draft_sheet(document, content), "record": record, "archived_at": _cn_datetime(record.archived_at)}
    html = layout.render_template(DRAFT_SHEET_TEMPLATE, context)
    # The 公文 renderer's pooled fonts and stylesheets: a font configuration of its own per
    # sheet would never be freed (about 75 MB per archived document).
    with layout.resources() as res:
        return HTML(string=html, url_fetcher=res.fetcher).write_pdf(
            font_config=res.font_config, stylesheets=[res.stylesheet(DRAFT_SHEET_STYLESHEET)], pdf_variant=PDF_VARIANT
        )


# Files without a record, and records without files -------------------------------

def _files_under(folder):
    """Every file below `folder`, by storage path; [] if it does not exist."""
    try:
        dirs, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return []
    found = [f"{folder}/{name}" for name in files]
    for name in dirs:
        found += _files_under(f"{folder}/{name}")
    return found


def _discard_attempt(state):
    """Finalizer of an attempt's on-commit hook: runs when the hook is dropped, after it ran
    (commit) or without running (rollback, closed connection). Touches only storage."""
    if not state["committed"]:
        _discard(state["folder"], state["journal"], state["paths"])


def _discard(folder, journal, paths=(), keep=frozenset()):
    """Remove an attempt's files (those listed and whatever is in its folder) except `keep`,
    then its folder if empty, then its journal, and only then: while a file may be left the
    journal stays, so that the next sweep tries again. Returns the removed paths."""
    try:
        paths = set(paths) | set(_files_under(folder))
    except OSError:
        logger.exception("归档清理：无法列出 %s，保留日志 %s", folder, journal)
        return []
    removed = [path for path in sorted(paths - keep) if storage.delete(path)]
    if len(removed) < len(paths - keep):
        return removed
    if not keep and not storage.delete(folder):
        return removed
    storage.delete(journal)
    return removed


class _Attempt:
    """The files one call of create_record writes, watched until its transaction ends."""

    def __init__(self, document, folder):
        self.folder = folder
        journal = json.dumps(
            {"document": document.pk, "folder": folder, "started_at": timezone.now().isoformat()},
            ensure_ascii=False,
        ).encode("utf-8")
        # Write-ahead: the journal exists before any file of the attempt.
        self.journal = storage.store(f"{PENDING_DIR}/{PurePosixPath(folder).name}.json", journal, what="归档日志").path
        self.state = {"committed": False, "paths": [], "folder": folder, "journal": self.journal}
        self._watch(self.state)

    @staticmethod
    def _watch(state):
        def committed():
            state["committed"] = True
            storage.delete(state["journal"])

        # Only Django keeps a reference to the hook; when it drops it, the finalizer runs.
        weakref.finalize(committed, _discard_attempt, state)
        transaction.on_commit(committed, robust=True)

    def store(self, name, data):
        stored = storage.store(f"{self.folder}/{name}", data, what=f"档案文件“{name}”")
        self.state["paths"].append(stored.path)
        return stored

    def abandon(self):
        """Remove what was written, now (create_record failed before returning)."""
        _discard_attempt(self.state)


def _journals():
    try:
        _, files = default_storage.listdir(PENDING_DIR)
    except FileNotFoundError:
        return []
    return sorted(f"{PENDING_DIR}/{name}" for name in files if name.endswith(".json"))


def pending_folders():
    """Folders of archive attempts whose journal is still there (in progress or unfinished)."""
    folders = []
    for journal in _journals():
        try:
            folders.append(json.loads(storage.read(journal))["folder"])
        except (OSError, storage.StorageError, ValueError, KeyError):
            continue
    return folders


STALE_AFTER = datetime.timedelta(days=1)


def _age(entry):
    try:
        return timezone.now() - datetime.datetime.fromisoformat(entry["started_at"])
    except (KeyError, TypeError, ValueError):
        return STALE_AFTER


def discard_unfinished():
    """Remove the files of archive attempts whose transaction is over but left no record.

    Must run inside a transaction. An attempt still in progress holds its document's row
    lock (PostgreSQL; the row is skipped) or the database's write lock (SQLite, whose
    IMMEDIATE transactions serialise writers, so none is in progress while we write).
    Files that a committed record references are never touched. Returns the deleted paths.
    """
    deleted = []
    for journal in _journals():
        try:
            entry = json.loads(storage.read(journal))
            folder, document_id = entry["folder"], entry["document"]
        except (OSError, storage.StorageError, ValueError, KeyError):
            logger.warning("归档清理：无法读取日志 %s", journal)
            continue
        if not folder.startswith(f"{ARCHIVE_ROOT}/"):
            continue
        if not Document.objects.filter(pk=document_id).exists():
            # Not visible: made in a transaction that has not committed yet (documents are
            # never deleted). Only a journal older than any transaction is given up on.
            if _age(entry) < STALE_AFTER:
                continue
        elif not Document.objects.select_for_update(skip_locked=True).filter(pk=document_id).values_list("pk"):
            continue  # the attempt's transaction still runs
        known = set(ArchiveFile.objects.filter(path__startswith=f"{folder}/").values_list("path", flat=True))
        deleted += _discard(folder, journal, keep=known)
    return deleted


@transaction.atomic
def create_record(document, user, retention, remarks=""):
    """Make the archive record and its package inside the caller's transaction."""
    if retention not in Retention.values:
        raise IssuanceError("请选择保管期限")
    if len(remarks) > 200:
        raise IssuanceError("备注过长（最多 200 字）")
    document = Document.objects.select_for_update().select_related("organ", "department").get(pk=document.pk)
    if not document.issued_pdf:
        raise IssuanceError("公文尚未印制，不能归档")
    if ArchiveRecord.objects.filter(document=document).exists():
        raise IssuanceError("该公文已归档")
    content = document.issued_content()
    date = exchange.parse_document(content)["date"]
    date = datetime.date.fromisoformat(date) if date else document.printed_date
    year = date.year
    organ = document.organ
    item_number = _next_item_number(organ, year, retention)
    discard_unfinished()
    code = archive_code(organ.fonds_code, year, retention, document.department.code, item_number)
    record = ArchiveRecord(
        document=document,
        archive_code=code,
        fonds_code=organ.fonds_code,
        year=year,
        retention=retention,
        department_code=document.department.code,
        item_number=item_number,
        doc_number=document.doc_number,
        responsible="、".join(content.get("issuer_marks") or [organ.name]),
        title=document.signed_revision.content["title"],
        date=date,
        secrecy=content.get("secrecy") or "",
        pages=document.issued_pages,
        remarks=remarks.strip(),
        full_text=full_text(content),
        archived_by=user,
        archived_at=timezone.now(),
    )
    attempt = _Attempt(document, f"{ARCHIVE_ROOT}/{organ.fonds_code}/{year}/{code}_{secrets.token_hex(4)}")
    written = []
    try:
        pdf = storage.read(document.issued_pdf.name, what="正式文件")
        if storage.sha256_bytes(pdf) != document.issued_pdf_sha256:
            raise IssuanceError("正式文件的哈希值与印制时不符，已停止归档，请联系管理员")
        written.append((ArchiveFile.Kind.ISSUED_PDF, attempt.store(f"{document.doc_number}.pdf", pdf)))
        names = dict(PACKAGE)
        signed = exchange.dump_json(content).encode("utf-8")
        written.append((ArchiveFile.Kind.SIGNED_JSON, attempt.store(names[ArchiveFile.Kind.SIGNED_JSON], signed)))
        sheet = render_draft_sheet(record, document, content)
        written.append((ArchiveFile.Kind.DRAFT_SHEET, attempt.store(names[ArchiveFile.Kind.DRAFT_SHEET], sheet)))
        listing = _json_bytes(distribution_list(record, document))
        written.append((ArchiveFile.Kind.DISTRIBUTION, attempt.store(names[ArchiveFile.Kind.DISTRIBUTION], listing)))
        files = [
            {"kind": kind, "name": PurePosixPath(f.path).name, "sha256": f.sha256, "size": f.size}
            for kind, f in written
        ]
        meta = _json_bytes(metadata(record, document, files))
        written.append((ArchiveFile.Kind.METADATA, attempt.store(names[ArchiveFile.Kind.METADATA], meta)))
        record.save()
        for kind, stored in written:
            ArchiveFile.objects.create(record=record, kind=kind, path=stored.path, sha256=stored.sha256, size=stored.size)
    except BaseException:
        attempt.abandon()
        raise
    return record


def _json_bytes(data):
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def read_verified(archived):
    """The bytes of one archive file, refused when they no longer match the recorded hash."""
    data = storage.read(archived.path)
    if storage.sha256_bytes(data) != archived.sha256:
        raise IssuanceError(f"档案文件 {PurePosixPath(archived.path).name} 的哈希值与归档时不符，请运行 verify_archive 检查")
    return data


# Export ---------------------------------------------------------------------------

MANIFEST = "manifest.json"


def package_name(archived):
    return PurePosixPath(archived.path).name


def write_zip(record, target):
    """Write the record's package as a zip to the binary file `target`.

    Everything sits in one folder named by the 档号, with manifest.json listing each
    file's path in the zip, kind, size and SHA-256, and the catalogue fields. Each file is
    checked against its recorded hash as it is read: a tampered package is not exported.
    The zip's timestamps are the archiving time, so one record always gives the same bytes.
    """
    import zipfile

    folder = record.archive_code
    stamp = _local(record.archived_at).timetuple()[:6]
    entries = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for archived in sorted(record.files.all(), key=lambda f: KINDS.index(f.kind) if f.kind in KINDS else 99):
            data = read_verified(archived)
            name = f"{folder}/{package_name(archived)}"
            archive.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)
            entries.append({
                "path": name,
                "kind": archived.kind,
                "kind_label": archived.get_kind_display(),
                "size": len(data),
                "sha256": archived.sha256,
            })
        manifest = {
            "package": "公文归档包",
            "standard": "DA/T 22-2015",
            "catalogue": {
                **catalogue(record),
                "归档人": display_name(record.archived_by),
                "归档时间": record.archived_at.isoformat(),
            },
            "files": entries,
        }
        archive.writestr(zipfile.ZipInfo(f"{folder}/{MANIFEST}", date_time=stamp), _json_bytes(manifest),
                         compress_type=zipfile.ZIP_DEFLATED)
    return manifest
