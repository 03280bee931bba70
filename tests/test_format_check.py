"""The 格式审查 (issuance.format_check) and check_gongwen: a table of documents, each breaking
one rule, with the finding expected; the seed's own errors; a clean document with none; and
each test document, as a Word file and as a text, recognised back as it was."""

import copy
import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command

from issuance import exchange, format_check
from issuance.headings import detect_kind
from issuance.recognise import normalise_doc_number, title_doc_type

from . import gongwen_files
from .test_recognise import SEED_TEXT, assert_round_trip, recognised

TODAY = datetime.date(2026, 6, 1)
DRAFTED_ON = datetime.date(2026, 5, 1)

CLEAN = {
    "doc_type": "通知", "direction": "下行文", "format": "文件", "copy_number": None, "secrecy": None,
    "secrecy_period": None, "urgency": None, "issuer_marks": ["泉州市科学技术局"], "header_title": "泉州市科学技术局文件",
    "doc_number": "泉科〔2026〕12号", "signers": [], "title": "泉州市科学技术局关于开展2026年科技活动周的通知",
    "main_recipients": "局机关各科室、各直属单位",
    "body": [
        {"kind": "paragraph", "text": "为普及科学知识，经研究，决定开展2026年科技活动周。现将有关事项通知如下。"},
        {"kind": "heading1", "text": "一、活动安排"},
        {"kind": "heading2", "text": "（一）活动时间。2026年5月17日至23日。"},
        {"kind": "heading2", "text": "（二）活动内容"},
        {"kind": "heading3", "text": "1.科普讲座。邀请专家举办“科技向未来”主题讲座，报名表见附件1。"},
        {"kind": "heading4", "text": "（1）讲座时间为每天上午。"},
        {"kind": "heading4", "text": "（2）讲座地点为市科技馆。"},
        {"kind": "heading3", "text": "2.科普展览。展览安排见附件2。"},
        {"kind": "heading1", "text": "二、工作要求"},
        {"kind": "paragraph", "text": "各单位要高度重视，精心组织，确保活动取得实效。"},
    ],
    "attachments": ["科普讲座报名表", "科普展览安排表"], "signature_orgs": ["泉州市科学技术局"], "date": "2026-05-20",
    "seal": True, "note": None, "cc": "市科协", "printed_by": "泉州市科学技术局办公室", "printed_date": "2026-05-21",
}


def changed(**changes):
    doc = copy.deepcopy(CLEAN)
    body = changes.pop("body_blocks", {})
    for index, text in body.items():
        if text is None:
            doc["body"][index] = None
        else:
            kind, _, text = text.partition(":") if ":" in text[:10] else (doc["body"][index]["kind"], "", text)
            doc["body"][index] = {"kind": kind, "text": text}
    doc["body"] = [block for block in doc["body"] if block is not None]
    doc.update(changes)
    return doc


def request(**changes):
    """A 请示 upwards, clean, with what `changes` breaks."""
    base = dict(doc_type="请示", direction="上行文", title="泉州市科学技术局关于申请2026年科普经费的请示",
                main_recipients="泉州市人民政府", body=[
                    {"kind": "paragraph", "text": "为办好2026年科技活动周，拟申请科普经费20万元。"},
                    {"kind": "paragraph", "text": "妥否，请批示。"}], attachments=[], cc=None)
    return changed(**{**base, **changes})


