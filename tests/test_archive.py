"""归档: the archive record, its package, its immutability, verify_archive, the archive
pages and the export.

The archived documents are built once for the module inside a transaction that is rolled
back at the end (as in test_views.py); each test runs in a savepoint on top of it, so
what a test writes to the database is undone. Files are not: a test that tampers with a
file of the module's archive puts it back (see `restored`).
"""

import copy
import io
import json
import zipfile
from pathlib import Path, PurePosixPath
from types import SimpleNamespace
from urllib.parse import unquote

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from pypdf import PdfReader

from issuance import archive_views, archiving, demo, services, storage, verification
from issuance.models import ArchiveFile, ArchiveRecord, Decision, Document, Event, Stage
from workflows import actions, demo_path

from .builders import ANONYMOUS, as_

CAST = ("drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist", "outsider")
EVERYONE = CAST + (ANONYMOUS,)
NAMES = {"drafter": "林晓峰", "head": "陈志明", "reviewer": "王丽", "deputy": "黄建国", "director": "张伟",
         "clerk": "李娜", "archivist": "郑敏"}

# Who may open the archive pages: the 档案员, the office and the principal (200); everyone
# else who is logged in gets 403; the anonymous visitor is sent to the login page (302).
ARCHIVE_ACCESS = dict(drafter=403, head=403, reviewer=200, deputy=403, director=200, clerk=200, archivist=200,
                      outsider=403, anonymous=302)

RETURN_REASON = "请补充活动地点和联系人。"
RESUBMIT_NOTE = "已补充活动地点，请再审。"
FIRST_BODY = "为普及科学知识，经研究，决定开展2026年科技活动周。"
SECOND_BODY = "为普及科学知识，经研究，决定开展2026年科技活动周，组织科普大篷车进社区。"


def content_of(seed_content, title, body_text, **changes):
    content = copy.deepcopy(seed_content)
    content.update(
        doc_number=None, printed_date=None, date=None, title=title,
        body=[
            {"kind": "paragraph", "text": body_text},
            {"kind": "heading1", "text": "一、活动时间"},
            {"kind": "paragraph", "text": "2026年5月17日至23日。"},
        ],
        cc="市科协",
    )
    content.update(changes)
    return content


def _act(document, stage, user, decision, text):
    task = actions.open_tasks(document).get()
    actions.complete(task, user, lambda: services.decide(document, user, decision, text, expected_stage=stage))
    document.refresh_from_db()


def _build(seed_content):
    demo.load_organisation()
    User = get_user_model()
    cast = {user.username: user for user in User.objects.filter(username__in=CAST)}
    drafter = cast["drafter"]

    # The main document: returned once at 初审, corrected and submitted again, then archived.
    first = content_of(seed_content, "泉州市科学技术局关于开展2026年科技活动周的通知", FIRST_BODY,
                       attachments=["2026年科技活动周活动安排表"])
    main = services.create_draft(drafter, first)
    actions.submit(main, drafter, "请审核。")
    main.refresh_from_db()
    _act(main, Stage.FIRST_REVIEW, cast["head"], Decision.RETURN, RETURN_REASON)
    services.save_content(main, drafter, {**first, "body": [{"kind": "paragraph", "text": SECOND_BODY}, *first["body"][1:]]})
    actions.submit(main, drafter, RESUBMIT_NOTE)
    main = demo_path.advance(main, Stage.ARCHIVED)

    # Another one, of 2025, issued jointly with another organ, kept for 30 years.
    other = demo_path.take_through_path(
        content_of(seed_content, "泉州市科学技术局 泉州市财政局关于举办2025年科技成果展的通知",
                   "为展示科技创新成果，决定举办2025年科技成果展。",
                   date="2025-12-30", issuer_marks=["泉州市科学技术局", "泉州市财政局"],
                   signature_orgs=["泉州市科学技术局", "泉州市财政局"]),
        drafter, retention="D30",
    )
    # One that waits to be archived.
    waiting = demo_path.take_through_path(
        content_of(seed_content, "泉州市科学技术局关于报送2026年科普统计数据的通知", "请各单位报送科普统计数据。"),
        drafter, until=Stage.ARCHIVING,
    )
    return SimpleNamespace(main=main.pk, other=other.pk, waiting=waiting.pk,
                           first_revision_text=FIRST_BODY)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, seed_content, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media, PASSWORD_HASHERS=fast,
                                                        GONGWEN_RENDER_BACKEND="inline"):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield SimpleNamespace(media=Path(media), **vars(_build(seed_content)))
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def media_root(built):
    """Overrides conftest's per-test media root: the module's archive lives in the module's."""
    return built.media


