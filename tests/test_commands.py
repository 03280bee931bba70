"""The management commands: import_gongwen, export_gongwen and setup_demo."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from issuance import exchange
from issuance.models import Appointment, ArchiveRecord, Department, Document, Organ, ReviewChain, Stage, StepState

from .builders import gx_content


def test_import_creates_a_draft_and_export_writes_it_back(cast, seed_content, tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps(seed_content, ensure_ascii=False), encoding="utf-8")
    call_command("import_gongwen", str(source), "--user", "drafter")
    document = Document.objects.get()
    assert document.stage == Stage.DRAFTING and document.drafter == cast["drafter"]
    target = tmp_path / "out.json"
    call_command("export_gongwen", str(document.pk), "-o", str(target))
    assert json.loads(target.read_text(encoding="utf-8")) == exchange.parse_document(seed_content)


def test_import_drafts_for_the_organ_and_department_of_the_user(cast, seed_content, tmp_path):
    source = tmp_path / "gx.json"
    source.write_text(json.dumps(gx_content(seed_content), ensure_ascii=False), encoding="utf-8")
    call_command("import_gongwen", str(source), "--user", "gx_drafter", stdout=io.StringIO())
    document = Document.objects.get()
    assert (document.organ.code, document.department.name, document.drafter) == ("泉工信", "综合科", cast["gx_drafter"])
    assert document.stage == Stage.DRAFTING


def test_import_for_someone_who_drafts_in_two_organs_names_the_department(cast, seed_content, tmp_path):
    both = Appointment.objects.create(user=cast["drafter"], organ=Organ.objects.get(code="泉工信"), role="drafter")
    both.departments.add(Department.objects.get(organ__code="泉工信", name="综合科"))
    source = tmp_path / "gx.json"
    source.write_text(json.dumps(gx_content(seed_content), ensure_ascii=False), encoding="utf-8")
    for department, words in ((None, "请选择承办科室"), ("综合科", "请写作“机关代字/科室”"),
                              ("泉工信/产业发展科", "drafter不能为该科室拟稿")):
        with pytest.raises(CommandError, match=words):
            call_command("import_gongwen", str(source), "--user", "drafter",
                         *(["--department", department] if department else []))
    assert not Document.objects.exists()
    call_command("import_gongwen", str(source), "--user", "drafter", "--department", "泉工信/综合科",
                 stdout=io.StringIO())
    assert Document.objects.get().organ.code == "泉工信"


@pytest.mark.parametrize("username", ["clerk", "gx_archivist"])
def test_import_as_a_user_who_does_not_draft_is_refused_and_creates_nothing(cast, seed_content, tmp_path, username):
    source = tmp_path / "in.json"
    source.write_text(json.dumps(seed_content, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="您没有拟稿权限"):
        call_command("import_gongwen", str(source), "--user", username)
    assert not Document.objects.exists()


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
    first = io.StringIO()
    call_command("setup_demo", stdout=first)
    counts = (Organ.objects.count(), Department.objects.count(), get_user_model().objects.count(),
              Appointment.objects.count(), ReviewChain.objects.count())
    again = io.StringIO()
    call_command("setup_demo", stdout=again)
    assert (Organ.objects.count(), Department.objects.count(), get_user_model().objects.count(),
            Appointment.objects.count(), ReviewChain.objects.count()) == counts
    assert "范例公文 泉科〔2024〕123号 已办理至归档" in first.getvalue()
    assert "范例公文 泉科〔2024〕123号 已存在" in again.getvalue()
    document = Document.objects.get()
    assert document.stage == Stage.ARCHIVED
    assert document.doc_number == "泉科〔2024〕123号"
    assert document.issued_content()["body"] == seed_content["body"]
    assert ArchiveRecord.objects.get().archive_code == "X001-WS·2024-Y-ZHK-0001"
    # It ran the organ's 公文三审, its 会签 skipped (no 会签科室 named).
    round_ = document.rounds.get()
    assert (round_.chain.organ.code, round_.chain.name, round_.version.number) == ("泉科", "公文三审", 1)
    assert document.step_states.get(name="会签").status == StepState.Status.SKIPPED


def test_setup_demo_sets_up_both_organs_side_by_side(db):
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    organs = {o.code: o for o in Organ.objects.all()}
    assert {code: o.fonds_code for code, o in organs.items()} == {"泉科": "X001", "泉工信": "X002"}
    for code in organs:
        chains = ReviewChain.objects.filter(organ__code=code, active=True)
        assert sorted(c.name for c in chains) == ["公文三审", "函件两审", "宣传类三审"], code
    assert Appointment.objects.get(user__username="gx_clerk", role="clerk").organ.code == "泉工信"
    assert not Appointment.objects.filter(user__username__startswith="gx_", organ__code="泉科").exists()
    text = out.getvalue()
    assert "泉州市科学技术局演示用户：" in text and "泉州市工业和信息化局演示用户：" in text
    assert "gx_clerk（叶小红，办公室文书/机关管理员）" in text
    # 泉工信 starts with an empty archive and register of its own.
    assert not Document.objects.filter(organ__code="泉工信").exists()
