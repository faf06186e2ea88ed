"""The local stack of `make run`: broker + every service + simulators, on loopback.

Uses KAFKA_BOOTSTRAP_SERVERS when set, else starts the embedded broker. Writes
the addresses to var/stack.json (read by `python -m devstack.cli`) and stops
everything on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pathlib
import signal
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from vtkit.grpcserver import wait_healthy
from vtkit.kafka import KafkaSettings, ensure_topics
from vtkit.keystore import KeyStore, init_keys

from devstack.broker import EmbeddedBroker, free_port, wait_for_broker
from devstack.processes import ROOT, ServiceProcess, stop_all
from devstack.supervisor import CrashLoop, Supervisor

DEFAULT_DEMO_TENANTS = ("amsterdam-amstelland", "rotterdam-rijnmond", "utrecht")
# `make run` listens on fixed, documented ports (README "Set-up"), counted from VT_BASE_PORT; 0 picks free ones
# (as the tests do). Per region, in VT_DEMO_TENANTS order: intake gRPC base+1.., its form 8081.. (another base:
# base+81..), its fake case system base+21..
DEFAULT_BASE_PORT = 50050
MAX_FIXED_TENANTS = 9
FIXED_OFFSETS = {"radar": 11, "verwijsindex": 12, "notifier": 13, "ops": 14, "letter-gateway": 31,
                 "professional-endpoint": 32, "rvdk-receiver": 33, "kafka": 42}
HTTP_BASE = 8080  # ops; the forms follow


class PortInUse(SystemExit):
    """A fixed port of `make run` is taken: said in one line, with what to do."""


@dataclass
class Stack:
    """All service processes of one suite, wired to one broker and one key directory."""

    bootstrap: str
    var_dir: pathlib.Path
    tenants: tuple[str, ...] = DEFAULT_DEMO_TENANTS
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    web: dict[str, str] = field(default_factory=dict)  # processes answering HTTP instead of gRPC health
    metrics: dict[str, str] = field(default_factory=dict)  # Prometheus endpoint of every process
    forms: dict[str, str] = field(default_factory=dict)  # the online meldformulier of each region's intake
    base_port: int = 0  # 0: free ports (tests); else make run's fixed layout (FIXED_OFFSETS)
    fixed_ports: dict[int, str] = field(default_factory=dict)  # port -> what listens there (fixed layout only)

    @property
    def http_base(self) -> int:
        """The default layout serves HTTP on the familiar 8080 (ops) and 8081.. (the forms); another base keeps
        its HTTP ports next to its gRPC ones."""
        return HTTP_BASE if self.base_port == DEFAULT_BASE_PORT else self.base_port + 80

    def _port(self, name: str) -> int:
        """The fixed port of `name` (a process, "form-<tenant>" or "metrics-<process>"), or a free one."""
        if not self.base_port:
            return free_port()
        if name.startswith("form-"):
            port = self.http_base + 1 + self.tenants.index(name.removeprefix("form-"))
        elif name == "ops-http":
            port = self.http_base
        elif name.startswith("metrics-"):
            port = self.base_port + 100 + len(self.metrics)
        elif name.startswith("intake-"):
            port = self.base_port + 1 + self.tenants.index(name.removeprefix("intake-"))
        elif name.startswith("regional-system-"):
            port = self.base_port + 21 + self.tenants.index(name.removeprefix("regional-system-"))
        else:
            port = self.base_port + FIXED_OFFSETS[name]
        self.fixed_ports[port] = name
        return port

    def check_fixed_ports(self) -> None:
        """Before starting: every fixed port free, else one line saying which and what to do."""
        taken = [f"{port} ({name})" for port, name in sorted(self.fixed_ports.items()) if not port_is_free(port)]
        if taken:
            raise PortInUse(f"in use: port {', '.join(taken)}; stop what uses them, or start with VT_BASE_PORT=0 "
                            "(free ports) or another VT_BASE_PORT")

    @property
    def key_dir(self) -> pathlib.Path:
        return self.var_dir / "keys"

    def _env(self, **extra: str) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap, "VT_KEY_DIR": str(self.key_dir),
                "VT_DATA_DIR": str(self.var_dir / "data"), **extra}

    def _add(self, name: str, module: str, **extra: str) -> ServiceProcess:
        metrics_port = self._port(f"metrics-{name}")
        self.metrics[name] = f"http://127.0.0.1:{metrics_port}/metrics"
        process = ServiceProcess(name, module, self._env(METRICS_PORT=str(metrics_port), **extra),
                                 self.var_dir / "logs" / f"{name}.log", grpc_port=self._port(name))
        self.processes[name] = process
        return process

    def plan(self) -> None:
        """Declare every process; ports are chosen now so they can be wired to each other."""
        if self.base_port and len(self.tenants) > MAX_FIXED_TENANTS:
            raise PortInUse(f"fixed ports are laid out for at most {MAX_FIXED_TENANTS} regions: set VT_BASE_PORT=0")
        init_keys(self.key_dir)
        (self.var_dir / "data").mkdir(parents=True, exist_ok=True)
        for tenant in self.tenants:
            self._add(f"regional-system-{tenant}", "simulators.regional_system", TENANT=tenant,
                      RECORD_FILE=str(self.var_dir / "data" / f"regional-system-{tenant}.jsonl"))
        endpoints = ",".join(f"{t}={self.processes[f'regional-system-{t}'].address}" for t in self.tenants)
        gateway = self._add("letter-gateway", "simulators.letter_gateway",
                            RECORD_FILE=str(self.var_dir / "data" / "letter-gateway.jsonl"),
                            KEEP_DIR=str(self.var_dir / "data" / "letters"))
        professionals = self._add("professional-endpoint", "simulators.professional",
                                  RECORD_FILE=str(self.var_dir / "data" / "professional-endpoint.jsonl"))
        # The RvdK's own receiver of VT's requests to investigate (sealed to the RvdK).
        rvdk = self._add("rvdk-receiver", "simulators.rvdk_receiver",
                         RECORD_FILE=str(self.var_dir / "data" / "rvdk-receiver.jsonl"))
        for tenant in self.tenants:
            self.forms[tenant] = f"http://127.0.0.1:{self._port(f'form-{tenant}')}/"
            self._add(f"intake-{tenant}", "intake", VT_TENANT=tenant, HTTP_PORT=self.forms[tenant].split(":")[2].strip("/"))
        self._add("radar", "radar")
        self._add("verwijsindex", "verwijsindex")
        # The fake case system plays the team lead's receiver too: escalations arrive there marked "escalated".
        self._add("notifier", "notifier", NOTIFIER_REGIONAL_ENDPOINTS=endpoints, NOTIFIER_TEAMLEAD_ENDPOINTS=endpoints,
                  NOTIFIER_LETTER_GATEWAY=gateway.address,
                  NOTIFIER_BRP_REGISTER=str(self.var_dir / "data" / "brp-register.json"),
                  NOTIFIER_PROFESSIONAL_ENDPOINT=professionals.address, NOTIFIER_RVDK_ENDPOINT=rvdk.address)
        # The fake case systems play the regions' workers: each decision's callback is confirmed as a conversation
        # with the melder, which releases the household letter.
        for tenant in self.tenants:
            fake = self.processes[f"regional-system-{tenant}"]
            fake.env = {**fake.env, "CONFIRM_VIA_NOTIFIER": self.processes["notifier"].address}
        self.web["ops"] = f"http://127.0.0.1:{self._port('ops-http')}/"
        services = ",".join(f"{name}={url}" for name, url in self.metrics.items()
                            if name.startswith(("intake-", "radar", "verwijsindex", "notifier")))
        # Locally the dashboard may re-drive dead letters itself (in production the ops-redrive Job does).
        self._add("ops", "ops", OPS_HTTP_PORT=self.web["ops"].rsplit(":", 1)[1].strip("/"), OPS_METRICS_URLS=services,
                  OPS_REDRIVE="1")

    async def start(self, timeout: float = 90.0) -> None:
        await wait_for_broker(self.bootstrap)
        await ensure_topics(KafkaSettings(bootstrap_servers=self.bootstrap))
        for process in self.processes.values():
            process.start()
        await asyncio.gather(*(self._healthy(p, timeout) for p in self.processes.values()))

    async def _healthy(self, process: ServiceProcess, timeout: float) -> None:
        try:
            if process.name in self.web:
                await wait_http(self.web[process.name], timeout)
            else:
                await wait_healthy(process.address, timeout, keys=KeyStore(self.key_dir))
        except TimeoutError:
            raise RuntimeError(f"{process.name} did not become healthy; see {process.log_path}:\n"
                               + process.log_text()[-3000:]) from None

    def stop(self) -> None:
        stop_all(self.processes.values())

    def describe(self) -> dict[str, object]:
        return {"kafka": self.bootstrap, "key_dir": str(self.key_dir), "tenants": list(self.tenants),
                "services": {name: p.address for name, p in self.processes.items() if name not in self.web},
                "web": dict(self.web), "metrics": dict(self.metrics), "meldformulier": dict(self.forms),
                "logs": str(self.var_dir / "logs")}


async def wait_http(url: str, timeout: float) -> None:
    """Poll until `url` answers 200."""
    import aiohttp

    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=2)) as reply:
                    if reply.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {timeout}s")
            await asyncio.sleep(0.2)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@contextlib.contextmanager
def broker_for_stack(var_dir: pathlib.Path, port: int | None = None) -> Iterator[tuple[str, EmbeddedBroker | None]]:
    """The bootstrap servers, and the embedded broker when the stack runs one."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external, None
        return
    if port and not port_is_free(port):
        raise PortInUse(f"in use: port {port} (kafka); stop what uses it, or start with VT_BASE_PORT=0 (free ports)"
                        " or another VT_BASE_PORT")
    (var_dir / "logs").mkdir(parents=True, exist_ok=True)
    with open(var_dir / "logs" / "broker.log", "ab") as log, EmbeddedBroker(port=port, log=log) as broker:
        yield broker.bootstrap_servers, broker


