"""Service processes: each service runs as `python -m <module>` with its own environment,
the same way in `make run`, in the tests and in production."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from devstack.broker import free_port

ROOT = pathlib.Path(__file__).resolve().parents[3]  # tools/devstack/devstack/processes.py: the repository


@dataclass
class ServiceProcess:
    """A service started as `python -m <module>` with its own environment, as in production."""

    name: str
    module: str
    env: Mapping[str, str]
    log_path: pathlib.Path
    grpc_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self) -> "ServiceProcess":
        env = {**os.environ, **self.env, "GRPC_PORT": str(self.grpc_port), "PYTHONUNBUFFERED": "1"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            # Its own session: a Ctrl-C in the terminal reaches only the parent (make run, pytest), which
            # stops the services first and the broker last, instead of everything at the same moment.
            self.proc = subprocess.Popen([sys.executable, "-m", self.module], env=env, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to flush or commit anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def terminate(self) -> None:
        """SIGTERM: the service drains and exits (see `stop`)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait_stopped(self, timeout: float) -> int | None:
        """Wait for the exit after `terminate`; SIGKILL after `timeout` seconds. Returns the exit code."""
        if self.proc is None:
            return None
        try:
            self.proc.wait(max(timeout, 0.0))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait for a graceful exit; returns the exit code."""
        self.terminate()
        return self.wait_stopped(timeout)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def wait_for_log(self, text: str, timeout: float = 60.0) -> None:
        """Wait until the process logged `text` (e.g. a fault point it reached); fail if it exits first."""
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode} before logging {text!r}:\n"
                                     + self.log_text()[-3000:])
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not log {text!r} within {timeout}s:\n" + self.log_text()[-3000:])
            await asyncio.sleep(0.1)


def stop_all(processes: Iterable[ServiceProcess], timeout: float = 15.0) -> dict[str, int | None]:
    """Stop processes together (SIGTERM to all, then wait), not one after the other."""
    processes = list(processes)
    for process in processes:
        process.terminate()
    deadline = time.monotonic() + timeout
    return {p.name: p.wait_stopped(deadline - time.monotonic()) for p in processes}