# (name, document, [(rule, level, field, block, start, end, fix, kind), …])
CASES = [
    ("a traditional character", changed(body_blocks={9: "各单位要高度重視，精心组织，确保活动取得实效。"}),
     [("traditional", "error", "body", 9, 7, 8, "视", None)]),
    ("a simplified character that may be a traditional one", changed(body_blocks={9: "各单位要高度重视，精心组织，於活动后总结。"}),
     [("traditional", "hint", "body", 9, 14, 15, None, None)]),
    ("a half-width comma", changed(body_blocks={9: "各单位要高度重视,精心组织，确保活动取得实效。"}),
     [("punctuation", "error", "body", 9, 8, 9, "，", None)]),
    ("half-width brackets", changed(main_recipients="各县(市、区)科技局"),
     [("punctuation", "error", "main_recipients", None, 2, 3, "（", None),
      ("punctuation", "error", "main_recipients", None, 6, 7, "）", None)]),
    ("a half-width full stop", changed(body_blocks={9: "各单位要高度重视，精心组织，确保活动取得实效."}),
     [("punctuation", "error", "body", 9, 22, 23, "。", None)]),
    ("half-width quotation marks mixed with full-width ones",
     changed(body_blocks={7: '2.科普展览。举办"科技之光"展览，安排见附件2。'}),
     [("quotes", "error", "body", 7, 9, 10, "“", None), ("quotes", "error", "body", 7, 14, 15, "”", None)]),
    ("quotation marks that do not pair", changed(body_blocks={7: "2.科普展览。举办“科技之光“展览，安排见附件2。"}),
     [("quotes", "hint", "body", 7, None, None, None, None)]),
    ("a space between a character and a digit", changed(body_blocks={2: "（一）活动时间。2026 年5月17日至23日。"}),
     [("spacing", "hint", "body", 2, 12, 13, "", None)]),
    ("a heading number written 1、", changed(body_blocks={4: "paragraph:1、科普讲座。邀请专家举办“科技向未来”主题讲座，报名表见附件1。"}),
     [("heading_form", "error", "body", 4, 0, 2, "1.", "heading3")]),
    ("a space after a heading number", changed(body_blocks={7: "2. 科普展览。展览安排见附件2。"}),
     [("heading_form", "hint", "body", 7, 2, 3, "", None)]),
    ("a heading whose kind is not its number's", changed(body_blocks={8: "paragraph:二、工作要求"}),
     [("heading_form", "hint", "body", 8, None, None, None, "heading1")]),
    ("a heading without its number", changed(body_blocks={8: "heading1:工作要求"}),
     [("heading_form", "error", "body", 8, None, None, None, None)]),
    ("一、 then 1. without （一）", changed(body_blocks={2: None, 3: None}),
     [("heading_level", "error", "body", 2, None, None, None, None)]),
    ("a heading number repeated", changed(body_blocks={7: "1.科普展览。展览安排见附件2。"}),
     [("heading_order", "error", "body", 7, None, None, None, None)]),
    ("a heading number missing", changed(body_blocks={8: "三、工作要求"}),
     [("heading_order", "error", "body", 8, None, None, None, None)]),
    ("headings out of order", changed(body_blocks={5: "（2）讲座时间为每天上午。", 6: "（1）讲座地点为市科技馆。"}),
     [("heading_order", "error", "body", 5, None, None, None, None),
      ("heading_order", "error", "body", 6, None, None, None, None)]),
    ("an attachment named in the body but not listed", changed(attachments=["科普讲座报名表"]),
     [("attachments", "error", "body", 7, 12, 15, None, None)]),
    ("an attachment listed but never named", changed(body_blocks={7: "2.科普展览。展览在市科技馆举办。"}),
     [("attachments", "hint", "attachments", 1, None, None, None, None)]),
    ("an attachment named without any 附件说明",
     changed(attachments=[], body_blocks={4: "1.科普讲座。邀请专家举办“科技向未来”主题讲座，报名表见附件。",
                                          7: "2.科普展览。展览在市科技馆举办。"}),
     [("attachments", "error", "body", 4, 29, 31, None, None)]),
    ("an attachment name with its number", changed(attachments=["1.科普讲座报名表", "科普展览安排表"]),
     [("attachments", "error", "attachments", 0, 0, 2, "", None)]),
    ("a 发文字号 in square brackets with a leading zero", changed(doc_number="泉科[2026]012号"),
     [("doc_number", "error", "doc_number", None, 0, 12, "泉科〔2026〕12号", None)]),
    ("a 发文字号 with 第", changed(doc_number="泉科〔2026〕第12号"),
     [("doc_number", "error", "doc_number", None, 0, 12, "泉科〔2026〕12号", None)]),
    ("a 发文字号 of another year than the date", changed(doc_number="泉科〔2025〕12号"),
     [("doc_number", "hint", "doc_number", None, None, None, None, None)]),
    ("a 成文日期 in the future", changed(date="2026-07-01", printed_date=None),
     [("date", "error", "date", None, None, None, None, None)]),
    ("a 成文日期 before the draft", changed(date="2026-04-01", printed_date=None),
     [("date", "error", "date", None, None, None, None, None)]),
    ("a 印发日期 before the 成文日期", changed(printed_date="2026-05-19"),
     [("date", "error", "printed_date", None, None, None, None, None)]),
    ("a title that does not end with its 文种", changed(title="泉州市科学技术局关于开展2026年科技活动周"),
     [("title", "error", "title", None, None, None, None, None)]),
    ("a title of another 文种", changed(doc_type="通报"),
     [("title", "error", "title", None, 23, 25, None, None)]),
    ("a title ending with a full stop", changed(title="泉州市科学技术局关于开展2026年科技活动周的通知。"),
     [("title", "error", "title", None, 25, 26, "", None)]),
    ("a 请示 that is 下行文", request(direction="下行文"),
     [("direction", "error", "direction", None, None, None, None, None)]),
    ("a 请示 to two organs", request(main_recipients="泉州市人民政府、福建省科学技术厅"),
     [("recipients", "error", "main_recipients", None, None, None, None, None)]),
    ("a 通知 without its 主送", changed(main_recipients=None),
     [("recipients", "error", "main_recipients", None, None, None, None, None)]),
    ("a 公告 with a 主送", changed(doc_type="公告", title="泉州市科学技术局关于2026年科技活动周的公告"),
     [("recipients", "hint", "main_recipients", None, None, None, None, None)]),
    ("a 密级 without its 保密期限", changed(secrecy="秘密", copy_number="000001"),
     [("secrecy", "error", "secrecy_period", None, None, None, None, None)]),
    ("a 保密期限 in Chinese numerals", changed(secrecy="机密", secrecy_period="五年", copy_number="000001"),
     [("secrecy", "error", "secrecy_period", None, 0, 2, "5年", None)]),
    ("a 保密期限 without a 密级", changed(secrecy_period="1年"),
     [("secrecy", "error", "secrecy_period", None, None, None, None, None)]),
    ("抄送 ending with 。", changed(cc="市科协。"),
     [("cc", "error", "cc", None, 3, 4, "", None)]),
    ("抄送 beginning with 抄送：", changed(cc="抄送：市科协"),
     [("cc", "error", "cc", None, 0, 3, "", None)]),
    ("a character no face can print", changed(body_blocks={9: "各单位要高度重视，精心组织，确保活动取得实效。\U0001F600"}),
     [("unprintable", "error", "body", 9, 23, 24, None, None)]),
    ("no 署名", changed(signature_orgs=[]),
     [("signature", "hint", "signature_orgs", None, None, None, None, None)]),
]


