"""The organ's digital signature on its issued PDFs, and the check of one (docs/signing.md).

The seal on the page is a picture that anyone can draw. The signature proves which organ
issued the file and that not one byte of it changed since: at 印制, after the PDF/A-2b
conversion, `sign` appends an incremental update holding an invisible PAdES B-B signature
(pyHanko, ETSI.CAdES.detached, SHA-256) made with the organ's certificate. The update keeps
the file PDF/A-2b: RSA keys only (pyHanko marks an ECDSA-signed file as PDF 2.0), a widget of
zero size with the print flag, and Info and XMP kept in agreement (`_keep_metadata_agreed`).

`verify` checks any PDF on its own: whether its signature is intact (the digest of the signed
bytes, the CMS signature, the whole file covered, and the bytes no signature covers, the
signature value itself, exactly as `sign` writes them), who signed it (the organ named in the
certificate's subject), when, and whether the certificate chains to a configured
certificate authority.

Keys are never in the database or the repository (settings: GONGWEN_SIGNING_*):
- an organ's PKCS#12 is GONGWEN_SIGNING_P12_<全宗号>, else <全宗号>.p12 in GONGWEN_SIGNING_DIR;
  no such file: the organ's PDFs are issued unsigned, and say so;
- its passphrase GONGWEN_SIGNING_PASSPHRASE_<全宗号>, else GONGWEN_SIGNING_PASSPHRASE;
- the trusted certificate authorities GONGWEN_SIGNING_CA (PEM), else ca.pem in GONGWEN_SIGNING_DIR.
"""

import collections
import datetime
import hashlib
import io
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, core, keys, parser, pem, x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12
from django.conf import settings
from django.utils import timezone
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata.model import VENDOR
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .exceptions import IssuanceError

FIELD_NAME = "IssuerSignature"
REASON = "发文机关对正式文件的数字签名"


class SigningError(IssuanceError):
    """The organ's key is configured but cannot sign: the 印制 attempt fails with this message."""


# Configuration ------------------------------------------------------------------------------

def key_path(organ):
    """The path of `organ`'s PKCS#12, or None when it has none (its PDFs go out unsigned)."""
    configured = settings.GONGWEN_SIGNING_P12.get(organ.fonds_code)
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise SigningError(f"{organ.name}的签名证书文件不存在：{path}（GONGWEN_SIGNING_P12_{organ.fonds_code}）")
        return path
    path = Path(settings.GONGWEN_SIGNING_DIR) / f"{organ.fonds_code}.p12"
    return path if path.is_file() else None


def ca_path():
    return Path(settings.GONGWEN_SIGNING_CA or Path(settings.GONGWEN_SIGNING_DIR) / "ca.pem")


def trust_roots():
    """The configured certificate authorities (asn1crypto certificates); [] when none is."""
    path = ca_path()
    if not path.exists():
        if settings.GONGWEN_SIGNING_CA:
            raise SigningError(f"受信任的证书颁发机构文件不存在：{path}（GONGWEN_SIGNING_CA）")
        return []
    return load_certificates(path)


def load_certificates(path):
    """The certificates in a PEM bundle or a DER file."""
    try:
        data = path.read_bytes()
        if pem.detect(data):
            certificates = [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
        else:
            certificates = [x509.Certificate.load(data)]
        for certificate in certificates:
            certificate.native  # parse it whole now: asn1crypto parses lazily
    except FileNotFoundError:
        raise SigningError(f"证书颁发机构的证书文件不存在：{path}") from None
    except (OSError, ValueError) as error:
        raise SigningError(f"证书颁发机构的证书文件无法读取：{path}（{error}）") from error
    return certificates


def _passphrase(organ):
    value = settings.GONGWEN_SIGNING_PASSPHRASES.get(organ.fonds_code, settings.GONGWEN_SIGNING_PASSPHRASE)
    return value.encode("utf-8") if value else None


def signer_for(organ):
    """A pyHanko signer with `organ`'s key, or None when the organ has no key configured.

    Refuses, with a message for the office, a key that cannot make a signature this app
    stands behind: unreadable, not RSA, outside its validity, or naming another organ."""
    path = key_path(organ)
    if path is None:
        return None
    passphrase = _passphrase(organ)
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, hashlib.sha256(passphrase or b"").digest())
    signer = _SIGNERS.get(key)
    if signer is None:
        signer = _SIGNERS[key] = _load(path, passphrase, organ)
    certificate = signer.signing_cert
    validity = certificate["tbs_certificate"]["validity"]
    if not validity["not_before"].native <= timezone.now() <= validity["not_after"].native:
        raise SigningError(f"{organ.name}的签名证书不在有效期内"
                           f"（{validity['not_before'].native:%Y-%m-%d} 至 {validity['not_after'].native:%Y-%m-%d}）")
    named = subject_organ(certificate)
    if named != organ.name:
        raise SigningError(f"签名证书 {path.name} 的主体是“{named}”，不是{organ.name}")
    return signer


# Loaded keys by file (path, modification time, size) and passphrase: a replaced file is read anew.
_SIGNERS = {}


