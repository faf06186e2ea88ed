"""vtkit.pki: the local CA and the certificates `python -m vtkit.pki init` (and `make certs`) creates."""

from __future__ import annotations

import pathlib
import stat
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from vtkit import pki
from vtkit.registrants import SECTORS, example, registrant_organisations
from vtkit.tenants import all_tenants

NATIONAL_ROLES = {"rvdk", "operations", "notifier", "inspector", "radar"}


def init(key_dir: pathlib.Path) -> str:
    done = subprocess.run([sys.executable, "-m", "vtkit.pki", "init", str(key_dir)], capture_output=True, text=True,
                          check=True)
    return done.stdout


def snapshot(key_dir: pathlib.Path) -> dict[str, bytes]:
    return {str(p.relative_to(key_dir)): p.read_bytes() for p in sorted((key_dir / "pki").rglob("*")) if p.is_file()}


def load(path: pathlib.Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_init_creates_one_certificate_per_organisation_and_is_idempotent(tmp_path: pathlib.Path) -> None:
    init(tmp_path)
    first = snapshot(tmp_path)
    clients = sorted((tmp_path / "pki" / "clients").rglob("*.pem"))
    identities = {(p.parent.name, p.stem) for p in clients}
    assert len(all_tenants()) == 25
    registrants = {(o.id, "registrant") for o in registrant_organisations()}
    assert identities == {(t, "region") for t in all_tenants()} | {("national", r) for r in NATIONAL_ROLES} | registrants
    assert len(clients) == 25 + len(NATIONAL_ROLES) + len(registrants)
    # A few example organisations of every sector (registrants.toml), each with a certificate of its own.
    assert {o.sector for o in registrant_organisations()} == set(SECTORS)
    assert not (tmp_path / "pki" / "ca.key").exists() and (pki.ca_dir(tmp_path) / "ca.key").exists()
    init(tmp_path)
    assert snapshot(tmp_path) == first, "a second init must keep every key and certificate"


def test_subject_names_the_identity_and_chains_to_the_ca(tmp_path: pathlib.Path) -> None:
    pki.init_pki(tmp_path)
    ca = load(tmp_path / "pki" / "ca.pem")
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert (ca.not_valid_after_utc - ca.not_valid_before_utc).days >= 365 * 10
    cert_path, key_path = pki.client_paths(tmp_path, "utrecht", "region")
    cert = load(cert_path)
    cert.verify_directly_issued_by(ca)
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == ["utrecht"]
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)] == ["region"]
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "utrecht/region"
    assert pki.identity_from_pem(cert_path.read_bytes()) == pki.Identity("utrecht", "region")
    inspector = pki.client_paths(tmp_path, "national", "inspector")[0].read_bytes()
    assert pki.identity_from_pem(inspector) == pki.Identity("national", "inspector")
    for key in [key_path, pki.ca_dir(tmp_path) / "ca.key", pki.server_paths(tmp_path, "radar")[1]]:
        assert stat.S_IMODE(key.stat().st_mode) == 0o600, key


def test_server_certificates_name_their_service_and_are_no_caller(tmp_path: pathlib.Path) -> None:
    pki.init_pki(tmp_path)
    for name in pki.SERVER_NAMES:
        cert_path, _ = pki.server_paths(tmp_path, name)
        cert = load(cert_path)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert {"localhost", name} <= set(san.get_values_for_type(x509.DNSName))
        assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
        assert ExtendedKeyUsageOID.SERVER_AUTH in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        with pytest.raises(pki.NotAnIdentity):
            pki.identity_from_pem(cert_path.read_bytes())


def test_a_new_ca_reissues_every_certificate(tmp_path: pathlib.Path) -> None:
    pki.init_pki(tmp_path)
    (pki.ca_dir(tmp_path) / "ca.key").unlink()
    pki.init_pki(tmp_path)
    ca = load(tmp_path / "pki" / "ca.pem")
    for cert_path in (tmp_path / "pki").rglob("*.pem"):
        if cert_path.name != "ca.pem":
            load(cert_path).verify_directly_issued_by(ca)


