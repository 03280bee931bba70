"""The 公文 exchange format (../shared/spec/gongwen-json.md): parse, validate, canonicalise.

`parse_document` is the single gate every document passes through, whether it
comes from a JSON file, the 发文稿纸 form or the database: it returns a complete
dict with every key present, or raises `ExchangeError` naming the offending
field in the user's language. `canonical_json` gives the byte string whose
SHA-256 identifies a revision.
"""

import datetime
import hashlib
import json
import re

from .render.coverage import first_unprintable

DOC_TYPES = (
    "决议", "决定", "命令", "公报", "公告", "通告", "意见", "通知",
    "通报", "报告", "请示", "批复", "议案", "函", "纪要",
)
DIRECTIONS = ("下行文", "上行文", "平行文")
FORMATS = ("文件", "信函", "纪要")
SECRECY_LEVELS = ("秘密", "机密", "绝密")
URGENCY_LEVELS = ("特急", "加急")

BLOCK_KINDS = {
    "paragraph": "段落",
    "heading1": "一级标题（一、）",
    "heading2": "二级标题（（一））",
    "heading3": "三级标题（1.）",
    "heading4": "四级标题（（1））",
    "title": "居中标题（印发、转发件标题）",
}

# Field labels, used to name a field in error messages.
FIELD_LABELS = {
    "doc_type": "文种",
    "direction": "行文方向",
    "format": "公文格式",
    "copy_number": "份号",
    "secrecy": "密级",
    "secrecy_period": "保密期限",
    "urgency": "紧急程度",
    "issuer_marks": "发文机关",
    "header_title": "发文机关标志",
    "doc_number": "发文字号",
    "signers": "签发人",
    "title": "标题",
    "main_recipients": "主送机关",
    "body": "正文",
    "attachments": "附件说明",
    "signature_orgs": "发文机关署名",
    "date": "成文日期",
    "seal": "印章",
    "note": "附注",
    "cc": "抄送机关",
    "printed_by": "印发机关",
    "printed_date": "印发日期",
}
KEYS = tuple(FIELD_LABELS)

# Bounds that keep one document renderable in reasonable time and memory.
MAX_TITLE_CHARS = 200
MAX_LINE_CHARS = 500
MAX_BLOCKS = 3000
MAX_BLOCK_CHARS = 20000
MAX_BODY_CHARS = 300000
MAX_LIST_ITEMS = 50
MAX_FILE_BYTES = 8 * 1024 * 1024  # the longest body allowed, written with \uXXXX escapes, is under 2 MB

DOC_NUMBER_RE = re.compile(r"^(?P<code>[^〔〕\s]+)〔(?P<year>[0-9]{4})〕(?P<serial>[1-9][0-9]*)号$")
COPY_NUMBER_RE = re.compile(r"^\d{6}$")
CONTROL_CHARS_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")


class ExchangeError(ValueError):
    """Invalid exchange data; `field` is the key path, `message` is for the user."""

    def __init__(self, field, message):
        self.field = field
        self.message = message
        super().__init__(message if field == "$" else f"{_label(field)}（{field}）：{message}")


def _label(field):
    key = field.split("[", 1)[0].split(".", 1)[0]
    label = FIELD_LABELS.get(key, key)
    rest = field[len(key):]
    return label + rest


def _text(data, key, *, required=False, max_chars=MAX_LINE_CHARS, multiline=False):
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ExchangeError(key, "不能为空")
        return None
    if not isinstance(value, str):
        raise ExchangeError(key, "应为文字")
    value = value.strip()
    _check_chars(key, value, max_chars, multiline)
    return value


def _check_chars(field, value, max_chars, multiline=False):
    if len(value) > max_chars:
        raise ExchangeError(field, f"过长（{len(value)} 字，最多 {max_chars} 字）")
    if CONTROL_CHARS_RE.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        raise ExchangeError(field, "含有不允许的控制字符或换行")


def _choice(data, key, choices, *, default=None):
    value = data.get(key)
    if value is None or value == "":
        return default
    if value not in choices:
        raise ExchangeError(key, f"“{value}”不是有效取值，应为：{'、'.join(choices)}")
    return value


