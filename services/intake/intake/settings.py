"""Configuration of one intake process, from the environment only (vtkit.config)."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from vtkit.config import env


@dataclass(frozen=True)
class Settings:
    tenant: str = env("VT_TENANT", doc="the VT organisation this intake serves (tenants.toml id)")
    key_dir: str = env("VT_KEY_DIR", doc="key directory (vtkit.keystore)")
    data_dir: str = env("VT_DATA_DIR", doc="where the SQLite store and audit log live")
    grpc_port: int = env("GRPC_PORT", 0, doc="0 picks a free port")
    http_host: str = env("HTTP_HOST", "127.0.0.1", doc="interface of the meldformulier (web)")
    http_port: int = env("HTTP_PORT", 0, doc="port of the meldformulier; 0 picks a free port")
    retention_sweep_seconds: float = env("VT_RETENTION_SWEEP_SECONDS", 3600.0,
                                         doc="how often dossiers past the 20-year retention are destroyed")

    @property
    def database_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / f"intake-{self.tenant}.sqlite3"

    @property
    def audit_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / f"audit-intake-{self.tenant}.jsonl"
