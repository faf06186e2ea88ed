"""Configuration from the environment, parsed once at start (vtkit.config)."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from dataclasses import dataclass

from vtkit.config import env, load_settings
from vtkit.kafka import KafkaSettings


@dataclass(frozen=True)
class ServiceSettings:
    key_dir: str = env("VT_KEY_DIR", doc="key directory (vtkit.keystore)")
    data_dir: str = env("VT_DATA_DIR", doc="directory of verwijsindex.sqlite3")
    grpc_port: int = env("GRPC_PORT", 0, doc="0 picks a free port")
    # Expiry is by calendar date, so a scan every few minutes is plenty; tests shorten it.
    expiry_scan_seconds: float = env("VERWIJSINDEX_EXPIRY_SCAN_SECONDS", 300.0)
    log_level: str = env("LOG_LEVEL", "INFO")

    @property
    def database(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / "verwijsindex.sqlite3"


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    kafka: KafkaSettings


def load(environ: Mapping[str, str] | None = None) -> Settings:
    return Settings(load_settings(ServiceSettings, environ), load_settings(KafkaSettings, environ))