def _text_list(data, key):
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ExchangeError(key, "应为文字列表")
    if len(value) > MAX_LIST_ITEMS:
        raise ExchangeError(key, f"最多 {MAX_LIST_ITEMS} 项")
    items = []
    for index, item in enumerate(value):
        field = f"{key}[{index}]"
        if not isinstance(item, str) or not item.strip():
            raise ExchangeError(field, "应为非空文字")
        item = item.strip()
        _check_chars(field, item, MAX_LINE_CHARS)
        items.append(item)
    return items


def _date(data, key):
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ExchangeError(key, "应为日期文字，如 2024-09-05")
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError:
        raise ExchangeError(key, f"“{value}”不是有效日期，应写作 2024-09-05") from None


def _body(data):
    value = data.get("body")
    if not isinstance(value, list) or not value:
        raise ExchangeError("body", "至少需要一段正文")
    if len(value) > MAX_BLOCKS:
        raise ExchangeError("body", f"段落过多（{len(value)} 段，最多 {MAX_BLOCKS} 段）")
    blocks = []
    total = 0
    for index, block in enumerate(value):
        field = f"body[{index}]"
        if not isinstance(block, dict):
            raise ExchangeError(field, "应为 {\"kind\": …, \"text\": …}")
        unknown = set(block) - {"kind", "text"}
        if unknown:
            raise ExchangeError(field, f"未知的键：{'、'.join(sorted(unknown))}")
        kind = block.get("kind", "paragraph")
        if kind not in BLOCK_KINDS:
            raise ExchangeError(f"{field}.kind", f"“{kind}”不是有效段落类型，应为：{'、'.join(BLOCK_KINDS)}")
        text = block.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ExchangeError(f"{field}.text", "段落文字不能为空")
        text = text.strip()
        _check_chars(f"{field}.text", text, MAX_BLOCK_CHARS)
        total += len(text)
        blocks.append({"kind": kind, "text": text})
    if total > MAX_BODY_CHARS:
        raise ExchangeError("body", f"正文过长（{total} 字，最多 {MAX_BODY_CHARS} 字）")
    return blocks


