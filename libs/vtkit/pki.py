"""A local certificate authority for mutual TLS between every gRPC server and client.

Layout under `<key_dir>/pki/` (created by `python -m vtkit.pki init <key_dir>`, `make certs`, and by
vtkit.keystore.init_keys, so every test key dir and `make run` have it):
  ca.pem                             the CA's certificate (what every server and client trusts)
  servers/<name>.pem, .key           one server certificate per service or simulator
                                     (SAN: DNS localhost, DNS <name>, IP 127.0.0.1); also usable as
                                     a client certificate for health checks (it names no organisation)
  clients/<tenant>/<role>.pem, .key  one client certificate per organisation identity: every VT region, the
                                     national organisations, and every registrant organisation of the
                                     verwijsindex (clients/<organisation id>/registrant.pem: vtkit.registrants)
  signers/<org>.pem, .key            one Ed25519 record-signing key per organisation whose records cross an
                                     organisation boundary on Kafka (each region, the RvdK, the BRP): vtkit.signing

The CA's private key is never in a key dir: services read their key dir, and whoever holds the CA key can
issue any organisation's certificate. It lives in the CA dir, `ca.pem` and `ca.key` (VT_CA_DIR, default the
key dir's sibling `<key_dir>-ca`, e.g. var/keys-ca for var/keys), which only `init` reads; a service that finds
a CA private key in its key dir refuses to start (vtkit.keystore.refuse_ca_key; docs/architecture.md,
"Keys and certificates"). `init` moves the CA key of a key dir made before this rule to the CA dir.

The identity sits in the subject as O=<tenant>, OU=<role>, CN=<tenant>/<role> (a registrant organisation adds
its sector as businessCategory: vtkit.registrants); `identity_from_pem` accepts a certificate only when they
agree and it is meant for client authentication, so a server certificate (CN=<service>, no O/OU) never reads
as a caller. Creating is idempotent: existing files are kept, unless the key dir's leaves were issued by
another CA than the CA dir's (a CA made anew): then every leaf is reissued, since the old ones no longer verify.
In production the platform's CA issues these instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import ipaddress
import os
import pathlib
import sys
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vtkit.keys import private_dirs
from vtkit.registrants import REGISTRANT_ROLE, SECTORS, registrant_organisations, valid_organisation_id
from vtkit.tenants import all_tenants

# Every gRPC server of the suite, services and simulators alike.
SERVER_NAMES = ("intake", "radar", "verwijsindex", "notifier", "regional-system", "letter-gateway",
                "professional-endpoint", "rvdk")
NATIONAL_TENANT = "national"
# National organisations besides the 25 regions: the RvdK feed, operations, the notifier, the inspector
# (auditor) and radar, whose workers forward a call to the worker owning its case (vtkit.auth.ON_BEHALF_HEADER).
# The verwijsindex's registrant organisations (school, GP, police...) are no national role: each has a certificate
# of its own, with its sector (vtkit.registrants).
NATIONAL_ROLES = ("rvdk", "operations", "notifier", "inspector", "radar")
CA_DIR_ENV = "VT_CA_DIR"
CA_YEARS = 10
LEAF_DAYS = 825


@dataclass(frozen=True)
class Identity:
    tenant: str
    role: str
    # A registrant organisation's sector (vtkit.registrants.SECTORS); empty for every other organisation.
    sector: str = ""


def pki_dir(key_dir: str | os.PathLike[str]) -> pathlib.Path:
    return pathlib.Path(key_dir) / "pki"


def organisations() -> list[Identity]:
    """Every organisation that gets a client certificate."""
    return ([Identity(t, "region") for t in all_tenants()] + [Identity(NATIONAL_TENANT, r) for r in NATIONAL_ROLES]
            + registrants())


def registrants() -> list[Identity]:
    """The registrant organisations of the verwijsindex (configuration: vtkit.registrants)."""
    return [Identity(o.id, REGISTRANT_ROLE, o.sector) for o in registrant_organisations()]


def ca_dir(key_dir: str | os.PathLike[str]) -> pathlib.Path:
    """Where the CA's private key lives: VT_CA_DIR, else `<key_dir>-ca` beside the key dir, never inside it."""
    if os.environ.get(CA_DIR_ENV):
        return pathlib.Path(os.environ[CA_DIR_ENV])
    resolved = pathlib.Path(key_dir).resolve()
    return resolved.with_name(resolved.name + "-ca")


