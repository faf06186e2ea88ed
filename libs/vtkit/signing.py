"""Who wrote a Kafka record, proven: records that cross an organisation boundary carry the producing organisation's
Ed25519 signature, and the national consumers verify it before acting (docs/architecture.md, "Who wrote a record").

Signed topics and their only writer (`writer_of`): `vt.<region>.intake.v1` by that region, `vt.national.rvdk.v1` by
the RvdK, `vt.national.brp.v1` by the BRP feed. The signature covers the topic, the record key, the value and the
envelope's CloudEvents headers (`ce_*`), so a record cannot be moved to another topic, re-keyed or given another
event id or type. Two headers carry it: `vt_sig` (the 64-byte signature in base64: every header is text,
vtkit.envelope) and `vt_sig_key` (the signer's key id: the first 16 bytes of the SHA-256 of the raw public key,
hex). Ed25519 signatures are deterministic, so an outbox row signed again when it is re-sent (after a broker loss)
carries the same signature.

Keys: `<key_dir>/pki/signers/<org>.key` (only the producing organisation has its own) and `<org>.pem`, a certificate
for the key issued by the suite's CA with O=<org>, OU=record-signer (vtkit.pki). A verifier trusts a key only
through such a certificate that the CA signed and that is valid now.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import os
import pathlib
import struct
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from vtkit import metrics, pki, topics
from vtkit.kafka import PermanentError
from vtkit.outbox import OutboxRecord

SIGNATURE_HEADER = "vt_sig"
KEY_ID_HEADER = "vt_sig_key"
_CONTEXT = b"vt-record-signature-v1"

Headers = Sequence[tuple[str, bytes]]


def writer_of(topic: str) -> str | None:
    """The one organisation that may write a signed topic; None for a topic whose records are not signed."""
    if topic == topics.NATIONAL_RVDK:
        return pki.RVDK_SIGNER
    if topic == topics.NATIONAL_BRP:
        return pki.BRP_SIGNER
    region = topics.tenant_of(topic)
    return region if region and topic == topics.intake(region) else None


def _signed_bytes(topic: str, key: bytes | None, value: bytes | None, headers: Headers) -> bytes:
    """Length-prefixed fields, so no two different records give the same bytes."""
    envelope = sorted((name, data) for name, data in headers if name.startswith("ce_"))
    parts = [_CONTEXT, topic.encode(), key or b"", value or b""]
    for name, data in envelope:
        parts += [name.encode(), data]
    return b"".join(struct.pack(">I", len(p)) + p for p in parts)


def key_id(public_key: ed25519.Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


class RecordSigner:
    """Signs the records of one organisation."""

    def __init__(self, org: str, private_key: ed25519.Ed25519PrivateKey):
        self.org = org
        self._key = private_key
        self.key_id = key_id(private_key.public_key())

    @classmethod
    def load(cls, key_dir: str | os.PathLike[str], org: str) -> "RecordSigner":
        _, key_path = pki.signer_paths(key_dir, org)
        try:
            loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except FileNotFoundError:
            raise FileNotFoundError(f"the record-signing key of {org} is missing: run `python -m vtkit.pki init "
                                    f"<key dir>` (`make certs` for the local stack)") from None
        if not isinstance(loaded, ed25519.Ed25519PrivateKey):
            raise ValueError(f"the record-signing key of {org} is not an Ed25519 key")
        return cls(org, loaded)

    def headers(self, topic: str, key: bytes | None, value: bytes, headers: Headers) -> list[tuple[str, bytes]]:
        """`headers` without any earlier signature, plus this organisation's signature of the record."""
        kept = [(n, v) for n, v in headers if n not in (SIGNATURE_HEADER, KEY_ID_HEADER)]
        signature = self._key.sign(_signed_bytes(topic, key, value, kept))
        return [*kept, (SIGNATURE_HEADER, base64.b64encode(signature)), (KEY_ID_HEADER, self.key_id.encode())]

    def sign(self, record: OutboxRecord) -> OutboxRecord:
        return OutboxRecord(record.topic, record.key, record.value,
                            self.headers(record.topic, record.key, record.value, record.headers), record.event_id,
                            record.tenant)


