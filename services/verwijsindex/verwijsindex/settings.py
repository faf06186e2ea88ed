"""Configuration from the environment, parsed once at start (vtkit.config)."""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from dataclasses import dataclass

from vtkit.config import ConfigError, env, load_settings
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

    @property
    def audit_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / "audit-verwijsindex.jsonl"


@dataclass(frozen=True)
class Settings:
    service: ServiceSettings
    kafka: KafkaSettings


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Both groups are checked before failing, so one message names every missing variable."""
    errors: list[str] = []
    loaded: list[object] = []
    for cls in (ServiceSettings, KafkaSettings):
        try:
            loaded.append(load_settings(cls, environ))
        except ConfigError as exc:
            errors.append(str(exc).removeprefix("configuration error: "))
    if errors:
        raise ConfigError("configuration error: " + "; ".join(errors))
    service, kafka = loaded
    assert isinstance(service, ServiceSettings) and isinstance(kafka, KafkaSettings)
    return Settings(service, kafka)
