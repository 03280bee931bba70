"""The issued PDF's digital signature as the document page shows it (issuance.signing)."""

from django import template

from .. import storage
from ..exceptions import IssuanceError

register = template.Library()


@register.simple_tag
def issued_signature(document):
    """The Verdict on `document`'s issued PDF as it is stored now, or None before 印制. A
    file that cannot be read or checked is a verdict too, never an error page."""
    if not document.issued_pdf:
        return None
    from .. import signing  # pyhanko, half a second to import: only where a signature is shown

    try:
        return signing.verify(storage.read(document.issued_pdf.name, what="正式文件"))
    except FileNotFoundError:
        return signing.Verdict("unreadable", "正式文件缺失，无法核验数字签名")
    except IssuanceError as error:
        return signing.Verdict("unreadable", error.message)
