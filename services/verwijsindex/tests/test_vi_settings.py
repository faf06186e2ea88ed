"""Configuration: every missing variable is named at once; defaults for the optional ones."""

from __future__ import annotations

import pytest
from verwijsindex import settings
from vtkit.config import ConfigError


def test_missing_variables_are_all_named() -> None:
    with pytest.raises(ConfigError) as err:
        settings.load({})
    assert all(name in str(err.value) for name in ("VT_KEY_DIR", "VT_DATA_DIR", "KAFKA_BOOTSTRAP_SERVERS"))


def test_defaults() -> None:
    loaded = settings.load({"VT_KEY_DIR": "/k", "VT_DATA_DIR": "/d", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9092"})
    assert loaded.service.grpc_port == 0 and loaded.service.expiry_scan_seconds == 300.0
    assert str(loaded.service.database) == "/d/verwijsindex.sqlite3"
    assert loaded.kafka.bootstrap_servers == "127.0.0.1:9092"
