"""Word files and plain texts made from exchange documents, laid out as a drafter types a
公文 in Word or as a printed copy reads when its text is extracted: one element a line."""

import io

import docx

from issuance import exchange


def lines_of(content, two_line_title=False):
    """The lines of a document's page, from 份号 to the 印发 line."""
    doc = exchange.parse_document(content)
    lines = []
    if doc["copy_number"]:
        lines.append(doc["copy_number"])
    if doc["secrecy"]:
        lines.append(doc["secrecy"] + (f"★{doc['secrecy_period']}" if doc["secrecy_period"] else ""))
    if doc["urgency"]:
        lines.append(doc["urgency"])
    marks = doc["issuer_marks"]
    if len(marks) > 1 and doc["header_title"] == exchange.default_header_title(marks, doc["format"]):
        lines.extend(marks)  # stacked, with 文件 beside them
        if doc["format"] != "信函":
            lines.append("纪要" if doc["format"] == "纪要" else "文件")
    elif doc["header_title"]:
        lines.append(doc["header_title"])
    signers = "签发人：" + "　".join(doc["signers"]) if doc["signers"] else ""
    if doc["doc_number"]:
        lines.append(doc["doc_number"] + ("\t" + signers if signers else ""))
    elif signers:
        lines.append(signers)
    title = doc["title"]
    if two_line_title:
        cut = title.index("关于") + 2 if "关于" in title else len(title) // 2
        lines.extend([title[:cut], title[cut:]])
    else:
        lines.append(title)
    if doc["main_recipients"]:
        lines.append(doc["main_recipients"] + "：")
    lines.extend(block["text"] for block in doc["body"])
    attachments = doc["attachments"]
    if len(attachments) == 1:
        lines.append(f"附件：{attachments[0]}")
    for number, name in enumerate(attachments if len(attachments) > 1 else [], start=1):
        lines.append(("附件：" if number == 1 else "　　　") + f"{number}.{name}")
    lines.extend(doc["signature_orgs"])
    if doc["date"]:
        lines.append(exchange.format_date_cn(doc["date"]))
    if doc["note"]:
        lines.append(f"（{doc['note']}）")
    if doc["cc"]:
        lines.append(f"抄送：{doc['cc']}。")
    if doc["printed_by"]:
        date = exchange.format_date_cn(doc["printed_date"]) if doc["printed_date"] else "年　月　日"
        lines.append(f"{doc['printed_by']}\t{date}印发")
    return lines


def docx_of(content, two_line_title=False, soft_title=False):
    """A Word file of the document, written by python-docx: one paragraph a line; with
    `soft_title` the title breaks over two lines inside one paragraph (Shift+Enter)."""
    document = docx.Document()
    lines = lines_of(content, two_line_title=two_line_title or soft_title)
    index = 0
    while index < len(lines):
        line = lines[index]
        if soft_title and line.endswith("关于"):
            paragraph = document.add_paragraph(line)
            paragraph.runs[0].add_break()
            paragraph.add_run(lines[index + 1])
            index += 2
            continue
        document.add_paragraph(line)
        index += 1
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def text_of(content, encoding="utf-8"):
    """A plain text of the document, a blank line between lines, as the seed's text is."""
    return "\n\n".join(lines_of(content)).encode(encoding)


def visible(content):
    """What a page shows of a document: everything but whether it is sealed and, where its
    文种 does not say it, its 行文方向."""
    doc = exchange.parse_document(content)
    doc.pop("seal")
    return doc
