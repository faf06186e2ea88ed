"""`python -m vtkit.ops`: the operations dashboard on http://127.0.0.1:$OPS_HTTP_PORT/ (and /metrics)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

from vtkit import service
from vtkit.broker import wait_for_broker
from vtkit.config import env, load_settings
from vtkit.kafka import KafkaSettings
from vtkit.ops.dashboard import build_app
from vtkit.ops.observer import Observer

log = logging.getLogger("ops")


@dataclass(frozen=True)
class OpsSettings:
    http_port: int = env("OPS_HTTP_PORT", 0)
    host: str = env("OPS_HOST", "127.0.0.1")
    metrics_urls: str = env("OPS_METRICS_URLS", "", doc="name=url,... of the services' /metrics: their outboxes "
                                                         "(backlog, quarantine) on the dashboard")


async def main(stop: asyncio.Event) -> None:
    settings = load_settings(OpsSettings)
    kafka = load_settings(KafkaSettings)
    await wait_for_broker(kafka.bootstrap_servers)
    observer = Observer(kafka, metrics_urls=dict(item.split("=", 1) for item in settings.metrics_urls.split(",")
                                                  if "=" in item))
    await observer.start()
    runner = web.AppRunner(build_app(observer))
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.http_port)
    await site.start()
    port = runner.addresses[0][1]
    log.info("listening", extra={"http": f"http://{settings.host}:{port}/"})
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await observer.stop()


if __name__ == "__main__":
    service.run("ops", main)