def test_cli_usage() -> None:
    done = subprocess.run([sys.executable, "-m", "vtkit.pki"], capture_output=True, text=True)
    assert done.returncode == 2 and "usage" in done.stderr


async def test_a_grpc_server_listens_on_grpc_host_when_the_deployment_sets_it(tmp_path, monkeypatch) -> None:
    # async: grpc.aio servers are built inside an event loop (the services' own)
    from vtkit.grpcserver import GrpcServer
    from vtkit.keystore import init_keys

    keys = init_keys(tmp_path / "keys")
    assert GrpcServer(0, keys, "intake").host == "127.0.0.1"
    monkeypatch.setenv("GRPC_HOST", "0.0.0.0")
    server = GrpcServer(0, keys, "intake")
    assert server.host == "0.0.0.0" and server.port > 0


def test_every_organisation_with_a_certificate_also_has_a_dev_mode_token(tmp_path) -> None:
    from vtkit.keystore import init_keys
    from vtkit.pki import organisations

    keys = init_keys(tmp_path / "keys")
    for org in organisations():
        assert keys.token_for(org.tenant, org.role)


async def test_grpc_health_port_answers_kubelets_plaintext_probe_with_health_only(tmp_path, monkeypatch) -> None:
    # deploy/k8s probes with kubelet's native `grpc:` probe, which has no TLS: GRPC_HEALTH_PORT serves the
    # health service (and only it) in plaintext, with the main server's statuses.
    import grpc
    from devstack.broker import free_port
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
    from vtkit.grpcserver import GrpcServer
    from vtkit.keystore import init_keys

    keys = init_keys(tmp_path / "keys")
    assert GrpcServer(0, keys, "radar").health_server is None  # off unless the deployment asks
    monkeypatch.setenv("GRPC_HEALTH_PORT", "0")
    assert GrpcServer(0, keys, "radar").health_server is None
    monkeypatch.setenv("GRPC_HEALTH_PORT", str(free_port()))
    server = GrpcServer(0, keys, "radar")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.health_port}") as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            await server.set_part("vt.outbox", False)
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service="vt.outbox"),
                                                                    timeout=3)
            assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
            with pytest.raises(grpc.aio.AioRpcError) as refused:  # reflection, like every real service: not here
                stub = reflection_pb2_grpc.ServerReflectionStub(channel)
                async for _ in stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                         timeout=3):
                    pass
            assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel:  # the main port stays mTLS
            with pytest.raises(grpc.aio.AioRpcError):
                await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=3)
    finally:
        await server.stop(0)


# -- registrant organisations (vtkit.registrants) and where the CA key lives ------------------------------------


def _ca(key_dir: pathlib.Path) -> tuple[x509.Certificate, object]:
    authority = pki.ca_dir(key_dir)
    key = serialization.load_pem_private_key((authority / "ca.key").read_bytes(), password=None)
    return load(authority / "ca.pem"), key


def test_a_registrant_certificate_names_its_organisation_and_sector(tmp_path: pathlib.Path) -> None:
    pki.init_pki(tmp_path)
    school = example("education")
    cert_path, _ = pki.client_paths(tmp_path, school.id, "registrant")
    cert = load(cert_path)
    cert.verify_directly_issued_by(load(tmp_path / "pki" / "ca.pem"))
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [school.id]
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)] == ["registrant"]
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.BUSINESS_CATEGORY)] == ["education"]
    assert pki.identity_from_pem(cert_path.read_bytes()) == pki.Identity(school.id, "registrant", "education")
    # No organisation shares a certificate any more: the old national/registrant one is gone.
    assert not pki.client_paths(tmp_path, "national", "registrant")[0].exists()


