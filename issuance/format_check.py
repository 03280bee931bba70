"""格式审查: the format errors that 核稿 finds again and again, found by a machine.

`check(data)` reads a document in the exchange format, valid or not yet (check_gongwen
reads a JSON file as it is; the app checks each saved revision), and returns its findings:
each with its place (the field, the block of the 正文 or item of a list, the characters),
its rule, its level (错误, which stops 送审 unless the drafter confirms it with a reason, or
提示) and, where the fix is safe, the text that replaces the place. `apply_fixes` makes
those replacements.

The rules (docs/import-and-format-check.md lists them with their levels): traditional
characters in a simplified text (OpenCC's tables); half-width punctuation, brackets and
quotation marks in Chinese text, and "“" mixed with '"'; spaces between Chinese and Latin
characters; headings: their form (一、 （一） 1. （1）), a level skipped, a number out of
order, repeated or missing; 附件 named in the 正文 but not in the 附件说明, or listed but never
named; the 发文字号's form; a 成文日期 in the future or before the draft; a title that does not
end with its 文种, a 文种 against its 行文方向, a 主送 missing where the 文种 needs one; 密级 without
保密期限; 抄送 ending with "。"; a character no face can print; no 署名.
"""

import datetime
import functools
import re
from dataclasses import asdict, dataclass, replace

from . import exchange
from .headings import KIND_OF_LEVEL, LEVEL_OF_KIND, chinese_numeral, heading_number, written_number
from .recognise import is_cjk, normalise_doc_number, title_doc_type
from .render.coverage import printable

