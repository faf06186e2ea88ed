"""Entrypoint helper: JSON logs, /metrics when METRICS_PORT is set, tracing when OTEL_TRACES_EXPORTER names an
exporter (vtkit.tracing), graceful stop on SIGTERM/SIGINT.

Every service has the same skeleton (docs/architecture.md, "Where things are"): `settings.py` holds a frozen
dataclass `Settings` (vtkit.config, with the Kafka settings as its `kafka` group where the service uses Kafka),
`bootstrap.py` a function `bootstrap(settings) -> App` (the composition root), and `__main__.py` is

    run_service("<name>", Settings, bootstrap)
"""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import signal
import sys
import time
import tomllib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from vtkit import calendar, kafka, metrics, tracing
from vtkit.config import load_settings
from vtkit.logs import setup_logging

S = TypeVar("S")


class App(Protocol):
    """What a service's `bootstrap(settings)` returns: the process, built, not yet running."""

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set (or a part fails: then raise, e.g. SystemExit(1)), then stop in order."""


def version() -> str:
    """The suite's release: VT_VERSION (an image sets it), else pyproject.toml's version, else "unknown"."""
    if os.environ.get("VT_VERSION"):
        return os.environ["VT_VERSION"]
    try:
        project = pathlib.Path(__file__).resolve().parents[2] / "pyproject.toml"
        return str(tomllib.loads(project.read_text())["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


_restart_reason = ""


def restart_after_stop(reason: str) -> None:
    """Asks `run` to start the service again, in this process, once `main` has returned (the caller also sets
    `stop`). For state that only a fresh start rebuilds: radar's consumers keep their positions and commit
    bookkeeping of a broker that was lost, and only a new start reads the new broker from its beginning."""
    global _restart_reason
    _restart_reason = reason


def run(service: str, main: Callable[[asyncio.Event], Awaitable[None]], level: str = "INFO") -> None:
    """Run `main(stop)` until it returns; SIGTERM/SIGINT set `stop` so it can drain and exit."""
    setup_logging(service, level)
    tracing.setup_tracing(service)
    kafka.SERVICE_NAME = service  # named in the dead letters it writes (dl_service)
    metrics.BUILD_INFO.labels(service, version()).set(1)
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
        # Here, not after asyncio.run: its clean-up waits for every task left running, and a part that did not stop
        # in time (radar's faust worker, in a group rejoin after a broker loss) would hold the exit or the start.
        if _restart_reason:
            _restart(service, log)
        if not await _cancel_leftovers(LEFTOVER_SECONDS):
            log.warning("tasks still running after the stop; exiting without them")
            _flush(log)
            os._exit(0)  # what main returned from is stopped; only what did not stop in time is left behind

    try:
        asyncio.run(runner())
    finally:
        tracing.shutdown()  # the batch exporter sends what it still holds


LEFTOVER_SECONDS = 5.0


async def _cancel_leftovers(timeout: float) -> bool:
    """Cancel the tasks main left running; whether they all ended within `timeout`."""
    leftovers = asyncio.all_tasks() - {asyncio.current_task()}
    for task in leftovers:
        task.cancel()
    return not leftovers or not (await asyncio.wait(leftovers, timeout=timeout))[1]


def _flush(log: logging.Logger) -> None:
    tracing.shutdown()  # the batch exporter sends what it still holds
    for handler in logging.getLogger().handlers:
        handler.flush()


def _restart(service: str, log: logging.Logger) -> None:
    """The same process (pid, log file, environment) runs the service's module again from the start: works under any
    supervisor, or none (make run). Descriptors are not inherited (PEP 446)."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    module = spec.parent if spec is not None and spec.parent else service
    log.warning("restarting", extra={"reason": _restart_reason})
    _flush(log)
    os.execv(sys.executable, [sys.executable, "-m", module])


def run_service(service: str, settings_type: type[S], bootstrap: Callable[[S], App]) -> None:
    """`python -m <service>`: settings from the environment (a missing or invalid value stops it here, naming the
    variable), logs at the settings' `log_level` (INFO when it has none), then `bootstrap(settings).run(stop)`."""
    settings = load_settings(settings_type)
    level: Any = getattr(settings, "log_level", "INFO")
    calendar.load_holidays()  # before the first deadline is counted, not while it is (vtkit.calendar)

    async def main(stop: asyncio.Event) -> None:
        # Built inside the running loop: grpc.aio objects bind to the loop that creates them.
        await bootstrap(settings).run(stop)

    run(service, main, level)


async def wait_for_broker(bootstrap_servers: str, timeout: float = 30.0) -> None:
    """Wait until a TCP connection to the first bootstrap server succeeds."""
    host, _, port = bootstrap_servers.split(",")[0].rpartition(":")
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host or "127.0.0.1", int(port))
            writer.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no broker at {bootstrap_servers}") from None
            await asyncio.sleep(0.1)
