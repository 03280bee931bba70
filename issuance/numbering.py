"""发文字号: one sequence per 机关代字 per year, given under a row lock, never twice.

Every serial of a year is accounted for: it is either an `IssuedNumber` that a document
carries or a `NumberVoid` (空号) with the reason, person and time, so the register of a
year has no unexplained gap. The unique constraints on both tables are the backstop.

A document brought over from an earlier system may carry the number it was issued under;
登记 records that number and the serials it jumps over as 空号 (used in the earlier
system). Such a number is checked when the document is imported, and again at 登记: it is
the organ's own, not of a later year, not taken, at most MAX_SERIAL, and at most
MAX_CARRIED_JUMP past the sequence's next number, so that no typing error fills the
register with thousands of 空号.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from .exceptions import IssuanceError
from .exchange import DOC_NUMBER_RE
from .models import IssuedNumber, NumberSequence, NumberVoid, Role
from .roles import require

MAX_VOID_REASON = 200
MAX_SERIAL = 99999
MAX_CARRIED_JUMP = 1000


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


def _is_void(number):
    return NumberVoid.objects.filter(number=number).exists()


def current_number(document):
    """The number the document carries now: its last one that has not been voided."""
    for issued in IssuedNumber.objects.filter(document=document).order_by("-given_at", "-pk"):
        if not _is_void(issued.number):
            return issued
    return None


def allocate(document, user):
    """Give `document` its number, or return the one it already has.

    The year is the 登记 day's year in Asia/Shanghai. Must run inside the caller's
    transaction, so the number and the document's state commit together.
    """
    existing = current_number(document)
    if existing is not None:
        return existing
    organ_code = document.organ.code
    carried = _parse_carried(organ_code, document.current_revision.content.get("doc_number"))
    year = carried[0] if carried else timezone.localdate().year
    sequence = _locked_sequence(organ_code, year)
    if carried:
        serial = carried[1]
        _check_carried(organ_code, year, serial, sequence.last_serial)
        # The serials a carried number jumps over were used in the earlier system.
        for skipped in range(sequence.last_serial + 1, serial):
            _record_void(organ_code, year, skipped, None, "由原系统导入的发文字号之前的号码，已在原系统中使用")
        sequence.last_serial = serial
    else:
        serial = _next_serial(sequence)
    sequence.save(update_fields=["last_serial"])
    return IssuedNumber.objects.create(
        organ_code=organ_code,
        year=year,
        serial=serial,
        number=format_number(organ_code, year, serial),
        document=document,
        given_by=user,
    )


def _next_serial(sequence):
    if sequence.last_serial >= MAX_SERIAL:
        raise IssuanceError(f"{sequence.organ_code}〔{sequence.year}〕的发文字号已用到 {MAX_SERIAL} 号，不能再编号")
    sequence.last_serial += 1
    return sequence.last_serial


def _parse_carried(organ_code, doc_number):
    """(year, serial) of the number a document carries (泉科〔2024〕123号), or None; refused
    when it is another organ's, of a later year or beyond MAX_SERIAL."""
    match = DOC_NUMBER_RE.match(doc_number or "")
    if match is None:
        return None
    if match["code"] != organ_code:
        raise IssuanceError(f"稿纸中的发文字号机关代字“{match['code']}”与本机关“{organ_code}”不符")
    year, serial = int(match["year"]), int(match["serial"])
    if year > timezone.localdate().year:
        raise IssuanceError(f"稿纸中的发文字号{doc_number}的年份晚于今年")
    if serial > MAX_SERIAL:
        raise IssuanceError(f"稿纸中的发文字号序号过大（{len(match['serial'])} 位数，最大 {MAX_SERIAL}）")
    return year, serial


def _check_carried(organ_code, year, serial, last_serial):
    """A carried number must be free and not far past the sequence's next number."""
    number = format_number(organ_code, year, serial)
    if serial <= last_serial or IssuedNumber.objects.filter(number=number).exists() or _is_void(number):
        raise IssuanceError(f"发文字号{number}已被使用")
    skipped = serial - last_serial - 1
    if skipped > MAX_CARRIED_JUMP:
        raise IssuanceError(
            f"发文字号{number}比{organ_code}〔{year}〕的下一个号（{last_serial + 1}号）多出 {skipped} 个号，"
            f"超过 {MAX_CARRIED_JUMP} 个，请核对文号"
        )


