"""Local key store: a directory of key files (the embedded default).

Layout of VT_KEY_DIR (created by `python -m vtkit.keystore init`, done by `make run`
and by the test fixtures):
  master.key                  32 random bytes, hex: wraps every data key (dev default; production sets
                              VT_MASTER_KEY_FILE to a file outside the key dir, or uses a KMS)
  data-keys/                  the data keys, each wrapped under the master key (vtkit.keys):
                              tenants' field keys "<tenant>:<n>" (`rotate` adds a generation), national
                              owners' field keys, and per-dossier keys "<tenant>/dossier/<id>"
  seal/<service>.key          X25519 private key, hex (radar, verwijsindex only)
  seal/<service>.pub          its public key, hex (every intake may read it)
  pseudonym.key               HMAC key, hex (radar and verwijsindex only)
  (field key of a national owner that is not a VT tenant, e.g. the verwijsindex: registrant contact
   details, opened by notifier: a data key "<owner>:<n>" like a tenant's)
  audit/<service>.key         Ed25519 private key, hex, one per service ("intake-<tenant>", "radar", ...): signs
                              that service's audit-log checkpoints and witness heads (vtkit.audit)
  audit/<service>.pub         its public key, hex (what the verifier needs)
  tokens.json                 bearer token -> {"tenant": ..., "role": ...(, "sector": ...)} for gRPC callers
  pki/                        mTLS certificates and keys (vtkit.pki); never the CA's private key, which lives in
                              the CA dir beside the key dir (a service finding one refuses to start: refuse_ca_key)
A service reads only what it is entitled to; in production this is a KMS/HSM (implement
vtkit.keys.DataKeyStore and pass it as `data_keys`).

  python -m vtkit.keystore init <key_dir>             create every missing key (idempotent)
  python -m vtkit.keystore rotate <key_dir> <owner>   new generation of a tenant's field key: new data
                                                      uses it at once (no restart), old data still opens
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import sys

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vtkit.config import ConfigError
from vtkit.crypto import Ciphertext, Pseudonymizer, SealOpener, TenantCipher, generate_x25519_private
from vtkit.keys import (
    MASTER_KEY_ENV,
    DataKeyStore,
    LocalDataKeyStore,
    UnknownKey,
    dossier_key_id,
    load_master_key,
    private_dirs,
)
from vtkit.pki import ca_keys_in, init_pki, organisations
from vtkit.tenants import all_tenants

# Who identifiers and notices are sealed to: the matching services, and the RvdK (its requests from VT carry the
# children's identity and the reason: only the Raad opens them; docs/architecture.md "Outgoing notices").
SEAL_RECIPIENTS = ("radar", "verwijsindex", "rvdk")
# National data owners with their own field key (not VT tenants): see KeyStore.field_cipher. The notifier's encrypts
# the bodies of its notices to municipalities, receiving parties and professionals.
FIELD_KEY_OWNERS = ("verwijsindex", "notifier")


class KeyStoreUnusable(Exception):
    """The key store cannot serve this service: it must not start (or ever answer SERVING)."""


class KeyStore:
    def __init__(self, root: str | os.PathLike[str], data_keys: DataKeyStore | None = None):
        self.root = pathlib.Path(root)
        self._data_keys = data_keys
        self._readers: dict[str, TenantCipher] = {}

    @property
    def data_keys(self) -> DataKeyStore:
        """Field and dossier keys (opened lazily: the master key is needed only by who uses them)."""
        if self._data_keys is None:
            self._data_keys = LocalDataKeyStore(self.root)
        return self._data_keys

    def check_data_keys(self, owner: str) -> None:
        """At start, not at the first melding: the master key is there, well-formed and opens `owner`'s newest
        data key. Raises KeyStoreUnusable with a message for the operator (it names no key material)."""
        try:
            keys = self.data_keys
            keys.data_key(keys.current_key_id(owner))
        except FileNotFoundError as exc:
            raise KeyStoreUnusable(str(exc)) from None
        except KeyError as exc:  # UnknownKey: the key directory was never initialised for this owner
            raise KeyStoreUnusable(f"no data key for {owner}: {exc}") from None
        except (ValueError, InvalidTag):  # InvalidTag: wrapped under another master key
            raise KeyStoreUnusable(f"the master key does not open the data keys of {owner} (a wrong or corrupt "
                                   f"{MASTER_KEY_ENV} / master.key)") from None

    def _read_hex(self, *parts: str) -> bytes:
        path = self.root.joinpath(*parts)
        try:
            return bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            raise FileNotFoundError(f"key file {path} is missing: run `python -m vtkit.keystore init {self.root}`") from None

    def tenant_cipher(self, tenant_id: str) -> TenantCipher:
        """Encrypts under the tenant's newest key (looked up per call, so a rotation needs no restart);
        decrypts under any of its keys, dossier keys included, by the key id in the ciphertext."""
        keys = self.data_keys
        key_id = keys.current_key_id(tenant_id)
        return TenantCipher(tenant_id, key_id, keys.data_key(key_id), resolve=keys.data_key)

    def tenant_reader(self, tenant_id: str) -> TenantCipher:
        """A cipher that only opens the tenant's fields, each under the key it names: which key is newest does not
        matter to a reader, so it is made once per tenant instead of looking the newest key up per call (radar
        opens every identity of every melding with it). Not for encrypting: after a rotation it holds an older key."""
        reader = self._readers.get(tenant_id)
        if reader is None:
            reader = self._readers[tenant_id] = self.tenant_cipher(tenant_id)
        return reader

    def dossier_cipher(self, tenant_id: str, dossier_key: str) -> TenantCipher:
        """Encrypts under a dossier's key (vtkit.keys.dossier_key_id); decrypts like tenant_cipher."""
        keys = self.data_keys
        return TenantCipher(tenant_id, dossier_key, keys.data_key(dossier_key), resolve=keys.data_key)

    def case_cipher(self, tenant_id: str, case_id: str) -> TenantCipher:
        """The cipher for new data about a case: its dossier's key when it has one (a melding's case id is
        its dossier id), the tenant's newest key otherwise. KeyDestroyed when the dossier was destroyed."""
        try:
            return self.dossier_cipher(tenant_id, dossier_key_id(tenant_id, case_id))
        except UnknownKey:
            return self.tenant_cipher(tenant_id)

    def field_cipher(self, owner: str) -> TenantCipher:
        """Field cipher of a national owner such as the verwijsindex (key id "<owner>:<n>"). Services keep it
        for their lifetime, so it looks the newest key up at every encryption (a rotation needs no restart)."""
        return _LiveCipher(self, owner)

    def seal_public(self, recipient: str) -> bytes:
        return self._read_hex("seal", f"{recipient}.pub")

    def seal_opener(self, recipient: str) -> SealOpener:
        return SealOpener(recipient, self._read_hex("seal", f"{recipient}.key"))

    def pseudonymizer(self) -> Pseudonymizer:
        return Pseudonymizer(self._read_hex("pseudonym.key"))

    def audit_signer(self, service: str) -> Ed25519PrivateKey:
        """The key that signs `service`'s audit-log checkpoints: one per service, so one service's key cannot
        rewrite another's log."""
        return Ed25519PrivateKey.from_private_bytes(self._read_hex("audit", f"{audit_key_name(service)}.key"))

    def audit_public(self, service: str) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self._read_hex("audit", f"{audit_key_name(service)}.pub"))

    def tokens(self) -> dict[str, dict[str, str]]:
        return dict(json.loads((self.root / "tokens.json").read_text()))

    def token_for(self, tenant: str, role: str = "region") -> str:
        for token, who in self.tokens().items():
            if who["tenant"] == tenant and who["role"] == role:
                return token
        raise KeyError(f"no token for {tenant}/{role}")