class Signers:
    """The signing keys present in a key directory, loaded when first needed: a test or a simulator that writes
    as several organisations signs each record as the topic's writer."""

    def __init__(self, key_dir: str | os.PathLike[str]):
        self.key_dir = pathlib.Path(key_dir)
        self._loaded: dict[str, RecordSigner] = {}

    def headers(self, topic: str, key: bytes | None, value: bytes, headers: Headers) -> list[tuple[str, bytes]]:
        org = writer_of(topic)
        if org is None:
            return list(headers)
        if org not in self._loaded:
            self._loaded[org] = RecordSigner.load(self.key_dir, org)
        return self._loaded[org].headers(topic, key, value, headers)


class UntrustedRecord(PermanentError):
    """A record of a signed topic that its writer did not sign: dead-lettered, never acted on."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class RecordVerifier:
    """Checks records of signed topics against the signing certificates the suite's CA issued."""

    def __init__(self, trusted: dict[str, tuple[str, ed25519.Ed25519PublicKey]]):
        self._trusted = trusted  # key id -> (organisation, public key)

    @classmethod
    def load(cls, key_dir: str | os.PathLike[str], now: dt.datetime | None = None) -> "RecordVerifier":
        """Every signer certificate under pki/signers/ that the CA issued and that is valid now."""
        now = now or dt.datetime.now(dt.UTC)
        ca = x509.load_pem_x509_certificate(pki.ca_pem(key_dir))
        trusted: dict[str, tuple[str, ed25519.Ed25519PublicKey]] = {}
        for path in sorted((pki.pki_dir(key_dir) / "signers").glob("*.pem")):
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            public = cert.public_key()
            try:
                cert.verify_directly_issued_by(ca)
            except (ValueError, TypeError, InvalidSignature):
                continue
            if not isinstance(public, ed25519.Ed25519PublicKey):
                continue
            if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
                continue
            org = _one(cert, NameOID.ORGANIZATION_NAME)
            if _one(cert, NameOID.ORGANIZATIONAL_UNIT_NAME) != pki.RECORD_SIGNER_ROLE or not org:
                continue
            trusted[key_id(public)] = (org, public)
        return cls(trusted)

    def check(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None) -> str | None:
        """The organisation that signed the record, None for a topic that is not signed. Raises UntrustedRecord
        (counted per reason) for a record its topic's writer did not sign."""
        writer = writer_of(topic)
        if writer is None:
            return None
        try:
            return self._check(writer, topic, key, value, list(headers or ()))
        except UntrustedRecord as exc:
            metrics.RECORDS_UNTRUSTED.labels(topic, exc.reason).inc()
            raise

    def _check(self, writer: str, topic: str, key: bytes | None, value: bytes | None,
               headers: list[tuple[str, bytes]]) -> str:
        found = {name: data for name, data in headers if name in (SIGNATURE_HEADER, KEY_ID_HEADER)}
        if SIGNATURE_HEADER not in found or KEY_ID_HEADER not in found:
            raise UntrustedRecord("unsigned", f"a record on {topic} must be signed by {writer}")
        signer = self._trusted.get(found[KEY_ID_HEADER].decode("ascii", "replace"))
        if signer is None:
            raise UntrustedRecord("unknown_signer", "the signing key is not certified by the suite's CA")
        org, public = signer
        if org != writer:
            raise UntrustedRecord("wrong_writer", f"signed by {org}, but only {writer} writes {topic}")
        rest = [(n, v) for n, v in headers if n not in (SIGNATURE_HEADER, KEY_ID_HEADER)]
        try:
            public.verify(base64.b64decode(found[SIGNATURE_HEADER], validate=True), _signed_bytes(topic, key, value, rest))
        except (InvalidSignature, binascii.Error):
            raise UntrustedRecord("bad_signature", f"the signature of {org} does not match the record") from None
        return org


def _one(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str:
    values = cert.subject.get_attributes_for_oid(oid)
    return str(values[0].value) if len(values) == 1 else ""