def outcome(findings):
    return [(f.rule, f.level, f.field, f.block, f.start, f.end, f.fix, f.kind) for f in findings]


def test_the_clean_document_gets_no_finding():
    assert format_check.check(CLEAN, today=TODAY, drafted_on=DRAFTED_ON) == []
    assert format_check.check(request(), today=TODAY, drafted_on=DRAFTED_ON) == []


@pytest.mark.parametrize("name, document, expected", CASES, ids=[case[0] for case in CASES])
def test_a_document_breaking_one_rule_gets_the_finding_expected(name, document, expected):
    findings = format_check.check(document, today=TODAY, drafted_on=DRAFTED_ON)
    assert outcome(findings) == expected
    for finding in findings:
        assert finding.message and finding.rule_label and finding.level_label in ("错误", "提示")


@pytest.mark.parametrize("name, document, expected", [c for c in CASES if any(e[6] is not None or e[7] for e in c[2])],
                         ids=[c[0] for c in CASES if any(e[6] is not None or e[7] for e in c[2])])
def test_its_safe_fix_mends_it(name, document, expected):
    findings = format_check.check(document, today=TODAY, drafted_on=DRAFTED_ON)
    fixed = format_check.apply_fixes(document, findings)
    assert outcome(format_check.check(fixed, today=TODAY, drafted_on=DRAFTED_ON)) == []


def test_every_rule_has_a_case_in_the_table():
    assert {e[0] for _, _, expected in CASES for e in expected} == set(format_check.RULES)


def test_a_finding_names_its_place_in_the_users_words():
    findings = format_check.check(CASES[0][1], today=TODAY, drafted_on=DRAFTED_ON)
    assert findings[0].place == "正文第 10 段第 8 字"
    assert findings[0].line() == "错误\t正文第 10 段第 8 字\t繁体字：繁体字“視”应为“视”（可一键改正）"
    assert format_check.Finding.from_dict(findings[0].to_dict()) == findings[0]


