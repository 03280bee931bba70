"""Documents that come in from Word and paper: a .docx (read with python-docx) or a plain
text (UTF-8 or GB 18030, as typed, pasted, or extracted from a printed copy), recognised
into the exchange format (issuance.exchange) so that nobody re-types them.

Reading turns a file into paragraphs: a Word file's paragraphs (tables and text boxes in
the order of the page, soft line breaks kept as lines that continue the paragraph), or a
text's lines, with the line breaks inside a paragraph of a wrapped text removed, blank
lines and page numbers dropped. Recognition then reads the page as GB/T 9704 lays it out:
版头 (份号, 密级 and 保密期限, 紧急程度, 发文机关标志, 发文字号, 签发人), 主体 (标题 over one
or more lines, 主送, 正文 with its headings and the title of a document it issues or
forwards, 附件说明 with numbered and wrapped names, 署名, 成文日期 in Arabic digits or
Chinese numerals, 附注) and 版记 (抄送, 印发机关 and 印发日期). In a printed text, a paragraph
that a page break split is joined again.

What a file cannot give (a 发文字号 written the wrong way is put right, attachments' own
pages are not taken over) is said in `Recognised.notes`. A file that is no Word file, too
large, a zip bomb, encrypted, or no 公文 at all is refused with a `RecognitionError`, and
nothing is created.
"""

import datetime
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import exchange
from .exceptions import IssuanceError
from .headings import chinese_numeral, detect_kind, heading_number

MB = 1024 * 1024
MAX_DOCX_BYTES = 20 * MB
MAX_UNZIPPED_BYTES = 100 * MB  # all parts of a Word file together, decompressed
MAX_ZIP_MEMBERS = 2000
MAX_TEXT_BYTES = 4 * MB  # far more than the exchange format's longest body
SUFFIXES = (".docx", ".txt")
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Compound File: an encrypted .docx, a .doc, a .wps


class RecognitionError(IssuanceError):
    """A file that cannot be brought in; the message says why, in the user's words."""


@dataclass
class Recognised:
    content: dict  # every key of the exchange format, not yet validated
    found: list = field(default_factory=list)  # (element, what was recognised), for the person who checks it
    notes: list = field(default_factory=list)  # what the file had that the document does not take over


@dataclass
class Para:
    text: str
    soft: bool = False  # a Word line after a soft line break: it continues the paragraph before it


# --- Reading files -------------------------------------------------------------------------


def read_upload(name, data):
    """Recognise an uploaded file by its name's suffix (.docx or .txt)."""
    suffix = Path(name or "").suffix.lower()
    if suffix == ".docx":
        return recognise(docx_paragraphs(data), printed=False)
    if suffix == ".txt":
        return recognise(text_paragraphs(data), printed=True)
    raise RecognitionError(f"不支持的文件类型“{suffix or name}”：请上传 Word 文件（.docx）或纯文本（.txt）")


def read_uploaded(upload):
    """Recognise a file uploaded to the 发文稿纸 (a Django UploadedFile), refusing one too large
    before reading it."""
    check_size(upload.name, upload.size)
    return read_upload(upload.name, upload.read(MAX_DOCX_BYTES + 1))


def read_path(path):
    """Recognise a .docx or .txt file on disk, refusing one too large before reading it."""
    path = Path(path)
    limit = MAX_DOCX_BYTES if path.suffix.lower() == ".docx" else MAX_TEXT_BYTES
    try:
        size = path.stat().st_size
        if path.suffix.lower() in SUFFIXES:
            check_size(path.name, size)
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise RecognitionError(f"找不到文件：{path}") from None
    except OSError as exc:
        raise RecognitionError(f"无法读取文件 {path}：{exc.strerror}") from None
    return read_upload(path.name, data)


def read_document(path):
    """The exchange content of a file for import: a .json as it is, a .docx or .txt recognised."""
    if Path(path).suffix.lower() in SUFFIXES:
        return exchange.parse_document(read_path(path).content)
    return exchange.read_file(path)


def check_size(name, size):
    """Refuse a file larger than its kind may be, before anything reads it."""
    suffix = Path(name).suffix.lower()
    limit = MAX_DOCX_BYTES if suffix == ".docx" else MAX_TEXT_BYTES
    if size > limit:
        kind = "Word 文件" if suffix == ".docx" else "文本文件"
        raise RecognitionError(f"{kind}过大（{size / MB:.1f} MB，最多 {limit // MB} MB）")


