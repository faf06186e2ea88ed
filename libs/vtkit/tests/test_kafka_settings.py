"""KafkaSettings from the environment to aiokafka client kwargs: PLAINTEXT for the embedded broker,
SASL and TLS (CA, client certificate) for a production cluster, and refusal of half configurations.
No SASL/TLS broker runs here: the tests check the kwargs and the TLS context the clients receive."""

from __future__ import annotations

import datetime as dt
import pathlib
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from vtkit.config import ConfigError, load_settings
from vtkit.kafka import KafkaSettings


def _pem_pair(directory: pathlib.Path, name: str, issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
              ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer[0].subject if issuer else subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
            .sign(issuer[1] if issuer else key, hashes.SHA256()))
    (directory / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                              serialization.PrivateFormat.PKCS8,
                                                              serialization.NoEncryption()))
    return cert, key


@pytest.fixture()
def pki(tmp_path: pathlib.Path) -> pathlib.Path:
    ca = _pem_pair(tmp_path, "ca")
    _pem_pair(tmp_path, "client", issuer=ca)
    _pem_pair(tmp_path, "other")  # a key that does not belong to client.pem
    return tmp_path


def test_default_is_plaintext_without_tls_or_sasl() -> None:
    settings = load_settings(KafkaSettings, {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092"})
    assert settings.client_kwargs() == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    assert settings.ssl_context() is None


def test_sasl_ssl_passes_mechanism_user_password_and_a_verifying_tls_context(pki: pathlib.Path) -> None:
    settings = load_settings(KafkaSettings, {
        "KAFKA_BOOTSTRAP_SERVERS": "kafka-1.vt.example:9093,kafka-2.vt.example:9093",
        "KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_SASL_USERNAME": "vt-radar", "KAFKA_SASL_PASSWORD": "s3cret", "KAFKA_SSL_CAFILE": str(pki / "ca.pem")})
    kwargs = settings.client_kwargs()
    context = kwargs.pop("ssl_context")
    assert kwargs == {"bootstrap_servers": "kafka-1.vt.example:9093,kafka-2.vt.example:9093",
                      "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                      "sasl_plain_username": "vt-radar", "sasl_plain_password": "s3cret"}
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    # Only the configured CA is trusted (not the system store): its subject is the one loaded.
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "ca"),),)]


def test_sasl_plaintext_has_no_tls_context() -> None:
    settings = load_settings(KafkaSettings, {"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                                             "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "u",
                                             "KAFKA_SASL_PASSWORD": "p"})
    assert "ssl_context" not in settings.client_kwargs()
    assert settings.client_kwargs()["sasl_mechanism"] == "PLAIN"


def test_ssl_with_client_certificate_loads_the_key_pair(pki: pathlib.Path) -> None:
    environ = {"KAFKA_BOOTSTRAP_SERVERS": "k:9093", "KAFKA_SECURITY_PROTOCOL": "SSL",
               "KAFKA_SSL_CAFILE": str(pki / "ca.pem"), "KAFKA_SSL_CERTFILE": str(pki / "client.pem"),
               "KAFKA_SSL_KEYFILE": str(pki / "client.key")}
    kwargs = load_settings(KafkaSettings, environ).client_kwargs()
    assert kwargs["security_protocol"] == "SSL" and "sasl_mechanism" not in kwargs
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)
    # The pair is really loaded: a key that does not match the certificate is refused at start.
    mismatched = load_settings(KafkaSettings, {**environ, "KAFKA_SSL_KEYFILE": str(pki / "other.key")})
    with pytest.raises(ssl.SSLError):
        mismatched.client_kwargs()


@pytest.mark.parametrize(("environ", "message"), [
    ({"KAFKA_SECURITY_PROTOCOL": "SASL-SSL"}, "is not one of"),
    ({"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs KAFKA_SASL_MECHANISM"),
    ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTFILE": "/x.pem"}, "go together"),
])
def test_half_configurations_stop_the_service(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(KafkaSettings, {"KAFKA_BOOTSTRAP_SERVERS": "k:9093", **environ})
