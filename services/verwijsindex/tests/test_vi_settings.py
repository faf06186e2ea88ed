"""Configuration: every missing variable is named at once; defaults for the optional ones."""

from __future__ import annotations

import pytest
from verwijsindex.settings import Settings
from vtkit.config import ConfigError, load_settings


def test_missing_variables_are_all_named() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(Settings, {})
    assert all(name in str(err.value) for name in ("VT_KEY_DIR", "VT_DATA_DIR", "KAFKA_BOOTSTRAP_SERVERS"))


def test_defaults() -> None:
    loaded = load_settings(Settings, {"VT_KEY_DIR": "/k", "VT_DATA_DIR": "/d", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092"})
    assert loaded.grpc_port == 0 and loaded.expiry_scan_seconds == 300.0
    assert str(loaded.database) == "/d/verwijsindex.sqlite3"
    assert loaded.kafka.bootstrap_servers == "127.0.0.1:9092"
