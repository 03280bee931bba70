"""The PDF's metadata: title, 发文字号, issuing organ and date, in Info and in XMP.

The issued copy is PDF/A-2b (`write_pdf(pdf_variant="pdf/a-2b")`): WeasyPrint writes the
PDF/A identification (pdfaid:part 2, pdfaid:conformance B), the sRGB output intent, the
document ID, and embeds every font as a subset. This module adds what identifies the
document, using only properties of the XMP schemas that PDF/A predefines (Dublin Core,
Adobe PDF, XMP basic), so no extension schema is needed:

| what | XMP | Info |
|---|---|---|
| 标题 | dc:title | /Title |
| 发文机关 (署名, else the 标志's organs) | dc:creator, dc:publisher | /Author |
| 发文字号 | dc:identifier; also in pdf:Keywords | /Keywords |
| 成文日期 | dc:date | |
| 文种 | dc:type | |
| language | dc:language (zh-CN) | /Lang in the catalog |

Info and XMP say the same where both have the field, as PDF/A requires.
"""

from xml.etree.ElementTree import SubElement, fromstring, tostring

from weasyprint.pdf.metadata import NS, DocumentMetadata

from ..exchange import format_date_cn

RDF = NS["rdf"]
DC = NS["dc"]


class GongwenMetadata(DocumentMetadata):
    """WeasyPrint's document metadata plus the 公文's own Dublin Core properties."""

    def __init__(self, *, identifier=None, publishers=(), date=None, doc_type=None, **kwargs):
        super().__init__(**kwargs)
        self.identifier = identifier
        self.publishers = list(publishers)
        self.date = date
        self.doc_type = doc_type

    def generate_rdf_metadata(self, variant, version, conformance):
        rdf = fromstring(super().generate_rdf_metadata(variant, version, conformance))
        description = SubElement(rdf, f"{{{RDF}}}Description")
        description.attrib[f"{{{RDF}}}about"] = ""
        if self.identifier:
            SubElement(description, f"{{{DC}}}identifier").text = self.identifier
        if self.publishers:
            _container(description, "publisher", "Bag", self.publishers)
        if self.date:
            _container(description, "date", "Seq", [self.date])
        if self.doc_type:
            _container(description, "type", "Bag", [self.doc_type])
        if self.lang:
            _container(description, "language", "Bag", [self.lang])
        return tostring(rdf, encoding="utf-8")


def _container(parent, name, kind, values):
    element = SubElement(SubElement(parent, f"{{{DC}}}{name}"), f"{{{RDF}}}{kind}")
    for value in values:
        SubElement(element, f"{{{RDF}}}li").text = value


def organs(doc):
    return doc["signature_orgs"] or doc["issuer_marks"]


def keywords(doc):
    """One keyword string naming the 发文字号, the organ and the date, in the document's words."""
    parts = []
    if doc["doc_number"]:
        parts.append(f"发文字号：{doc['doc_number']}")
    if organs(doc):
        parts.append(f"发文机关：{'、'.join(organs(doc))}")
    if doc["date"]:
        parts.append(f"成文日期：{format_date_cn(doc['date'])}")
    return "；".join(parts)


def metadata_for(doc, base=None):
    """The metadata of the PDF of `doc`; `base` is WeasyPrint's (from the HTML head)."""
    names = organs(doc)
    words = keywords(doc)
    return GongwenMetadata(
        title=doc["title"],
        # One author: Info's /Author and XMP's dc:creator must say the same.
        authors=["、".join(names)] if names else [],
        description=" ".join(filter(None, (doc["doc_number"], doc["doc_type"]))) or None,
        keywords=[words] if words else [],
        generator="gongwen",
        lang=(base.lang if base is not None else None) or "zh-CN",
        identifier=doc["doc_number"],
        publishers=names,
        date=doc["date"],
        doc_type=doc["doc_type"],
    )