def server_names() -> tuple[str, ...]:
    return SERVER_NAMES


def client_paths(key_dir: str | os.PathLike[str], tenant: str, role: str) -> tuple[pathlib.Path, pathlib.Path]:
    base = pki_dir(key_dir) / "clients" / tenant
    return base / f"{role}.pem", base / f"{role}.key"


def server_paths(key_dir: str | os.PathLike[str], name: str) -> tuple[pathlib.Path, pathlib.Path]:
    base = pki_dir(key_dir) / "servers"
    return base / f"{name}.pem", base / f"{name}.key"


# Who signs its Kafka records (vtkit.signing): every region (its intake topic), the RvdK feed and the BRP feed.
RECORD_SIGNER_ROLE = "record-signer"
RVDK_SIGNER = "rvdk"
BRP_SIGNER = "brp"


def record_signers() -> list[str]:
    return [*all_tenants(), RVDK_SIGNER, BRP_SIGNER]


def signer_paths(key_dir: str | os.PathLike[str], org: str) -> tuple[pathlib.Path, pathlib.Path]:
    base = pki_dir(key_dir) / "signers"
    return base / f"{org}.pem", base / f"{org}.key"


# -- creating ------------------------------------------------------------------------------


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _write(path: pathlib.Path, data: bytes, secret: bool) -> None:
    private_dirs(path.parent)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)  # readers never see half a key


def _key_pem(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _create_ca(base: pathlib.Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vt-suite"),
                      x509.NameAttribute(NameOID.COMMON_NAME, "vt-suite local CA")])
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write(base / "ca.key", _key_pem(key), secret=True)
    _write(base / "ca.pem", cert.public_bytes(serialization.Encoding.PEM), secret=False)
    return cert, key


def _issue(ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey], subject: x509.Name,
           usages: list[x509.ObjectIdentifier], san: x509.SubjectAlternativeName | None,
           paths: tuple[pathlib.Path, pathlib.Path], signing_only: bool = False) -> None:
    ca_cert, ca_key = ca
    # A record-signing key is Ed25519 (small, fast, deterministic signatures) and may only sign.
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey = (
        ed25519.Ed25519PrivateKey.generate() if signing_only else ec.generate_private_key(ec.SECP256R1()))
    now = _now()
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=signing_only,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=not signing_only, key_cert_sign=False, crl_sign=False,
                                            encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False))
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write(paths[1], _key_pem(key), secret=True)
    _write(paths[0], cert.public_bytes(serialization.Encoding.PEM), secret=False)


def identity_subject(who: Identity) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, who.tenant),
                  x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, who.role),
                  x509.NameAttribute(NameOID.COMMON_NAME, f"{who.tenant}/{who.role}")]
    if who.sector:
        attributes.append(x509.NameAttribute(NameOID.BUSINESS_CATEGORY, who.sector))
    return x509.Name(attributes)


def server_san(name: str) -> x509.SubjectAlternativeName:
    dns = ["localhost", name]
    if name == "intake":  # one intake per region, reachable as intake-<tenant> (deploy/k8s/regions)
        dns += [f"intake-{t}" for t in all_tenants()]
    return x509.SubjectAlternativeName([*(x509.DNSName(d) for d in dns),
                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])