def main() -> None:
    var_dir = pathlib.Path(os.environ.get("VT_VAR_DIR", ROOT / "var"))
    tenants = tuple(t for t in os.environ.get("VT_DEMO_TENANTS", ",".join(DEFAULT_DEMO_TENANTS)).split(",") if t)
    base = int(os.environ.get("VT_BASE_PORT", str(DEFAULT_BASE_PORT)))
    with broker_for_stack(var_dir, base + FIXED_OFFSETS["kafka"] if base else None) as (bootstrap, broker):
        stack = Stack(bootstrap, var_dir, tenants, base_port=base)
        stack.plan()
        stack.check_fixed_ports()
        try:
            asyncio.run(stack.start())
        except KeyboardInterrupt:  # Ctrl-C while starting: stop what started, no traceback
            print("stopping ...")
            stack.stop()
            raise SystemExit(130) from None
        except BaseException:
            stack.stop()
            raise
        info = stack.describe()
        (var_dir / "stack.json").write_text(json.dumps(info, indent=2))
        print("Veilig Thuis exchange is running (Ctrl-C stops it):")
        embedded = "" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else "  (embedded tansu, in memory)"
        print(f"  kafka            {bootstrap}{embedded}")
        for name, address in info["services"].items():  # type: ignore[attr-defined]
            print(f"  {name:<34} grpc {address}")
        for name, url in stack.web.items():
            print(f"  {name:<34} http {url}")
        for tenant, url in stack.forms.items():
            print(f"  {'meldformulier ' + tenant:<34} http {url}")
        print(f"  logs             {info['logs']}/")
        print("Try: make demo   (or .venv/bin/python -m devstack.cli demo)")
        sys.stdout.flush()
        stopped = False

        def on_signal(*_: object) -> None:
            nonlocal stopped
            stopped = True

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        supervisor = Supervisor({**stack.processes, **({"kafka": broker} if broker is not None else {})})
        try:
            while not stopped:
                for line in supervisor.tick():
                    print(line, file=sys.stderr, flush=True)
                time.sleep(0.5)
        except CrashLoop as exc:
            print(f"{exc}: stopping the stack", file=sys.stderr)
            raise SystemExit(1) from None
        finally:
            print("stopping ...")
            stack.stop()


if __name__ == "__main__":
    main()
