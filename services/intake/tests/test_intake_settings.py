"""Configuration comes from the environment; a missing or wrong value stops the service with its name."""

from __future__ import annotations

import pathlib

import pytest
from intake.bootstrap import bootstrap
from intake.settings import Settings
from vtkit.config import ConfigError, load_settings
from vtkit.kafka import KafkaSettings

REQUIRED = {"VT_TENANT": "t", "VT_KEY_DIR": "/k", "VT_DATA_DIR": "/d", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092"}


def test_required_variables_are_named_when_missing() -> None:
    with pytest.raises(ConfigError, match="VT_TENANT, VT_KEY_DIR, VT_DATA_DIR, KAFKA_BOOTSTRAP_SERVERS"):
        load_settings(Settings, {})


def test_settings_are_typed_and_name_the_files() -> None:
    settings = load_settings(Settings, {**REQUIRED, "VT_TENANT": "zeeland", "GRPC_PORT": "5050"})
    assert settings.grpc_port == 5050
    assert settings.kafka.bootstrap_servers == "127.0.0.1:9092"  # the KAFKA_* group (vtkit.config.group)
    assert settings.database_path == pathlib.Path("/d/intake-zeeland.sqlite3")
    assert settings.audit_path == pathlib.Path("/d/audit-intake-zeeland.jsonl")
    defaults = load_settings(Settings, REQUIRED)
    assert defaults.grpc_port == 0
    # The meldformulier listens on loopback and a free port unless told otherwise.
    assert (defaults.http_host, defaults.http_port) == ("127.0.0.1", 0)
    assert load_settings(Settings, {**REQUIRED, "HTTP_PORT": "8080"}).http_port == 8080


def test_an_unknown_tenant_stops_the_service() -> None:
    with pytest.raises(ConfigError, match="VT_TENANT.*atlantis"):
        bootstrap(Settings(tenant="atlantis", key_dir="/k", data_dir="/d", kafka=KafkaSettings(bootstrap_servers="x:1")))


def test_blocking_calls_get_two_threads_unless_told_and_never_none() -> None:
    assert load_settings(Settings, REQUIRED).blocking_threads == 2
    assert load_settings(Settings, {**REQUIRED, "VT_BLOCKING_THREADS": "4"}).blocking_threads == 4
    with pytest.raises(ConfigError, match="VT_BLOCKING_THREADS"):
        bootstrap(Settings(tenant="groningen", key_dir="/k", data_dir="/d", blocking_threads=0,
                           kafka=KafkaSettings(bootstrap_servers="x:1")))