def _load(path, passphrase, organ):
    try:
        private_key, certificate, others = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    except (OSError, ValueError) as error:
        raise SigningError(f"无法读取{organ.name}的签名证书 {path.name}：口令不对或文件损坏"
                           f"（GONGWEN_SIGNING_PASSPHRASE_{organ.fonds_code}）") from error
    if certificate is None:
        raise SigningError(f"{organ.name}的签名证书文件 {path.name} 中没有证书")
    if not isinstance(private_key, rsa.RSAPrivateKey):
        raise SigningError(f"{organ.name}的签名证书不是 RSA 密钥；为保持 PDF/A-2b，正式文件只能用 RSA 密钥签名")
    return _RsaSigner(
        private_key,
        signing_cert=x509.Certificate.load(certificate.public_bytes(Encoding.DER)),
        signing_key=keys.PrivateKeyInfo.load(private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8,
                                                                       NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs(
            [x509.Certificate.load(other.public_bytes(Encoding.DER)) for other in others]),
        # The root is the checker's to hold, not the file's: a root in the file is covered
        # by no signature, so it could be changed without a trace (see _cms_as_signed).
        embed_roots=False,
    )


class _RsaSigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner with its RSA key parsed once. SimpleSigner parses the key again
    for each signature value it makes (twice a PDF), and OpenSSL 3 checks an RSA key as it
    parses it: 80 ms each time."""

    def __init__(self, private_key, **kwargs):
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data, digest_algorithm):
        return self._private_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


def subject_organ(certificate):
    """The organ a certificate names: its subject's organisation, else its common name."""
    subject = certificate.subject.native
    return subject.get("organization_name") or subject.get("common_name") or certificate.subject.human_friendly


def _display_name(name):
    """An x509.Name as a person would call it: its common name, else its organisation."""
    native = name.native
    return native.get("common_name") or native.get("organization_name") or name.human_friendly


# Signing ------------------------------------------------------------------------------------

def sign(pdf, organ):
    """`pdf` signed with `organ`'s key, as an incremental update; `pdf` itself when the organ
    has no key. The signed file is checked before it is returned: a file this app would
    call invalid is never issued."""
    signer = signer_for(organ)
    if signer is None:
        return pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    _keep_metadata_agreed(writer)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES, reason=REASON,
    )
    signed = signers.sign_pdf(writer, meta, signer=signer).getvalue()
    verdict = verify(signed)
    if not verdict.valid:
        raise SigningError(f"{organ.name}的签名未通过核验：{verdict.problem}")
    return signed


def _keep_metadata_agreed(writer):
    """PDF/A wants the Info dictionary and the XMP to say the same. pyHanko writes its own
    name as the XMP's pdf:Producer but appends it to Info's /Producer; naming only pyHanko
    in Info too keeps them equal (it is the last program that wrote the file)."""
    info = writer.trailer.raw_get("/Info")
    info.get_object()["/Producer"] = generic.TextStringObject(VENDOR)
    writer.mark_update(info)


# Verification -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """What a PDF's signature says. `status` is one of STATUSES."""

    status: str
    problem: str = ""  # why it is not valid, in the user's words
    signer: str = ""  # the organ the certificate names
    signed_at: datetime.datetime | None = None  # as the signer reported it
    authority: str = ""  # the certificate authority it chains to
    certificate: str = ""  # SHA-256 of the signer's certificate

    @property
    def present(self):
        return self.status in ("valid", "untrusted", "broken")

    @property
    def intact(self):
        """The file is, byte for byte, what its signer signed."""
        return self.status in ("valid", "untrusted")

    @property
    def valid(self):
        """Intact, and signed with a certificate of a trusted authority."""
        return self.status == "valid"

    def record(self):
        """What the 印制 history entry keeps of it (None: the file went out unsigned)."""
        if not self.present:
            return None
        return {"signer": self.signer, "signed_at": self.signed_at.isoformat() if self.signed_at else "",
                "certificate": self.certificate}


STATUSES = ("valid", "untrusted", "broken", "unsigned", "unreadable")

_CACHE = collections.OrderedDict()
_CACHE_KEPT = 64
_CACHE_LOCK = threading.Lock()


def verify(pdf, roots=None):
    """The Verdict on the signature of the PDF bytes `pdf`, against `roots` (certificates;
    by default the configured authorities). The same bytes checked against the same roots
    give the same verdict, so verdicts are remembered by digest."""
    roots = trust_roots() if roots is None else list(roots)
    key = (hashlib.sha256(pdf).digest(), tuple(root.sha256 for root in roots))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    verdict = _verify(pdf, roots)
    with _CACHE_LOCK:
        _CACHE[key] = verdict
        while len(_CACHE) > _CACHE_KEPT:
            _CACHE.popitem(last=False)
    return verdict


def _verify(pdf, roots):
    try:
        signatures = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
    except Exception as error:  # a damaged file fails to parse in many ways (PdfError, zlib, struct, …)
        if not pdf.startswith(b"%PDF-"):
            return Verdict("unreadable", "不是 PDF 文件")
        return Verdict("unreadable", f"文件已损坏，不能作为 PDF 读取（{type(error).__name__}）")
    if not signatures:
        return Verdict("unsigned", "文件没有数字签名")
    verdicts = [_verify_one(pdf, signature, roots) for signature in signatures]
    # An issued PDF carries one signature; should there be more, the worst one decides.
    return min(verdicts, key=lambda v: ("broken", "untrusted", "valid").index(v.status))


