"""Is the archive still what the app wrote? (`python manage.py verify_archive`)

Checks, without trusting anything but the recorded hashes:
- every archive file: present, its size and SHA-256 as recorded, and each record's package
  complete; the metadata JSON agrees with the record's catalogue fields;
- every issued PDF against Document.issued_pdf_sha256, that against the sealed 印制 entry,
  and the archived copy against both;
- every document's history (Event): seq contiguous from 1, each row's prev_hash the hash of
  the row before, each row's hash its compute_hash(); the last entry leads to the
  document's current stage, and an archived document's chain records its 档号;
- what a database administrator could rewrite unseen by the checks above (issuance.anchors,
  docs/tamper-evidence.md): each entry's HMAC with the history key, every anchor file's
  lines, and every head an anchor recorded still in its chain with the hash recorded; an
  entry without an HMAC (written before entries were sealed) only at or below such a head;
- every issued PDF's digital signature (issuance.signing), the document's and its archived
  copy: intact and from a trusted certificate when the file carries one, and present when the
  sealed 印制 entry recorded one;
- no file under the archive root or the issued PDFs' root that no record claims.
Each mismatch is reported in Chinese with the 档号 or document and the file or entry.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.db import transaction

from . import anchors, archiving, seals, signing, storage
from .exceptions import IssuanceError
from .models import ArchiveFile, ArchiveRecord, Document, Event, PrintJob, stage_label

GENESIS = "0" * 64
CHUNK = 1 << 20


@dataclass(frozen=True)
class Problem:
    subject: str  # "档号 X001-WS·2024-Y-ZHK-0001" or "公文 12（泉科〔2024〕123号）"
    message: str

    def __str__(self):
        return f"{self.subject}：{self.message}"


@dataclass
class Report:
    problems: list = field(default_factory=list)
    records: int = 0
    files: int = 0
    documents: int = 0
    events: int = 0
    anchors: int = 0
    signatures: int = 0
    cleaned: list = field(default_factory=list)

    @property
    def ok(self):
        return not self.problems

    def add(self, subject, message):
        self.problems.append(Problem(subject, message))

    def summary(self):
        checked = (f"共检查档案 {self.records} 件、档案文件 {self.files} 个、"
                   f"公文 {self.documents} 份的办理记录 {self.events} 条、锚定 {self.anchors} 条、"
                   f"数字签名 {self.signatures} 个")
        if self.ok:
            return f"{checked}，全部一致。"
        return f"{checked}，发现 {len(self.problems)} 处不符。"


def _hash_file(path):
    """(sha256, size) of a stored file, read in chunks; None if it is missing."""
    if not default_storage.exists(path):
        return None
    digest, size = hashlib.sha256(), 0
    with default_storage.open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _document_subject(document):
    return f"公文 {document.pk}（{document.doc_number or document.title[:30]}）"


def check_file(report, subject, path, sha256, size=None, what="文件"):
    report.files += 1
    found = _hash_file(path)
    if found is None:
        report.add(subject, f"{what}缺失：{path}")
        return False
    actual, actual_size = found
    if actual != sha256:
        report.add(subject, f"{what}的 SHA-256 不符：{path}（登记 {sha256}，实际 {actual}）")
        return False
    if size is not None and actual_size != size:
        report.add(subject, f"{what}的大小不符：{path}（登记 {size} 字节，实际 {actual_size} 字节）")
        return False
    return True


def check_record(report, record):
    subject = f"档号 {record.archive_code}"
    report.records += 1
    files = {f.kind: f for f in record.files.all()}
    for kind in archiving.KINDS:
        if kind not in files:
            report.add(subject, f"档案包缺少{ArchiveFile.Kind(kind).label}")
    for archived in files.values():
        intact = check_file(report, subject, archived.path, archived.sha256, archived.size,
                            what=ArchiveFile.Kind(archived.kind).label)
        if not intact:
            continue
        if archived.kind == ArchiveFile.Kind.METADATA:
            _check_metadata(report, subject, record, archived)
    document = record.document
    issued = files.get(ArchiveFile.Kind.ISSUED_PDF)
    if issued is not None and issued.sha256 != document.issued_pdf_sha256:
        report.add(subject, f"归档的正式文件与公文登记的哈希值不一致：{issued.path}"
                            f"（档案 {issued.sha256}，公文 {document.issued_pdf_sha256}）")


def _check_metadata(report, subject, record, archived):
    try:
        data = json.loads(storage.read(archived.path))
    except ValueError:
        report.add(subject, f"元数据不是有效的 JSON：{archived.path}")
        return
    for key, value in archiving.catalogue(record).items():
        if data.get(key) != value:
            report.add(subject, f"档案记录的“{key}”与元数据不一致（数据库 {value!r}，元数据 {data.get(key)!r}）")
    listed = {entry.get("kind"): entry.get("sha256") for entry in data.get("文件", [])}
    for archived_file in record.files.all():
        if archived_file.kind in listed and listed[archived_file.kind] != archived_file.sha256:
            report.add(subject, f"元数据中{archived_file.get_kind_display()}的哈希值与登记不一致")


def check_issued_pdf(report, document):
    if not document.issued_pdf:
        return
    check_file(report, _document_subject(document), document.issued_pdf.name, document.issued_pdf_sha256,
               what="正式文件")


def check_printed_hash(report, document, events):
    """The issued PDF's registered hash is the one its sealed 印制 entry recorded, so that a PDF
    replaced together with Document.issued_pdf_sha256 does not pass."""
    printed = [event for event in events if event.action == "print"]
    if document.issued_pdf and printed and printed[-1].detail.get("sha256") != document.issued_pdf_sha256:
        report.add(_document_subject(document), f"正式文件登记的 SHA-256 与办理记录第 {printed[-1].seq} 条（印制）"
                                                f"记录的不同（登记被改动）")


def check_signatures(report, document, events, record, roots):
    """Each issued PDF of `document` (its own and the archived copy) that carries a signature
    carries a valid one, signed with the certificate the sealed 印制 entry recorded; a PDF
    whose 印制 entry recorded a signature carries it."""
    subject = _document_subject(document)
    printed = [event for event in events if event.action == "print"]
    recorded = printed[-1].detail.get("signature") if printed else None
    files = [(document.issued_pdf.name, "正式文件")] if document.issued_pdf else []
    if record is not None:
        files += [(f.path, "归档的正式文件") for f in record.files.all() if f.kind == ArchiveFile.Kind.ISSUED_PDF]
    for path, what in files:
        try:
            verdict = signing.verify(storage.read(path, what=what), roots)
        except FileNotFoundError:
            continue  # named as missing by the hash check
        except IssuanceError as error:
            report.add(subject, error.message)
            continue
        if verdict.present:
            report.signatures += 1
        if verdict.present and not verdict.valid:
            report.add(subject, f"{what}的数字签名无效：{verdict.problem}（{path}）")
        elif verdict.present and recorded and verdict.certificate != recorded.get("certificate"):
            report.add(subject, f"{what}的签名证书与办理记录第 {printed[-1].seq} 条（印制）记录的不同（{path}）")
        elif not verdict.present and recorded:
            report.add(subject, f"{what}没有数字签名（{verdict.problem}），但办理记录第 {printed[-1].seq} 条（印制）"
                                f"记录了{recorded.get('signer')}的签名（{path}）")


def check_chain(report, document, events):
    """`events`: the document's history rows ordered by seq."""
    subject = _document_subject(document)
    report.documents += 1
    previous = None
    for event in events:
        report.events += 1
        expected_seq = previous.seq + 1 if previous else 1
        if event.seq != expected_seq:
            after = f"第 {previous.seq} 条之后是" if previous else "第一条是"
            report.add(subject, f"办理记录序号不连续：{after}第 {event.seq} 条，应为第 {expected_seq} 条（可能有记录被删除）")
        expected_prev = previous.hash if previous else GENESIS
        if event.prev_hash != expected_prev:
            report.add(subject, f"办理记录第 {event.seq} 条的前一条哈希与第 {previous.seq if previous else 0} 条不衔接")
        if event.hash != event.compute_hash():
            report.add(subject, f"办理记录第 {event.seq} 条的内容与其哈希值不符（记录被改动）")
        previous = event
    if previous is None:
        report.add(subject, "没有任何办理记录")
        return
    if previous.stage_after and previous.stage_after != document.stage:
        report.add(subject, f"公文的当前环节“{document.get_stage_display()}”与最后一条办理记录"
                            f"（第 {previous.seq} 条，“{stage_label(previous.stage_after)}”）不符")


