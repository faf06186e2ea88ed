"""Composition root of the dashboard: the dead-letter marks, the observer and the web app, from the settings."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web
from vtkit.service import wait_for_broker

from ops.dashboard import build_app
from ops.deadletters import HandledStore
from ops.observer import History, Observer
from ops.settings import Settings

log = logging.getLogger("ops")


@dataclass
class OpsApp:
    settings: Settings
    marks: HandledStore
    observer: Observer
    history: History

    async def run(self, stop: asyncio.Event) -> None:
        settings = self.settings
        await wait_for_broker(settings.kafka.bootstrap_servers)
        await self.observer.start()
        sampling = asyncio.create_task(self.history.run(self.observer))
        runner = web.AppRunner(build_app(self.observer, self.history, settings.kafka if settings.redrive else None))
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
            await self.observer.stop()
            self.marks.close()


def bootstrap(settings: Settings) -> OpsApp:
    if not settings.data_dir:
        log.warning("VT_DATA_DIR not set: marks on dead letters are kept in memory only")
    marks = HandledStore.in_dir(settings.data_dir or None)
    observer = Observer(settings.kafka, metrics_urls=settings.metrics_endpoints(), marks=marks)
    return OpsApp(settings, marks, observer, History(interval=settings.history_interval))
