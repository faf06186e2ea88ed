"""Record signatures (vtkit.signing) with the keys init_keys makes: who may write a signed topic, what the signature
covers, and that only the suite CA's signer certificates are trusted."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from vtkit import pki, topics
from vtkit.keystore import KeyStore, init_keys
from vtkit.signing import KEY_ID_HEADER, RecordSigner, RecordVerifier, Signers, UntrustedRecord, writer_of

VALUE, KEY = b"\x0a\x03abc", b"case-1"
HEADERS = [("ce_id", b"ev-1"), ("ce_type", b"vt.intake.v1.MeldingReceived"), ("ce_tenant", b"groningen")]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    return init_keys(tmp_path_factory.mktemp("keys"))


def refused(verifier: RecordVerifier, topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> str:
    with pytest.raises(UntrustedRecord) as err:
        verifier.check(topic, key, value, headers)
    return err.value.reason


def test_only_intake_topics_and_the_rvdk_feed_are_signed_each_by_its_one_writer() -> None:
    assert writer_of(topics.intake("groningen")) == "groningen"
    assert writer_of(topics.NATIONAL_RVDK) == "rvdk" and writer_of(topics.NATIONAL_BRP) == "brp"
    assert writer_of(topics.register("groningen")) is None and writer_of(topics.NATIONAL_ASSESSMENTS) is None


def test_a_signed_record_is_accepted_and_any_change_is_refused(keys: KeyStore) -> None:
    topic = topics.intake("groningen")
    verifier = RecordVerifier.load(keys.root)
    headers = Signers(keys.root).headers(topic, KEY, VALUE, HEADERS)
    assert verifier.check(topic, KEY, VALUE, headers) == "groningen"
    assert refused(verifier, topic, KEY, VALUE + b"x", headers) == "bad_signature"
    assert refused(verifier, topic, b"case-2", VALUE, headers) == "bad_signature"
    other_id = [(n, b"ev-2" if n == "ce_id" else v) for n, v in headers]
    assert refused(verifier, topic, KEY, VALUE, other_id) == "bad_signature"
    assert refused(verifier, topics.intake("drenthe"), KEY, VALUE, headers) == "wrong_writer"  # moved topic
    assert refused(verifier, topic, KEY, VALUE, HEADERS) == "unsigned"
    garbled = [(n, b"not base64!" if n == "vt_sig" else v) for n, v in headers]
    assert refused(verifier, topic, KEY, VALUE, garbled) == "bad_signature"
    # Headers that are not the envelope's (a trace id, a re-drive mark) may be added on the way.
    assert verifier.check(topic, KEY, VALUE, [*headers, ("traceparent", b"00-ab")]) == "groningen"
    # Signing again gives the same signature (Ed25519 is deterministic): a re-sent outbox row is the same record.
    assert Signers(keys.root).headers(topic, KEY, VALUE, headers) == headers


def test_another_organisations_key_or_an_uncertified_key_is_refused(keys: KeyStore) -> None:
    topic = topics.intake("groningen")
    verifier = RecordVerifier.load(keys.root)
    by_drenthe = RecordSigner.load(keys.root, "drenthe").headers(topic, KEY, VALUE, HEADERS)
    assert refused(verifier, topic, KEY, VALUE, by_drenthe) == "wrong_writer"
    rogue = RecordSigner("groningen", ed25519.Ed25519PrivateKey.generate()).headers(topic, KEY, VALUE, HEADERS)
    assert refused(verifier, topic, KEY, VALUE, rogue) == "unknown_signer"
    by_rvdk = RecordSigner.load(keys.root, "rvdk").headers(topics.NATIONAL_RVDK, KEY, VALUE, HEADERS)
    assert verifier.check(topics.NATIONAL_RVDK, KEY, VALUE, by_rvdk) == "rvdk"
    assert dict(by_rvdk)[KEY_ID_HEADER] != dict(by_drenthe)[KEY_ID_HEADER]


def test_a_signer_certificate_from_another_ca_or_expired_is_not_trusted(keys: KeyStore, tmp_path: pathlib.Path) -> None:
    stranger = init_keys(tmp_path / "other-suite")  # its own CA
    topic = topics.intake("groningen")
    foreign = RecordSigner.load(stranger.root, "groningen").headers(topic, KEY, VALUE, HEADERS)
    assert refused(RecordVerifier.load(keys.root), topic, KEY, VALUE, foreign) == "unknown_signer"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=pki.LEAF_DAYS + 1)
    signed = Signers(keys.root).headers(topic, KEY, VALUE, HEADERS)
    assert refused(RecordVerifier.load(keys.root, now=later), topic, KEY, VALUE, signed) == "unknown_signer"


def test_the_signing_key_is_the_owners_only(keys: KeyStore) -> None:
    cert, key = pki.signer_paths(keys.root, "groningen")
    assert key.stat().st_mode & 0o777 == 0o600 and cert.stat().st_mode & 0o777 == 0o644
    assert key.parent.stat().st_mode & 0o777 == 0o700