def check_seals(report, document, events, anchored, keys):
    """`anchored`: [(anchor, seq, hash)] of the heads anchors recorded for the document."""
    subject = _document_subject(document)
    by_seq = {event.seq: event for event in events}
    for anchor, seq, digest in anchored:
        entry = by_seq.get(seq)
        if entry is None:
            report.add(subject, f"{anchor.name}记录的办理记录第 {seq} 条已不存在（记录被删除）")
        elif entry.hash != digest:
            report.add(subject, f"办理记录第 {seq} 条的哈希与{anchor.name}记录的不同（记录被改动后重算了哈希）")
    sealed_up_to = max((seq for _, seq, _ in anchored), default=0)
    for event in events:
        if not event.mac:
            if event.seq > sealed_up_to:
                report.add(subject, f"办理记录第 {event.seq} 条没有 HMAC，也不在任何锚定之内（记录是绕过系统写入的）")
            continue
        verdict = seals.check(event.sealed_data(), event.key_id, event.mac, keys)
        if verdict is None:
            report.add(subject, f"办理记录第 {event.seq} 条的 HMAC 密钥 {event.key_id} 未配置，无法核验")
        elif not verdict:
            report.add(subject, f"办理记录第 {event.seq} 条的 HMAC 不符（记录被改动或伪造，哈希可能已重算）")


