"""归档: the archive record, its package, its immutability, verify_archive, the archive
pages and the export; each organ's archive (全宗) its own.

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
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from issuance import archive_views, archiving, demo, services, storage, verification
from issuance.exceptions import IssuanceError
from issuance.models import (
    Appointment,
    ArchiveFile,
    ArchiveRecord,
    Decision,
    Department,
    Document,
    Event,
    Organ,
    Role,
    Stage,
)
from issuance.services import issuing
from workflows import actions, demo_path

from .builders import ANONYMOUS, as_, decide, gx_content, module_world

CAST = ("drafter", "head", "reviewer", "deputy", "director", "clerk", "archivist", "outsider")
GX_CAST = ("gx_drafter", "gx_head", "gx_industry", "gx_digital", "gx_reviewer", "gx_deputy", "gx_director",
           "gx_clerk", "gx_archivist")
EVERYONE = CAST + GX_CAST + (ANONYMOUS,)
NAMES = {"drafter": "林晓峰", "head": "陈志明", "reviewer": "王丽", "deputy": "黄建国", "director": "张伟",
         "clerk": "李娜", "archivist": "郑敏", "gx_drafter": "许文杰", "gx_head": "蔡明辉", "gx_industry": "施建华",
         "gx_digital": "曾晓东", "gx_reviewer": "庄雅琴", "gx_deputy": "洪志强", "gx_director": "苏国栋",
         "gx_clerk": "叶小红", "gx_archivist": "傅丽娟"}

# Who may browse an archive: the 档案员, the office and the principal, each their own
# organ's; everyone else who is logged in gets 403; the anonymous visitor is sent to the
# login page (302).
ARCHIVE_ROLES = {"reviewer", "director", "clerk", "archivist"}
GX_ARCHIVE_ROLES = {"gx_reviewer", "gx_director", "gx_clerk", "gx_archivist"}

RETURN_REASON = "请补充活动地点和联系人。"
RESUBMIT_NOTE = "已补充活动地点，请再审。"
FIRST_BODY = "为普及科学知识，经研究，决定开展2026年科技活动周。"
SECOND_BODY = "为普及科学知识，经研究，决定开展2026年科技活动周，组织科普大篷车进社区。"
GX_BODY = "为推动工业互联网创新发展，经研究，决定开展2026年工业互联网宣传周。"
# What each 会签科室 of the 泉工信 document said.
GX_PARTIES = {"产业发展科": ("gx_industry", "同意，产业数据已核对。"),
              "信息化推进科": ("gx_digital", "同意，请按程序办理。")}
JOINT_ORGANS = ["泉州市科学技术局", "泉州市工业和信息化局"]


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


def _build(seed_content):
    demo.load_organisation()
    User = get_user_model()
    cast = {user.username: user for user in User.objects.filter(username__in=CAST + GX_CAST)}
    drafter = cast["drafter"]

    # The main document: returned once at 初审, corrected and submitted again, then archived.
    first = content_of(seed_content, "泉州市科学技术局关于开展2026年科技活动周的通知", FIRST_BODY,
                       attachments=["2026年科技活动周活动安排表"])
    main = demo_path.take_through_path(first, drafter, until="初审")
    decide(main, cast["head"], Decision.RETURN, RETURN_REASON)
    services.save_content(main, drafter, {**first, "body": [{"kind": "paragraph", "text": SECOND_BODY}, *first["body"][1:]]})
    actions.submit(main, drafter, RESUBMIT_NOTE)
    main = demo_path.advance(main, Stage.ARCHIVED)

    # Another one, of 2025, issued jointly with 泉工信 (whose office countersigns it), kept for 30 years.
    other = demo_path.take_through_path(
        content_of(seed_content, "泉州市科学技术局 泉州市工业和信息化局关于举办2025年科技成果展的通知",
                   "为展示科技创新成果，决定举办2025年科技成果展。",
                   date="2025-12-30", issuer_marks=JOINT_ORGANS, signature_orgs=JOINT_ORGANS),
        drafter, retention="D30", format_reason="补办2025年的联合发文，成文日期早于拟稿日期",
    )
    # One that waits to be archived.
    waiting = demo_path.take_through_path(
        content_of(seed_content, "泉州市科学技术局关于报送2026年科普统计数据的通知", "请各单位报送科普统计数据。"),
        drafter, until=Stage.ARCHIVING,
    )
    # 泉工信's own, countersigned by two of its 科室, in its own 全宗.
    parties = Department.objects.filter(organ__code="泉工信", name__in=GX_PARTIES)
    gx = demo_path.take_through_path(
        gx_content(seed_content, body=[{"kind": "paragraph", "text": GX_BODY}]), cast["gx_drafter"],
        until="会签", countersign=list(parties),
    )
    for party, (who, text) in GX_PARTIES.items():
        decide(gx, cast[who], Decision.APPROVE, text, party=party)
    gx = demo_path.advance(gx, Stage.ARCHIVED)
    return SimpleNamespace(main=main.pk, other=other.pk, waiting=waiting.pk, gx=gx.pk)


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker, seed_content, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    with module_world(django_db_blocker, media):
        yield SimpleNamespace(media=Path(media), **vars(_build(seed_content)))


@pytest.fixture(autouse=True)
def media_root(built):
    """Overrides conftest's per-test media root: the module's archive lives in the module's."""
    return built.media


