"""Entrypoint helper: JSON logs, /metrics when METRICS_PORT is set, graceful stop on SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable

from vtkit import metrics
from vtkit.logs import setup_logging


def run(service: str, main: Callable[[asyncio.Event], Awaitable[None]], level: str = "INFO") -> None:
    """Run `main(stop)` until it returns; SIGTERM/SIGINT set `stop` so it can drain and exit."""
    setup_logging(service, level)
    log = logging.getLogger(service)
    if os.environ.get("METRICS_PORT"):
        port = metrics.serve(int(os.environ["METRICS_PORT"]), os.environ.get("METRICS_HOST", "127.0.0.1"))
        log.info("metrics", extra={"metrics": f"http://{os.environ.get('METRICS_HOST', '127.0.0.1')}:{port}/metrics"})

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("starting")
        await main(stop)
        log.info("stopped")

    asyncio.run(runner())
