"""Configuration of one intake process, from the environment only (vtkit.config)."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from vtkit.config import env, group
from vtkit.kafka import KafkaSettings


@dataclass(frozen=True)
class Settings:
    tenant: str = env("VT_TENANT", doc="the VT organisation this intake serves (tenants.toml id)")
    key_dir: str = env("VT_KEY_DIR", doc="key directory (vtkit.keystore)")
    data_dir: str = env("VT_DATA_DIR", doc="where the SQLite store and audit log live")
    kafka: KafkaSettings = group(KafkaSettings, doc="the KAFKA_* variables (vtkit.kafka)")
    grpc_port: int = env("GRPC_PORT", 0, doc="0 picks a free port")
    http_host: str = env("HTTP_HOST", "127.0.0.1", doc="interface of the meldformulier (web)")
    http_port: int = env("HTTP_PORT", 0, doc="port of the meldformulier; 0 picks a free port")
    # The form as a hardened edge (intake.web.edge, docs/architecture.md "The public form as an edge").
    http_max_connections: int = env("HTTP_MAX_CONNECTIONS", 256, doc="open HTTP connections; more are answered 503")
    http_max_concurrent_requests: int = env("HTTP_MAX_CONCURRENT_REQUESTS", 16,
                                            doc="form requests handled at once; the rest wait (HTTP_QUEUE_SECONDS)")
    http_queue_seconds: float = env("HTTP_QUEUE_SECONDS", 5.0, doc="longest wait for a request slot, then 503")
    http_idle_timeout_seconds: float = env("HTTP_IDLE_TIMEOUT_SECONDS", 15.0,
                                           doc="request headers must arrive within this; also the keep-alive idle time")
    http_body_timeout_seconds: float = env("HTTP_BODY_TIMEOUT_SECONDS", 30.0, doc="a form body must arrive within this")
    http_backlog: int = env("HTTP_BACKLOG", 64, doc="listen backlog of the form's socket")
    form_pow_bits: int = env("VT_FORM_POW_BITS", 12, doc="proof-of-work difficulty of the form (0 = none needed)")
    # Few: each thread woken for a blocking call competes with the event loop for the GIL; bench_intake measured
    # about 5-7% less CPU per melding with 2 than with asyncio's default (cores + 4), at the same acknowledgement rate.
    blocking_threads: int = env("VT_BLOCKING_THREADS", 2,
                                doc="worker threads for blocking calls (SQLite, key files, the access log); at least 1")
    retention_sweep_seconds: float = env("VT_RETENTION_SWEEP_SECONDS", 3600.0,
                                         doc="how often dossiers past the 20-year retention are destroyed")

    @property
    def database_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / f"intake-{self.tenant}.sqlite3"

    @property
    def audit_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / f"audit-intake-{self.tenant}.jsonl"
