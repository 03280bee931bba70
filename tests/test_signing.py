"""The organ's digital signature on its issued PDFs (issuance.signing, docs/signing.md).

A signed issued PDF verifies, and keeps being PDF/A-2b and looking the same; a copy with one
changed byte anywhere does not verify, for the service, `verify_pdf` and poppler's pdfsig;
an organ without a key issues unsigned PDFs and its document page says so; a key that cannot
sign fails 印制 with a message; `verify_archive` names a broken or missing signature; the
demo's archived seed keeps verifying.
"""

import datetime
import io
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from xml.etree import ElementTree

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from issuance import demo, exchange, signing, storage, verification
from issuance.models import ArchiveFile, Document, Event, PrintJob, Stage
from issuance.render import layout
from workflows import actions, demo_path

from .builders import short_content
from .test_archive import verify as verify_archive

KEJI = SimpleNamespace(fonds_code="X001", name="泉州市科学技术局")
GONGXIN = SimpleNamespace(fonds_code="X002", name="泉州市工业和信息化局")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def unsigned(seed_content):
    """A short 通知 as the renderer makes it: PDF/A-2b, not yet signed."""
    return layout.render_pdf(exchange.parse_document(short_content(seed_content, doc_number="泉科〔2026〕7号")))


@pytest.fixture
def signed(unsigned):
    return signing.sign(unsigned, KEJI)


def changed(pdf, position, byte=None):
    data = bytearray(pdf)
    data[position] = byte if byte is not None else data[position] ^ 0x01
    return bytes(data)


def contents_span(pdf):
    """(start, end) of the signature value's hex digits, between its < and >."""
    match = re.search(rb"/Contents <([0-9A-Fa-f]+)>", pdf)
    return match.span(1)


# Signing and verifying ----------------------------------------------------------------------

def test_a_signed_pdf_verifies_with_its_organ_time_and_authority(unsigned, signed):
    before = timezone.now()
    verdict = signing.verify(signed)
    assert verdict.valid and verdict.intact and verdict.present
    assert verdict.signer == "泉州市科学技术局"
    assert verdict.authority == demo.DEMO_CA_NAME
    assert abs((verdict.signed_at - before).total_seconds()) < 60
    assert len(verdict.certificate) == 64
    # An incremental update: the renderer's bytes come first, unchanged.
    assert signed.startswith(unsigned) and len(signed) > len(unsigned)
    assert signing.verify(unsigned).status == "unsigned"


def test_the_signature_is_pades_baseline_in_one_invisible_field(signed):
    from pyhanko.pdf_utils.reader import PdfFileReader

    [embedded] = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    assert embedded.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    attributes = {attr["type"].native for attr in embedded.signer_info["signed_attrs"]}
    # PAdES B-B: the signing certificate bound by ESS signing-certificate-v2, no CMS signing-time.
    assert {"content_type", "message_digest", "signing_certificate_v2"} <= attributes
    assert "signing_time" not in attributes
    assert embedded.md_algorithm == "sha256"
    assert embedded.signer_cert.public_key.algorithm == "rsa"