def _first_surrogate(data):
    """(field, message) for the first lone UTF-16 surrogate in `data`, or None. JSON may spell
    one ("\\ud800"); it is no character, cannot be stored as UTF-8 and must not reach a message."""
    stack = [("", data)]
    while stack:  # not recursive: the data may be nested as deep as the JSON decoder allows
        field, value = stack.pop()
        if isinstance(value, str):
            match = SURROGATE_RE.search(value)
            if match:
                where = f"第 {match.start() + 1} 个字" if field else "内容中"
                return field or "$", f"{where}是孤立的 UTF-16 代理项（U+{ord(match.group()):04X}），不是有效字符，请检查文件的编码"
        elif isinstance(value, dict):
            for key in value:
                if isinstance(key, str) and SURROGATE_RE.search(key):
                    return "$", f"键名含有孤立的 UTF-16 代理项（U+{ord(SURROGATE_RE.search(key).group()):04X}），不是有效字符"
            stack.extend((f"{field}.{key}" if field else key, item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{field}[{index}]", item) for index, item in reversed(list(enumerate(value))))
    return None


def default_header_title(issuer_marks, fmt):
    if not issuer_marks:
        return None
    if fmt == "信函":
        return "".join(issuer_marks)
    suffix = "纪要" if fmt == "纪要" else "文件"
    return "".join(issuer_marks) + suffix


def parse_document(data):
    """Validate `data` (a decoded JSON object) and return the complete, normalised document."""
    if not isinstance(data, dict):
        raise ExchangeError("$", "应为一个 JSON 对象")
    surrogate = _first_surrogate(data)
    if surrogate:
        raise ExchangeError(*surrogate)
    unknown = set(data) - set(KEYS)
    if unknown:
        key = sorted(unknown)[0]
        raise ExchangeError(key, "未知的键（请检查拼写）")

    doc = {}
    doc["doc_type"] = _choice(data, "doc_type", DOC_TYPES, default="通知")
    doc["direction"] = _choice(data, "direction", DIRECTIONS, default="下行文")
    doc["format"] = _choice(data, "format", FORMATS, default="文件")
    copy_number = _text(data, "copy_number", max_chars=6)
    if copy_number is not None and not COPY_NUMBER_RE.match(copy_number):
        raise ExchangeError("copy_number", "应为 6 位数字，如 000123")
    doc["copy_number"] = copy_number
    doc["secrecy"] = _choice(data, "secrecy", SECRECY_LEVELS)
    doc["secrecy_period"] = _text(data, "secrecy_period", max_chars=20)
    if doc["secrecy_period"] and not doc["secrecy"]:
        raise ExchangeError("secrecy_period", "只有标明密级时才能写保密期限")
    doc["urgency"] = _choice(data, "urgency", URGENCY_LEVELS)
    doc["issuer_marks"] = _text_list(data, "issuer_marks")
    doc["header_title"] = _text(data, "header_title") or default_header_title(
        doc["issuer_marks"], doc["format"]
    )
    doc_number = _text(data, "doc_number", max_chars=60)
    if doc_number is not None and not DOC_NUMBER_RE.match(doc_number):
        raise ExchangeError("doc_number", f"“{doc_number}”格式不对，应为 机关代字〔年份〕序号号，如 泉科〔2024〕123号")
    doc["doc_number"] = doc_number
    doc["signers"] = _text_list(data, "signers")
    doc["title"] = _text(data, "title", required=True, max_chars=MAX_TITLE_CHARS)
    doc["main_recipients"] = _text(data, "main_recipients", max_chars=2000)
    if doc["main_recipients"]:
        doc["main_recipients"] = doc["main_recipients"].rstrip("：:")
    doc["body"] = _body(data)
    doc["attachments"] = _text_list(data, "attachments")
    doc["signature_orgs"] = _text_list(data, "signature_orgs")
    doc["date"] = _date(data, "date")
    seal = data.get("seal", False)
    if seal is None:
        seal = False
    if not isinstance(seal, bool):
        raise ExchangeError("seal", "应为 true 或 false")
    doc["seal"] = seal
    doc["note"] = _text(data, "note", max_chars=2000)
    doc["cc"] = _text(data, "cc", max_chars=2000)
    if doc["cc"]:
        doc["cc"] = doc["cc"].removeprefix("抄送：").rstrip("。")
    doc["printed_by"] = _text(data, "printed_by")
    doc["printed_date"] = _date(data, "printed_date")
    unprintable = first_unprintable(doc)
    if unprintable:
        raise ExchangeError(*unprintable)
    return doc


def load_json(text):
    """Decode JSON text and parse it; a syntax error is reported like a field error."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExchangeError("$", f"不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}）") from None
    except RecursionError:
        raise ExchangeError("$", "不是有效的公文交换格式：数组或对象嵌套层数过多") from None
    except ValueError:  # a number of more digits than int() converts
        raise ExchangeError("$", "不是有效的公文交换格式：含有位数过多的数字") from None
    return parse_document(data)


def read_file(path):
    """Read and parse a UTF-8 JSON file; an unreadable file is reported like invalid content."""
    shown = SURROGATE_RE.sub("\ufffd", str(path))  # bytes of a name that are no UTF-8 (os.fsdecode)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ExchangeError("$", f"找不到文件：{shown}") from None
    except ValueError:  # a NUL or a lone surrogate in the name
        raise ExchangeError("$", f"文件名无效：{shown}") from None
    except OSError as exc:
        raise ExchangeError("$", f"无法读取文件 {shown}：{exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ExchangeError("$", f"文件过大（超过 {MAX_FILE_BYTES // 1024 // 1024} MB）：{shown}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ExchangeError("$", f"文件不是 UTF-8 编码：{shown}") from None
    return load_json(text)


def canonical_json(doc):
    """The canonical UTF-8 bytes of a document: sorted keys, no insignificant whitespace."""
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_sha256(doc):
    return hashlib.sha256(canonical_json(doc)).hexdigest()


def dump_json(doc):
    """Human-readable JSON for export, keys in the order of the spec."""
    ordered = {key: doc.get(key) for key in KEYS}
    return json.dumps(ordered, ensure_ascii=False, indent=2) + "\n"


def format_date_cn(iso_date):
    """2024-09-05 -> 2024年9月5日 (Arabic numerals, no leading zeros, as GB/T 9704 asks)."""
    if not iso_date:
        return ""
    day = datetime.date.fromisoformat(iso_date)
    return f"{day.year}年{day.month}月{day.day}日"