def _verify_one(pdf, embedded, roots):
    try:
        certificate = embedded.signer_cert
        signed_at = embedded.self_reported_timestamp
    except Exception:  # pyHanko raises assorted errors on a CMS blob it cannot parse
        return Verdict("broken", "签名数据已损坏")
    who = {"signer": subject_organ(certificate), "signed_at": signed_at,
           "certificate": hashlib.sha256(certificate.dump()).hexdigest()}
    if not _contents_untouched(pdf, embedded):
        return Verdict("broken", "签名值所在的区域被改动（文件已不是签名时的样子）", **who)
    # The certificate must have been valid when the file was signed (B-B carries no
    # time-stamp, so that is the signer's own time), not today: an archived file signed
    # with a certificate that has since expired stays valid.
    context = ValidationContext(trust_roots=roots, moment=signed_at or timezone.now(), allow_fetching=False)
    try:
        status = validate_pdf_signature(embedded, context)
    except Exception:  # as above: a damaged signature value fails in many ways, all of them "broken"
        return Verdict("broken", "签名数据已损坏，无法核验", **who)
    if not status.intact:
        return Verdict("broken", "文件在签名后被改动（内容摘要与签名不符）", **who)
    if not status.valid:
        return Verdict("broken", "签名值与签名证书不符", **who)
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return Verdict("broken", "签名之后文件又被追加或改动过", **who)
    path = status.validation_path if status.trusted else None
    if not _cms_as_signed(embedded, path):
        return Verdict("broken", "签名数据中未受签名保护的部分被改动", **who)
    if not roots:
        return Verdict("untrusted", f"未配置受信任的证书颁发机构（GONGWEN_SIGNING_CA），无法确认签名证书（{ca_path()} 不存在）",
                       **who)
    if path is None:
        issuer = _display_name(certificate.issuer)
        return Verdict("untrusted", f"签名证书（颁发者：{issuer}）不能链接到受信任的证书颁发机构", **who)
    return Verdict("valid", authority=_display_name(path.trust_anchor.authority.name), **who)


def _cms_as_signed(embedded, path):
    """The signature value (CMS) is, byte for byte, what `sign` writes, given its parts that
    the checks before proved: the signed attributes and the signature over them, the
    signer's certificate (bound to them by its hash), and the chain's certificates that
    `path` validated (None: accept the others unproven, for a signer not trusted anyway).

    The rest of a CMS blob (version numbers, the algorithm identifiers outside the signed
    attributes, the other certificates) is covered by no signature, and a reader accepts
    more than one value for some of it: rebuilding it from this app's fixed profile and
    comparing leaves no byte that could change unnoticed."""
    signer = embedded.signer_cert
    proven = None if path is None else {cert.dump() for cert in path.iter_certs(include_root=True)}
    certificates = [choice for choice in embedded.signed_data["certificates"]
                    if choice.chosen.dump() == signer.dump() or proven is None or choice.chosen.dump() in proven]
    digest = {"algorithm": embedded.md_algorithm, "parameters": core.Null()}
    expected = cms.ContentInfo({
        "content_type": "signed_data",
        "content": cms.SignedData({
            "version": "v1",
            "digest_algorithms": [digest],
            "encap_content_info": {"content_type": "data"},
            "certificates": certificates,
            "signer_infos": [{
                "version": "v1",
                "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
                    "issuer": signer.issuer, "serial_number": signer.serial_number}}),
                "digest_algorithm": digest,
                "signed_attrs": embedded.signer_info["signed_attrs"],
                "signature_algorithm": {"algorithm": f"{embedded.md_algorithm}_rsa", "parameters": core.Null()},
                "signature": embedded.signer_info["signature"],
            }],
        }),
    })
    return expected.dump() == _der_of(embedded.pkcs7_content)


def _der_of(contents):
    """The DER of the signature value: what precedes the zeros that fill its space."""
    _, _, _, header, body, _ = parser.parse(contents)
    return contents[:len(header) + len(body)]


_HEX = re.compile(rb"<([0-9A-F]*|[0-9a-f]*)>")


def _contents_untouched(pdf, embedded):
    """The bytes left out of the signed range are exactly the signature value as written:
    `<`, its DER in hex of one case, zeros to fill the space, `>`. A reader decodes the hex
    of either case and ignores what follows the DER, so without this check a changed
    letter case or padding byte would go unnoticed."""
    byte_range = list(embedded.byte_range)
    if len(byte_range) != 4:
        return False
    gap = pdf[byte_range[1]:byte_range[2]]
    if not _HEX.fullmatch(gap):
        return False
    contents = bytes.fromhex(gap[1:-1].decode("ascii"))
    try:
        der = _der_of(contents)
    except ValueError:
        return False
    return not contents[len(der):].strip(b"\0")
