"""radar's faust app connects like the aiokafka clients: the KAFKA_* settings become faust
broker_credentials, and faust's own mapping back to aiokafka gives the same security settings."""

from __future__ import annotations

import pathlib

from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from radar.app import faust_app
from radar.settings import Settings
from vtkit.config import load_settings
from vtkit.kafka import KafkaSettings

SECURITY_KEYS = ("security_protocol", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password")


def _radar(tmp_path: pathlib.Path, **kafka_env: str) -> tuple[KafkaSettings, dict[str, object]]:
    settings = load_settings(Settings, {"VT_KEY_DIR": str(tmp_path), "VT_DATA_DIR": str(tmp_path),
                                        "RADAR_TABLE_STORE": "memory", "KAFKA_BOOTSTRAP_SERVERS": "k1:9093,k2:9093",
                                        **kafka_env})
    kafka = settings.kafka
    app = faust_app(settings, kafka)
    return kafka, dict(credentials_to_aiokafka_auth(app.conf.broker_credentials))


def test_plaintext_broker_gives_faust_no_credentials(tmp_path: pathlib.Path) -> None:
    _, auth = _radar(tmp_path)
    assert auth == {"security_protocol": "PLAINTEXT"}


def test_sasl_ssl_reaches_faust_as_in_the_aiokafka_clients(tmp_path: pathlib.Path) -> None:
    kafka, auth = _radar(tmp_path, KAFKA_SECURITY_PROTOCOL="SASL_SSL", KAFKA_SASL_MECHANISM="SCRAM-SHA-256",
                         KAFKA_SASL_USERNAME="vt-radar", KAFKA_SASL_PASSWORD="pw")
    client = kafka.client_kwargs()
    assert {k: auth[k] for k in SECURITY_KEYS} == {k: client[k] for k in SECURITY_KEYS} == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-256", "sasl_plain_username": "vt-radar",
        "sasl_plain_password": "pw"}
    assert auth["ssl_context"] is not None and auth["ssl_context"].check_hostname


def test_ssl_only_reaches_faust_as_ssl(tmp_path: pathlib.Path) -> None:
    _, auth = _radar(tmp_path, KAFKA_SECURITY_PROTOCOL="SSL")
    assert auth["security_protocol"] == "SSL" and auth["ssl_context"] is not None