def read_anchors(report):
    """{document id: [(anchor, seq, hash)]} of the intact anchors; their problems go to the report."""
    reading = anchors.read()
    for where, message in reading.problems:
        report.add(where, message)
    report.anchors = len(reading.anchors)
    anchored = {}
    for anchor in reading.anchors:
        for document, (seq, digest) in anchor.heads.items():
            anchored.setdefault(document, []).append((anchor, seq, digest))
    return anchored


def check_archive_event(report, record, events):
    """The archive record is anchored in its document's chain: an 归档 entry names its 档号."""
    if not any(e.action == "archive" and e.detail.get("archive_code") == record.archive_code for e in events):
        report.add(f"档号 {record.archive_code}", "公文的办理记录中没有这一档号的归档记录")


def check_orphans(report):
    """Files that no record claims: under the archive root, unless an archiving in progress
    owns them, and under the issued PDFs' root, unless a print job now storing its
    document's PDF may; a `.part` left by a write cut short is one of them."""
    known = set(ArchiveFile.objects.values_list("path", flat=True))
    pending = tuple(f"{folder}/" for folder in archiving.pending_folders())
    for path in archiving._files_under(archiving.ARCHIVE_ROOT):
        if path not in known and not path.startswith(pending):
            report.add("档案目录", f"有未登记的文件：{path}{_partial_note(path)}")
    issued = set(Document.objects.exclude(issued_pdf="").values_list("issued_pdf", flat=True))
    printing = tuple(Document.objects.filter(print_jobs__status=PrintJob.Status.RUNNING)
                     .values_list("doc_number", flat=True))
    for path in archiving._files_under(storage.ISSUED_ROOT):
        name = PurePosixPath(path).name.lstrip(".")
        if path not in issued and not (printing and name.startswith(printing)):
            report.add("正式文件目录", f"有不属于任何公文的文件：{path}{_partial_note(path)}")


def _partial_note(path):
    return "（写入中断留下的临时文件）" if path.endswith(storage.PARTIAL_SUFFIX) else ""


def verify(cleanup=True):
    """Check the whole archive; returns a Report."""
    report = Report()
    if cleanup:
        with transaction.atomic():
            report.cleaned = archiving.discard_unfinished()
    records = {r.document_id: r for r in ArchiveRecord.objects.select_related("document").prefetch_related("files")}
    for record in records.values():
        check_record(report, record)
    anchored, keys = read_anchors(report), seals.known_keys()
    try:
        roots = signing.trust_roots()
    except IssuanceError as error:
        report.add("数字签名", f"{error.message}；未核验任何数字签名")
        roots = None
    documents = Document.objects.order_by("pk")
    for document in documents.iterator():
        check_issued_pdf(report, document)
        events = list(Event.objects.filter(document=document).order_by("seq"))
        check_chain(report, document, events)
        check_seals(report, document, events, anchored.pop(document.pk, []), keys)
        check_printed_hash(report, document, events)
        if roots is not None:
            check_signatures(report, document, events, records.get(document.pk), roots)
        if document.pk in records:
            check_archive_event(report, records[document.pk], events)
    for document, heads in anchored.items():
        anchor, seq, _ = heads[0]
        report.add(f"公文 {document}", f"{anchor.name}记录了它的办理记录第 {seq} 条，但这份公文已不存在（公文被删除）")
    check_orphans(report)
    return report
