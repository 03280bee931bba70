"""Recognition of documents that come in from Word and paper (issuance.recognise), and the
commands that bring them in: convert_gongwen and import_gongwen with a .docx or a .txt."""

import copy
import io
import json
import zipfile
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from issuance import exchange, recognise
from issuance.models import Document
from issuance.recognise import RecognitionError, read_upload

from . import gongwen_files
from .builders import short_content

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEED_TEXT = FIXTURES / "quanzhou-2024-123.txt"
# What the seed's printed text shows; its 署名 and 成文日期 sat under the seal and were lost.
PRINTED_KEYS = ("title", "doc_number", "main_recipients", "cc", "printed_by", "printed_date", "body",
                "header_title", "issuer_marks", "doc_type", "direction", "format")


def recognised(name, data):
    return exchange.parse_document(read_upload(name, data).content)


def without_direction_unless_implied(doc):
    """The 行文方向 is on the page only as the 文种 and the 签发人 imply it."""
    doc = gongwen_files.visible(doc)
    implied = "上行文" if doc["signers"] else recognise.DEFAULT_DIRECTION.get(doc["doc_type"], "下行文")
    if doc["direction"] != implied:
        doc.pop("direction")
    return doc


def assert_round_trip(content, data, name):
    original = without_direction_unless_implied(content)
    back = gongwen_files.visible(recognised(name, data))
    if "direction" not in original:
        back.pop("direction")
    assert back == original


# --- The seed: a real printed document -------------------------------------------------------


def test_the_seeds_printed_text_converts_to_the_example_but_for_what_the_seal_covered(seed_content):
    result = read_upload("seed.txt", SEED_TEXT.read_bytes())
    content = exchange.parse_document(result.content)
    expected = exchange.parse_document(seed_content)
    assert {key: content[key] for key in PRINTED_KEYS} == {key: expected[key] for key in PRINTED_KEYS}
    # Body blocks, text and kind, one by one: the four paragraphs a page break split are whole.
    assert [(b["kind"], b["text"]) for b in content["body"]] == [(b["kind"], b["text"]) for b in expected["body"]]
    assert (content["signature_orgs"], content["date"]) == ([], None)
    assert ("发文字号", "泉科〔2024〕123号") in result.found
    assert result.notes == []


def test_the_seed_in_gb18030_converts_the_same(seed_content):
    text = SEED_TEXT.read_text(encoding="utf-8")
    assert recognised("seed.txt", text.encode("gb18030")) == recognised("seed.txt", text.encode("utf-8"))


def test_the_seed_as_a_word_file_converts_back_to_the_seed(seed_content):
    assert_round_trip(seed_content, gongwen_files.docx_of(seed_content), "seed.docx")


# --- Documents of every shape, each as a Word file and as a text -----------------------------