# --- The seed, a real printed document, and its errors ---------------------------------------


def test_the_seeds_own_errors_are_found(seed_content):
    findings = format_check.check(seed_content, today=TODAY)
    # Its two traditional characters (中央国安办應用, 省委国安办應用) are its errors.
    assert [(f.rule, f.block, f.start, f.fix) for f in format_check.errors(findings)] == [
        ("traditional", 7, 156, "应"), ("traditional", 7, 168, "应")]
    hints = {(f.rule, f.block) for f in findings if not f.is_error}
    # "1. 强化…" beside "3.加强…": a space after some heading numbers, not after others.
    assert {("heading_form", block) for block in (5, 6, 15, 16, 17)} <= hints
    # "2024 年", "科技局 2024年": spaces between characters and digits, in its title too.
    assert ("spacing", None) in hints and ("spacing", 2) in hints


def test_the_seed_recognised_from_its_printed_text_has_the_same_errors_and_lacks_its_signature(seed_content):
    content = recognised("seed.txt", SEED_TEXT.read_bytes())
    printed = format_check.check(content, today=TODAY)
    original = format_check.check(seed_content, today=TODAY)
    assert [f for f in printed if f.rule != "signature"] == original
    assert [f.rule for f in printed if f.rule == "signature"] == ["signature"]


# --- Each test document converts back from a Word file and a text ----------------------------

# A character no face prints and a 保密期限 without a 密级 are no valid exchange document.
ROUND_TRIP = [case for case in CASES if case[0] not in ("a character no face can print", "a 保密期限 without a 密级")]


def as_printed(document):
    """The document as its page shows it, and so as recognition gives it back: the 发文字号 in
    its right form, the 文种 from the title, each block's kind from its numbering."""
    doc = exchange.parse_document({**document, "doc_number": normalise_doc_number(document["doc_number"] or "")})
    doc["doc_type"] = title_doc_type(doc["title"]) or doc["doc_type"]
    doc["body"] = [block if block["kind"] == "title" else {**block, "kind": detect_kind(block["text"])}
                   for block in doc["body"]]
    return doc


@pytest.mark.parametrize("name, document", [("clean", CLEAN)] + [case[:2] for case in ROUND_TRIP],
                         ids=["clean"] + [case[0] for case in ROUND_TRIP])
def test_a_test_document_converts_back_from_its_word_file_and_its_text(name, document):
    document = as_printed(document)
    assert_round_trip(document, gongwen_files.docx_of(document), "x.docx")
    assert_round_trip(document, gongwen_files.text_of(document), "x.txt")


# --- check_gongwen ---------------------------------------------------------------------------


def test_check_gongwen_prints_one_finding_a_line_and_exits_1_on_an_error(tmp_path, seed_content):
    source = tmp_path / "seed.json"
    source.write_text(json.dumps(seed_content, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="错误 2 处") as raised:
        call_command("check_gongwen", str(source), stdout=out)
    assert raised.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert len(lines) == len(format_check.check(seed_content))
    assert "错误\t正文第 8 段第 157 字\t繁体字：繁体字“應”应为“应”（可一键改正）" in lines
    assert all(line.split("\t")[0] in ("错误", "提示") for line in lines)


def test_check_gongwen_is_silent_on_a_clean_document_and_exits_0(tmp_path):
    source = tmp_path / "clean.json"
    source.write_text(json.dumps(changed(date=None, printed_date=None), ensure_ascii=False), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    call_command("check_gongwen", str(source), stdout=out, stderr=err)
    assert out.getvalue() == ""
    assert "错误 0 处，提示 0 处" in err.getvalue()


def test_check_gongwen_reports_what_the_exchange_format_refuses(tmp_path):
    source = tmp_path / "bad.json"
    source.write_text(json.dumps({**CLEAN, "date": None, "seal": "yes"}, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()
    with pytest.raises(CommandError, match="错误 1 处"):
        call_command("check_gongwen", str(source), stdout=out)
    assert "交换格式：印章（seal）：应为 true 或 false" in out.getvalue()


def test_check_gongwen_refuses_what_is_no_json(tmp_path):
    source = tmp_path / "bad.json"
    source.write_text("{", encoding="utf-8")
    with pytest.raises(CommandError, match="无法读取"):
        call_command("check_gongwen", str(source))