@pytest.mark.parametrize("who", [
    pki.Identity("national", "registrant"),            # the certificate every registrant shared: no sector
    pki.Identity("brin-01ab", "registrant"),           # no sector
    pki.Identity("brin-01ab", "registrant", "bakery"),  # not one of the seven sectors
    pki.Identity("utrecht", "registrant", "education"),  # a region's id: radar and the notifier scope by tenant
    pki.Identity("national", "registrant", "education"),
    pki.Identity("utrecht", "region", "education"),     # only a registrant names a sector
])
def test_a_registrant_certificate_without_its_own_id_and_sector_is_no_identity(
        tmp_path: pathlib.Path, who: pki.Identity) -> None:
    pki.init_pki(tmp_path)
    paths = (tmp_path / "forged.pem", tmp_path / "forged.key")
    pki._issue(_ca(tmp_path), pki.identity_subject(who), [ExtendedKeyUsageOID.CLIENT_AUTH], None, paths)  # type: ignore[arg-type]
    with pytest.raises(pki.NotAnIdentity):
        pki.identity_from_pem(paths[0].read_bytes())


def test_the_ca_key_stays_outside_the_key_dir_and_an_old_one_is_moved_out(tmp_path: pathlib.Path) -> None:
    key_dir = tmp_path / "keys"
    pki.init_pki(key_dir)
    assert pki.ca_dir(key_dir) == tmp_path / "keys-ca"
    assert pki.ca_keys_in(key_dir) == []
    before = snapshot(key_dir)
    # A key dir of before: the CA key under pki/. init moves it to the CA dir and keeps every certificate.
    (pki.ca_dir(key_dir) / "ca.key").rename(key_dir / "pki" / "ca.key")
    assert pki.ca_keys_in(key_dir) == [key_dir / "pki" / "ca.key"]
    out = subprocess.run([sys.executable, "-m", "vtkit.pki", "init", str(key_dir)], capture_output=True, text=True,
                         check=True)
    assert "moved the CA key" in out.stderr
    assert not (key_dir / "pki" / "ca.key").exists() and (tmp_path / "keys-ca" / "ca.key").exists()
    assert snapshot(key_dir) == before
    # Under another name it is still found: by its public key, the CA certificate's.
    (key_dir / "spare.key").write_bytes((tmp_path / "keys-ca" / "ca.key").read_bytes())
    assert pki.ca_keys_in(key_dir) == [key_dir / "spare.key"]


def test_vt_ca_dir_and_the_cli_option_choose_the_ca_dir(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    init_out = subprocess.run([sys.executable, "-m", "vtkit.pki", "init", str(tmp_path / "a"), "--ca-dir",
                               str(tmp_path / "authority")], capture_output=True, text=True, check=True).stdout
    assert (tmp_path / "authority" / "ca.key").exists() and str(tmp_path / "authority") in init_out
    monkeypatch.setenv(pki.CA_DIR_ENV, str(tmp_path / "authority"))
    pki.init_pki(tmp_path / "b")  # the same CA: both key dirs trust each other's certificates
    assert (tmp_path / "a" / "pki" / "ca.pem").read_bytes() == (tmp_path / "b" / "pki" / "ca.pem").read_bytes()
    assert not (tmp_path / "b-ca").exists()


def test_an_old_tokens_file_gets_a_token_per_registrant_organisation_with_its_sector(tmp_path: pathlib.Path) -> None:
    """Plaintext dev mode names callers by tokens.json: the shared national/registrant token goes, each registrant
    organisation gets its own, with the sector its certificate names; existing tokens are kept."""
    import json

    from vtkit.auth import Caller, TokenAuthInterceptor
    from vtkit.keystore import init_keys

    keys = init_keys(tmp_path / "keys")
    tokens = keys.tokens()
    school = example("education")
    kept = {t: w for t, w in tokens.items() if w["role"] != "registrant"}
    (keys.root / "tokens.json").write_text(json.dumps({**kept, "old": {"tenant": "national", "role": "registrant"}}))
    init_keys(keys.root)
    again = keys.tokens()
    assert "old" not in again and kept.items() <= again.items()
    token = keys.token_for(school.id, "registrant")
    assert again[token] == {"tenant": school.id, "role": "registrant", "sector": "education"}
    assert TokenAuthInterceptor(again)._tokens[token] == Caller(school.id, "registrant", sector="education")
