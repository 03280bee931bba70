"""The archive pages: the catalogue of archived documents, one record with its package,
its files and its export as a zip.

Open to the 档案员, the office (办公室文书, 办公室核稿) and the 主要领导; anyone else
gets 403, anonymous visitors the login page. Each organ's archive (its 全宗) is its own:
a user sees the records of the organs where they hold one of those roles, and a record of
another organ answers 404.
Nothing here changes a record: there are only GET views.
"""

import functools
import tempfile
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import BooleanField, Count, Q
from django.db.models.expressions import RawSQL
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from . import archiving, params
from .exceptions import IssuanceError
from .models import ArchiveFile, ArchiveRecord, Organ, Retention
from .paging import page_of
from .roles import ARCHIVE_ROLES, may_browse_archive, memberships

PAGE_SIZE = 50
SEARCH_FIELDS = (
    # (GET parameter, label, lookup)
    ("code", "档号", "archive_code__icontains"),
    ("number", "文号", "doc_number__icontains"),
    ("title", "题名", "title__icontains"),
    ("organ", "责任者", "responsible__icontains"),
    # Full text with icontains (LIKE / ILIKE) over ArchiveRecord.full_text: it behaves the
    # same on SQLite and PostgreSQL, and it is right for Chinese, which has no spaces
    # between words: PostgreSQL's text-search parser would take a whole run of Chinese
    # characters as one "word" and find nothing inside it. On PostgreSQL the bigram index
    # finds the candidates first (see `_text_bigrams`).
    ("text", "全文", "full_text__icontains"),
)


# Written by PostgreSQL itself: the column migration 0012 adds, which the model does not know.
GRAMS = '"issuance_archiverecord"."search_grams" @> gongwen_bigrams(%s)'


def _text_bigrams(records, value):
    """On PostgreSQL, the records whose text holds every bigram of `value`, off the GIN index
    archive_text_bigrams (a term of one character has none: the LIKE alone searches)."""
    if connection.vendor != "postgresql" or len("".join(value.split())) < 2:
        return records
    return records.filter(RawSQL(GRAMS, [value], output_field=BooleanField()))


def archive_access(view):
    @functools.wraps(view)
    @login_required
    @require_safe
    def wrapped(request, *args, **kwargs):
        if not may_browse_archive(request.user):
            raise PermissionDenied("档案仅供档案员、办公室和主要领导查阅")
        return view(request, *args, **kwargs)

    return wrapped


def _records(user):
    """The archives (全宗) of the organs where the user holds an archive role: by 全宗号, the
    first column of the archive list's index (archive_fonds_order)."""
    organs = memberships(user).organs(*ARCHIVE_ROLES)
    # Literal codes, so that the planner knows how many records each holds.
    fonds = list(Organ.objects.filter(pk__in=organs).values_list("fonds_code", flat=True)) if organs else []
    return ArchiveRecord.objects.filter(fonds_code__in=fonds)


def _record(request, pk):
    """A record of another organ's archive does not exist for this user."""
    return get_object_or_404(_records(request.user).select_related("document", "archived_by"), pk=pk)


def search(records, query):
    """Filter `records` by the search form's fields (see SEARCH_FIELDS), the year and the 保管期限."""
    for name, label, lookup in SEARCH_FIELDS:
        value = params.text(query, name, label=label)
        if value:
            if name == "text":
                records = _text_bigrams(records, value)
            records = records.filter(Q(**{lookup: value}))
    year = params.year(query)
    if year is not None:
        records = records.filter(year=year)
    retention = params.choice(query, "retention", Retention.values)
    if retention:
        records = records.filter(retention=retention)
    return records


@archive_access
def archive_list(request):
    base = _records(request.user)
    years = list(base.values("year").annotate(count=Count("pk")).order_by("-year"))
    records = search(base, request.GET).order_by("-year", "retention", "item_number")
    page = page_of(records, PAGE_SIZE, params.page(request.GET))
    fields = [
        {"name": name, "label": label, "value": params.text(request.GET, name, label=label)}
        for name, label, _ in SEARCH_FIELDS
    ]
    year, retention = params.year(request.GET), params.choice(request.GET, "retention", Retention.values, default="")
    return render(request, "issuance/archive/list.html", {
        "tab": "archive_records",
        "page": page,
        "years": years,
        "year": "" if year is None else str(year),
        "retention": retention,
        "retentions": Retention.choices,
        "fields": fields,
        "searching": any(f["value"] for f in fields) or bool(retention),
        "total": base.count(),
    })


@archive_access
def archive_detail(request, pk):
    record = _record(request, pk)
    files = sorted(record.files.all(), key=lambda f: archiving.KINDS.index(f.kind) if f.kind in archiving.KINDS else 99)
    return render(request, "issuance/archive/detail.html", {
        "tab": "archive_records",
        "record": record,
        "catalogue": [
            ("序号", record.item_number),
            ("档号", record.archive_code),
            ("文号", record.doc_number),
            ("责任者", record.responsible),
            ("题名", record.title),
            ("日期", record.date.strftime("%Y-%m-%d")),
            ("密级", record.secrecy or "—"),
            ("页数", record.pages),
            ("备注", record.remarks or "—"),
        ],
        "parts": [
            ("全宗号", record.fonds_code),
            ("年度", record.year),
            ("保管期限", record.get_retention_display()),
            ("机构代码", record.department_code),
            ("件号", f"{record.item_number:04d}"),
        ],
        "files": [{"file": f, "name": archiving.package_name(f), "is_pdf": f.path.endswith(".pdf")} for f in files],
    })


@archive_access
def archive_file(request, pk, kind):
    record = _record(request, pk)
    if kind not in ArchiveFile.Kind.values:
        raise Http404("没有该类档案文件")
    archived = get_object_or_404(record.files, kind=kind)
    try:
        data = archiving.read_verified(archived)
    except IssuanceError as error:
        return render(request, "message.html", {"title": "档案文件校验不符", "message": error.message}, status=409)
    except FileNotFoundError:
        return render(request, "message.html", {
            "title": "档案文件缺失", "message": "该档案文件在存储中找不到，请运行 verify_archive 检查",
        }, status=409)
    name = archiving.package_name(archived)
    if name.endswith(".pdf"):
        response = HttpResponse(data, content_type="application/pdf")
        disposition = "attachment" if params.flag(request.GET, "download") else "inline"
    else:
        response = HttpResponse(data, content_type="application/json; charset=utf-8")
        disposition = "attachment"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Content-SHA256"] = archived.sha256
    return response


@archive_access
def archive_export(request, pk):
    record = _record(request, pk)
    # Packages are a few MB at most: kept in memory, spilled to a temporary file if larger.
    buffer = tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024)
    try:
        archiving.write_zip(record, buffer)
    except IssuanceError as error:
        buffer.close()
        return render(request, "message.html", {"title": "无法导出档案包", "message": error.message}, status=409)
    except FileNotFoundError:
        buffer.close()
        return render(request, "message.html", {
            "title": "无法导出档案包", "message": "档案包中有文件在存储中找不到，请运行 verify_archive 检查",
        }, status=409)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=f"{record.archive_code}.zip",
                        content_type="application/zip")
