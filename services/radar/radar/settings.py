"""radar's configuration, from the environment only (parsed once at start)."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from vtkit.config import ConfigError, env, group
from vtkit.kafka import KafkaSettings

TABLE_STORES = ("rocksdict", "memory")


@dataclass(frozen=True)
class Settings:
    key_dir: str = env("VT_KEY_DIR", doc="directory of the key store (radar reads its seal key and pseudonym key)")
    data_dir: str = env("VT_DATA_DIR", doc="local state; the table store lives in $VT_DATA_DIR/radar")
    kafka: KafkaSettings = group(KafkaSettings, doc="the KAFKA_* variables (vtkit.kafka; faust's broker too)")
    grpc_port: int = env("GRPC_PORT", 0)
    peer_address: str = env("RADAR_PEER_ADDRESS", "", doc="host:port at which the other radar workers reach this "
                            "one's gRPC service (a call about a case goes to the worker owning it: radar.workers); "
                            "empty: 127.0.0.1:GRPC_PORT")
    app_id: str = env("RADAR_APP_ID", "vt-radar", doc="faust app id = consumer group and changelog prefix")
    table_store: str = env("RADAR_TABLE_STORE", "rocksdict", doc="rocksdict (production) or memory (unit tests)")
    log_level: str = env("LOG_LEVEL", "INFO")
    monitoring_days: int = env("RADAR_MONITORING_DAYS", 548, doc="how long a household with safety conditions is followed")
    deadline_scan_seconds: float = env("RADAR_DEADLINE_SCAN_SECONDS", 30.0, doc="interval of the overdue-deadline scan")
    session_timeout: float = env("RADAR_SESSION_TIMEOUT", 10.0, doc="consumer group session timeout in seconds")

    def __post_init__(self) -> None:
        if self.table_store not in TABLE_STORES:
            raise ConfigError(f"configuration error: RADAR_TABLE_STORE must be one of {', '.join(TABLE_STORES)}")

    @property
    def advertised_address(self) -> str:
        """How the other workers reach this one. Two workers need RADAR_PEER_ADDRESS or a fixed GRPC_PORT: with
        port 0 (chosen at bind) every worker would name the same address, and each would answer for every case."""
        return self.peer_address or f"127.0.0.1:{self.grpc_port}"

    @property
    def state_dir(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / "radar"

    @property
    def outbox_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / "radar-outbox.sqlite3"

    @property
    def audit_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / "audit-radar.jsonl"

    @property
    def store_url(self) -> str:
        # faust's rocksdb store uses the rocksdict driver when python-rocksdb is absent.
        return "memory://" if self.table_store == "memory" else "rocksdb://"


# The name radar.app knows the settings by.
RadarSettings = Settings