def _check_zip(data):
    """A Word file is a zip: refuse what is none, and a zip bomb, before python-docx unpacks it.

    python-docx reads every part into memory, so each part is decompressed here first, in
    chunks, counting what it really holds (a zip's own size fields may lie)."""
    if data.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data:
            raise RecognitionError("Word 文件已加密：请在 Word 中取消密码后另存，再上传")
        raise RecognitionError("这是旧版 Word（.doc）或 WPS 格式的文件：请另存为 .docx 后上传")
    if not data.startswith(ZIP_MAGIC):
        raise RecognitionError("不是 Word 文件（.docx）：文件内容不是 Word 格式")
    check_size("x.docx", len(data))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise RecognitionError(f"Word 文件内部文件过多（{len(members)} 个），疑似异常文件，已拒绝")
            names = {member.filename for member in members}
            if "word/document.xml" not in names and "[Content_Types].xml" not in names:
                raise RecognitionError("不是 Word 文件（.docx）：压缩包中没有 Word 文档内容")
            total = 0
            for member in members:
                with archive.open(member) as part:
                    while chunk := part.read(MB):
                        total += len(chunk)
                        if total > MAX_UNZIPPED_BYTES:
                            raise RecognitionError(
                                f"Word 文件解压后超过 {MAX_UNZIPPED_BYTES // MB} MB，疑似压缩炸弹，已拒绝")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError) as exc:
        # RuntimeError: a member encrypted with a zip password; NotImplementedError: an unknown compression.
        raise RecognitionError(f"Word 文件已损坏或无法解压（{type(exc).__name__}）") from None


# --- Word files ----------------------------------------------------------------------------

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Subtrees whose text is not the paragraph's own: deleted text of tracked changes, the
# fallback copy of a text box (its text is read once, from the choice), text boxes (read
# as paragraphs of their own), and field instructions.
_SKIP = {W + "del", W + "moveFrom", MC + "Fallback", W + "txbxContent", W + "instrText", W + "rPr", W + "pPr"}


def docx_paragraphs(data):
    """The paragraphs of a Word file's body in the order of the page (page headers and
    footers, where the page numbers are, are not read)."""
    _check_zip(data)
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml import etree

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError) as exc:
        # python-docx's ways of saying that a package is no Word document.
        raise RecognitionError(f"不是可读取的 Word 文件（.docx）：{type(exc).__name__}") from None
    paragraphs = []
    _walk(document.element.body, paragraphs)
    return paragraphs


def _walk(element, out):
    for child in element.iterchildren():
        tag = child.tag
        if tag == W + "p":
            lines = _own_text(child).split("\n")
            out.append(Para(lines[0]))
            out.extend(Para(line, soft=True) for line in lines[1:])
            for box in child.iter(W + "txbxContent"):
                if not any(a.tag == MC + "Fallback" for a in box.iterancestors()):
                    _walk(box, out)
        elif tag in (W + "tbl", W + "tr", W + "tc", W + "sdt", W + "sdtContent", W + "customXml", W + "ins"):
            _walk(child, out)


def _own_text(paragraph):
    parts = []

    def visit(node):
        for child in node.iterchildren():
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == W + "r" and child.find(f"{W}rPr/{W}vanish") is not None:
                continue  # hidden text is not on the page
            if tag == W + "t":
                parts.append(child.text or "")
            elif tag == W + "tab" or tag == W + "ptab":
                parts.append("\t")
            elif tag in (W + "br", W + "cr"):
                parts.append("\n")
            elif tag == W + "noBreakHyphen":
                parts.append("-")
            else:
                visit(child)

    visit(paragraph)
    return "".join(parts)


# --- Plain text ----------------------------------------------------------------------------


