"""The dashboard's configuration, from the environment only (vtkit.config)."""

from __future__ import annotations

from dataclasses import dataclass

from vtkit.config import env, group
from vtkit.kafka import KafkaSettings


@dataclass(frozen=True)
class Settings:
    kafka: KafkaSettings = group(KafkaSettings, doc="the KAFKA_* variables (vtkit.kafka)")
    http_port: int = env("OPS_HTTP_PORT", 0)
    host: str = env("OPS_HOST", "127.0.0.1")
    metrics_urls: str = env("OPS_METRICS_URLS", "", doc="name=url,... of the services' /metrics: their outboxes "
                                                         "(backlog, quarantine), up/down and version on the dashboard")
    data_dir: str = env("VT_DATA_DIR", "", doc="where ops.sqlite3 keeps the operators' marks on dead letters (empty: "
                                               "in memory, lost at a restart)")
    redrive: bool = env("OPS_REDRIVE", False, doc="the dashboard's re-drive button works (the service then writes to "
                                                  "Kafka; in production re-drives run as the ops-redrive Job)")
    history_interval: float = env("OPS_HISTORY_INTERVAL", 10.0, doc="seconds between the chart's samples (24 h kept)")

    def metrics_endpoints(self) -> dict[str, str]:
        return dict(item.split("=", 1) for item in self.metrics_urls.split(",") if "=" in item)