ERROR, HINT = "error", "hint"
LEVELS = {ERROR: "错误", HINT: "提示"}
RULES = {
    "traditional": "繁体字",
    "punctuation": "半角标点",
    "quotes": "引号",
    "spacing": "多余空格",
    "heading_form": "标题序号写法",
    "heading_level": "标题层次",
    "heading_order": "标题序号",
    "attachments": "附件",
    "doc_number": "发文字号",
    "date": "成文日期",
    "title": "标题",
    "direction": "行文方向",
    "recipients": "主送机关",
    "secrecy": "密级",
    "cc": "抄送机关",
    "unprintable": "无法印制的字符",
    "signature": "署名",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    message: str
    field: str
    block: int | None = None  # the block of the 正文, or the item of a list field
    start: int | None = None  # characters [start, end) of that text
    end: int | None = None
    fix: str | None = None  # the text that replaces [start, end), where that is safe
    kind: str | None = None  # with a fix in the 正文: the kind the block then has
    text: str | None = None  # the characters at [start, end), as they were

    @property
    def is_error(self):
        return self.level == ERROR

    @property
    def rule_label(self):
        return RULES[self.rule]

    @property
    def level_label(self):
        return LEVELS[self.level]

    @property
    def fixable(self):
        return self.fix is not None or self.kind is not None

    @property
    def place(self):
        """Where it is, in the user's words: 正文第 3 段第 12 字."""
        where = exchange.FIELD_LABELS.get(self.field, self.field)
        if self.block is not None:
            where += f"第 {self.block + 1} {'段' if self.field == 'body' else '项'}"
        if self.start is not None:
            where += f"第 {self.start + 1} 字"
        return where

    def line(self):
        """One line of check_gongwen's output."""
        fix = "（可一键改正）" if self.fixable else ""
        return f"{self.level_label}\t{self.place}\t{self.rule_label}：{self.message}{fix}"

    def to_dict(self):
        return {key: value for key, value in asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


def check(data, today=None, drafted_on=None):
    """The findings of document `data`, in the order of the page. `today` and `drafted_on`
    (the day the draft was begun, when known) date the 成文日期."""
    doc = _loose(data)
    context = {"today": today or datetime.date.today(), "drafted_on": drafted_on}
    findings = []
    for rule in _RULES:
        for finding in rule(doc, context):
            if finding.start is not None:
                source = _text_at(doc, finding.field, finding.block) or ""
                finding = replace(finding, text=source[finding.start:finding.end])
            findings.append(finding)
    order = {key: index for index, key in enumerate(exchange.KEYS)}
    return sorted(findings, key=lambda f: (order.get(f.field, len(order)), f.block or 0, f.start or 0))


def errors(findings):
    return [finding for finding in findings if finding.is_error]


def apply_fixes(content, findings):
    """`content` with the fixes of `findings` made; overlapping ones after the first are left."""
    content = {**content, "body": [dict(block) for block in content["body"]]}
    for key in ("attachments", "signature_orgs", "issuer_marks", "signers"):
        content[key] = list(content.get(key) or [])
    done = {}
    for finding in sorted((f for f in findings if f.fixable), key=lambda f: -(f.start or 0)):
        place = (finding.field, finding.block)
        if finding.fix is not None:
            text = _text_at(content, finding.field, finding.block)
            if text is None or any(finding.end > start and finding.start < end for start, end in done.get(place, ())):
                continue
            _set_text(content, finding.field, finding.block, text[:finding.start] + finding.fix + text[finding.end:])
            done.setdefault(place, []).append((finding.start, finding.start + len(finding.fix)))
        if finding.kind is not None and finding.field == "body":
            content["body"][finding.block]["kind"] = finding.kind
    return content


def _text_at(content, field, block):
    if field == "body":
        return content["body"][block]["text"] if block is not None and block < len(content["body"]) else None
    value = content.get(field)
    if block is not None:
        return value[block] if isinstance(value, list) and block < len(value) else None
    return value if isinstance(value, str) else None


def _set_text(content, field, block, text):
    if field == "body":
        content["body"][block]["text"] = text
    elif block is not None:
        content[field][block] = text
    else:
        content[field] = text


# --- Reading a document that may not be valid ------------------------------------------------

LIST_KEYS = ("issuer_marks", "signers", "attachments", "signature_orgs")
PLAIN_KEYS = ("header_title", "title", "main_recipients", "note", "cc", "printed_by")


def _loose(data):
    """Every key of the format, whatever `data` holds; what is no text is left out."""
    data = data if isinstance(data, dict) else {}
    doc = {key: data.get(key) for key in exchange.KEYS}
    for key in LIST_KEYS:
        doc[key] = [item for item in doc[key] if isinstance(item, str)] if isinstance(doc[key], list) else []
    body = data.get("body") if isinstance(data.get("body"), list) else []
    doc["body"] = [{"kind": block.get("kind") or "paragraph", "text": block["text"]} for block in body
                   if isinstance(block, dict) and isinstance(block.get("text"), str)]
    for key in exchange.KEYS:
        if key not in LIST_KEYS and key not in ("body", "seal") and not isinstance(doc[key], str):
            doc[key] = None
    return doc


def _texts(doc):
    """(field, block, text) of every piece of the document's own words."""
    for key in PLAIN_KEYS:
        if doc[key]:
            yield key, None, doc[key]
    for key in LIST_KEYS:
        for index, item in enumerate(doc[key]):
            yield key, index, item
    for index, block in enumerate(doc["body"]):
        yield "body", index, block["text"]


def _finding(rule, level, message, field, block=None, start=None, end=None, fix=None, kind=None):
    return Finding(rule, level, message, field, block, start, end, fix, kind)


# --- Characters ------------------------------------------------------------------------------


@functools.cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def _in_gb2312(ch):
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def traditional(doc, context):
    """A character OpenCC's tables make simplified: outside GB 2312 it is a traditional
    character (错误, replaced by its simplified form); inside, a simplified character that
    is also a traditional one's form (乾, 於) is only pointed at."""
    convert = _t2s().convert
    for field, block, text in _texts(doc):
        simplified = convert(text)
        if len(simplified) != len(text):
            simplified = "".join(convert(ch) if len(convert(ch)) == 1 else ch for ch in text)
        for offset, (ch, simple) in enumerate(zip(text, simplified)):
            if ch == simple:
                continue
            if _in_gb2312(ch):
                yield _finding("traditional", HINT, f"“{ch}”在简化字文本中可能应为“{simple}”", field, block, offset,
                               offset + 1)
            else:
                yield _finding("traditional", ERROR, f"繁体字“{ch}”应为“{simple}”", field, block, offset, offset + 1,
                               simple)


FULL_WIDTH = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}


def _neighbours(text, offset):
    """The characters before and after `offset`, spaces skipped."""
    before = text[:offset].rstrip(" ")[-1:]
    after = text[offset + 1:].lstrip(" ")[:1]
    return before, after


def punctuation(doc, context):
    """Half-width , ; : ? ! ( ) and a full stop "." next to Chinese text."""
    for field, block, text in _texts(doc):
        for offset, ch in enumerate(text):
            before, after = _neighbours(text, offset)
            chinese = (before and is_cjk(before)) or (after and is_cjk(after))
            if ch in FULL_WIDTH and chinese:
                yield _finding("punctuation", ERROR, f"中文里的半角“{ch}”应为全角“{FULL_WIDTH[ch]}”", field, block,
                               offset, offset + 1, FULL_WIDTH[ch])
            elif ch == "." and before and is_cjk(before) and (not after or is_cjk(after)):
                yield _finding("punctuation", ERROR, "中文句末的半角“.”应为句号“。”", field, block, offset, offset + 1,
                               "。")


def quotes(doc, context):
    """Half-width quotation marks in Chinese text; with "“”" in the same document, mixed."""
    uses_full = any("“" in text or "”" in text for _, _, text in _texts(doc))
    for field, block, text in _texts(doc):
        marks = [offset for offset, ch in enumerate(text) if ch == '"']
        chinese = [offset for offset in marks if any(ch and is_cjk(ch) for ch in _neighbours(text, offset))]
        if chinese:
            message = "半角引号“\"”与全角引号“”混用" if uses_full else "中文应使用全角引号“”"
            paired = len(marks) % 2 == 0
            for offset in chinese:
                fix = ("“" if marks.index(offset) % 2 == 0 else "”") if paired else None
                yield _finding("quotes", ERROR, message, field, block, offset, offset + 1, fix)
        if text.count("“") != text.count("”"):
            yield _finding("quotes", HINT, f"前引号“ {text.count('“')} 个、后引号” {text.count('”')} 个，不成对",
                           field, block)


SPACE_RE = re.compile(r"(?<=[\u3400-\u9fff])[ \u3000]+(?=[0-9A-Za-z])|(?<=[0-9A-Za-z])[ \u3000]+(?=[\u3400-\u9fff])")


def spacing(doc, context):
    """A space between a Chinese character and a digit or a Latin letter: the page sets
    them apart as it must, the text needs no space."""
    for field, block, text in _texts(doc):
        for match in SPACE_RE.finditer(text):
            yield _finding("spacing", HINT, "汉字与数字、字母之间不加空格", field, block, match.start(), match.end(), "")


def unprintable(doc, context):
    for field, block, text in _texts(doc):
        for offset, ch in enumerate(text):
            if not printable(ch):
                yield _finding("unprintable", ERROR, f"“{ch}”（U+{ord(ch):04X}）公文所用字体都没有这个字符，无法印制",
                               field, block, offset, offset + 1)


# --- Headings --------------------------------------------------------------------------------


def headings(doc, context):
    """Each heading's number: how it is written, whether its kind says the same, and the
    order of the numbers under their parent, level by level."""
    numbered = []
    for index, block in enumerate(doc["body"]):
        text, kind = block["text"], block["kind"]
        number = heading_number(text)
        if number is None:
            if kind in LEVEL_OF_KIND:
                yield _finding("heading_form", ERROR, f"{_level_name(LEVEL_OF_KIND[kind])}没有序号", "body", index)
            continue
        if kind == "title":
            continue
        level, right_kind = number.level, KIND_OF_LEVEL[number.level]
        if number.written != number.right:
            yield _finding("heading_form", ERROR, f"序号“{number.written}”应写作“{number.right}”", "body", index, 0,
                           number.end, number.right, right_kind)
        elif kind != right_kind:
            yield _finding("heading_form", HINT, f"以“{number.written}”开头，应为{_level_name(level)}", "body", index,
                           kind=right_kind)
        space = re.match(r"[ \u3000]+", text[number.end:])
        if space:
            yield _finding("heading_form", HINT, f"序号“{number.right}”后不空格", "body", index, number.end,
                           number.end + space.end(), "")
        numbered.append((index, level, number.number))
    yield from _heading_order(numbered)


def _level_name(level):
    return f"“{written_number(level, 1)}”层标题"


def _heading_order(numbered):
    """Under each parent the numbers run 1, 2, 3 …; a heading goes one level deeper at most."""
    if not numbered:
        return
    top = min(level for _, level, _ in numbered)
    last = {}  # level -> the last number at that level under the current parent
    previous = None  # the level of the heading before
    for index, level, number in numbered:
        shown = written_number(level, number)
        if level > top and (previous is None or level > previous + 1):
            after = f"“{written_number(previous, last[previous])}”之后" if previous else "开头"
            yield _finding("heading_level", ERROR, f"{after}直接用“{shown}”，缺少“{written_number(level - 1, 1)}”一层",
                           "body", index)
        expected = last.get(level, 0) + 1
        if number != expected:
            if last.get(level) == number:
                message = f"序号“{shown}”重复"
            elif number > expected:
                gap = "、".join(f"“{written_number(level, n)}”" for n in range(expected, min(number, expected + 3)))
                message = f"序号不连续：缺少{gap}" + ("等" if number > expected + 3 else "")
            else:
                message = f"序号顺序错误：此处应为“{written_number(level, expected)}”"
            yield _finding("heading_order", ERROR, message, "body", index)
        last[level] = number
        for deeper in [key for key in last if key > level]:
            del last[deeper]
        previous = level


# --- Elements --------------------------------------------------------------------------------

MENTION_RE = re.compile(r"附件\s*(?P<n>\d{1,2}|[一二三四五六七八九十]{1,3})?(?!说明|名称)")


def attachments(doc, context):
    """附件 named in the 正文 against the 附件说明, and how the names are written."""
    listed = doc["attachments"]
    named = {}
    unnumbered = None
    for index, block in enumerate(doc["body"]):
        for match in MENTION_RE.finditer(block["text"]):
            raw = match["n"]
            if raw is None:
                unnumbered = unnumbered or (index, match.start(), match.end())
                continue
            number = int(raw) if raw.isdigit() else chinese_numeral(raw)
            named.setdefault(number, (index, match.start(), match.end()))
    for number, (index, start, end) in sorted(named.items()):
        if number > len(listed):
            where = "附件说明中没有" if listed else "但没有附件说明"
            yield _finding("attachments", ERROR, f"正文提到附件{number}，{where}", "body", index, start, end)
    if unnumbered and not listed and not named:
        index, start, end = unnumbered
        yield _finding("attachments", ERROR, "正文提到附件，但没有附件说明", "body", index, start, end)
    for position, name in enumerate(listed, start=1):
        if (named and position not in named) or (not named and not unnumbered):
            yield _finding("attachments", HINT, f"附件说明列出的附件{position}“{name}”，正文中没有提到", "attachments",
                           position - 1)
        number = re.match(r"^\s*\d{1,2}\s*[.．、]\s*", name)
        if number:
            yield _finding("attachments", ERROR, "附件名称前不加序号（序号由版式自动编排）", "attachments", position - 1,
                           0, number.end(), "")
        mark = re.search(r"[。.，,；;：:]+$", name)
        if mark:
            yield _finding("attachments", ERROR, "附件名称后不加标点", "attachments", position - 1, mark.start(),
                           len(name), "")


def doc_number(doc, context):
    """机关代字〔年份〕序号号: 六角括号, the whole year, no leading zero, no 第."""
    number = doc["doc_number"]
    if not number:
        return
    number = number.strip()
    if exchange.DOC_NUMBER_RE.match(number):
        year = int(re.search(r"〔(\d{4})〕", number)[1])
        if doc["date"] and re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc["date"]) and int(doc["date"][:4]) != year:
            yield _finding("doc_number", HINT, f"发文字号的年份{year}与成文日期的年份不一致", "doc_number")
        return
    problems = []
    if re.search(r"[\[\]【】［］()（）]", number) or "〔" not in number:
        problems.append("年份应使用六角括号〔〕")
    if re.search(r"[〔\[【［(（]\s*\d{2}\s*[〕\]】］)）]", number):
        problems.append("年份应标全称（4 位）")
    if "第" in number:
        problems.append("序号前不加“第”")
    if re.search(r"[〕\]】］)）]\s*0\d", number):
        problems.append("序号不编虚位（不加“0”）")
    if not number.endswith("号"):
        problems.append("序号后应加“号”")
    fixed = normalise_doc_number(number)
    fix = fixed if fixed and exchange.DOC_NUMBER_RE.match(fixed) else None
    yield _finding("doc_number", ERROR, f"“{number}”不合格式“机关代字〔年份〕序号号”：{'；'.join(problems) or '写法不对'}",
                   "doc_number", start=0, end=len(doc["doc_number"]), fix=fix)