def decode_text(data):
    """UTF-8 (with or without BOM), UTF-16 with a BOM, else GB 18030."""
    if len(data) > MAX_TEXT_BYTES:
        check_size("x.txt", len(data))
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        break
    else:
        raise RecognitionError("无法识别文本的编码：请保存为 UTF-8 或 GB 18030（GBK）编码的文本")
    if "\x00" in text or len(CONTROL_RE.findall(text)) > max(10, len(text) // 1000):
        raise RecognitionError("不是文本文件：内容含有大量控制字符")
    return text


CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
INDENT = (" ", "\t", "\u3000")


def _width(text):
    """Display width: a CJK or full-width character counts two, ASCII one."""
    return sum(1 if ord(ch) < 0x2E80 else 2 for ch in text)


def _wrap_width(lines):
    """The width at which a hard-wrapped text breaks its lines, or None if it does not.

    In a wrapped text the full lines, most of a paragraph's lines, are all about as wide
    as the widest; where each paragraph is one line, few lines come near the widest."""
    widths = [_width(line.strip(" \t\u3000")) for line in lines if line.strip()]
    long = [w for w in widths if w >= 20]
    if len(long) < 3:
        return None
    widest = max(long)
    full = [w for w in long if w >= widest - 3]
    if len(full) >= 3 and len(full) >= len(long) / 4:
        return widest
    return None


def text_paragraphs(data):
    """The paragraphs of a plain text: blank lines, page numbers and rules dropped, the
    lines of a wrapped paragraph joined."""
    lines = decode_text(data).splitlines()
    width = _wrap_width(lines)
    paragraphs, last_line, gap = [], "", True
    for raw in lines:
        line = raw.strip(" \t\u3000\ufeff")
        if not line or is_page_number(line) or is_rule(line):
            gap = True
            continue
        indented = raw.startswith(INDENT)
        if paragraphs and not gap and not indented and width and _width(last_line) >= width - 3 \
                and not starts_element(line):
            paragraphs[-1].text = join(paragraphs[-1].text, line)
        else:
            paragraphs.append(Para(line))
        last_line, gap = line, False
    return paragraphs


# --- What the lines say --------------------------------------------------------------------

PAGE_NUMBER_RE = re.compile(r"^(?:[-—–－―]\s*\d{1,3}\s*[-—–－―]|\d{1,3}|第\s*\d+\s*页(?:\s*[，,/]?\s*共\s*\d+\s*页)?"
                            r"|\d{1,3}\s*/\s*\d{1,3})$")
RULE_RE = re.compile(r"^[-—–－―─━_＿=＝·•.…\s]{3,}$")
_YEAR = r"\d{4}|[〇零○Ｏ一二三四五六七八九]{4}"
_MONTH_DAY = r"\d{1,2}|[一二三四五六七八九十]{1,3}"
DATE_RE = re.compile(rf"(?P<y>{_YEAR})\s*年\s*(?P<m>{_MONTH_DAY})\s*月\s*(?P<d>{_MONTH_DAY})\s*日")
DOC_NUMBER_RE = re.compile(
    r"(?P<code>[^\s〔〕\[\]【】［］（）()]+?)\s*[〔\[【［（(]\s*(?P<year>\d{4})\s*[〕\]】］）)]\s*"
    r"(?:第\s*)?(?P<serial>\d*)\s*号"
)
SIGNERS_RE = re.compile(r"签\s*发\s*人\s*[：:]\s*(?P<names>.*)$")
SECRECY_RE = re.compile(r"^(?P<level>绝密|机密|秘密)(?:\s*[★☆*＊]\s*(?P<period>\S+))?$")
URGENCY_RE = re.compile(r"^(?P<level>特急|加急)$")
CC_RE = re.compile(r"^抄\s*送\s*[：:]\s*")
# The 印发 line; a draft leaves its date blank ("年　月　日印发") for 印制 to fill in.
PRINTED_RE = re.compile(rf"^(?P<org>.*?)\s*(?:(?P<date>{DATE_RE.pattern})|年\s*月\s*日)\s*印\s*发$")
ATTACHMENTS_RE = re.compile(r"^附\s*件\s*[：:]\s*(?P<rest>.*)$")
ATTACHMENT_ITEM_RE = re.compile(r"^(?P<n>\d{1,2})\s*[.．、]\s*(?P<name>.+)$")
ATTACHMENT_PAGE_RE = re.compile(r"^附\s*件\s*\d{0,2}$")
NOTE_RE = re.compile(r"^[（(](?P<note>.+)[）)]$")
FORWARD_RE = re.compile(r"(?:印发|转发|发布|颁布|颁发|批转|下发)")
BOOK_TITLE_RE = re.compile(r"《([^《》]+)》")
SENTENCE_MARKS = "，。；"
ORGAN_PUNCTUATION = set("。，；：:、？！?!“”\"")
TERMINAL = "。！？；：…!?;:"
CLOSERS = "”’」』）)》】"


def is_page_number(line):
    return bool(PAGE_NUMBER_RE.match(line))


def is_rule(line):
    return bool(RULE_RE.match(line))


def parse_date(text):
    """An ISO date from 2024年9月5日 or 二〇二四年九月五日, or None."""
    match = DATE_RE.fullmatch(text.strip())
    if not match:
        return None
    parts = []
    for group in ("y", "m", "d"):
        raw = match[group]
        parts.append(int(raw) if raw.isdigit() else chinese_numeral(raw))
    try:
        return datetime.date(*parts).isoformat()
    except (TypeError, ValueError):
        return None


def starts_element(line):
    """Whether a line begins something of its own: a heading, 附件, 抄送, a date."""
    return bool(heading_number(line) or ATTACHMENTS_RE.match(line) or CC_RE.match(line) or parse_date(line)
                or PRINTED_RE.match(line))


def ends_sentence(text):
    return text.rstrip(CLOSERS)[-1:] in TERMINAL if text.rstrip(CLOSERS) else True


def is_cjk(ch):
    code = ord(ch)
    return (0x2E80 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0xFE30 <= code <= 0xFE4F
            or 0xFF00 <= code <= 0xFFEF or 0x20000 <= code <= 0x3FFFF or ch in "“”‘’")


def join(before, after):
    """Two pieces of one paragraph: words of Latin script keep a space between them."""
    if before and after and before[-1].isascii() and before[-1].isalnum() and after[0].isascii() \
            and after[0].isalnum():
        return f"{before} {after}"
    return before + after


def tidy_title(text):
    """A title put together from lines: no white space between two Chinese characters, but
    for the spaces between the organs that a joint document's title begins with."""
    text = re.sub(r"\s+", " ", text.strip())

    def space(match):
        before = text[:match.start()].split()
        return " " if all(ORGAN_SUFFIX_RE.search(name) for name in before) else ""

    return re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", space, text)


def title_doc_type(title):
    """The 文种 a title ends with, or None."""
    stripped = title.rstrip("。.")
    return next((t for t in sorted(exchange.DOC_TYPES, key=len, reverse=True) if stripped.endswith(t)), None)


def is_organ_line(text):
    """A 署名 or a 印发机关: short, no sentence punctuation, no heading number."""
    return (0 < len(text) <= 40 and not (set(text) & ORGAN_PUNCTUATION) and heading_number(text) is None
            and not ATTACHMENTS_RE.match(text) and not DATE_RE.search(text))


def normalise_doc_number(text):
    """(the 发文字号 in its one right form, or None when no serial is filled in yet)."""
    match = DOC_NUMBER_RE.search(text)
    if not match:
        return None
    serial = match["serial"].lstrip("0")
    if not serial:
        return None
    return f"{match['code']}〔{match['year']}〕{serial}号"


DEFAULT_DIRECTION = {"请示": "上行文", "报告": "上行文", "议案": "上行文", "函": "平行文"}


# --- Recognition ---------------------------------------------------------------------------


class _Page:
    """The paragraphs of one document, read from both ends towards the 正文."""

    def __init__(self, paragraphs):
        self.items = []
        for para in paragraphs:
            text = para.text.replace("\t", " ").strip(" \u3000\ufeff")
            if not text or is_page_number(text) or is_rule(text):
                continue
            self.items.append(Para(text, para.soft))
        self.start, self.end = 0, len(self.items)

    def __bool__(self):
        return self.start < self.end

    def first(self, offset=0):
        index = self.start + offset
        return self.items[index].text if index < self.end else None

    def last(self, offset=0):
        index = self.end - 1 - offset
        return self.items[index].text if index >= self.start else None

    def take_first(self, count=1):
        taken = [p.text for p in self.items[self.start:self.start + count]]
        self.start += count
        return taken

    def take_last(self, count=1):
        taken = [p.text for p in self.items[self.end - count:self.end]]
        self.end -= count
        return taken

    def rest(self):
        return self.items[self.start:self.end]


def recognise(paragraphs, printed):
    """Read a document's paragraphs as the parts of a 公文. `printed`: the paragraphs come from
    a printed or pasted text, where a page break may have split a paragraph."""
    page = _Page(paragraphs)
    if not page:
        raise RecognitionError("文件中没有文字")
    content = {key: None for key in exchange.KEYS}
    content.update(issuer_marks=[], signers=[], attachments=[], signature_orgs=[], body=[], seal=True)
    result = Recognised(content)
    header = _read_head(page, content, result)
    _read_title(page, content, header)
    _read_recipients(page, content)
    _read_tail(page, content, result)
    _read_closing(page, content, result)
    _read_attachments(page, content)
    content["body"] = _body(page.rest(), printed)
    if not content["body"]:
        raise RecognitionError("未能识别为公文：标题之后没有正文")
    _settle(content, header)
    result.found = _found(content)
    return result


def _read_head(page, content, result):
    """份号, 密级, 紧急程度, 发文机关标志, 发文字号 and 签发人, above the title. Returns the
    发文机关标志's lines."""
    header = []
    for offset in range(min(10, page.end - page.start)):
        text = page.first(offset)
        if DOC_NUMBER_RE.search(text) and not title_doc_type(text) and "。" not in text and len(text) <= 80:
            before = [page.first(i) for i in range(offset)]
            page.take_first(offset + 1)
            _read_number_line(text, content, result)
            if page and SIGNERS_RE.search(page.first()):  # 签发人 on a line of its own
                _read_signers(page.take_first()[0], content)
            header = [line for line in before if not _read_mark(line, content)]
            return header
    # A draft without a number: the marks and a 发文机关标志 ending with 文件 or 纪要.
    while page and _read_mark(page.first(), content):
        page.take_first()
    for offset in range(min(4, page.end - page.start)):
        text = page.first(offset)
        if re.sub(r"\s", "", text).endswith(("文件", "纪要")) and is_organ_line(text) and not title_doc_type(text):
            header = page.take_first(offset + 1)
            break
    return header


def _read_mark(line, content):
    """份号, 密级★保密期限 and 紧急程度, alone or together on one line."""
    marks = {}
    for token in re.sub(r"\s*([★☆*＊])\s*", r"\1", line).split():
        secrecy, urgency = SECRECY_RE.match(token), URGENCY_RE.match(token)
        if re.fullmatch(r"\d{6}", token):
            marks["copy_number"] = token
        elif secrecy:
            marks["secrecy"], marks["secrecy_period"] = secrecy["level"], secrecy["period"]
        elif urgency:
            marks["urgency"] = urgency["level"]
        else:
            return False
    content.update(marks)
    return bool(marks)


def _read_number_line(text, content, result):
    match = DOC_NUMBER_RE.search(text)
    number = normalise_doc_number(text)
    written = re.sub(r"\s", "", match.group(0))
    if number and written != number:
        result.notes.append(f"发文字号“{written}”写法不规范，已按“机关代字〔年份〕序号号”识别为“{number}”")
    if not number:
        result.notes.append(f"发文字号“{written}”尚未编号")
    content["doc_number"] = number
    after = text[match.end():]
    if SIGNERS_RE.search(after):
        _read_signers(after, content)


def _read_signers(text, content):
    names = SIGNERS_RE.search(text)["names"]
    content["signers"] = [name for name in re.split(r"[\s、，,]+", names) if name]


def _read_title(page, content, header):
    """The title: the lines up to the one that ends with a 文种, before the 主送."""
    lines = []
    for offset in range(min(4, page.end - page.start)):
        text = page.first(offset)
        if _is_recipients_line(text) or "。" in text:
            break
        lines.append(text)
        if title_doc_type("".join(lines)):
            page.take_first(len(lines))
            content["title"] = _joined_title(lines)
            return
    if header or content["doc_number"]:
        # The header says it is a 公文; a title without its 文种 is for the 格式审查 to point out.
        content["title"] = _joined_title(page.take_first(max(1, len(lines))))
        return
    raise RecognitionError("未能识别为公文：开头没有以文种（如“通知”“请示”“报告”“函”）结尾的标题，"
                           "也没有发文机关标志或发文字号")


def _joined_title(lines):
    text = ""
    for line in lines:
        text = join(text, line)
    return tidy_title(text)


NOT_RECIPIENTS_RE = re.compile(r"如下|下列|以下|现将|通知|要求|报告|请示|为了|根据|按照")


def _is_recipients_line(text):
    """主送: organs, not the first sentence of the 正文 ("现将有关事项通知如下：")."""
    return text.endswith(("：", ":")) and "。" not in text and len(text) <= 300 and not NOT_RECIPIENTS_RE.search(text)


def _read_recipients(page, content):
    """主送: a line ending with "：" (a long list may wrap over a few lines)."""
    for count in range(1, 4):
        lines = [page.first(i) for i in range(count)]
        if None in lines or any("。" in line for line in lines):
            return
        if _is_recipients_line(lines[-1]):
            page.take_first(count)
            content["main_recipients"] = "".join(lines).rstrip("：:").strip()
            return


def _read_tail(page, content, result):
    """版记 from the end: 印发机关 and 印发日期, then 抄送 (which may wrap)."""
    text = page.last()
    match = PRINTED_RE.match(text or "")
    if match:
        page.take_last()
        content["printed_date"] = parse_date(match["date"]) if match["date"] else None
        organ = match["org"].strip()
        if not organ and page.last() and is_organ_line(page.last()) and not CC_RE.match(page.last()):
            organ = page.take_last()[0]
        content["printed_by"] = organ or None
    for offset in range(min(4, page.end - page.start)):
        if CC_RE.match(page.last(offset)):
            lines = page.take_last(offset + 1)
            cc = CC_RE.sub("", "".join(lines)).strip()
            content["cc"] = cc.rstrip("。.").strip() or None
            break


def _read_closing(page, content, result):
    """成文日期, the 署名 above it and the 附注 below it, and the pages of attachments that a
    printed document has between its 附注 and its 版记. The 成文日期 is the last line that is
    a date and nothing else."""
    date_at = next((offset for offset in range(page.end - page.start)
                    if parse_date(page.last(offset)) or _organ_and_date(page.last(offset))), None)
    if date_at is None:
        text = page.last()
        if text and NOTE_RE.match(text) and heading_number(text) is None and len(text) <= 200:
            content["note"] = NOTE_RE.match(page.take_last()[0])["note"].strip()
        if page and _is_signature(page.last()):
            content["signature_orgs"] = page.take_last()[0].split()
        return
    after = page.take_last(date_at)
    if after and NOTE_RE.match(after[0]) and heading_number(after[0]) is None:
        content["note"] = NOTE_RE.match(after.pop(0))["note"].strip()
    if after:
        result.notes.append(f"成文日期之后的 {len(after)} 段（附件正文等）未导入：交换格式只记录附件名称")
    text = page.take_last()[0]
    signed = _organ_and_date(text)
    if signed:
        content["signature_orgs"], content["date"] = signed
        return
    content["date"] = parse_date(text)
    organs = []
    while page and len(organs) < 4 and _is_signature(page.last()):
        organs[:0] = page.take_last()[0].split()
    content["signature_orgs"] = organs


ORGAN_SUFFIX_RE = re.compile(r"(局|委|办|厅|部|院|府|会|室|处|心|组|司|社|所|站|队|校|馆|行|署|党|团|联|协|学|厂)$")


def _is_signature(text):
    """A 署名: the name of an organ (or several, side by side), on a line of its own."""
    return bool(text) and is_organ_line(text) and not text.startswith("特此") and all(
        ORGAN_SUFFIX_RE.search(name) for name in text.split())


def _organ_and_date(text):
    """"泉州市科学技术局 2024年9月5日" on one line: ([organs], date), or None."""
    match = DATE_RE.search(text)
    if not match or match.end() != len(text.rstrip()) or match.start() == 0:
        return None
    organs = text[:match.start()].strip()
    if not _is_signature(organs):
        return None
    date = parse_date(match.group(0))
    return (organs.split(), date) if date else None


def _read_attachments(page, content):
    """附件说明: "附件：1.名称" and the names after it, each maybe wrapped over lines."""
    for offset in range(min(60, page.end - page.start)):
        match = ATTACHMENTS_RE.match(page.last(offset))
        if not match:
            continue
        following = [page.last(i) for i in range(offset)]
        if any("。" in line or len(line) > 100 for line in following):
            return  # "附件：" in a sentence of the 正文, not the 附件说明
        lines = page.take_last(offset + 1)
        names = []
        for index, line in enumerate(lines):
            text = match["rest"].strip() if index == 0 else line
            if not text:
                continue
            item = ATTACHMENT_ITEM_RE.match(text)
            if item and (index == 0 or names):
                names.append(item["name"].strip())
            elif names:
                names[-1] = join(names[-1], text)
            else:
                names.append(text)
        content["attachments"] = names
        return


def _body(items, printed):
    """The 正文's blocks: each kind from its numbering, the title of a forwarded document, and,
    in a printed text, paragraphs that a page break split joined again."""
    forwarded = set()
    for para in items[:3]:
        if FORWARD_RE.search(para.text):
            forwarded.update(re.sub(r"\s", "", name) for name in BOOK_TITLE_RE.findall(para.text))
    blocks = []
    for para in items:
        text = para.text
        key = re.sub(r"\s", "", text).strip("《》")
        kind = "title" if key in forwarded and heading_number(text) is None else detect_kind(text)
        soft = para.soft and heading_number(text) is None
        if blocks and (soft or (printed and _runs_on(blocks[-1], text, kind))):
            blocks[-1]["text"] = join(blocks[-1]["text"], text)
            continue
        blocks.append({"kind": kind, "text": text})
    return blocks


def _runs_on(block, text, kind):
    """Whether `text` continues `block` across a page break: the block stops mid-sentence."""
    before = block["text"]
    if block["kind"] == "title" or kind == "title" or ends_sentence(before) or heading_number(text):
        return False
    if heading_number(before) and "。" not in before:
        return False  # a heading of its own
    return any(mark in before for mark in SENTENCE_MARKS)


def _settle(content, header):
    """What follows from what was read: the 文种 and 行文方向, the 公文格式, the issuing organs."""
    content["doc_type"] = title_doc_type(content["title"]) or "通知"
    content["direction"] = "上行文" if content["signers"] else DEFAULT_DIRECTION.get(content["doc_type"], "下行文")
    joined = re.sub(r"\s", "", "".join(header))
    if joined:
        content["header_title"] = joined
        suffix = next((s for s in ("文件", "纪要") if joined.endswith(s)), None)
        content["format"] = suffix or "信函"
        content["issuer_marks"] = _header_organs(header, suffix)
    else:
        content["format"] = "文件"
        content["issuer_marks"] = list(content["signature_orgs"])
    if content["format"] == "纪要":
        content["seal"] = False


def _header_organs(header, suffix):
    """The issuing organs of a 发文机关标志: one per line, or side by side on one line; a
    letter-spaced line ("泉 州 市 科 学 技 术 局") is one name."""
    names = []
    for line in header:
        tokens = line.split()
        names.extend(["".join(tokens)] if all(len(token) <= 2 for token in tokens) else tokens)
    if suffix and names:
        names[-1] = names[-1][:-len(suffix)] if names[-1].endswith(suffix) else names[-1]
    return [name for name in names if name]


def _found(content):
    """What was recognised, element by element, in the user's words."""
    labels = exchange.FIELD_LABELS
    found = []
    for key in ("copy_number", "secrecy", "secrecy_period", "urgency", "header_title", "doc_number", "signers",
                "title", "main_recipients"):
        value = content.get(key)
        if value:
            found.append((labels[key], "、".join(value) if isinstance(value, list) else value))
    body = content["body"]
    headings = sum(1 for block in body if block["kind"].startswith("heading"))
    titles = sum(1 for block in body if block["kind"] == "title")
    found.append((labels["body"], f"{len(body)} 段" + (f"，其中标题 {headings} 个" if headings else "")
                  + (f"，印发（转发）件标题 {titles} 个" if titles else "")))
    for key in ("attachments", "signature_orgs", "date", "note", "cc", "printed_by", "printed_date"):
        value = content.get(key)
        if value:
            if key == "date" or key == "printed_date":
                value = exchange.format_date_cn(value)
            found.append((labels[key], "；".join(value) if isinstance(value, list) else value))
    return found