@pytest.fixture
def world(built, db):
    User = get_user_model()
    return SimpleNamespace(
        media=built.media,
        users={name: User.objects.get(username=name) for name in CAST + GX_CAST},
        main=Document.objects.get(pk=built.main),
        other=Document.objects.get(pk=built.other),
        waiting=Document.objects.get(pk=built.waiting),
        gx=Document.objects.get(pk=built.gx),
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


def local_minute(moment):
    local = timezone.localtime(moment)
    return f"{local.year}年{local.month}月{local.day}日{local:%H:%M}"


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
    assert other.responsible == "泉州市科学技术局、泉州市工业和信息化局"


def test_each_organ_files_into_its_own_fonds_with_its_own_item_numbers(world):
    main, gx = world.main.archive_record, world.gx.archive_record
    assert (gx.fonds_code, gx.year, gx.retention, gx.item_number) == ("X002", main.year, "Y", 1)
    assert gx.archive_code == f"X002-WS·{gx.year}-Y-ZHK-0001"
    assert gx.doc_number == world.gx.doc_number == f"泉工信〔{timezone.localdate().year}〕1号"
    assert (gx.responsible, gx.archived_by) == ("泉州市工业和信息化局", world.users["gx_archivist"])
    assert {PurePosixPath(f.path).parts[:3] for f in gx.files.all()} == {("archive", "X002", str(gx.year))}


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
    assert [o["step"] for o in meta["审批意见"]] == ["拟稿", "初审", "拟稿", "初审", "复审", "终审", "签发", "复核"]
    assert meta["签发稿本"]["sha256"] == world.main.signed_revision.sha256


def test_the_metadata_names_the_party_of_each_countersigning_opinion(world):
    meta = json.loads(storage.read(files_of(world.gx.archive_record)["metadata"].path))
    countersigned = {o["party"]: (o["user"], o["text"]) for o in meta["审批意见"] if o["step"] == "会签"}
    assert countersigned == {party: (NAMES[who], text) for party, (who, text) in GX_PARTIES.items()}
    assert {o["party"] for o in meta["审批意见"] if o["step"] != "会签"} == {""}


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
    assert [(o.round, o.step) for o in opinions] == [
        (1, "拟稿"), (1, "初审"), (2, "拟稿"), (2, "初审"), (2, "复审"), (2, "终审"), (2, "签发"), (2, "复核"),
    ]
    position = 0
    for opinion in opinions:
        for piece in (opinion.step, NAMES[opinion.user.username], opinion.get_decision_display(), opinion.text):
            assert squeeze(piece) in text, piece
        # In the order they were given: each opinion's text after the one before.
        found = text.find(squeeze(opinion.text), position)
        assert found >= 0, opinion.text
        position = found
        assert local_minute(opinion.created_at) in text
    assert RETURN_REASON in text and RESUBMIT_NOTE in text
    # Nobody countersigned this one (its 会签 was skipped): the sheet has no 会签 row.
    assert "会签" not in text
    assert reader.metadata.title.startswith("泉州市科学技术局发文稿纸")


def countersign_row(text):
    """The 会签 row of a 稿纸's text: between the 签发 row above it and the 文种 row below."""
    start = text.index("会签")
    return text[start:text.index("文种", start)]


def test_the_draft_sheet_of_a_countersigned_document_has_a_row_with_each_partys_opinion(world):
    record = world.gx.archive_record
    text = pdf_text(storage.read(files_of(record)["draft_sheet"].path))
    assert "泉州市工业和信息化局发文稿纸" in text and record.archive_code in text
    row = countersign_row(text)
    for party, (who, said) in GX_PARTIES.items():
        opinion = world.gx.opinions.get(step="会签", party=party)
        assert (opinion.user, opinion.text) == (world.users[who], said)
        for piece in (f"{party}：", said, NAMES[who], local_minute(opinion.created_at)):
            assert squeeze(piece) in row, piece
    # The opinions table lists them too, with the other steps.
    table = text[text.index("办理意见"):]
    assert [step for step in ("初审", "复审", "会签", "终审", "签发", "复核") if step in table] == [
        "初审", "复审", "会签", "终审", "签发", "复核"]
    assert table.count("会签") == 2 and all(party in table for party in GX_PARTIES)


def test_the_draft_sheet_of_a_joint_document_shows_the_co_issuing_organs_countersignature(world):
    text = pdf_text(storage.read(files_of(world.other.archive_record)["draft_sheet"].path))
    opinion = world.other.opinions.get(step="会签")
    assert (opinion.party, opinion.user) == ("泉州市工业和信息化局", world.users["gx_reviewer"])
    row = countersign_row(text)
    assert "泉州市工业和信息化局：" in row and NAMES["gx_reviewer"] in row and squeeze(opinion.text) in row


def test_the_full_text_is_the_title_the_recipients_the_body_the_attachments_and_the_cc(world):
    record = world.main.archive_record
    content = world.main.issued_content()
    assert record.full_text == "\n".join([
        content["title"], content["main_recipients"], SECOND_BODY, "一、活动时间", "2026年5月17日至23日。",
        "2026年科技活动周活动安排表", "市科协",
    ])


# Files and records that outlive each other -------------------------------------------

def _fail_the_archive_step(monkeypatch):
    original = issuing.move

    def failing(document, actor, action, after, **detail):
        if action == "archive":
            raise RuntimeError("disk full")
        return original(document, actor, action, after, **detail)

    monkeypatch.setattr(issuing, "move", failing)


def archive_waiting(world):
    """The 档案员 does the waiting document's 归档 task."""
    demo_path.act(actions.open_tasks(world.waiting).get(), world.users["archivist"])


def test_a_failure_of_the_service_after_the_record_is_made_leaves_no_files(world, monkeypatch, restored):
    before_archive, before_pending = media_files(world.media), media_files(world.media, archiving.PENDING_DIR)
    _fail_the_archive_step(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"):
        archive_waiting(world)
    assert Document.objects.get(pk=world.waiting.pk).stage == Stage.ARCHIVING
    assert not ArchiveRecord.objects.filter(document=world.waiting).exists()
    assert actions.open_tasks(world.waiting).get().state.name == "归档"
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
        archive_waiting(world)
    left = media_files(world.media) - before
    assert len(left) == 5 and media_files(world.media, archiving.PENDING_DIR)
    out = io.StringIO()
    call_command("verify_archive", stdout=out)
    assert "已清理未完成归档遗留的文件" in out.getvalue() and "全部一致" in out.getvalue()
    assert media_files(world.media) == before

    # Again; this time the next archive attempt, which succeeds, cleans up.
    with pytest.raises(RuntimeError):
        archive_waiting(world)
    assert media_files(world.media) - before
    monkeypatch.undo()
    archive_waiting(world)
    record = ArchiveRecord.objects.get(document=world.waiting)
    assert media_files(world.media) - before == {f.path for f in record.files.all()}


def test_a_failure_inside_create_record_leaves_no_files(world, monkeypatch, restored):
    before = media_files(world.media)
    monkeypatch.setattr(archiving, "render_draft_sheet", lambda *args: (_ for _ in ()).throw(OSError("no space")))
    with pytest.raises(OSError):
        archive_waiting(world)
    assert media_files(world.media) == before
    assert not ArchiveRecord.objects.filter(document=world.waiting).exists()


def test_another_organs_archivist_cannot_file_the_document(world):
    task = actions.open_tasks(world.waiting).get()
    with pytest.raises(IssuanceError, match="应由泉州市科学技术局的档案员办理"):
        demo_path.act(task, world.users["gx_archivist"])
    assert not ArchiveRecord.objects.filter(document=world.waiting).exists()
    assert Document.objects.get(pk=world.waiting.pk).stage == Stage.ARCHIVING


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
    # Four documents (one waiting), three records of five files each, three more issued PDFs.
    assert (report.records, report.documents) == (3, 4) and report.files == 15 + 4


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


def test_an_issued_pdf_replaced_together_with_its_registered_hash_is_found(world, restored):
    target = world.media / world.waiting.issued_pdf.name
    forged = target.read_bytes().replace(b"%%EOF", b"%%EOF\n%forged")
    target.write_bytes(forged)
    Document.objects.filter(pk=world.waiting.pk).update(issued_pdf_sha256=storage.sha256_bytes(forged))
    printed = world.waiting.events.get(action="print")
    ok, out, _ = verify()
    assert not ok and "正式文件的 SHA-256 不符" not in out
    assert (f"公文 {world.waiting.pk}（{world.waiting.doc_number}）：正式文件登记的 SHA-256 与办理记录第 {printed.seq} 条"
            "（印制）记录的不同（登记被改动）") in out


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
    event = world.other.events.get(action="approve", detail__step="复审")
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


def test_export_archive_exports_each_organs_records_by_their_own_codes(world, tmp_path):
    record = world.gx.archive_record
    target = tmp_path / "gx.zip"
    call_command("export_archive", record.archive_code, "-o", str(target), stdout=io.StringIO())
    manifest = check_zip(target.read_bytes(), record)
    assert manifest["catalogue"]["全宗号"] == "X002" and manifest["catalogue"]["文号"] == world.gx.doc_number


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

PAGES = ("list", "detail", "pdf", "json", "zip")


def archive_urls(record):
    return {
        "list": "/archive/",
        "detail": f"/archive/{record.pk}/",
        "pdf": f"/archive/{record.pk}/files/draft_sheet/",
        "json": f"/archive/{record.pk}/files/distribution/",
        "zip": f"/archive/{record.pk}/export.zip",
    }


def expected_status(who, page, organ_roles, other_roles):
    """A record's pages open to the archive roles of its organ; the archive roles of the
    other organ browse their own list but find no such record (404); everyone else 403."""
    if who == ANONYMOUS:
        return 302
    if who in organ_roles or (who in other_roles and page == "list"):
        return 200
    return 404 if who in other_roles else 403


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", EVERYONE)
def test_the_archive_pages_open_only_to_the_archivist_the_office_and_the_principal_of_the_organ(
    client, world, who, page,
):
    url = archive_urls(world.main.archive_record)[page]
    response = as_(client, world, who).get(url)
    expected = expected_status(who, page, ARCHIVE_ROLES, GX_ARCHIVE_ROLES)
    assert response.status_code == expected, (who, url, response.status_code)
    if who == ANONYMOUS:
        assert response["Location"].startswith("/login/?next=") and unquote(response["Location"].split("next=")[1]) == url
    if expected == 200:
        assert client.post(url).status_code == 405


@pytest.mark.parametrize("page", PAGES[1:])
@pytest.mark.parametrize("who", sorted(ARCHIVE_ROLES | GX_ARCHIVE_ROLES))
def test_the_other_organs_records_do_not_exist_for_an_archive_role(client, world, who, page):
    url = archive_urls(world.gx.archive_record)[page]
    expected = expected_status(who, page, GX_ARCHIVE_ROLES, ARCHIVE_ROLES)
    assert as_(client, world, who).get(url).status_code == expected, (who, url)


def test_the_nav_shows_the_archive_only_to_those_who_may_open_it(client, world):
    for who in CAST + GX_CAST:
        page = as_(client, world, who).get("/documents/").content.decode()
        assert ('href="/archive/"' in page) == (who in ARCHIVE_ROLES | GX_ARCHIVE_ROLES), who


def test_the_list_shows_the_catalogue_and_browses_by_year(client, world):
    main, other, gx = world.main.archive_record, world.other.archive_record, world.gx.archive_record
    page = as_(client, world, "archivist").get("/archive/").content.decode()
    for record in (main, other):
        assert record.archive_code in page and record.title in page and record.doc_number in page
    assert gx.archive_code not in page and gx.title not in page
    assert f"{main.year}年（1件）" in page and "2025年（1件）" in page
    page = client.get("/archive/", {"year": "2025"}).content.decode()
    assert other.archive_code in page and main.archive_code not in page


@pytest.mark.parametrize("who", sorted(GX_ARCHIVE_ROLES))
def test_the_other_organs_archive_roles_find_only_their_own_fonds_in_the_list(client, world, who):
    gx = world.gx.archive_record
    page = as_(client, world, who).get("/archive/").content.decode()
    assert gx.archive_code in page and gx.title in page and gx.doc_number in page
    assert f"{gx.year}年（1件）" in page and "2025年" not in page
    for document in (world.main, world.other):
        record = document.archive_record
        assert record.archive_code not in page and record.title not in page and record.doc_number not in page
    assert "X001" not in page and "泉科〔" not in page


SEARCHES = [
    ("code", "-D30-", "other"),
    ("code", "X001-WS·", "main other"),
    ("code", "-WS·", "main other"),
    ("number", "MAIN_NUMBER", "main"),
    ("number", "〔", "main other"),
    ("title", "科技成果展", "other"),
    ("title", "科技活动周", "main"),
    ("title", "通知", "main other"),
    ("organ", "工业和信息化局", "other"),  # a co-issuer of the joint document
    ("organ", "科学技术局", "main other"),
    ("year", "2025", "other"),
    ("text", "科普大篷车进社区", "main"),  # in the 正文 only
    ("text", "活动安排表", "main"),  # an 附件 name
    ("text", "市科协", "main other"),  # the 抄送
    ("text", "工业互联网", ""),  # 泉工信's own record, not in this archive
    ("text", "不存在的文字", ""),
]


@pytest.mark.parametrize("field,value,finds", SEARCHES)
def test_the_archive_is_searchable_by_each_field(client, world, field, value, finds):
    records = {"main": world.main.archive_record, "other": world.other.archive_record, "gx": world.gx.archive_record}
    if value == "MAIN_NUMBER":
        value = records["main"].doc_number
    page = as_(client, world, "clerk").get("/archive/", {field: value}).content.decode()
    shown = {name for name, record in records.items() if record.archive_code in page}
    assert shown == set(finds.split()), (field, value)
    if not finds:
        assert "没有符合条件的档案" in page


@pytest.mark.parametrize("field,value", [(field, value) for field, value, finds in SEARCHES if finds] + [
    ("code", "X001"), ("number", "泉科"),
])
def test_a_search_of_the_other_organ_finds_nothing_of_this_one(client, world, field, value):
    if value == "MAIN_NUMBER":
        value = world.main.doc_number
    for who in sorted(GX_ARCHIVE_ROLES):
        page = as_(client, world, who).get("/archive/", {field: value}).content.decode()
        for document in (world.main, world.other):
            assert document.archive_record.archive_code not in page, (who, field, value)


def test_the_other_organ_searches_its_own_fonds(client, world):
    gx = world.gx.archive_record
    as_(client, world, "gx_clerk")
    for field, value in (("code", "X002-WS·"), ("number", "泉工信〔"), ("title", "工业互联网"),
                         ("organ", "工业和信息化局"), ("text", "工业互联网创新发展"), ("text", "市直有关单位")):
        page = client.get("/archive/", {field: value}).content.decode()
        assert gx.archive_code in page, (field, value)


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


def test_someone_who_browses_two_organs_archives_sees_both_fonds_and_only_those(client, world):
    Appointment.objects.create(user=world.users["archivist"], organ=Organ.objects.get(code="泉工信"),
                               role=Role.ARCHIVIST)
    page = as_(client, world, "archivist").get("/archive/").content.decode()
    for document in (world.main, world.other, world.gx):
        assert document.archive_record.archive_code in page
    gx = world.gx.archive_record
    assert client.get(f"/archive/{gx.pk}/").status_code == 200
    assert client.get(f"/archive/{gx.pk}/export.zip").status_code == 200