def _iso(value):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def dates(doc, context):
    """A 成文日期 not in the future, not before the draft was begun; 印发 not before it."""
    if doc["date"] and _iso(doc["date"]) is None:
        yield _finding("date", ERROR, f"“{doc['date']}”不是有效日期", "date")
        return
    date, printed = _iso(doc["date"]), _iso(doc["printed_date"])
    if date and date > context["today"]:
        yield _finding("date", ERROR, f"成文日期{exchange.format_date_cn(date.isoformat())}晚于今天", "date")
    drafted_on = context["drafted_on"]
    if date and drafted_on and date < drafted_on:
        yield _finding("date", ERROR, f"成文日期{exchange.format_date_cn(date.isoformat())}早于拟稿日期"
                                      f"{exchange.format_date_cn(drafted_on.isoformat())}", "date")
    if date and printed and printed < date:
        yield _finding("date", ERROR, "印发日期早于成文日期", "printed_date")


# Which way each 文种 may go (《党政机关公文处理工作条例》 第八条, 第十五条 to 第十七条).
DIRECTIONS = {
    "请示": ("上行文",), "报告": ("上行文",), "议案": ("上行文",), "批复": ("下行文",), "命令": ("下行文",),
    "决定": ("下行文",), "决议": ("下行文",), "公报": ("下行文",), "公告": ("下行文",), "通告": ("下行文",),
    "通知": ("下行文", "平行文"), "通报": ("下行文", "平行文"), "函": ("平行文",),
}
NEEDS_RECIPIENTS = ("请示", "报告", "批复", "议案", "函", "通知", "通报")
NO_RECIPIENTS = ("公告", "通告", "公报", "命令")