DOCUMENTS = {
    "a short notice": lambda seed: short_content(seed),
    "a request upwards with its signers and marks": lambda seed: short_content(
        seed, "泉州市科学技术局关于申请2026年科普经费的请示", doc_type="请示", direction="上行文",
        copy_number="000012", secrecy="秘密", secrecy_period="1年", urgency="加急", signers=["张伟"],
        doc_number="泉科〔2026〕7号", main_recipients="泉州市人民政府", cc=None, printed_by="泉州市科学技术局办公室",
        printed_date="2026-03-02", date="2026-03-01",
        body=[{"kind": "paragraph", "text": "为办好2026年科技活动周，拟申请科普经费20万元。"},
              {"kind": "paragraph", "text": "妥否，请批示。"}],
        attachments=["2026年科技活动周经费预算表"], note="联系人：林晓峰，电话：0595-22500000"),
    "a joint notice of two organs": lambda seed: short_content(
        seed, "泉州市科学技术局 泉州市工业和信息化局关于开展2026年科技与产业对接活动的通知",
        issuer_marks=["泉州市科学技术局", "泉州市工业和信息化局"], header_title=None,
        signature_orgs=["泉州市科学技术局", "泉州市工业和信息化局"], date="2026-04-20",
        doc_number="泉科〔2026〕21号",
        attachments=["2026年科技与产业对接活动报名表", "泉州市重点产业链技术需求清单（2026年第一批，供各县（市、区）参考）"]),
    "a letter": lambda seed: short_content(
        seed, "泉州市科学技术局关于商请支持2026年科技活动周的函", doc_type="函", direction="平行文", format="信函",
        header_title="泉州市科学技术局", doc_number="泉科函〔2026〕3号", main_recipients="泉州市科学技术协会",
        cc=None, printed_by=None, date="2026-05-06",
        body=[{"kind": "paragraph", "text": "我局定于2026年5月17日至23日举办科技活动周，商请贵会给予支持。"},
              {"kind": "paragraph", "text": "特此函商。"}]),
    "a notice issuing a document": lambda seed: short_content(
        seed, "泉州市科学技术局关于印发《泉州市科技特派员管理办法》的通知", doc_number="泉科〔2026〕30号",
        date="2026-06-01", body=[
            {"kind": "paragraph", "text": "现将《泉州市科技特派员管理办法》印发给你们，请认真贯彻执行。"},
            {"kind": "title", "text": "泉州市科技特派员管理办法"},
            {"kind": "heading1", "text": "一、总则"},
            {"kind": "heading2", "text": "（一）目的。为规范科技特派员管理，制定本办法。"},
            {"kind": "heading3", "text": "1.适用范围。本办法适用于市级科技特派员。"},
            {"kind": "heading4", "text": "（1）个人科技特派员。"},
            {"kind": "paragraph", "text": "本办法自印发之日起施行。"},
        ]),
}


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_word_file_written_from_a_document_converts_back_to_it(seed_content, name):
    content = DOCUMENTS[name](seed_content)
    assert_round_trip(content, gongwen_files.docx_of(content), "x.docx")


@pytest.mark.parametrize("name", DOCUMENTS)
def test_a_text_written_from_a_document_converts_back_to_it(seed_content, name):
    content = DOCUMENTS[name](seed_content)
    assert_round_trip(content, gongwen_files.text_of(content), "x.txt")
    assert_round_trip(content, gongwen_files.text_of(content, encoding="gb18030"), "x.txt")


@pytest.mark.parametrize("how", ["two paragraphs", "a soft line break"])
def test_a_title_over_two_lines_is_one_title(seed_content, how):
    content = DOCUMENTS["a request upwards with its signers and marks"](seed_content)
    data = gongwen_files.docx_of(content, two_line_title=how == "two paragraphs", soft_title=how != "two paragraphs")
    assert recognised("x.docx", data)["title"] == "泉州市科学技术局关于申请2026年科普经费的请示"


def test_a_date_in_chinese_numerals_and_a_mark_line_are_read(seed_content):
    text = "\n".join([
        "000123 机密 ★ 5年 特急", "泉州市科学技术局文件", "泉科〔2026〕8号", "泉州市科学技术局关于做好保密工作的通知",
        "局机关各科室：", "请做好2026年保密自查工作。", "泉州市科学技术局", "二〇二六年九月五日",
    ])
    doc = recognised("x.txt", text.encode())
    assert (doc["copy_number"], doc["secrecy"], doc["secrecy_period"], doc["urgency"]) == ("000123", "机密", "5年", "特急")
    assert (doc["signature_orgs"], doc["date"]) == (["泉州市科学技术局"], "2026-09-05")


def test_a_pasted_wrapped_text_loses_its_line_breaks_and_page_numbers(seed_content):
    paragraph = ("为深入实施创新驱动发展战略，进一步激发全社会创新活力，营造崇尚科学、尊重创新的良好氛围，"
                 "经研究，决定于2026年5月举办科技活动周。现将有关事项通知如下。")
    body = "\n".join(paragraph[i:i + 20] for i in range(0, len(paragraph), 20))
    text = "\n".join([
        "泉州市科学技术局关于举办2026年科技活动周的通知", "", "局机关各科室、各直属单位：",
        "　　" + body, "— 1 —", "一、活动时间", "　　2026年5月17日至23日。", "- 2 -", "二、工作要求",
        "　　各单位要高度重视，精心组织，确保活动", "", "取得实效。", "", "泉州市科学技术局", "2026年4月1日",
    ])
    doc = recognised("x.txt", text.encode())
    assert doc["body"] == [
        {"kind": "paragraph", "text": paragraph},
        {"kind": "heading1", "text": "一、活动时间"},
        {"kind": "paragraph", "text": "2026年5月17日至23日。"},
        {"kind": "heading1", "text": "二、工作要求"},
        {"kind": "paragraph", "text": "各单位要高度重视，精心组织，确保活动取得实效。"},
    ]
    assert doc["signature_orgs"] == ["泉州市科学技术局"]


