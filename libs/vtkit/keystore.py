"""Local key store: a directory of key files (the embedded default).

Layout of VT_KEY_DIR (created by `python -m vtkit.keystore init`, done by `make run`
and by the test fixtures):
  tenants/<tenant>.key        32 random bytes, hex: the tenant's field key (key id "<tenant>:1")
  seal/<service>.key          X25519 private key, hex (radar, verwijsindex only)
  seal/<service>.pub          its public key, hex (every intake may read it)
  pseudonym.key               HMAC key, hex (radar and verwijsindex only)
  fields/<owner>.key          32 random bytes, hex: field key of a national owner that is not a VT
                              tenant (verwijsindex: registrant contact details, opened by notifier)
  audit.key                   Ed25519 private key, hex: signs audit-log checkpoints (vtkit.audit)
  audit.pub                   its public key, hex (what the verifier needs)
  tokens.json                 bearer token -> {"tenant": ..., "role": ...} for gRPC callers
A service reads only what it is entitled to; in production this is a KMS/HSM.
"""

from __future__ import annotations

import json
import os
import pathlib
import secrets
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vtkit.crypto import Pseudonymizer, SealOpener, TenantCipher, generate_x25519_private
from vtkit.tenants import all_tenants

SEAL_RECIPIENTS = ("radar", "verwijsindex")
SERVICE_ROLES = ("rvdk", "operations", "notifier", "inspector")
# National data owners with their own field key (not VT tenants): see KeyStore.field_cipher.
FIELD_KEY_OWNERS = ("verwijsindex",)


class KeyStore:
    def __init__(self, root: str | os.PathLike[str]):
        self.root = pathlib.Path(root)

    def _read_hex(self, *parts: str) -> bytes:
        path = self.root.joinpath(*parts)
        try:
            return bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            raise FileNotFoundError(f"key file {path} is missing: run `python -m vtkit.keystore init {self.root}`") from None

    def tenant_cipher(self, tenant_id: str) -> TenantCipher:
        return TenantCipher(tenant_id, f"{tenant_id}:1", self._read_hex("tenants", f"{tenant_id}.key"))

    def field_cipher(self, owner: str) -> TenantCipher:
        """Field cipher of a national owner such as the verwijsindex (key id "<owner>:1")."""
        return TenantCipher(owner, f"{owner}:1", self._read_hex("fields", f"{owner}.key"))

    def seal_public(self, recipient: str) -> bytes:
        return self._read_hex("seal", f"{recipient}.pub")

    def seal_opener(self, recipient: str) -> SealOpener:
        return SealOpener(recipient, self._read_hex("seal", f"{recipient}.key"))

    def pseudonymizer(self) -> Pseudonymizer:
        return Pseudonymizer(self._read_hex("pseudonym.key"))

    def audit_signer(self) -> Ed25519PrivateKey:
        """The key that signs audit-log checkpoints (created by `init` in key dirs made before it existed)."""
        return Ed25519PrivateKey.from_private_bytes(self._read_hex("audit.key"))

    def audit_public(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(self._read_hex("audit.pub"))

    def tokens(self) -> dict[str, dict[str, str]]:
        return dict(json.loads((self.root / "tokens.json").read_text()))

    def token_for(self, tenant: str, role: str = "region") -> str:
        for token, who in self.tokens().items():
            if who["tenant"] == tenant and who["role"] == role:
                return token
        raise KeyError(f"no token for {tenant}/{role}")


def _write_secret(path: pathlib.Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(text)
        path.chmod(0o600)


def init_keys(root: str | os.PathLike[str]) -> KeyStore:
    """Create every missing key; existing keys are kept (idempotent)."""
    base = pathlib.Path(root)
    for tenant in all_tenants():
        _write_secret(base / "tenants" / f"{tenant}.key", secrets.token_hex(32))
    for owner in FIELD_KEY_OWNERS:
        _write_secret(base / "fields" / f"{owner}.key", secrets.token_hex(32))
    for recipient in SEAL_RECIPIENTS:
        private = base / "seal" / f"{recipient}.key"
        _write_secret(private, generate_x25519_private().hex())
        opener = SealOpener(recipient, bytes.fromhex(private.read_text().strip()))
        _write_secret(base / "seal" / f"{recipient}.pub", opener.public_key.hex())
    _write_secret(base / "pseudonym.key", secrets.token_hex(32))
    _write_secret(base / "audit.key", secrets.token_hex(32))  # an Ed25519 private key is 32 random bytes
    audit_key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex((base / "audit.key").read_text().strip()))
    _write_secret(base / "audit.pub", audit_key.public_key().public_bytes_raw().hex())
    tokens_path = base / "tokens.json"
    if not tokens_path.exists():
        tokens = {secrets.token_urlsafe(24): {"tenant": t, "role": "region"} for t in all_tenants()}
        tokens.update({secrets.token_urlsafe(24): {"tenant": "national", "role": r} for r in SERVICE_ROLES})
        _write_secret(tokens_path, json.dumps(tokens, indent=1))
    from vtkit.pki import init_pki  # mTLS certificates for every organisation and server (issue 7)
    init_pki(base)
    return KeyStore(base)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "init":
        sys.exit("usage: python -m vtkit.keystore init <key-dir>")
    init_keys(sys.argv[2])
    print(f"keys ready in {sys.argv[2]}")
