"""Protection of personal data before it reaches Kafka (docs/security.md, "Protection of personal data").

- Field encryption: AES-256-GCM under the owning tenant's key; the associated
  data binds tenant, event id and field name so a ciphertext cannot be replayed
  into another record or region.
- Sealing: an identifier needed for cross-region matching is sealed to a
  matching service (X25519 ephemeral-static + HKDF-SHA256 + AES-256-GCM).
- Pseudonyms: HMAC-SHA256 under a key held only by the matching services, so no
  region can derive or invert them.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from vtkit.keys import KeyDestroyed


class DecryptionError(ValueError):
    """A ciphertext did not authenticate: wrong key, wrong binding or tampered."""


class KeyUnavailable(DecryptionError):
    """The key a ciphertext names cannot be had: destroyed (KeyShredded) or unknown here (KeyMissing)."""


class KeyShredded(KeyUnavailable):
    """The key was destroyed (crypto-shredding, Wmo 5.3.5): what it protected will never open, by design."""


class KeyMissing(KeyUnavailable):
    """No such key here: a deployment fault (a key directory not shared, a restore without its keys), never the
    same as a destroyed key. Whoever meets it keeps the record (dead letter) and alerts."""


@dataclass(frozen=True)
class Ciphertext:
    key_id: str
    nonce: bytes
    ciphertext: bytes


def _aad(tenant_id: str, event_id: str, field: str) -> bytes:
    return f"vt-field-v1|{tenant_id}|{event_id}|{field}".encode()


class TenantCipher:
    """Encrypts personal fields for one tenant under one key; decrypts under whichever key a field names.

    `key_id`/`key` is what new ciphertexts use (the tenant's newest key, or a dossier key). `resolve`
    (vtkit.keys.DataKeyStore.data_key) supplies the key of any other id a ciphertext carries: an older
    generation after a rotation, or a dossier key. A key that is unknown or destroyed (crypto-shredded)
    answers DecryptionError like any other field that does not open.
    """

    def __init__(self, tenant_id: str, key_id: str, key: bytes, *, resolve: Callable[[str], bytes] | None = None):
        if len(key) != 32:
            raise ValueError("tenant key must be 32 bytes")
        self.tenant_id = tenant_id
        self.key_id = key_id
        self._aead = AESGCM(key)
        self._resolve = resolve

    def encrypt(self, plaintext: bytes, *, event_id: str, field: str) -> Ciphertext:
        nonce = os.urandom(12)
        return Ciphertext(self.key_id, nonce, self._aead.encrypt(nonce, plaintext, _aad(self.tenant_id, event_id, field)))

    def _aead_for(self, key_id: str) -> AESGCM:
        if key_id == self.key_id:
            return self._aead
        # Only this tenant's keys: "<tenant>:<n>" or "<tenant>/dossier/<id>" (the AAD binds the tenant too).
        if self._resolve is None or not (key_id.startswith(f"{self.tenant_id}:")
                                         or key_id.startswith(f"{self.tenant_id}/dossier/")):
            raise DecryptionError(f"field was encrypted under key {key_id!r}, not {self.key_id!r}")
        try:
            return AESGCM(self._resolve(key_id))
        except KeyDestroyed:
            raise KeyShredded(f"key {key_id!r} was destroyed") from None
        except KeyError:  # vtkit.keys.UnknownKey
            raise KeyMissing(f"key {key_id!r} is unknown here (not a destroyed key)") from None

    def decrypt(self, sealed: Ciphertext, *, event_id: str, field: str) -> bytes:
        aead = self._aead_for(sealed.key_id)
        try:
            return aead.decrypt(sealed.nonce, sealed.ciphertext, _aad(self.tenant_id, event_id, field))
        except Exception:
            raise DecryptionError("field did not authenticate") from None


# A sealed identifier whose content is itself encrypted under a (dossier) key: the matching service needs
# both its seal key and that key, so destroying the dossier key shreds the identifier in Kafka history too.
WRAPPED_PREFIX = b"vt-wrapped-v1|"


def wrap_for_sealing(cipher: TenantCipher, identifier: bytes, *, event_id: str, field: str) -> bytes:
    inner = cipher.encrypt(identifier, event_id=event_id, field=field)
    body = {"key_id": inner.key_id, "nonce": inner.nonce.hex(), "ciphertext": inner.ciphertext.hex()}
    return WRAPPED_PREFIX + json.dumps(body, sort_keys=True).encode()


def unwrap_opened(opened: bytes, cipher: TenantCipher | None, *, event_id: str, field: str) -> bytes:
    """The identifier inside an opened seal: as is when it was sealed directly (RvdK feed, older events),
    else decrypted with `cipher` (KeyUnavailable once the dossier key is destroyed)."""
    if not opened.startswith(WRAPPED_PREFIX):
        return opened
    if cipher is None:
        raise DecryptionError("the identifier is wrapped under a tenant's key and no tenant cipher was given")
    try:
        body = json.loads(opened[len(WRAPPED_PREFIX):])
        inner = Ciphertext(str(body["key_id"]), bytes.fromhex(body["nonce"]), bytes.fromhex(body["ciphertext"]))
    except (ValueError, KeyError, TypeError):
        raise DecryptionError("malformed wrapped identifier") from None
    return cipher.decrypt(inner, event_id=event_id, field=field)


@dataclass(frozen=True)
class Sealed:
    recipient: str
    ephemeral_public_key: bytes
    nonce: bytes
    ciphertext: bytes


def _seal_key(shared: bytes, recipient: str, ephemeral_public: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=ephemeral_public, info=f"vt-seal-v1|{recipient}".encode()).derive(shared)


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@functools.lru_cache(maxsize=64)
def _public_key(raw: bytes) -> X25519PublicKey:
    """A recipient's public key, parsed once (a few recipients seal every record; the key object is immutable)."""
    return X25519PublicKey.from_public_bytes(raw)


class Sealer:
    """Seals the identifiers of one record to `recipient` under one ephemeral key, each with a nonce of its own:
    one X25519 exchange per record instead of one per identifier, here and at the recipient (SealOpener keeps the
    keys of recent ephemeral keys). Use one per record: identifiers that travel together may share an ephemeral
    key, those of two records must not (docs/security.md, "Protection of personal data")."""

    def __init__(self, recipient: str, recipient_public: bytes):
        ephemeral = X25519PrivateKey.generate()
        self.recipient = recipient
        self._ephemeral_public = _raw_public(ephemeral.public_key())
        shared = ephemeral.exchange(_public_key(bytes(recipient_public)))
        self._aead = AESGCM(_seal_key(shared, recipient, self._ephemeral_public))

    def seal(self, identifier: bytes) -> Sealed:
        nonce = os.urandom(12)  # random 96-bit nonces: a record seals a handful of identifiers under its key
        return Sealed(self.recipient, self._ephemeral_public, nonce,
                      self._aead.encrypt(nonce, identifier, self.recipient.encode()))


def seal(identifier: bytes, recipient: str, recipient_public: bytes) -> Sealed:
    """Seal `identifier` so that only `recipient` (holder of the private key) can open it, under an ephemeral key
    of its own."""
    return Sealer(recipient, recipient_public).seal(identifier)


class SealOpener:
    """Held only by a matching service: opens identifiers sealed to it."""

    # The keys of the last ephemeral keys seen: a record's identifiers share one (Sealer), so each record costs one
    # X25519 exchange. Bounded; a key is derived again when it was evicted (the derivation is deterministic).
    _RECENT = 256

    def __init__(self, recipient: str, private_key: bytes):
        self.recipient = recipient
        self._private = X25519PrivateKey.from_private_bytes(private_key)
        self._recent: dict[bytes, AESGCM] = {}
        self._recent_lock = threading.Lock()  # opened from the event loop and from worker threads

    @property
    def public_key(self) -> bytes:
        return _raw_public(self._private.public_key())

    def open(self, sealed: Sealed) -> bytes:
        if sealed.recipient != self.recipient:
            raise DecryptionError(f"sealed to {sealed.recipient!r}, not {self.recipient!r}")
        try:
            return self._aead(bytes(sealed.ephemeral_public_key)).decrypt(sealed.nonce, sealed.ciphertext,
                                                                         self.recipient.encode())
        except DecryptionError:
            raise
        except Exception:
            raise DecryptionError("sealed identifier did not open") from None

    def _aead(self, ephemeral_public: bytes) -> AESGCM:
        aead = self._recent.get(ephemeral_public)
        if aead is None:
            shared = self._private.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
            aead = AESGCM(_seal_key(shared, self.recipient, ephemeral_public))
            with self._recent_lock:
                if len(self._recent) >= self._RECENT:
                    del self._recent[next(iter(self._recent))]  # the oldest
                self._recent[ephemeral_public] = aead
        return aead


class Pseudonymizer:
    """Keyed pseudonyms for matching; the key never leaves the matching services."""

    def __init__(self, key: bytes):
        if len(key) < 32:
            raise ValueError("pseudonym key must be at least 32 bytes")
        self._key = key

    def pseudonym(self, identifier: bytes) -> str:
        return hmac.new(self._key, identifier, hashlib.sha256).hexdigest()


def generate_x25519_private() -> bytes:
    return X25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
