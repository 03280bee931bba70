"""The management commands: import_gongwen, export_gongwen and setup_demo."""

import json

import pytest
from django.core.management import CommandError, call_command

from issuance import exchange
from issuance.models import ArchiveRecord, Document, Stage


def test_import_creates_a_draft_and_export_writes_it_back(cast, seed_content, tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps(seed_content, ensure_ascii=False), encoding="utf-8")
    call_command("import_gongwen", str(source), "--user", "drafter")
    document = Document.objects.get()
    assert document.stage == Stage.DRAFTING and document.drafter == cast["drafter"]
    target = tmp_path / "out.json"
    call_command("export_gongwen", str(document.pk), "-o", str(target))
    assert json.loads(target.read_text(encoding="utf-8")) == exchange.parse_document(seed_content)


@pytest.mark.parametrize("change,words", [({"title": None}, "标题"), ({"body": "正文"}, "正文"), ({"date": "九月五日"}, "成文日期")])
def test_import_rejects_invalid_input_naming_the_field_and_creates_nothing(cast, seed_content, tmp_path, change, words):
    source = tmp_path / "bad.json"
    source.write_text(json.dumps({**seed_content, **change}, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match=words):
        call_command("import_gongwen", str(source))
    assert not Document.objects.exists()


def test_import_rejects_a_missing_file_and_an_unknown_user(cast, seed_content, tmp_path):
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_gongwen", str(tmp_path / "none.json"))
    source = tmp_path / "in.json"
    source.write_text(json.dumps(seed_content, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="nobody"):
        call_command("import_gongwen", str(source), "--user", "nobody")
    assert not Document.objects.exists()


def test_export_of_an_unknown_document_fails_clearly(db, tmp_path):
    with pytest.raises(CommandError, match="不存在"):
        call_command("export_gongwen", "999", "-o", str(tmp_path / "x.json"))


def test_setup_demo_takes_the_seed_to_the_archive_and_is_idempotent(db, seed_content):
    call_command("setup_demo")
    call_command("setup_demo")
    document = Document.objects.get()
    assert document.stage == Stage.ARCHIVED
    assert document.doc_number == "泉科〔2024〕123号"
    assert document.issued_content()["body"] == seed_content["body"]
    assert ArchiveRecord.objects.get().archive_code == "X001-WS·2024-Y-ZHK-0001"
