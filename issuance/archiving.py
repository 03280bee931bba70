"""归档: one archive record (件) per issued document, after DA/T 22-2015.

The package holds the issued PDF, the signed 定稿 in the exchange format and a metadata
JSON, each with its SHA-256; intermediate drafts stay in the app's history, not in the
archive.
"""

import datetime
import json

from django.core.files.storage import default_storage

from . import exchange, storage
from .exceptions import IssuanceError
from .models import ArchiveFile, ArchiveRecord, Retention, display_name


def archive_code(fonds_code, year, retention, department_code, item_number):
    """X001-WS·2024-Y-BGS-0123: 全宗号-门类代码·年度-保管期限-机构代码-件号."""
    return f"{fonds_code}-WS·{year}-{retention}-{department_code}-{item_number:04d}"


def _next_item_number(fonds_code, year, retention):
    last = (
        ArchiveRecord.objects.select_for_update()
        .filter(fonds_code=fonds_code, year=year, retention=retention)
        .order_by("-item_number")
        .values_list("item_number", flat=True)
        .first()
    )
    return (last or 0) + 1


def metadata(record, document, files):
    opinions = [
        {
            "step": opinion.get_step_display(),
            "decision": opinion.get_decision_display(),
            "text": opinion.text,
            "user": display_name(opinion.user),
            "time": opinion.created_at.isoformat(),
            "revision": opinion.revision.number,
        }
        for opinion in document.opinions.select_related("user", "revision")
    ]
    distribution = [
        {"recipient": d.recipient, "role": d.get_role_display(), "copies": d.copies,
         "sent_by": display_name(d.sent_by), "sent_at": d.sent_at.isoformat()}
        for d in document.distributions.select_related("sent_by")
    ]
    return {
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
        "签发稿本": {"number": document.signed_revision.number, "sha256": document.signed_revision.sha256},
        "审批意见": opinions,
        "分发": distribution,
        "文件": files,
    }


def create_record(document, user, retention, remarks=""):
    """Make the archive record and its package. Runs inside the caller's transaction;
    if anything fails, the files written so far are removed before the error goes on."""
    if retention not in Retention.values:
        raise IssuanceError("请选择保管期限")
    if len(remarks) > 200:
        raise IssuanceError("备注过长（最多 200 字）")
    if not document.issued_pdf:
        raise IssuanceError("公文尚未印制，不能归档")
    content = document.issued_content()
    date = exchange.parse_document(content)["date"]
    date = datetime.date.fromisoformat(date) if date else document.printed_date
    year = date.year
    organ = document.organ
    item_number = _next_item_number(organ.fonds_code, year, retention)
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
        archived_by=user,
    )
    folder = f"archive/{organ.fonds_code}/{year}/{code}"
    written = []
    try:
        pdf = storage.read(document.issued_pdf.name)
        if storage.sha256_bytes(pdf) != document.issued_pdf_sha256:
            raise IssuanceError("正式文件的哈希值与印制时不符，已停止归档，请联系管理员")
        written.append((ArchiveFile.Kind.ISSUED_PDF, storage.store(f"{folder}/{document.doc_number}.pdf", pdf)))
        signed = exchange.dump_json(content).encode("utf-8")
        written.append((ArchiveFile.Kind.SIGNED_JSON, storage.store(f"{folder}/定稿.json", signed)))
        files = [{"kind": kind, "path": f.path, "sha256": f.sha256, "size": f.size} for kind, f in written]
        meta = json.dumps(metadata(record, document, files), ensure_ascii=False, indent=2).encode("utf-8")
        written.append((ArchiveFile.Kind.METADATA, storage.store(f"{folder}/元数据.json", meta)))
        record.save()
        for kind, stored in written:
            ArchiveFile.objects.create(record=record, kind=kind, path=stored.path, sha256=stored.sha256, size=stored.size)
    except BaseException:
        for _, stored in written:
            default_storage.delete(stored.path)
        raise
    return record
