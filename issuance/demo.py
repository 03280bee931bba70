"""The demo organisation: 泉州市科学技术局 and 泉州市工业和信息化局 side by side, each with its
科室, its people and their roles, its address book and its default review chains; loaded
idempotently from fixtures/demo_organisation.json. And the demo's signing keys: a certificate
authority and a certificate per organ, made once into GONGWEN_SIGNING_DIR."""

import datetime
import json
import os
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from . import chains
from .models import Appointment, Department, Organ, RecipientOrgan
from .roles import forget_memberships

FIXTURES = settings.BASE_DIR / "fixtures"


def load_cast():
    return json.loads((FIXTURES / "demo_organisation.json").read_text(encoding="utf-8"))


def cast_users(cast=None):
    """Every demo user's spec, with the organ it belongs to."""
    cast = cast or load_cast()
    return [(spec, user) for spec in cast["organs"] for user in spec["users"]]


@transaction.atomic
def load_organisation():
    """Create or update the organs, their 科室, address books, default chains and demo users."""
    cast = load_cast()
    User = get_user_model()
    organs = []
    for spec in cast["organs"]:
        organ, _ = Organ.objects.update_or_create(code=spec["organ"]["code"], defaults=spec["organ"])
        departments = {
            d["name"]: Department.objects.update_or_create(organ=organ, name=d["name"], defaults={"code": d["code"]})[0]
            for d in spec["departments"]
        }
        for person in spec["users"]:
            user, created = User.objects.get_or_create(username=person["username"])
            user.last_name, user.first_name = person["name"][0], person["name"][1:]
            user.email = person.get("email", "")
            if created:
                user.set_password(cast["password"])
            user.save()
            wanted = {r["role"] for r in person["roles"]}
            Appointment.objects.filter(user=user, organ=organ).exclude(role__in=wanted).delete()
            for role in person["roles"]:
                appointment, _ = Appointment.objects.update_or_create(
                    user=user, organ=organ, role=role["role"], defaults={"title": role.get("title", "")}
                )
                appointment.departments.set([departments[name] for name in role.get("departments", ())])
            forget_memberships(user)
        for recipient in spec["recipients"]:
            RecipientOrgan.objects.update_or_create(
                organ=organ, name=recipient["name"], defaults={"aliases": "\n".join(recipient["aliases"])}
            )
        chains.install_defaults(organ, cast["default_chains"])
        organs.append(organ)
    return organs


# The demo's signing keys (issuance.signing) ---------------------------------------------------

DEMO_CA_NAME = "gongwen 演示证书颁发机构（仅供演示）"
DEMO_CA_KEY = "demo-ca.key"


def signing_organs(cast=None):
    """[(全宗号, 机关全称)] of the demo organs."""
    return [(spec["organ"]["fonds_code"], spec["organ"]["name"]) for spec in (cast or load_cast())["organs"]]


def create_signing_keys(directory, organs):
    """A demo certificate authority (ca.pem, its key in demo-ca.key) and a certificate per
    organ (<全宗号>.p12, without a passphrase) in `directory`; `organs` is [(全宗号, 机关全称)].

    Keeps every file that is there, so that what the demo signed stays valid; a directory
    whose ca.pem is not the demo's (no demo-ca.key beside it: a real authority) gets
    nothing. Returns the names of the files written."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, key_file = directory / "ca.pem", directory / DEMO_CA_KEY
    written = []
    if not ca_file.exists():
        ca_key = _rsa_key()
        ca = _certificate(DEMO_CA_NAME, ca_key.public_key(), DEMO_CA_NAME, ca_key, years=10, authority=True)
        _write_private(key_file, ca_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
        ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        written += [ca_file.name, key_file.name]
    elif not key_file.exists():
        return written
    ca = x509.load_pem_x509_certificate(ca_file.read_bytes())
    ca_key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    for fonds_code, name in organs:
        target = directory / f"{fonds_code}.p12"
        if target.exists():
            continue
        key = _rsa_key()
        certificate = _certificate(name, key.public_key(), ca.subject, ca_key, years=5)
        _write_private(target, pkcs12.serialize_key_and_certificates(
            fonds_code.encode("ascii"), key, certificate, [ca], serialization.NoEncryption()))
        written.append(target.name)
    return written


def _rsa_key():
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(organ):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, organ),
                      x509.NameAttribute(NameOID.COMMON_NAME, organ)])


def _certificate(subject, public_key, issuer, issuer_key, years, authority=False):
    """A certificate for `subject` (a name, or an x509.Name for the issuer) signed by `issuer_key`."""
    from cryptography.hazmat.primitives import hashes

    now = datetime.datetime.now(datetime.timezone.utc)
    issuer_name = issuer if isinstance(issuer, x509.Name) else _name(issuer)
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject)).issuer_name(issuer_name).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(days=1))
               .not_valid_after(now + datetime.timedelta(days=365 * years))
               .add_extension(x509.BasicConstraints(ca=authority, path_length=0 if authority else None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=not authority, content_commitment=not authority, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=authority, crl_sign=authority,
                   encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                              critical=False))
    return builder.sign(issuer_key, hashes.SHA256())


def _write_private(path, data):
    """Write a key file readable by its owner only; never over an existing one."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
        handle.write(data)