def test_the_signed_pdf_stays_pdfa_2b(unsigned, signed):
    reader, original = PdfReader(io.BytesIO(signed)), PdfReader(io.BytesIO(unsigned))
    assert signed.startswith(b"%PDF-1.7")
    root = reader.trailer["/Root"]
    assert root.get("/Version") in (None, "/1.7")  # pyHanko would say 2.0 for an ECDSA key
    assert "/ISO_" not in root.get("/Extensions", {})
    assert "/Encrypt" not in reader.trailer and "/JavaScript" not in root.get("/Names", {})
    assert reader.trailer["/ID"][0] == original.trailer["/ID"][0]
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1" and "/DestOutputProfile" in intent
    xmp = xmp_values(root["/Metadata"].get_object().get_data())
    assert (xmp["pdfaid:part"], xmp["pdfaid:conformance"]) == ("2", "B")
    assert xmp["dc:identifier"] == "泉科〔2026〕7号"
    # Info and XMP say the same wherever Info says something (ISO 19005-2, 6.6.2.3.1).
    info = reader.metadata
    pairs = {"/Title": "dc:title", "/Author": "dc:creator", "/Subject": "dc:description", "/Keywords": "pdf:Keywords",
             "/Creator": "xmp:CreatorTool", "/Producer": "pdf:Producer"}
    for key, value in info.items():
        assert key in pairs or key in ("/CreationDate", "/ModDate"), key
        if key in pairs:
            assert xmp[pairs[key]] == value, key
    assert "/ModDate" not in info and "/CreationDate" not in info
    # The signature's widget: printable, not hidden, of no size (so it needs no appearance).
    [field] = [f.get_object() for f in root["/AcroForm"]["/Fields"]]
    assert field["/FT"] == "/Sig" and "/NeedAppearances" not in root["/AcroForm"]
    flags = field["/F"]
    assert flags & 4 and not flags & (1 | 2 | 32)
    x0, y0, x1, y1 = (float(v) for v in field["/Rect"])
    assert (x1 - x0) * (y1 - y0) == 0 or "/AP" in field
    # Every font of every page still embedded and subset.
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            assert re.match(r"^/[A-Z]{6}\+", str(font.get_object()["/BaseFont"]))


def xmp_values(data):
    """{prefix:name: text} of an XMP packet: simple properties (attributes or elements) and
    the first item of each array."""
    prefixes = {"http://www.aiim.org/pdfa/ns/id/": "pdfaid", "http://purl.org/dc/elements/1.1/": "dc",
                "http://ns.adobe.com/pdf/1.3/": "pdf", "http://ns.adobe.com/xap/1.0/": "xmp"}
    rdf = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"

    def short(name):
        namespace, _, local = name[1:].partition("}")
        return f"{prefixes.get(namespace, namespace)}:{local}"

    values = {}
    for description in ElementTree.fromstring(data).iter(f"{rdf}Description"):
        for name, value in description.attrib.items():
            if not name.startswith(rdf):
                values[short(name)] = value
        for element in description:
            items = [li.text for li in element.iter(f"{rdf}li")]
            values[short(element.tag)] = items[0] if items else element.text
    return values


def test_the_signed_pdf_looks_exactly_like_the_unsigned_one(unsigned, signed):
    import pypdfium2

    def pictures(pdf):
        document = pypdfium2.PdfDocument(pdf)
        try:
            return [page.render(scale=0.5).to_pil().tobytes() for page in document]
        finally:
            document.close()

    assert pictures(signed) == pictures(unsigned)


# One changed byte -----------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["header", "page content", "xmp", "signature dictionary", "signature value",
                                   "padding", "letter case", "last xref", "end"])
