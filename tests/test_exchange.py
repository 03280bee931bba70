"""The exchange format and the 发文稿纸 form that fills it."""

import copy

import pytest

from issuance import exchange
from issuance.forms import DraftForm, body_from_text, body_to_text


def test_the_seed_parses_and_keeps_its_text(seed_content):
    doc = exchange.parse_document(seed_content)
    assert doc["doc_number"] == "泉科〔2024〕123号"
    assert doc["body"] == seed_content["body"]
    assert set(doc) == set(exchange.KEYS)


def test_missing_keys_mean_null_and_a_header_title_is_made_from_the_issuers():
    doc = exchange.parse_document({"title": "关于某事的通知", "body": [{"kind": "paragraph", "text": "正文。"}],
                                   "issuer_marks": ["国务院办公厅"]})
    assert doc["header_title"] == "国务院办公厅文件"
    assert doc["format"] == "文件" and doc["cc"] is None and doc["attachments"] == []


def test_canonical_json_does_not_depend_on_key_order(seed_content):
    reordered = dict(reversed(list(seed_content.items())))
    assert exchange.content_sha256(exchange.parse_document(reordered)) == exchange.content_sha256(
        exchange.parse_document(seed_content)
    )


@pytest.mark.parametrize("change,field,words", [
    ({"title": ""}, "title", "标题"),
    ({"body": []}, "body", "正文"),
    ({"body": [{"kind": "chapter", "text": "x"}]}, "body[0].kind", "正文"),
    ({"doc_type": "便条"}, "doc_type", "文种"),
    ({"date": "2024-13-01"}, "date", "成文日期"),
    ({"doc_number": "泉科[2024]123号"}, "doc_number", "发文字号"),
    ({"copy_number": "12"}, "copy_number", "份号"),
    ({"secrecy_period": "1年"}, "secrecy_period", "保密期限"),
    ({"seal": "yes"}, "seal", "印章"),
    ({"titel": "x"}, "titel", "未知"),
])
def test_invalid_input_is_rejected_with_a_message_naming_the_field(seed_content, change, field, words):
    data = {**copy.deepcopy(seed_content), **change}
    with pytest.raises(exchange.ExchangeError) as caught:
        exchange.parse_document(data)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_json_syntax_errors_are_reported_with_their_position():
    with pytest.raises(exchange.ExchangeError, match="第 1 行"):
        exchange.load_json('{"title": ')


def test_dates_are_written_in_arabic_numerals_without_leading_zeros():
    assert exchange.format_date_cn("2024-09-05") == "2024年9月5日"


def test_the_body_survives_the_textarea_round_trip(seed_content):
    text = body_to_text(seed_content["body"])
    assert body_from_text(text) == seed_content["body"]
    assert "【标题】泉州市科技局 2024 年上半年" in text


def test_headings_are_recognised_by_their_numbering():
    blocks = body_from_text("一、总体要求\n（一）目标。正文\n1. 措施\n（1）细则\n1.5亿元用于研发。\n　　普通段落")
    assert [b["kind"] for b in blocks] == ["heading1", "heading2", "heading3", "heading4", "paragraph", "paragraph"]
    assert blocks[-1]["text"] == "普通段落"


def test_the_draft_form_builds_the_exchange_document(seed_content):
    initial = DraftForm.initial_for(seed_content, copies=40)
    form = DraftForm(data={**initial, "seal": "on"})
    assert form.is_valid(), form.errors
    expected = exchange.parse_document({**seed_content, "doc_number": None, "printed_date": None})
    assert form.content == expected


def test_the_draft_form_reports_errors_on_the_field(seed_content):
    initial = DraftForm.initial_for(seed_content)
    form = DraftForm(data={**initial, "copy_number": "12ab"})
    assert not form.is_valid()
    assert "6 位数字" in form.errors["copy_number"][0]


def test_a_revision_diff_marks_the_changed_characters_and_paragraphs(seed_content):
    from issuance import diffing

    old = seed_content["body"][:4]
    new = [dict(b) for b in old]
    new[0]["text"] = new[0]["text"].replace("印发给你们", "印发给各单位")
    del new[2]
    new.append({"kind": "paragraph", "text": "特此通知。<b>"})
    rows = diffing.body_changes(old, new)
    assert [op for op, _, _ in rows] == ["changed", "equal", "removed", "equal", "added"]
    assert "<del>你们</del><ins>各单位</ins>" in rows[0][2]
    assert rows[-1][2] == "<ins>特此通知。&lt;b&gt;</ins>"
    assert diffing.field_changes(seed_content, {**seed_content, "cc": None}) == [
        ("抄送机关", "市直机关文明办、局机关工会、机关妇委会，局领导", "（空）")
    ]


def test_the_draft_form_shows_every_field_once_in_the_order_of_the_page():
    form = DraftForm()
    shown = [field.name for _, fields in form.sections() for field in fields]
    assert sorted(shown) == sorted(form.fields) and len(shown) == len(set(shown))
    assert [title for title, _ in form.sections()] == ["版头", "主体", "版记"]
