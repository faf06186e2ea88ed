"""`python -m ops`: the operations dashboard on http://127.0.0.1:$OPS_HTTP_PORT/ (and /metrics)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web
from vtkit import service
from vtkit.config import env, load_settings
from vtkit.kafka import KafkaSettings
from vtkit.service import wait_for_broker

from ops.dashboard import build_app
from ops.deadletters import HandledStore
from ops.observer import History, Observer

log = logging.getLogger("ops")


@dataclass(frozen=True)
class OpsSettings:
    http_port: int = env("OPS_HTTP_PORT", 0)
    host: str = env("OPS_HOST", "127.0.0.1")
    metrics_urls: str = env("OPS_METRICS_URLS", "", doc="name=url,... of the services' /metrics: their outboxes "
                                                         "(backlog, quarantine), up/down and version on the dashboard")
    data_dir: str = env("VT_DATA_DIR", "", doc="where ops.sqlite3 keeps the operators' marks on dead letters (empty: "
                                               "in memory, lost at a restart)")
    redrive: bool = env("OPS_REDRIVE", False, doc="the dashboard's re-drive button works (the service then writes to "
                                                  "Kafka; in production re-drives run as the ops-redrive Job)")
    history_interval: float = env("OPS_HISTORY_INTERVAL", 10.0, doc="seconds between the chart's samples (24 h kept)")


async def main(stop: asyncio.Event) -> None:
    settings = load_settings(OpsSettings)
    kafka = load_settings(KafkaSettings)
    await wait_for_broker(kafka.bootstrap_servers)
    if not settings.data_dir:
        log.warning("VT_DATA_DIR not set: marks on dead letters are kept in memory only")
    marks = HandledStore.in_dir(settings.data_dir or None)
    observer = Observer(kafka, metrics_urls=dict(item.split("=", 1) for item in settings.metrics_urls.split(",")
                                                  if "=" in item), marks=marks)
    await observer.start()
    history = History(interval=settings.history_interval)
    sampling = asyncio.create_task(history.run(observer))
    runner = web.AppRunner(build_app(observer, history, kafka if settings.redrive else None))
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.http_port)
    await site.start()
    port = runner.addresses[0][1]
    log.info("listening", extra={"http": f"http://{settings.host}:{port}/"})
    try:
        await stop.wait()
    finally:
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
        await runner.cleanup()
        await observer.stop()
        marks.close()


if __name__ == "__main__":
    service.run("ops", main)