class _LiveCipher(TenantCipher):
    """A long-lived cipher that follows rotations: encrypts under the owner's newest key at each call and
    decrypts under whichever of its keys a ciphertext names."""

    def __init__(self, keys: KeyStore, owner: str):
        current = keys.tenant_cipher(owner)
        super().__init__(owner, current.key_id, keys.data_keys.data_key(current.key_id),
                         resolve=keys.data_keys.data_key)
        self._keys = keys

    def encrypt(self, plaintext: bytes, *, event_id: str, field: str) -> Ciphertext:
        return self._keys.tenant_cipher(self.tenant_id).encrypt(plaintext, event_id=event_id, field=field)


def refuse_ca_key(key_dir: str | os.PathLike[str], service: str) -> None:
    """A service never starts with the CA's private key in its key dir: whoever reads that dir (the service, a
    backup, a mounted Secret) could issue any organisation's certificate (vtkit.pki; docs/architecture.md, "Keys
    and certificates"). A ConfigError naming the file(s)."""
    found = ca_keys_in(key_dir)
    if found:
        raise ConfigError(f"configuration error: {service} refuses to start: its key directory holds the CA private "
                          f"key ({', '.join(str(p) for p in found)}); the CA key belongs in the CA directory only "
                          "(VT_CA_DIR, used by `python -m vtkit.pki init`): move it there")