def test_one_changed_byte_anywhere_breaks_the_signature(unsigned, signed, where):
    start, end = contents_span(signed)
    value_end = start + len(signed[start:end].rstrip(b"0"))
    letter = next(i for i in range(start, value_end) if signed[i:i + 1] in b"ABCDEF")
    position, byte = {
        "header": (5, None),
        "page content": (len(unsigned) // 2, None),
        "xmp": (signed.index(b"/Metadata", len(unsigned)) + 3, None),
        "signature dictionary": (signed.index(b"/ByteRange", len(unsigned)) + 3, None),
        "signature value": (start + 200, ord("0") if signed[start + 200] != ord("0") else ord("1")),
        "padding": (value_end + 40, ord("1")),
        "letter case": (letter, signed[letter] + 0x20),
        "last xref": (signed.rindex(b"startxref") - 20, None),
        "end": (len(signed) - 2, None),
    }[where]
    copy = changed(signed, position, byte)
    assert copy != signed
    verdict = signing.verify(copy)
    assert not verdict.intact and not verdict.valid, (where, verdict)
    assert verdict.problem


def test_no_byte_changed_at_random_goes_unnoticed(signed):
    """Anywhere in the file, and more densely in the signature value, which no signature
    covers (docs/signing.md measured every byte of it)."""
    start, end = contents_span(signed)
    value_end = start + len(signed[start:end].rstrip(b"0"))
    chance = random.Random(9)
    positions = chance.sample(range(len(signed)), 30) + chance.sample(range(start - 1, value_end + 1), 90)
    for position in positions:
        for byte in {signed[position] ^ 0x01, ord("0")} - {signed[position]}:
            assert not signing.verify(changed(signed, position, byte)).intact, position


def test_an_algorithm_identifier_outside_the_signed_attributes_cannot_be_swapped(signed):
    """sha256WithRSAEncryption and rsaEncryption differ in one byte, and a reader accepts
    either for the same signature."""
    start, end = contents_span(signed)
    value = signed[start:end]
    sha256_rsa = bytes.fromhex("2A864886F70D01010B").hex().upper().encode()
    found = value.rindex(sha256_rsa)  # the signer info's, after the certificates' own
    assert found % 2 == 0
    at = start + found + len(sha256_rsa) - 1
    copy = changed(signed, at, ord("1"))  # …01 01 0B -> …01 01 01: rsaEncryption
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    [embedded] = PdfFileReader(io.BytesIO(copy)).embedded_signatures
    assert embedded.signer_info["signature_algorithm"]["algorithm"].native == "rsassa_pkcs1v15"
    status = validate_pdf_signature(embedded, ValidationContext(trust_roots=signing.trust_roots()))
    assert status.bottom_line  # pyHanko alone calls it valid
    verdict = signing.verify(copy)
    assert verdict.status == "broken" and verdict.problem == "签名数据中未受签名保护的部分被改动"


def test_the_file_carries_the_signer_certificate_and_not_the_root(signed):
    from pyhanko.pdf_utils.reader import PdfFileReader

    [embedded] = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    subjects = [choice.chosen.subject.native["common_name"] for choice in embedded.signed_data["certificates"]]
    assert subjects == ["泉州市科学技术局"]


def test_poppler_agrees_on_the_intact_and_the_changed_copy(signed, unsigned, tmp_path):
    if not shutil.which("pdfsig"):
        pytest.skip("poppler-utils' pdfsig is not installed")
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(signed)
    bad.write_bytes(changed(signed, len(unsigned) // 2))
    said = subprocess.run(["pdfsig", str(good)], capture_output=True, text=True).stdout
    assert "Signature is Valid." in said and "Total document signed" in said and "泉州市科学技术局" in said
    said = subprocess.run(["pdfsig", str(bad)], capture_output=True, text=True).stdout
    assert "Signature is Valid." not in said


# verify_pdf -----------------------------------------------------------------------------------

def verify_pdf(path, *args):
    out = io.StringIO()
    try:
        call_command("verify_pdf", str(path), *args, stdout=out)
    except CommandError as error:
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


def test_verify_pdf_says_the_file_is_intact_and_who_signed_it_when(signed, tmp_path):
    path = tmp_path / "泉科〔2026〕7号.pdf"
    path.write_bytes(signed)
    ok, said = verify_pdf(path)
    assert ok, said
    assert "数字签名有效：文件自签名以来未被改动" in said and demo.DEMO_CA_NAME in said
    assert "签名机关：泉州市科学技术局" in said
    assert f"签名时间：{timezone.localtime():%Y年%m月%d日}" in said


def test_verify_pdf_refuses_a_changed_copy_an_unsigned_file_and_an_unknown_authority(signed, unsigned, tmp_path,
                                                                                    settings):
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(changed(signed, len(unsigned) // 2))
    ok, said = verify_pdf(broken)
    assert not ok and "数字签名无效：文件在签名后被改动" in said and "签名机关：泉州市科学技术局" in said
    plain = tmp_path / "plain.pdf"
    plain.write_bytes(unsigned)
    ok, said = verify_pdf(plain)
    assert not ok and "文件没有数字签名" in said
    ok, said = verify_pdf(tmp_path / "absent.pdf")
    assert not ok and "无法读取文件" in said
    # A certificate of another authority (anyone can make one naming 泉州市科学技术局).
    other = tmp_path / "other"
    demo.create_signing_keys(other, [("X001", "泉州市科学技术局")])
    intact = tmp_path / "intact.pdf"
    intact.write_bytes(signed)
    ok, said = verify_pdf(intact, "--ca", str(other / "ca.pem"))
    assert not ok and "文件内容与签名相符，但无法确认签名者" in said and "不能链接到受信任的证书颁发机构" in said


def test_verify_pdf_exits_0_when_intact_and_1_otherwise(signed, unsigned, tmp_path, signing_keys):
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(signed)
    bad.write_bytes(changed(signed, len(unsigned) // 3))
    environment = {**os.environ, "GONGWEN_SIGNING_DIR": str(signing_keys), "DATABASE_URL": "sqlite:///:memory:"}
    for path, code in ((good, 0), (bad, 1)):
        done = subprocess.run([sys.executable, "manage.py", "verify_pdf", str(path)], cwd=ROOT, env=environment,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == code, done.stdout + done.stderr
        assert "签名机关：泉州市科学技术局" in done.stdout


# Keys -----------------------------------------------------------------------------------------

def test_an_organ_without_a_key_gets_its_pdf_back_unsigned(unsigned, settings, tmp_path):
    settings.GONGWEN_SIGNING_DIR = tmp_path / "empty"
    assert signing.signer_for(KEJI) is None
    assert signing.sign(unsigned, KEJI) is unsigned


def passphrased(directory, fonds_code, passphrase):
    """The demo key of `fonds_code` again, under a passphrase."""
    key, certificate, others = pkcs12.load_key_and_certificates((directory / f"{fonds_code}.p12").read_bytes(), None)
    return pkcs12.serialize_key_and_certificates(b"x", key, certificate, others,
                                                 serialization.BestAvailableEncryption(passphrase))


def test_a_key_behind_a_passphrase_named_in_the_environment_signs(unsigned, settings, signing_keys, tmp_path):
    path = tmp_path / "keji.p12"
    path.write_bytes(passphrased(signing_keys, "X001", b"s3cret-passphrase"))
    settings.GONGWEN_SIGNING_P12 = {"X001": str(path)}
    settings.GONGWEN_SIGNING_PASSPHRASES = {"X001": "s3cret-passphrase"}
    assert signing.verify(signing.sign(unsigned, KEJI)).valid


@pytest.mark.parametrize("case", ["wrong passphrase", "missing file", "another organ's key", "no authority"])
def test_a_key_that_cannot_sign_is_refused_with_a_message(unsigned, settings, signing_keys, tmp_path, case):
    path = tmp_path / "key.p12"
    settings.GONGWEN_SIGNING_P12 = {"X001": str(path)}
    if case == "wrong passphrase":
        path.write_bytes(passphrased(signing_keys, "X001", b"right"))
        settings.GONGWEN_SIGNING_PASSPHRASE = "wrong"
        message = "无法读取泉州市科学技术局的签名证书 key.p12：口令不对或文件损坏"
    elif case == "missing file":
        message = "泉州市科学技术局的签名证书文件不存在"
    elif case == "another organ's key":
        shutil.copy(signing_keys / "X002.p12", path)
        message = "签名证书 key.p12 的主体是“泉州市工业和信息化局”，不是泉州市科学技术局"
    else:
        shutil.copy(signing_keys / "X001.p12", path)
        settings.GONGWEN_SIGNING_DIR = tmp_path
        message = "签名未通过核验：未配置受信任的证书颁发机构"
    with pytest.raises(signing.SigningError, match=message):
        signing.sign(unsigned, KEJI)


def test_an_ecdsa_key_is_refused_since_it_would_make_the_file_pdf_2(unsigned, settings, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "泉州市科学技术局")])
    now = timezone.now()
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    path = tmp_path / "X001.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"x", key, certificate, None, serialization.NoEncryption()))
    settings.GONGWEN_SIGNING_DIR = tmp_path
    with pytest.raises(signing.SigningError, match="不是 RSA 密钥；为保持 PDF/A-2b"):
        signing.sign(unsigned, KEJI)


def test_demo_keys_are_made_once_and_a_real_authority_is_left_alone(tmp_path):
    keys = tmp_path / "demo"
    assert demo.create_signing_keys(keys, demo.signing_organs()) == ["ca.pem", "demo-ca.key", "X001.p12", "X002.p12"]
    kept = {path.name: path.read_bytes() for path in keys.iterdir()}
    assert demo.create_signing_keys(keys, demo.signing_organs()) == []
    assert {path.name: path.read_bytes() for path in keys.iterdir()} == kept
    for name in ("demo-ca.key", "X001.p12", "X002.p12"):
        assert (keys / name).stat().st_mode & 0o777 == 0o600
    # A new organ gets its certificate from the same authority.
    assert demo.create_signing_keys(keys, [("X003", "泉州市教育局")]) == ["X003.p12"]
    real = tmp_path / "real"
    real.mkdir()
    (real / "ca.pem").write_bytes(kept["ca.pem"])
    assert demo.create_signing_keys(real, demo.signing_organs()) == []
    assert sorted(path.name for path in real.iterdir()) == ["ca.pem"]


# 印制 -----------------------------------------------------------------------------------------

def test_printing_signs_the_issued_pdf_and_the_print_entry_records_the_signed_file(cast, short_content):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.DISTRIBUTION)
    pdf = storage.read(document.issued_pdf.name)
    verdict = signing.verify(pdf)
    assert verdict.valid and verdict.signer == "泉州市科学技术局"
    entry = document.events.get(action="print")
    assert entry.detail["sha256"] == storage.sha256_bytes(pdf) == document.issued_pdf_sha256
    assert entry.detail["signature"] == verdict.record()
    assert entry.detail["signature"]["signer"] == "泉州市科学技术局"
    assert document.issued_pages == len(PdfReader(io.BytesIO(pdf)).pages)


def test_an_organ_without_a_key_prints_unsigned_and_its_page_says_so(cast, short_content, settings, tmp_path, client):
    settings.GONGWEN_SIGNING_DIR = tmp_path / "no-keys"
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.DISTRIBUTION)
    assert signing.verify(storage.read(document.issued_pdf.name)).status == "unsigned"
    assert document.events.get(action="print").detail["signature"] is None
    client.force_login(cast["drafter"])
    page = client.get(reverse("document", args=[document.pk])).content.decode()
    assert "数字签名：</b><span class=\"badge\">未签名</span>" in page
    assert "本正式文件没有数字签名：印制时本机关未配置签名证书" in page
    assert "签名机关" not in page
    assert "印制正式文件（第1稿），未加数字签名" in page
    ok, out, _ = verify_archive()
    assert ok, out


def test_a_key_that_cannot_sign_fails_the_print_job_with_its_message(cast, short_content, settings, signing_keys,
                                                                     tmp_path):
    keys = tmp_path / "wrong"
    keys.mkdir()
    shutil.copy(signing_keys / "ca.pem", keys / "ca.pem")
    shutil.copy(signing_keys / "X002.p12", keys / "X001.p12")
    settings.GONGWEN_SIGNING_DIR = keys
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.PRINTING)
    demo_path.act(actions.open_tasks(document).get())
    document.refresh_from_db()
    assert document.stage == Stage.PRINTING and not document.issued_pdf
    job = PrintJob.objects.get(document=document)
    assert job.status == PrintJob.Status.FAILED
    assert "签名证书 X001.p12 的主体是“泉州市工业和信息化局”，不是泉州市科学技术局" in job.error
    assert not list((Path(settings.MEDIA_ROOT) / "issued").rglob("*.pdf"))


def test_the_document_page_shows_the_signature_valid_then_invalid_never_a_500(cast, short_content, client, settings):
    document = demo_path.take_through_path(short_content, cast["drafter"], until=Stage.DISTRIBUTION)
    client.force_login(cast["drafter"])
    url = reverse("document", args=[document.pk])
    page = client.get(url).content.decode()
    assert "数字签名：</b><span class=\"badge\">有效</span>" in page
    assert "签名机关：</b>泉州市科学技术局" in page
    assert "印制正式文件（第1稿），泉州市科学技术局已数字签名" in page
    assert f"签名时间：</b>{timezone.localtime():%Y年%-m月%-d日}" in page
    path = Path(settings.MEDIA_ROOT) / document.issued_pdf.name
    pdf = path.read_bytes()
    path.write_bytes(changed(pdf, len(pdf) // 2))
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "数字签名：</b><span class=\"badge red\">无效</span>" in page and "文件在签名后被改动" in page
    path.unlink()
    response = client.get(url)
    assert response.status_code == 200 and "正式文件缺失，无法核验数字签名" in response.content.decode()


# verify_archive -------------------------------------------------------------------------------

@pytest.fixture
def archived(cast, short_content):
    return demo_path.take_through_path(short_content, cast["drafter"])


def test_verify_archive_checks_the_signature_of_the_issued_pdf_and_its_archived_copy(archived):
    ok, out, _ = verify_archive()
    assert ok, out
    assert "数字签名 2 个" in out and "全部一致" in out


def test_verify_archive_names_a_broken_signature(archived, settings):
    copy = archived.archive_record.files.get(kind=ArchiveFile.Kind.ISSUED_PDF)
    for name in (archived.issued_pdf.name, copy.path):
        path = Path(settings.MEDIA_ROOT) / name
        pdf = path.read_bytes()
        path.write_bytes(changed(pdf, len(pdf) // 2))
    ok, out, _ = verify_archive()
    assert not ok
    assert f"正式文件的数字签名无效：文件在签名后被改动（内容摘要与签名不符）（{archived.issued_pdf.name}）" in out
    assert f"归档的正式文件的数字签名无效：文件在签名后被改动（内容摘要与签名不符）（{copy.path}）" in out


def test_verify_archive_names_a_signed_pdf_replaced_by_an_unsigned_one(archived, settings, unsigned):
    (Path(settings.MEDIA_ROOT) / archived.issued_pdf.name).write_bytes(unsigned)
    Document.objects.filter(pk=archived.pk).update(issued_pdf_sha256=storage.sha256_bytes(unsigned))
    report = verification.verify()
    seq = Event.objects.get(document=archived, action="print").seq
    assert (f"正式文件没有数字签名（文件没有数字签名），但办理记录第 {seq} 条（印制）记录了泉州市科学技术局的签名"
            f"（{archived.issued_pdf.name}）") in [p.message for p in report.problems]


def test_verify_archive_names_a_signature_of_an_untrusted_authority(archived, settings, tmp_path):
    other = tmp_path / "other"
    demo.create_signing_keys(other, [])
    settings.GONGWEN_SIGNING_CA = str(other / "ca.pem")
    report = verification.verify()
    messages = [p.message for p in report.problems]
    assert any(m.startswith("正式文件的数字签名无效：签名证书（颁发者：gongwen 演示证书颁发机构（仅供演示））不能链接到")
               for m in messages), messages
    settings.GONGWEN_SIGNING_CA = str(tmp_path / "absent.pem")
    report = verification.verify()
    assert [str(p) for p in report.problems] == [f"数字签名：受信任的证书颁发机构文件不存在：{tmp_path / 'absent.pem'}"
                                                 f"（GONGWEN_SIGNING_CA）；未核验任何数字签名"]


# The demo -------------------------------------------------------------------------------------

def test_setup_demo_makes_its_keys_and_its_archived_seed_keeps_verifying(db, settings, tmp_path):
    settings.GONGWEN_SIGNING_DIR = tmp_path / "signing"
    out = io.StringIO()
    call_command("setup_demo", stdout=out)
    assert f"已在 {tmp_path / 'signing'} 生成演示签名证书：ca.pem、demo-ca.key、X001.p12、X002.p12" in out.getvalue()
    seed = Document.objects.get(doc_number="泉科〔2024〕123号")
    assert seed.stage == Stage.ARCHIVED
    verdict = signing.verify(storage.read(seed.issued_pdf.name))
    assert verdict.valid and verdict.signer == "泉州市科学技术局"
    ok, said, _ = verify_archive()
    assert ok and "数字签名 2 个" in said, said
    again = io.StringIO()
    call_command("setup_demo", stdout=again)
    assert "生成演示签名证书" not in again.getvalue()
    ok, said, _ = verify_archive()
    assert ok, said