DRAFT_MARK_RE = re.compile(r"[（(][^（()）]*稿[）)]$")  # …的通知（征求意见稿）


def title(doc, context):
    """A title ends with its 文种 (a draft's "（征求意见稿）" may follow), and with no punctuation."""
    text, doc_type = doc["title"], doc["doc_type"] or "通知"
    if not text:
        return
    mark = re.search(r"[。.，,；;：:！!？?]+$", text)
    if mark:
        yield _finding("title", ERROR, "标题末尾不加标点", "title", None, mark.start(), len(text), "")
    bare = DRAFT_MARK_RE.sub("", text.rstrip("。.，,；;：:！!？?"))
    ends_with = title_doc_type(bare) or ("命令" if bare.endswith("令") else None)
    if ends_with is None:
        yield _finding("title", ERROR, f"标题应以文种“{doc_type}”结尾", "title")
    elif ends_with != doc_type:
        yield _finding("title", ERROR, f"标题的文种是“{ends_with}”，所选文种是“{doc_type}”", "title",
                       None, len(bare) - len(ends_with), len(bare))


def direction(doc, context):
    doc_type, way = doc["doc_type"] or "通知", doc["direction"] or "下行文"
    allowed = DIRECTIONS.get(doc_type)
    if allowed and way not in allowed:
        level = HINT if doc_type == "函" else ERROR
        yield _finding("direction", level, f"{doc_type}应为{'或'.join(allowed)}，不能作为{way}", "direction")


