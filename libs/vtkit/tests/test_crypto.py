import pytest
from vtkit import crypto
from vtkit.crypto import DecryptionError, Pseudonymizer, Sealed, Sealer, SealOpener, TenantCipher, generate_x25519_private, seal


def cipher(tenant: str = "utrecht", key: bytes = b"k" * 32) -> TenantCipher:
    return TenantCipher(tenant, f"{tenant}:1", key)


def test_field_roundtrip_and_binding_to_event_and_field() -> None:
    c = cipher()
    sealed = c.encrypt(b"Jan Jansen", event_id="e1", field="melder")
    assert b"Jansen" not in sealed.ciphertext
    assert c.decrypt(sealed, event_id="e1", field="melder") == b"Jan Jansen"
    with pytest.raises(DecryptionError):
        c.decrypt(sealed, event_id="e2", field="melder")
    with pytest.raises(DecryptionError):
        c.decrypt(sealed, event_id="e1", field="content")


def test_another_tenant_cannot_decrypt_even_with_the_same_key_bytes() -> None:
    sealed = cipher("utrecht").encrypt(b"x", event_id="e", field="f")
    other = TenantCipher("utrecht", "utrecht:1", b"o" * 32)
    with pytest.raises(DecryptionError):
        other.decrypt(sealed, event_id="e", field="f")
    with pytest.raises(DecryptionError):
        cipher("zeeland").decrypt(sealed, event_id="e", field="f")


def test_sealed_identifier_opens_only_for_its_recipient() -> None:
    radar = SealOpener("radar", generate_x25519_private())
    vir = SealOpener("verwijsindex", generate_x25519_private())
    sealed = seal(b"bsn:111222333", "radar", radar.public_key)
    assert b"111222333" not in sealed.ciphertext
    assert radar.open(sealed) == b"bsn:111222333"
    with pytest.raises(DecryptionError):
        vir.open(sealed)
    impostor = SealOpener("radar", generate_x25519_private())
    with pytest.raises(DecryptionError):
        impostor.open(sealed)


def test_one_records_identifiers_share_an_ephemeral_key_and_open_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    radar = SealOpener("radar", generate_x25519_private())
    sealer, other = Sealer("radar", radar.public_key), Sealer("radar", radar.public_key)
    first, second, elsewhere = sealer.seal(b"bsn:1"), sealer.seal(b"bsn:2"), other.seal(b"bsn:1")
    assert first.ephemeral_public_key == second.ephemeral_public_key != elsewhere.ephemeral_public_key
    assert len({first.nonce, second.nonce, elsewhere.nonce}) == 3
    derived = []  # the key of an ephemeral key, derived from an X25519 exchange
    real = crypto._seal_key

    def counted(shared: bytes, recipient: str, ephemeral_public: bytes) -> bytes:
        derived.append(ephemeral_public)
        return real(shared, recipient, ephemeral_public)

    monkeypatch.setattr(crypto, "_seal_key", counted)
    assert [radar.open(s) for s in (first, second, elsewhere, first)] == [b"bsn:1", b"bsn:2", b"bsn:1", b"bsn:1"]
    assert derived == [first.ephemeral_public_key, elsewhere.ephemeral_public_key]  # one per record, not per identifier
    tampered = Sealed(second.recipient, second.ephemeral_public_key, second.nonce, second.ciphertext[:-1] + b"x")
    with pytest.raises(DecryptionError):  # a known ephemeral key opens nothing that was not sealed under it
        radar.open(tampered)
    with pytest.raises(DecryptionError):
        SealOpener("verwijsindex", generate_x25519_private()).open(first)


def test_pseudonyms_are_stable_and_keyed() -> None:
    a, b = Pseudonymizer(b"a" * 32), Pseudonymizer(b"b" * 32)
    assert a.pseudonym(b"bsn:111222333") == a.pseudonym(b"bsn:111222333")
    assert a.pseudonym(b"bsn:111222333") != b.pseudonym(b"bsn:111222333")
    assert "111222333" not in a.pseudonym(b"bsn:111222333")