def _load_ca(directory: pathlib.Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    ca_cert = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    loaded = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{directory / 'ca.key'} is not an EC key")
    return ca_cert, loaded


def _move_legacy_ca_key(base: pathlib.Path, authority: pathlib.Path) -> str:
    """A key dir made before the CA key left it: move its CA (key and certificate) to the CA dir, or drop the key
    when the CA dir has one already (the leaves are then reissued under that CA). Returns what was done."""
    legacy = base / "ca.key"
    if not legacy.exists():
        return ""
    if (authority / "ca.key").exists():
        legacy.unlink()
        return f"removed the CA key {legacy} (the CA dir {authority} has its own)"
    _write(authority / "ca.key", legacy.read_bytes(), secret=True)
    if (base / "ca.pem").exists():
        _write(authority / "ca.pem", (base / "ca.pem").read_bytes(), secret=False)
    legacy.unlink()
    return f"moved the CA key {legacy} to {authority / 'ca.key'}"


def init_pki(key_dir: str | os.PathLike[str], ca_directory: str | os.PathLike[str] | None = None) -> pathlib.Path:
    """Create the CA (in the CA dir) and every missing server and client certificate (idempotent); returns the
    key dir's pki dir."""
    base = pki_dir(key_dir)
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o700)
    authority = pathlib.Path(ca_directory) if ca_directory is not None else ca_dir(key_dir)
    private_dirs(authority)
    moved = _move_legacy_ca_key(base, authority)
    if moved:
        print(f"vtkit.pki: {moved}", file=sys.stderr)
    if (authority / "ca.pem").exists() and (authority / "ca.key").exists():
        ca = _load_ca(authority)
    else:
        ca = _create_ca(authority)
    ca_cert_pem = ca[0].public_bytes(serialization.Encoding.PEM)
    # Leaves of another CA (the CA dir is new, or another one) no longer verify: reissue them all.
    fresh = not (base / "ca.pem").exists() or (base / "ca.pem").read_bytes() != ca_cert_pem
    if fresh:
        _write(base / "ca.pem", ca_cert_pem, secret=False)
    for name in SERVER_NAMES:
        paths = server_paths(key_dir, name)
        if fresh or not all(p.exists() for p in paths):
            # clientAuth too: the pod's health probe (python -m vtkit.grpcserver check) presents it. It
            # names no organisation, so it opens health and reflection only, never a service RPC.
            _issue(ca, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]),
                   [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH], server_san(name), paths)
    for who in organisations():
        paths = client_paths(key_dir, who.tenant, who.role)
        if fresh or not all(p.exists() for p in paths):
            _issue(ca, identity_subject(who), [ExtendedKeyUsageOID.CLIENT_AUTH], None, paths)
    # The one certificate every registrant organisation shared before each got its own: it names no sector, so
    # identity_from_pem refuses it anyway; removed so nobody hands it out.
    for legacy in client_paths(key_dir, NATIONAL_TENANT, REGISTRANT_ROLE):
        legacy.unlink(missing_ok=True)
    for org in record_signers():
        paths = signer_paths(key_dir, org)
        if fresh or not all(p.exists() for p in paths):
            _issue(ca, identity_subject(Identity(org, RECORD_SIGNER_ROLE)), [], None, paths, signing_only=True)
    return base


def ca_keys_in(key_dir: str | os.PathLike[str]) -> list[pathlib.Path]:
    """CA private keys found in a key dir: any file named ca.key, and any private key whose public key is the CA
    certificate's (pki/ca.pem), whatever its name. A service's key dir must have none (module docstring)."""
    root = pathlib.Path(key_dir)
    ca_public = b""
    with contextlib.suppress(OSError, ValueError):
        ca_public = _public_der(x509.load_pem_x509_certificate((pki_dir(root) / "ca.pem").read_bytes()).public_key())
    found = []
    # Real directories only (a Kubernetes projected volume links its entries into a timestamped directory, which
    # is walked); data-keys/ holds one wrapped key file per dossier, no PEM: skipped, or a start reads thousands.
    for directory, subdirs, files in os.walk(root):
        subdirs[:] = [d for d in subdirs if not (directory == str(root) and d == "data-keys")]
        for name in files:
            path = pathlib.Path(directory) / name
            if name == "ca.key":
                found.append(path)
            elif ca_public and _is_ca_key(path, ca_public):
                found.append(path)
    return sorted(set(found))