def recipients(doc, context):
    doc_type, text = doc["doc_type"] or "通知", doc["main_recipients"]
    if not text:
        if doc_type in NEEDS_RECIPIENTS:
            yield _finding("recipients", ERROR, f"{doc_type}须标注主送机关", "main_recipients")
        return
    if doc_type in NO_RECIPIENTS:
        yield _finding("recipients", HINT, f"{doc_type}一般不标注主送机关", "main_recipients")
    if doc_type == "请示" and re.search(r"[、，,；;]", text):
        yield _finding("recipients", ERROR, "请示只主送一个上级机关", "main_recipients")
    colon = re.search(r"[：:]+\s*$", text)
    if colon:
        yield _finding("recipients", HINT, "主送机关末尾的冒号由版式添加", "main_recipients", None, colon.start(),
                       len(text), "")


def secrecy(doc, context):
    """A 密级 wants its 保密期限, in Arabic digits. (Its copies get their 份号 at 核发.)"""
    level, period = doc["secrecy"], doc["secrecy_period"]
    if period and not level:
        yield _finding("secrecy", ERROR, "写了保密期限，但没有标注密级", "secrecy_period")
    if not level:
        return
    if not period:
        yield _finding("secrecy", ERROR, f"标注“{level}”须同时标注保密期限，如“{level}★1年”", "secrecy_period")
    elif not re.fullmatch(r"\d{1,2}(年|个月)|长期", period.strip()):
        match = re.fullmatch(r"([一二三四五六七八九十]{1,3})(年|个月)", period.strip())
        fix = f"{chinese_numeral(match[1])}{match[2]}" if match else None
        yield _finding("secrecy", ERROR, f"保密期限“{period}”应写作“1年”“6个月”或“长期”，数字用阿拉伯数字",
                       "secrecy_period", None, 0, len(period), fix)


def cc(doc, context):
    """抄送 is written without "抄送：" and without its "。": the page adds both."""
    text = doc["cc"]
    if not text:
        return
    prefix = re.match(r"^\s*抄\s*送\s*[：:]\s*", text)
    if prefix:
        yield _finding("cc", ERROR, "不写“抄送：”，由版式添加", "cc", None, 0, prefix.end(), "")
    mark = re.search(r"[。.，,；;]+\s*$", text)
    if mark:
        yield _finding("cc", ERROR, "抄送机关末尾不加“。”，由版式添加", "cc", None, mark.start(), len(text), "")


def signature(doc, context):
    if (doc["format"] or "文件") != "纪要" and not doc["signature_orgs"]:
        yield _finding("signature", HINT, "没有发文机关署名", "signature_orgs")


_RULES = (traditional, punctuation, quotes, spacing, unprintable, headings, attachments, doc_number, dates, title,
          direction, recipients, secrecy, cc, signature)
