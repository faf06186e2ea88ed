"""Configuration from the environment, parsed once at start (vtkit.config)."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from vtkit.config import env, group
from vtkit.kafka import KafkaSettings


@dataclass(frozen=True)
class Settings:
    key_dir: str = env("VT_KEY_DIR", doc="key directory (vtkit.keystore)")
    data_dir: str = env("VT_DATA_DIR", doc="directory of verwijsindex.sqlite3")
    kafka: KafkaSettings = group(KafkaSettings, doc="the KAFKA_* variables (vtkit.kafka)")
    grpc_port: int = env("GRPC_PORT", 0, doc="0 picks a free port")
    # Expiry is by calendar date, so a scan every few minutes is plenty; tests shorten it.
    expiry_scan_seconds: float = env("VERWIJSINDEX_EXPIRY_SCAN_SECONDS", 300.0)
    log_level: str = env("LOG_LEVEL", "INFO")

    @property
    def database(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / "verwijsindex.sqlite3"

    @property
    def audit_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / "audit-verwijsindex.jsonl"