@pytest.fixture
def world(built, db):
    User = get_user_model()
    return SimpleNamespace(
        media=built.media,
        users={name: User.objects.get(username=name) for name in CAST},
        main=Document.objects.get(pk=built.main),
        other=Document.objects.get(pk=built.other),
        waiting=Document.objects.get(pk=built.waiting),
    )


@pytest.fixture
def restored(built):
    """Put back every file of the module's media root that a test changed, moved or added."""
    before = {path: path.read_bytes() for path in built.media.rglob("*") if path.is_file()}
    yield
    for path in built.media.rglob("*"):
        if path.is_file() and path not in before:
            path.unlink()
    for path, data in before.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)


def files_of(record):
    return {f.kind: f for f in record.files.all()}


def media_files(media, under="archive"):
    root = media / under
    return {path.relative_to(media).as_posix() for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def pdf_text(data):
    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def squeeze(text):
    return "".join(text.split())


# The record and its package ----------------------------------------------------------

def test_the_record_carries_the_catalogue_fields_of_da_t_22(world):
    record = world.main.archive_record
    year = record.date.year
    assert record.archive_code == f"X001-WS·{year}-Y-ZHK-0001"
    assert (record.fonds_code, record.retention, record.department_code, record.item_number) == ("X001", "Y", "ZHK", 1)
    assert record.doc_number == world.main.doc_number
    assert record.responsible == "泉州市科学技术局"
    assert record.title == "泉州市科学技术局关于开展2026年科技活动周的通知"
    assert record.pages == world.main.issued_pages and record.pages >= 1
    assert record.archived_by == world.users["archivist"]
    other = world.other.archive_record
    assert other.archive_code == "X001-WS·2025-D30-ZHK-0001"
    assert other.responsible == "泉州市科学技术局、泉州市财政局"


def test_the_package_holds_five_files_stored_by_relative_path_with_their_hashes(world):
    record = world.main.archive_record
    files = files_of(record)
    assert set(files) == set(archiving.KINDS)
    folder = PurePosixPath(files[ArchiveFile.Kind.METADATA].path).parent
    assert str(folder).startswith(f"archive/X001/{record.year}/{record.archive_code}_")
    for archived in files.values():
        assert not archived.path.startswith("/") and PurePosixPath(archived.path).parent == folder
        data = storage.read(archived.path)
        assert storage.sha256_bytes(data) == archived.sha256 and len(data) == archived.size
    names = {kind: PurePosixPath(f.path).name for kind, f in files.items()}
    assert names == {
        "issued_pdf": f"{world.main.doc_number}.pdf", "signed_json": "定稿.json", "draft_sheet": "发文稿纸.pdf",
        "distribution": "分发清单.json", "metadata": "元数据.json",
    }
    # The issued PDF byte for byte, and the signed text with what 登记 and 印制 added.
    assert files["issued_pdf"].sha256 == world.main.issued_pdf_sha256
    signed = json.loads(storage.read(files["signed_json"].path))
    assert signed == json.loads(json.dumps(world.main.issued_content(), ensure_ascii=False))
    assert signed["body"][0]["text"] == SECOND_BODY
    # No intermediate draft: the first revision's text is in no file of the package.
    for archived in files.values():
        if archived.path.endswith(".json"):
            assert FIRST_BODY + "\n" not in storage.read(archived.path).decode("utf-8")
            assert f'"{FIRST_BODY}"' not in storage.read(archived.path).decode("utf-8")
    # Nothing else was written for this record.
    assert {p for p in media_files(world.media) if p.startswith(str(folder))} == {f.path for f in files.values()}


def test_the_metadata_lists_the_catalogue_the_opinions_and_the_other_files(world):
    record = world.main.archive_record
    files = files_of(record)
    meta = json.loads(storage.read(files["metadata"].path))
    for key, value in archiving.catalogue(record).items():
        assert meta[key] == value, key
    assert meta["档号"] == record.archive_code and meta["题名"] == record.title
    listed = {entry["kind"]: entry for entry in meta["文件"]}
    assert set(listed) == set(archiving.KINDS) - {"metadata"}
    for kind, entry in listed.items():
        assert (entry["sha256"], entry["size"]) == (files[kind].sha256, files[kind].size)
    assert [o["step"] for o in meta["审批意见"]][:3] == ["拟稿", "初审", "拟稿"]
    assert meta["签发稿本"]["sha256"] == world.main.signed_revision.sha256


def test_the_distribution_list_names_each_recipient_its_copies_and_who_sent_them(world):
    record = world.main.archive_record
    listing = json.loads(storage.read(files_of(record)["distribution"].path))
    assert listing["档号"] == record.archive_code and listing["印发份数"] == world.main.copies
    sent = list(world.main.distributions.order_by("pk"))
    assert [(e["recipient"], e["role"], e["copies"]) for e in listing["分发"]] == [
        (d.recipient, d.get_role_display(), d.copies) for d in sent
    ]
    assert {e["role"] for e in listing["分发"]} == {"主送", "抄送"}
    for entry, d in zip(listing["分发"], sent):
        assert entry["sent_by"] == "李娜" and entry["sent_at"] == d.sent_at.isoformat()
        assert (entry["first_copy"], entry["last_copy"], entry["copy_numbers"]) == (d.first_copy, d.last_copy, d.copy_numbers)
    assert listing["分发份数合计"] == sum(d.copies for d in sent)


def test_the_draft_sheet_shows_the_form_and_every_opinion_of_every_round(world):
    record = world.main.archive_record
    data = storage.read(files_of(record)["draft_sheet"].path)
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4
    text = pdf_text(data)
    content = world.main.issued_content()
    for expected in (
        "泉州市科学技术局发文稿纸", record.archive_code,
        "文种", "通知", "密级", "紧急程度", "标题", content["title"], "主送", content["main_recipients"],
        "抄送", "市科协", "附件", "2026年科技活动周活动安排表", "印发份数", f"{world.main.copies}份",
        "发文字号", world.main.doc_number, "承办科室", "综合科", "拟稿人", "林晓峰", "签发",
    ):
        assert squeeze(expected) in text, expected
    opinions = list(world.main.opinions.select_related("user").order_by("created_at", "pk"))
    assert len(opinions) == 8  # 送审, 初审退回, 送审, 初审, 复审, 终审, 签发, 复核
    assert [o.round for o in opinions] == [1, 1, 2, 2, 2, 2, 2, 2]
    position = 0
    for opinion in opinions:
        for piece in (opinion.get_step_display(), NAMES[opinion.user.username], opinion.get_decision_display(),
                      opinion.text):
            assert squeeze(piece) in text, piece
        # In the order they were given: each opinion's text after the one before.
        found = text.find(squeeze(opinion.text), position)
        assert found >= 0, opinion.text
        position = found
        local = timezone.localtime(opinion.created_at)
        assert f"{local.year}年{local.month}月{local.day}日{local:%H:%M}" in text
    assert RETURN_REASON in text and RESUBMIT_NOTE in text
    assert reader.metadata.title.startswith("泉州市科学技术局发文稿纸")


def test_the_full_text_is_the_title_the_recipients_the_body_the_attachments_and_the_cc(world):
    record = world.main.archive_record
    content = world.main.issued_content()
    assert record.full_text == "\n".join([
        content["title"], content["main_recipients"], SECOND_BODY, "一、活动时间", "2026年5月17日至23日。",
        "2026年科技活动周活动安排表", "市科协",
    ])


# Files and records that outlive each other -------------------------------------------

def _fail_the_archive_step(monkeypatch):
    original = services._move

    def failing(document, actor, action, after, **detail):
        if action == "archive":
            raise RuntimeError("disk full")
        return original(document, actor, action, after, **detail)

    monkeypatch.setattr(services, "_move", failing)


def test_a_failure_of_the_service_after_the_record_is_made_leaves_no_files(world, monkeypatch, restored):
    before_archive, before_pending = media_files(world.media), media_files(world.media, archiving.PENDING_DIR)
    _fail_the_archive_step(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        demo_path.act(world.waiting, Stage.ARCHIVING, world.users["archivist"])
    assert Document.objects.get(pk=world.waiting.pk).stage == Stage.ARCHIVING
    assert not ArchiveRecord.objects.filter(document=world.waiting).exists()
    # The rollback dropped the attempt's on-commit hook, whose finalizer removed its files.
    assert media_files(world.media) == before_archive
    # (The attempt's sweep may also have removed the journals of the module's archived records.)
    assert media_files(world.media, archiving.PENDING_DIR) <= before_pending


def test_files_left_by_an_attempt_cut_short_are_removed_by_the_next_and_by_verify(world, monkeypatch, restored):
    before = media_files(world.media)
    # As if the process died after the rollback: no finalizer runs, the journal stays.
    monkeypatch.setattr(archiving._Attempt, "_watch", staticmethod(lambda state: None))
    _fail_the_archive_step(monkeypatch)
    with pytest.raises(RuntimeError):
        demo_path.act(world.waiting, Stage.ARCHIVING, world.users["archivist"])
    left = media_files(world.media) - before
    assert len(left) == 5 and media_files(world.media, archiving.PENDING_DIR)
    out = io.StringIO()
    call_command("verify_archive", stdout=out)
    assert "已清理未完成归档遗留的文件" in out.getvalue() and "全部一致" in out.getvalue()
    assert media_files(world.media) == before

    # Again; this time the next archive attempt, which succeeds, cleans up.
    with pytest.raises(RuntimeError):
        demo_path.act(world.waiting, Stage.ARCHIVING, world.users["archivist"])
    assert media_files(world.media) - before
    monkeypatch.undo()
    demo_path.act(world.waiting, Stage.ARCHIVING, world.users["archivist"])
    record = ArchiveRecord.objects.get(document=world.waiting)
    assert media_files(world.media) - before == {f.path for f in record.files.all()}


def test_a_failure_inside_create_record_leaves_no_files(world, monkeypatch, restored):
    before = media_files(world.media)
    monkeypatch.setattr(archiving, "render_draft_sheet", lambda *args: (_ for _ in ()).throw(OSError("no space")))
    with pytest.raises(OSError):
        demo_path.act(world.waiting, Stage.ARCHIVING, world.users["archivist"])
    assert media_files(world.media) == before
    assert not ArchiveRecord.objects.filter(document=world.waiting).exists()


# Immutability ------------------------------------------------------------------------

def test_archive_records_files_and_history_refuse_every_change(world):
    record = world.main.archive_record
    archived = record.files.first()
    event = world.main.events.last()
    for instance in (record, archived, event):
        with pytest.raises(ValidationError):
            instance.save()
        with pytest.raises(ValidationError):
            instance.delete()
    bulk = [
        (ArchiveRecord.objects.filter(pk=record.pk), {"title": "x"}),
        (ArchiveFile.objects.filter(pk=archived.pk), {"sha256": "0" * 64}),
        (record.files.all(), {"path": "x"}),
        (Event.objects.filter(document=world.main), {"action": "x"}),
        (world.main.events.all(), {"action": "x"}),
    ]
    for queryset, change in bulk:
        with pytest.raises(ValidationError, match="不可修改"):
            queryset.update(**change)
        with pytest.raises(ValidationError, match="不可删除"):
            queryset.delete()
    with pytest.raises(ValidationError):
        ArchiveRecord.objects.bulk_update([record], ["title"])
    assert ArchiveRecord.objects.get(pk=record.pk).title == record.title
    assert record.files.count() == 5
    assert not admin.site.is_registered(ArchiveRecord) and not admin.site.is_registered(ArchiveFile)


# verify_archive ----------------------------------------------------------------------

def verify():
    out = io.StringIO()
    try:
        call_command("verify_archive", stdout=out)
    except CommandError as error:
        return False, out.getvalue(), str(error)
    return True, out.getvalue(), ""


def test_an_untouched_archive_passes(world):
    ok, out, _ = verify()
    assert ok, out
    assert "全部一致" in out and "不符" not in out
    report = verification.verify()
    assert report.records == 2 and report.files >= 10 + 3 and report.documents == 3


def test_a_file_changed_on_disk_is_found(world, restored):
    record = world.main.archive_record
    sheet = files_of(record)["draft_sheet"]
    target = world.media / sheet.path
    target.write_bytes(target.read_bytes() + b"%")
    ok, out, error = verify()
    assert not ok and "发现 1 处不符" in error
    assert f"档号 {record.archive_code}" in out and sheet.path in out and "SHA-256 不符" in out


def test_a_missing_file_is_found(world, restored):
    record = world.other.archive_record
    signed = files_of(record)["signed_json"]
    (world.media / signed.path).unlink()
    ok, out, _ = verify()
    assert not ok
    assert f"档号 {record.archive_code}：签发定稿（JSON）缺失：{signed.path}" in out


def test_an_issued_pdf_changed_on_disk_is_found(world, restored):
    target = world.media / world.other.issued_pdf.name
    target.write_bytes(target.read_bytes().replace(b"%%EOF", b"%%EOF\n%tampered"))
    ok, out, _ = verify()
    assert not ok and world.other.issued_pdf.name in out and "正式文件的 SHA-256 不符" in out


def test_an_unregistered_file_in_the_archive_is_found(world, restored):
    stray = world.media / "archive" / "X001" / "stray.pdf"
    stray.write_bytes(b"%PDF-1.7")
    ok, out, _ = verify()
    assert not ok and "未登记的文件：archive/X001/stray.pdf" in out


def _raw(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_history_row_changed_behind_the_apps_back_is_found(world):
    event = world.main.events.get(action="sign")
    table, action = connection.ops.quote_name(Event._meta.db_table), connection.ops.quote_name("action")
    _raw(f"UPDATE {table} SET {action} = %s WHERE id = %s", ["approve", event.pk])
    ok, out, _ = verify()
    assert not ok
    assert f"公文 {world.main.pk}（{world.main.doc_number}）：办理记录第 {event.seq} 条的内容与其哈希值不符" in out


def test_a_history_row_changed_and_rehashed_behind_the_apps_back_breaks_the_link_to_the_next(world):
    event = world.main.events.get(action="sign")
    event.detail = {**event.detail, "revision": 1}
    forged = event.compute_hash()
    table = connection.ops.quote_name(Event._meta.db_table)
    _raw(f"UPDATE {table} SET detail = %s, hash = %s WHERE id = %s",
         [json.dumps(event.detail, ensure_ascii=False), forged, event.pk])
    assert Event.objects.get(pk=event.pk).detail["revision"] == 1
    ok, out, _ = verify()
    assert not ok
    assert f"办理记录第 {event.seq + 1} 条的前一条哈希与第 {event.seq} 条不衔接" in out
    assert f"办理记录第 {event.seq} 条的内容与其哈希值不符" not in out


def test_a_history_row_deleted_behind_the_apps_back_is_found(world):
    event = world.other.events.get(action="approve", detail__step="second_review")
    table = connection.ops.quote_name(Event._meta.db_table)
    _raw(f"DELETE FROM {table} WHERE id = %s", [event.pk])
    ok, out, _ = verify()
    assert not ok and f"第 {event.seq - 1} 条之后是第 {event.seq + 1} 条" in out


def test_a_catalogue_field_changed_behind_the_apps_back_is_found(world):
    record = world.main.archive_record
    table = connection.ops.quote_name(ArchiveRecord._meta.db_table)
    _raw(f"UPDATE {table} SET title = %s WHERE id = %s", ["另一个题名", record.pk])
    ok, out, _ = verify()
    assert not ok and "“题名”与元数据不一致" in out


# Export ------------------------------------------------------------------------------

def check_zip(data, record):
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        names = package.namelist()
        manifest = json.loads(package.read(f"{record.archive_code}/manifest.json"))
        assert manifest["catalogue"]["档号"] == record.archive_code
        for key in ("序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"):
            assert key in manifest["catalogue"], key
        files = files_of(record)
        assert [entry["kind"] for entry in manifest["files"]] == list(archiving.KINDS)
        for entry in manifest["files"]:
            body = package.read(entry["path"])
            assert storage.sha256_bytes(body) == entry["sha256"] == files[entry["kind"]].sha256
            assert len(body) == entry["size"]
        assert sorted(names) == sorted([e["path"] for e in manifest["files"]] + [f"{record.archive_code}/manifest.json"])
    return manifest


def test_export_archive_writes_the_package_with_a_manifest(world, tmp_path):
    record = world.main.archive_record
    target = tmp_path / "package.zip"
    out = io.StringIO()
    call_command("export_archive", record.archive_code, "-o", str(target), stdout=out)
    assert "5 个文件" in out.getvalue()
    check_zip(target.read_bytes(), record)
    again = tmp_path / "again.zip"
    call_command("export_archive", record.archive_code, "-o", str(again), stdout=io.StringIO())
    assert again.read_bytes() == target.read_bytes()


def test_export_archive_refuses_an_unknown_code_and_a_tampered_package(world, tmp_path, restored):
    with pytest.raises(CommandError, match="不存在"):
        call_command("export_archive", "X001-WS·1999-Y-ZHK-0001", "-o", str(tmp_path / "x.zip"))
    record = world.main.archive_record
    target = world.media / files_of(record)["signed_json"].path
    target.write_bytes(target.read_bytes().replace("通知".encode(), "通告".encode(), 1))
    with pytest.raises(CommandError, match="哈希值与归档时不符"):
        call_command("export_archive", record.archive_code, "-o", str(tmp_path / "x.zip"))
    assert not (tmp_path / "x.zip").exists() and not (tmp_path / "x.zip.part").exists()


# The archive pages -------------------------------------------------------------------

def archive_urls(world):
    record = world.main.archive_record
    return {
        "list": "/archive/",
        "detail": f"/archive/{record.pk}/",
        "pdf": f"/archive/{record.pk}/files/draft_sheet/",
        "json": f"/archive/{record.pk}/files/distribution/",
        "zip": f"/archive/{record.pk}/export.zip",
    }


@pytest.mark.parametrize("page", ["list", "detail", "pdf", "json", "zip"])
@pytest.mark.parametrize("who", EVERYONE)
def test_the_archive_pages_open_only_to_the_archivist_the_office_and_the_principal(client, world, who, page):
    url = archive_urls(world)[page]
    response = as_(client, world, who).get(url)
    assert response.status_code == ARCHIVE_ACCESS[who], (who, url, response.status_code)
    if who == ANONYMOUS:
        assert response["Location"].startswith("/login/?next=") and unquote(response["Location"].split("next=")[1]) == url
    if ARCHIVE_ACCESS[who] == 200:
        assert client.post(url).status_code == 405


def test_the_nav_shows_the_archive_only_to_those_who_may_open_it(client, world):
    for who in CAST:
        page = as_(client, world, who).get("/documents/").content.decode()
        assert ('href="/archive/"' in page) == (ARCHIVE_ACCESS[who] == 200), who


def test_the_list_shows_the_catalogue_and_browses_by_year(client, world):
    main, other = world.main.archive_record, world.other.archive_record
    page = as_(client, world, "archivist").get("/archive/").content.decode()
    for record in (main, other):
        assert record.archive_code in page and record.title in page and record.doc_number in page
    assert f"{main.year}年（1件）" in page and "2025年（1件）" in page
    page = client.get("/archive/", {"year": "2025"}).content.decode()
    assert other.archive_code in page and main.archive_code not in page


@pytest.mark.parametrize("field,value,finds", [
    ("code", "-D30-", "other"),
    ("code", "X001-WS·", "both"),
    ("number", "MAIN_NUMBER", "main"),
    ("title", "科技成果展", "other"),
    ("title", "科技活动周", "main"),
    ("organ", "财政局", "other"),
    ("organ", "科学技术局", "both"),
    ("year", "2025", "other"),
    ("text", "科普大篷车进社区", "main"),  # in the 正文 only
    ("text", "活动安排表", "main"),  # an 附件 name
    ("text", "市科协", "both"),  # the 抄送
    ("text", "不存在的文字", "none"),
])
def test_the_archive_is_searchable_by_each_field(client, world, field, value, finds):
    main, other = world.main.archive_record, world.other.archive_record
    if value == "MAIN_NUMBER":
        value = main.doc_number
    page = as_(client, world, "clerk").get("/archive/", {field: value}).content.decode()
    shown = {name for name, record in (("main", main), ("other", other)) if record.archive_code in page}
    assert shown == {"both": {"main", "other"}, "none": set()}.get(finds, {finds}), (field, value)
    if finds == "none":
        assert "没有符合条件的档案" in page


def test_the_list_is_paginated(client, world, monkeypatch):
    monkeypatch.setattr(archive_views, "PAGE_SIZE", 1)
    as_(client, world, "archivist")
    first = client.get("/archive/").content.decode()
    second = client.get("/archive/", {"page": "2"}).content.decode()
    assert "第 1 / 2 页" in first and "page=2" in first and "第 2 / 2 页" in second
    codes = [world.main.archive_record.archive_code, world.other.archive_record.archive_code]
    assert sum(code in first for code in codes) == 1 and sum(code in second for code in codes) == 1


def test_the_record_page_shows_the_catalogue_and_the_files_with_their_hashes(client, world):
    record = world.main.archive_record
    page = as_(client, world, "director").get(f"/archive/{record.pk}/").content.decode()
    for label in ("序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"):
        assert f"<th>{label}</th>" in page, label
    for value in (record.archive_code, record.doc_number, record.responsible, record.title, record.date.isoformat()):
        assert value in page
    for archived in record.files.all():
        assert archived.sha256 in page and f"/archive/{record.pk}/files/{archived.kind}/" in page
    assert f"/archive/{record.pk}/export.zip" in page and f"/documents/{record.document_id}/" in page


def test_files_are_served_as_stored_pdfs_inline_and_json_as_attachments(client, world):
    record = world.main.archive_record
    as_(client, world, "archivist")
    for archived in record.files.all():
        response = client.get(f"/archive/{record.pk}/files/{archived.kind}/")
        assert response.status_code == 200
        assert response.content == storage.read(archived.path)
        disposition = response["Content-Disposition"]
        if archived.path.endswith(".pdf"):
            assert response["Content-Type"] == "application/pdf" and disposition.startswith("inline")
        else:
            assert response["Content-Type"].startswith("application/json") and disposition.startswith("attachment")
        assert unquote(disposition.split("''")[1]) == PurePosixPath(archived.path).name
    assert client.get(f"/archive/{record.pk}/files/draft_sheet/?download=1")["Content-Disposition"].startswith("attachment")
    assert client.get(f"/archive/{record.pk}/files/nothing/").status_code == 404
    assert client.get("/archive/999999/").status_code == 404


def test_a_tampered_file_is_not_served(client, world, restored):
    record = world.main.archive_record
    target = world.media / files_of(record)["metadata"].path
    target.write_bytes(target.read_bytes() + b" ")
    as_(client, world, "archivist")
    response = client.get(f"/archive/{record.pk}/files/metadata/")
    assert response.status_code == 409 and "verify_archive" in response.content.decode()
    assert client.get(f"/archive/{record.pk}/export.zip").status_code == 409


def test_the_zip_export_downloads_the_package_with_its_manifest(client, world):
    record = world.other.archive_record
    response = as_(client, world, "clerk").get(f"/archive/{record.pk}/export.zip")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert unquote(response["Content-Disposition"].split("''")[1]) == f"{record.archive_code}.zip"
    manifest = check_zip(b"".join(response.streaming_content), record)
    assert manifest["catalogue"]["保管期限"] == "定期30年"
