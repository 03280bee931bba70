"""发文字号: one sequence per 机关代字 per year, given under a row lock, never twice."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .exceptions import IssuanceError
from .exchange import DOC_NUMBER_RE
from .models import IssuedNumber, NumberSequence


def format_number(organ_code, year, serial):
    """泉科, 2024, 123 -> 泉科〔2024〕123号 (六角括号, no leading zeros, no 第)."""
    return f"{organ_code}〔{year}〕{serial}号"


def _locked_sequence(organ_code, year):
    try:
        with transaction.atomic():
            NumberSequence.objects.get_or_create(organ_code=organ_code, year=year)
    except IntegrityError:
        pass  # created by a concurrent transaction a moment ago: lock that one
    return NumberSequence.objects.select_for_update().get(organ_code=organ_code, year=year)


def allocate(document, user):
    """Give `document` its number, or return the one it already has.

    The year is the 登记 day's year in Asia/Shanghai. Must run inside the caller's
    transaction, so the number and the document's state commit together.
    """
    existing = IssuedNumber.objects.filter(document=document).first()
    if existing is not None:
        return existing
    organ_code = document.organ.code
    carried = _carried_number(document)
    year = carried[0] if carried else timezone.localdate().year
    sequence = _locked_sequence(organ_code, year)
    if carried:
        serial = carried[1]
        if IssuedNumber.objects.filter(organ_code=organ_code, year=year, serial=serial).exists():
            raise IssuanceError(f"发文字号{format_number(organ_code, year, serial)}已被使用")
        sequence.last_serial = max(sequence.last_serial, serial)
    else:
        sequence.last_serial += 1
        serial = sequence.last_serial
    sequence.save(update_fields=["last_serial"])
    return IssuedNumber.objects.create(
        organ_code=organ_code,
        year=year,
        serial=serial,
        number=format_number(organ_code, year, serial),
        document=document,
        given_by=user,
    )


def _carried_number(document):
    """A document brought over from an earlier system may carry the number it was issued
    under (泉科〔2024〕123号); 登记 then records that number instead of giving a new one."""
    match = DOC_NUMBER_RE.match(document.current_revision.content.get("doc_number") or "")
    if match is None:
        return None
    if match["code"] != document.organ.code:
        raise IssuanceError(f"稿纸中的发文字号机关代字“{match['code']}”与本机关“{document.organ.code}”不符")
    return int(match["year"]), int(match["serial"])