def check_carried(organ, doc_number):
    """At import: refuse a number that 登记 would refuse (see the module's docstring)."""
    carried = _parse_carried(organ.code, doc_number)
    if carried is not None:
        year, serial = carried
        sequence = NumberSequence.objects.filter(organ_code=organ.code, year=year).first()
        _check_carried(organ.code, year, serial, sequence.last_serial if sequence else 0)


def _clean_reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise IssuanceError("作废文号必须填写原因")
    if len(reason) > MAX_VOID_REASON:
        raise IssuanceError(f"作废原因过长（最多 {MAX_VOID_REASON} 字）")
    return reason


def _record_void(organ_code, year, serial, user, reason):
    return NumberVoid.objects.create(
        organ_code=organ_code, year=year, serial=serial, number=format_number(organ_code, year, serial),
        reason=reason, voided_by=user,
    )


@transaction.atomic
def void_next(organ, user, reason):
    """作废 the next number of this year: it is taken from the sequence and recorded as a 空号
    (for a number used outside the system, or reserved by mistake)."""
    require(user, (Role.CLERK,), organ, "只有本机关的办公室文书可以作废文号")
    reason = _clean_reason(reason)
    year = timezone.localdate().year
    sequence = _locked_sequence(organ.code, year)
    serial = _next_serial(sequence)
    sequence.save(update_fields=["last_serial"])
    return _record_void(organ.code, year, serial, user, reason)


def void_issued(issued, user, reason):
    """作废 a number a document carries but has not been printed under; the caller (the
    service) sends the document back to 登记, where it gets a new number."""
    reason = _clean_reason(reason)
    if _is_void(issued.number):
        raise IssuanceError(f"{issued.number}已作废")
    return _record_void(issued.organ_code, issued.year, issued.serial, user, reason)


@dataclass(frozen=True)
class RegisterRow:
    serial: int
    number: str
    issued: IssuedNumber = None
    void: NumberVoid = None

    @property
    def state(self):
        if self.void is not None:
            return "空号"
        return "已登记" if self.issued is not None else "缺号"


def register(organ_code, year, serials=None):
    """The numbers of one year in order, issued or void: all of them, or those of `serials`
    (a range: one page of the register). A "缺号" row would be a gap nothing explains; the
    invariants of this module keep there from being one."""
    if serials is None:
        sequence = NumberSequence.objects.filter(organ_code=organ_code, year=year).first()
        serials = range(1, sequence.last_serial + 1) if sequence else range(0)
    if not serials:
        return []
    within = {"organ_code": organ_code, "year": year, "serial__gte": serials[0], "serial__lte": serials[-1]}
    issued = {n.serial: n for n in IssuedNumber.objects.filter(**within).select_related("document", "given_by")}
    voids = {v.serial: v for v in NumberVoid.objects.filter(**within).select_related("voided_by")}
    return [
        RegisterRow(serial, format_number(organ_code, year, serial), issued.get(serial), voids.get(serial))
        for serial in serials
    ]


def register_summary(organ_code, year):
    """How many numbers one year has, how many are issued and how many void: three counts
    over the unique (机关代字, 年份, 序号) indexes, whatever the year's size."""
    sequence = NumberSequence.objects.filter(organ_code=organ_code, year=year).first()
    voids = NumberVoid.objects.filter(organ_code=organ_code, year=year)
    issued = IssuedNumber.objects.filter(organ_code=organ_code, year=year).exclude(serial__in=voids.values("serial"))
    return {"total": sequence.last_serial if sequence else 0, "issued": issued.count(), "void": voids.count()}


@dataclass(frozen=True)
class VoidRange:
    """Consecutive 空号 voided together for one reason, shown as one line of the register."""

    first: RegisterRow
    last: RegisterRow

    @property
    def count(self):
        return self.last.serial - self.first.serial + 1


def grouped(rows, at_least=3):
    """The register with runs of `at_least` or more 空号 of one reason folded into a VoidRange."""
    result, run = [], []

    def flush():
        if len(run) >= at_least:
            result.append(VoidRange(run[0], run[-1]))
        else:
            result.extend(run)
        run.clear()

    for row in rows:
        if row.void is not None and row.issued is None and (
            not run or (run[-1].void.reason == row.void.reason and run[-1].void.voided_by_id == row.void.voided_by_id)
        ):
            run.append(row)
            continue
        flush()
        if row.void is not None and row.issued is None:
            run.append(row)
        else:
            result.append(row)
    flush()
    return result


def register_years(organ_code):
    return list(
        NumberSequence.objects.filter(organ_code=organ_code).order_by("-year").values_list("year", flat=True)
    )