def test_a_number_written_the_wrong_way_is_read_in_its_right_form_and_said_so(seed_content):
    text = "泉州市科学技术局文件\n泉科[2026]第009号\n泉州市科学技术局关于举办科技活动周的通知\n各单位：\n请做好准备。\n"
    result = read_upload("x.txt", text.encode())
    assert result.content["doc_number"] == "泉科〔2026〕9号"
    assert any("泉科[2026]第009号" in note for note in result.notes)


def test_attachment_pages_after_the_date_are_left_out_and_said_so(seed_content):
    content = DOCUMENTS["a joint notice of two organs"](seed_content)
    lines = gongwen_files.lines_of(content)
    at = lines.index("2026年4月20日") + 1
    lines[at:at] = ["附件1", "2026年科技与产业对接活动报名表", "单位名称：　　联系人："]
    result = read_upload("x.txt", "\n".join(lines).encode())
    assert exchange.parse_document(result.content)["attachments"] == content["attachments"]
    assert result.notes == ["成文日期之后的 3 段（附件正文等）未导入：交换格式只记录附件名称"]


# --- Files that are refused, and nothing is created ------------------------------------------


def _zip(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _zip_bomb():
    """A zip of 2 MB whose one part unpacks to 110 MB, with a Word file's part names."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            block = b"\0" * (1024 * 1024)
            for _ in range(110):
                part.write(block)
    return buffer.getvalue()


def _encrypted():
    """What Word writes for a document with a password: a compound file holding the
    encrypted package (the directory names its streams in UTF-16)."""
    return recognise.OLE_MAGIC + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 64 + \
        "EncryptedPackage".encode("utf-16-le") + b"\0" * 1024


BAD_FILES = {
    "not a Word file": ("x.docx", lambda: "一份文本，改了扩展名".encode(), "不是 Word 文件"),
    "a zip without a document": ("x.docx", lambda: _zip({"a.txt": "x"}), "没有 Word 文档内容"),
    "a broken zip": ("x.docx", lambda: _zip({"word/document.xml": "<x/>"})[:-30], "已损坏"),
    "a zip that is no Word package": ("x.docx", lambda: _zip({"word/document.xml": "<x/>"}), "不是可读取的 Word 文件"),
    "a zip bomb": ("x.docx", _zip_bomb, "压缩炸弹"),
    "an encrypted file": ("x.docx", _encrypted, "已加密"),
    "an old .doc": ("x.docx", lambda: recognise.OLE_MAGIC + b"\0" * 2048, "另存为 .docx"),
    "50 MB of text": ("x.txt", lambda: "通知".encode() * (25 * 1024 * 1024 // 3 * 2), "文本文件过大"),
    "a text that is not a 公文": ("x.txt", lambda: "今天天气很好。\n我们去公园散步。\n".encode(), "未能识别为公文"),
    "a title without a body": ("x.txt", lambda: "泉州市科学技术局关于举办科技活动周的通知\n".encode(), "没有正文"),
    "binary data": ("x.txt", lambda: b"\x00\x01\x02\x03" * 1000, "不是文本文件"),
    "bytes of no encoding": ("x.txt", lambda: bytes(range(256)) * 64, "无法识别文本的编码"),
    "an empty file": ("x.txt", lambda: b"", "没有文字"),
    "another kind of file": ("x.pdf", lambda: b"%PDF-1.7", "不支持的文件类型"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_refused_with_a_chinese_message(case):
    name, make, words = BAD_FILES[case]
    with pytest.raises(RecognitionError, match=words):
        read_upload(name, make())


def test_a_text_too_large_on_disk_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "big.txt"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    with pytest.raises(RecognitionError, match=r"文本文件过大（50.0 MB，最多 4 MB）"):
        recognise.read_path(path)


@pytest.mark.parametrize("case", ["not a Word file", "a zip bomb", "an encrypted file", "a text that is not a 公文"])
def test_import_of_a_bad_file_creates_nothing(cast, tmp_path, case):
    name, make, words = BAD_FILES[case]
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(CommandError, match=f"导入失败，未创建任何内容。.*{words}"):
        call_command("import_gongwen", str(path), "--user", "drafter")
    assert not Document.objects.exists()


# --- The commands ----------------------------------------------------------------------------


def test_convert_writes_the_exchange_json_it_recognised_and_creates_nothing(db, tmp_path, seed_content):
    target = tmp_path / "out.json"
    out = io.StringIO()
    call_command("convert_gongwen", str(SEED_TEXT), "-o", str(target), stdout=out)
    written = json.loads(target.read_text(encoding="utf-8"))
    assert written == recognised("seed.txt", SEED_TEXT.read_bytes())
    assert {key: written[key] for key in PRINTED_KEYS} == {
        key: exchange.parse_document(seed_content)[key] for key in PRINTED_KEYS}
    assert "发文字号：泉科〔2024〕123号" in out.getvalue()
    assert not Document.objects.exists()


def test_convert_refuses_a_bad_file_and_writes_nothing(db, tmp_path):
    source = tmp_path / "x.docx"
    source.write_bytes(b"not a zip")
    with pytest.raises(CommandError, match="识别失败。不是 Word 文件"):
        call_command("convert_gongwen", str(source), "-o", str(tmp_path / "out.json"))
    assert not (tmp_path / "out.json").exists()


@pytest.mark.parametrize("suffix", [".docx", ".txt"])
def test_import_accepts_a_word_file_and_a_text(cast, tmp_path, seed_content, suffix):
    content = DOCUMENTS["a notice issuing a document"](seed_content)
    path = tmp_path / f"in{suffix}"
    path.write_bytes(gongwen_files.docx_of(content) if suffix == ".docx" else gongwen_files.text_of(content))
    call_command("import_gongwen", str(path), "--user", "drafter", stdout=io.StringIO())
    document = Document.objects.get()
    assert document.drafter == cast["drafter"]
    saved = copy.deepcopy(document.current_revision.content)
    assert gongwen_files.visible(saved) == gongwen_files.visible(content)


def _word_file_as_offices_write_it(seed_content):
    """A 通知 laid out in Word the way an office does: indented paragraphs, a page number in
    the footer, the 署名 and date pushed right with spaces, the 版记 in a table, a tracked
    deletion and a hidden comment left in."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    content = DOCUMENTS["a joint notice of two organs"](seed_content)
    document = docx.Document()
    document.sections[0].footer.paragraphs[0].text = "— 1 —"
    for line in gongwen_files.lines_of(content)[:-2]:  # all but 抄送 and 印发
        if line in content["signature_orgs"] or line == "2026年4月20日":
            line = "　" * 12 + line
        elif line.startswith(("为", "一", "二", "2026年", "各单位")):
            line = "　　" + line
        document.add_paragraph(line)
    paragraph = document.paragraphs[-4]  # a body paragraph: a deleted word, and a hidden note
    paragraph._p.append(parse_xml(f'<w:del {nsdecls("w")} w:id="1" w:author="x" w:date="2026-04-01T00:00:00Z">'
                                  '<w:r><w:delText>（删去的字）</w:delText></w:r></w:del>'))
    hidden = paragraph.add_run("（隐藏的批注）")
    hidden.font.hidden = True
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = f"抄送：{content['cc']}。"
    table.cell(1, 0).text = content["printed_by"]
    table.cell(1, 1).text = "年　月　日印发"
    buffer = io.BytesIO()
    document.save(buffer)
    return content, buffer.getvalue()


def test_a_word_file_laid_out_as_offices_write_it_converts_to_its_document(seed_content):
    content, data = _word_file_as_offices_write_it(seed_content)
    assert_round_trip(content, data, "通知.docx")