def _public_der(key: object) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,  # type: ignore[attr-defined, no-any-return]
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _is_ca_key(path: pathlib.Path, ca_public: bytes) -> bool:
    try:
        if path.stat().st_size > 16384:
            return False
        data = path.read_bytes()
        if b"PRIVATE KEY-----" not in data:
            return False
        return _public_der(serialization.load_pem_private_key(data, password=None).public_key()) == ca_public
    except (OSError, ValueError, TypeError):
        return False


# -- reading -------------------------------------------------------------------------------


def ca_pem(key_dir: str | os.PathLike[str]) -> bytes:
    return _read(pki_dir(key_dir) / "ca.pem", key_dir)


def _read(path: pathlib.Path, key_dir: str | os.PathLike[str]) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"certificate file {path} is missing: run `python -m vtkit.pki init {key_dir}` "
                                "(`make certs` for the local stack)") from None


def client_pair(key_dir: str | os.PathLike[str], tenant: str, role: str) -> tuple[bytes, bytes]:
    """(certificate chain, private key) PEM of organisation tenant/role."""
    cert, key = client_paths(key_dir, tenant, role)
    return _read(cert, key_dir), _read(key, key_dir)


def server_pair(key_dir: str | os.PathLike[str], name: str) -> tuple[bytes, bytes]:
    cert, key = server_paths(key_dir, name)
    return _read(cert, key_dir), _read(key, key_dir)


class NotAnIdentity(ValueError):
    """A verified certificate that does not name exactly one organisation identity."""


@functools.lru_cache(maxsize=1024)
def identity_from_pem(pem: bytes) -> Identity:
    """The tenant and role a (chain-verified) client certificate names. Cached: it is read on every call."""
    cert = x509.load_pem_x509_certificate(pem)

    def one(oid: x509.ObjectIdentifier) -> str:
        values = cert.subject.get_attributes_for_oid(oid)
        if len(values) != 1:
            raise NotAnIdentity(f"certificate subject needs exactly one {oid._name}")
        return str(values[0].value)

    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        raise NotAnIdentity("certificate has no extended key usage") from None
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise NotAnIdentity("certificate is not a client certificate")
    tenant = one(NameOID.ORGANIZATION_NAME)
    role = one(NameOID.ORGANIZATIONAL_UNIT_NAME)
    if one(NameOID.COMMON_NAME) != f"{tenant}/{role}" or not tenant or not role:
        raise NotAnIdentity("certificate subject O/OU/CN do not agree")
    sectors = cert.subject.get_attributes_for_oid(NameOID.BUSINESS_CATEGORY)
    if role != REGISTRANT_ROLE:
        if sectors:
            raise NotAnIdentity("only a registrant organisation's certificate names a sector")
        return Identity(tenant, role)
    # A registrant organisation: its own id (never a region's or "national": services that scope by tenant would
    # otherwise take it for that organisation) and exactly one sector (vtkit.registrants).
    sector = one(NameOID.BUSINESS_CATEGORY)
    if sector not in SECTORS:
        raise NotAnIdentity(f"registrant sector {sector!r} is not one of the seven")
    if not valid_organisation_id(tenant) or tenant in all_tenants() or tenant == NATIONAL_TENANT:
        raise NotAnIdentity("registrant organisation id is not <register>-<code>")
    return Identity(tenant, role, sector)


def main(argv: list[str]) -> int:
    args = argv[1:]
    ca_directory = None
    if len(args) == 4 and args[2] == "--ca-dir":
        ca_directory, args = args[3], args[:2]
    if len(args) != 2 or args[0] != "init":
        print("usage: python -m vtkit.pki init <key-dir> [--ca-dir <dir>]  (CA dir default: $VT_CA_DIR, else "
              "<key-dir>-ca)", file=sys.stderr)
        return 2
    base = init_pki(args[1], ca_directory)
    authority = pathlib.Path(ca_directory) if ca_directory else ca_dir(args[1])
    print(f"certificates ready in {base}: {len(SERVER_NAMES)} servers, {len(organisations())} organisations "
          f"({len(registrants())} registrant organisations); the CA key is in {authority}, outside the key dir")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