def usable_keys(key_dir: str, service: str, owner: str) -> KeyStore:
    """A service's key store, checked at start (never SERVING, then failing every request, without a usable key):
    no CA private key in it, the master key is there and opens `owner`'s newest data key. A ConfigError naming the
    service otherwise."""
    refuse_ca_key(key_dir, service)
    keys = KeyStore(key_dir)
    try:
        keys.check_data_keys(owner)
    except KeyStoreUnusable as exc:
        raise ConfigError(f"configuration error: {service}'s keys cannot be used: {exc}") from None
    return keys


def audit_services() -> list[str]:
    """Every service that keeps a NEN 7513 access log (vtkit.audit), by the name it writes in its records."""
    return ["radar", "verwijsindex", "notifier", *(f"intake/{t}" for t in all_tenants())]


def audit_key_name(service: str) -> str:
    """The file name of a service's audit key: "intake/utrecht" -> "intake-utrecht"."""
    return service.replace("/", "-")


def _write_secret(path: pathlib.Path, text: str) -> None:
    private_dirs(path.parent)
    if not path.exists():
        path.write_text(text)
        path.chmod(0o600)


def init_keys(root: str | os.PathLike[str]) -> KeyStore:
    """Create every missing key; existing keys are kept (idempotent)."""
    base = pathlib.Path(root)
    private_dirs(base)
    for directory in (base, *(d for d in base.rglob("*") if d.is_dir())):  # older installations: 0755
        directory.chmod(0o700)
    data_keys = LocalDataKeyStore(base, load_master_key(base, create=True))
    for owner in (*all_tenants(), *FIELD_KEY_OWNERS):
        data_keys.ensure_owner(owner)
    for recipient in SEAL_RECIPIENTS:
        private = base / "seal" / f"{recipient}.key"
        _write_secret(private, generate_x25519_private().hex())
        opener = SealOpener(recipient, bytes.fromhex(private.read_text().strip()))
        _write_secret(base / "seal" / f"{recipient}.pub", opener.public_key.hex())
    _write_secret(base / "pseudonym.key", secrets.token_hex(32))
    for service in audit_services():
        name = audit_key_name(service)
        _write_secret(base / "audit" / f"{name}.key", secrets.token_hex(32))  # an Ed25519 key is 32 random bytes
        audit_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex((base / "audit" / f"{name}.key").read_text()))
        _write_secret(base / "audit" / f"{name}.pub", audit_key.public_key().public_bytes_raw().hex())
    _ensure_tokens(base / "tokens.json")
    init_pki(base)  # mTLS certificates for every organisation and server
    return KeyStore(base)


def _ensure_tokens(path: pathlib.Path) -> None:
    """The dev-mode credentials (VT_GRPC_PLAINTEXT=1): one token per organisation that has a certificate. Existing
    tokens are kept; an organisation added since (a registrant organisation of registrants.toml) gets one."""
    tokens: dict[str, dict[str, str]] = json.loads(path.read_text()) if path.exists() else {}
    # The one identity every registrant organisation used to share: each has its own now (vtkit.registrants).
    shared = [t for t, who in tokens.items() if (who["tenant"], who["role"]) == ("national", "registrant")]
    for token in shared:
        del tokens[token]
    have = {(who["tenant"], who["role"]) for who in tokens.values()}
    added = bool(shared)
    for org in organisations():
        if (org.tenant, org.role) not in have:
            who = {"tenant": org.tenant, "role": org.role}
            if org.sector:
                who["sector"] = org.sector
            tokens[secrets.token_urlsafe(24)] = who
            added = True
    if added or not path.exists():
        private_dirs(path.parent)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(json.dumps(tokens, indent=1))
        os.replace(tmp, path)


def rotate_key(root: str | os.PathLike[str], owner: str) -> str:
    """A new generation of `owner`'s field key; the id of the new key."""
    if owner not in (*all_tenants(), *FIELD_KEY_OWNERS):
        raise ValueError(f"unknown key owner {owner!r}")
    return KeyStore(root).data_keys.rotate(owner)


__all__ = ["KeyStore", "dossier_key_id", "init_keys", "rotate_key"]

if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "init":
        init_keys(sys.argv[2])
        print(f"keys ready in {sys.argv[2]}")
    elif len(sys.argv) == 4 and sys.argv[1] == "rotate":
        try:
            print(f"new key {rotate_key(sys.argv[2], sys.argv[3])} in {sys.argv[2]}")
        except ValueError as exc:
            sys.exit(str(exc))
    else:
        sys.exit("usage: python -m vtkit.keystore init <key-dir> | rotate <key-dir> <tenant>")
