"""Driving a running stack (bench and chaos): submissions over intake gRPC, reading the resulting events,
latency percentiles and peak RSS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from loadgen.generate import LoadItem, ProgressBar


@dataclass
class Submission:
    contact_id: str = ""
    tenant: str = ""
    sent: float = 0.0  # perf_counter at the first attempt
    acked: float = 0.0  # perf_counter at the acknowledgement
    attempts: int = 0
    error: str = ""
    index: int = -1  # its item's place in the submitted list


async def _submit(stub: Any, item: LoadItem, result: Submission, retry_for: float, on_ack: Any) -> None:
    """One SubmitMelding into `result` (its `sent` already set); with retry_for > 0 a failed call is retried
    with the same idempotency key until sent + retry_for."""
    import asyncio
    import time

    import grpc

    deadline = result.sent + retry_for
    while True:
        result.attempts += 1
        try:
            reply = await stub.SubmitMelding(item.request, timeout=10)
        except grpc.aio.AioRpcError as exc:
            if time.perf_counter() < deadline:
                await asyncio.sleep(0.2)
                continue
            result.error = f"{exc.code().name}: {exc.details()}"
            return
        result.acked, result.contact_id = time.perf_counter(), reply.contact_id
        if on_ack is not None:
            on_ack(result)
        return


def _stubs(addresses: dict[str, str], keys: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from vt.intake.v1 import intake_service_pb2_grpc
    from vtkit.channels import client_channel

    channels = {t: client_channel(a, keys, t) for t, a in addresses.items()}
    return channels, {t: intake_service_pb2_grpc.IntakeServiceStub(c) for t, c in channels.items()}


async def submit_all(addresses: dict[str, str], keys: Any, items: Sequence[LoadItem], *,
                     concurrency: int = 32, retry_for: float = 0.0, progress: bool = False,
                     on_ack: Any = None) -> list[Submission]:
    """Submits every melding item to its region's intake over one gRPC channel per region (opened with
    vtkit.channels.client_channel as that region, `keys` a vtkit.keystore.KeyStore), at most
    `concurrency` at a time (closed loop: the next starts when one is acknowledged). With retry_for > 0 a
    failed call is retried with the same idempotency key for that many seconds (what a real case system does
    when intake is down); without, it is recorded as an error. Returns one Submission per item, in order."""
    import asyncio
    import time

    channels, stubs = _stubs(addresses, keys)
    semaphore = asyncio.Semaphore(concurrency)
    results = [Submission(tenant=item.tenant, index=i) for i, item in enumerate(items)]
    bar = ProgressBar(len(items), "meldingen acknowledged") if progress else None

    async def one(index: int, item: LoadItem) -> None:
        async with semaphore:
            results[index].sent = time.perf_counter()
            await _submit(stubs[item.tenant], item, results[index], retry_for, on_ack)
        if bar:
            bar.update()

    try:
        await asyncio.gather(*(one(i, item) for i, item in enumerate(items)))
    finally:
        if bar:
            bar.close()
        for channel in channels.values():
            await channel.close()
    return results


# An open-loop submission that starts more than this after its scheduled moment counts as a late start.
LATE_AFTER_S = 0.010


async def submit_open_loop(addresses: dict[str, str], keys: Any, items: Sequence[LoadItem], *, rate: float,
                           max_in_flight: int = 64) -> tuple[list[Submission], int]:
    """Open loop: item i is started at start + i / rate, whether or not the earlier ones were acknowledged,
    with at most `max_in_flight` calls outstanding. Returns the submissions (in order) and the number of late
    starts: items that began more than LATE_AFTER_S after their scheduled moment, because every slot was taken
    or because this event loop was behind. Each Submission's `sent` is its scheduled moment, not the moment it
    actually started, so a late start's wait is in its latencies (no coordinated omission)."""
    import asyncio
    import time

    channels, stubs = _stubs(addresses, keys)
    slots = asyncio.Semaphore(max_in_flight)
    results = [Submission(tenant=item.tenant) for item in items]
    tasks: list[asyncio.Task[None]] = []
    late = 0

    async def one(index: int, item: LoadItem) -> None:
        try:
            await _submit(stubs[item.tenant], item, results[index], 0.0, None)
        finally:
            slots.release()

    try:
        start = time.perf_counter() + 0.05
        for index, item in enumerate(items):
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await slots.acquire()
            if time.perf_counter() - due > LATE_AFTER_S:
                late += 1
            results[index].sent = due
            tasks.append(asyncio.create_task(one(index, item)))
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        for channel in channels.values():
            await channel.close()
    return results, late


class EventCollector:
    """Reads topics from the earliest offset (no consumer group) and keeps, per event type, every
    (key, event id, perf_counter at arrival); the key is the case id, or the idempotency key for
    deliveries. Also keeps the size (value + headers) of the first record of each type.

    Decodes with the event classes named explicitly: the generic decode() only knows types whose _pb2 module
    the process happened to import, and a reader that silently skipped the rest saw no MeldingReceived and no
    AssessmentDue in `make chaos` (nothing there imported the intake and radar events). Records of a watched
    type that still do not decode are counted in `undecodable`, never silently dropped."""

    KEYS = {"AssessmentDue": "case_id", "AssessmentInput": "case_id", "AssessmentCompleted": "case_id",
            "DeliveryRequested": "idempotency_key", "DeliveryDelivered": "idempotency_key", "MeldingReceived": "contact_id",
            "RvdkSignal": "signal_id", "SignalMatch": "match_id"}

    def __init__(self, bootstrap: str, topics: Sequence[str]):
        from aiokafka import AIOKafkaConsumer

        self.seen: dict[str, list[tuple[str, str, float]]] = {k: [] for k in self.KEYS}
        self.messages: dict[str, dict[str, Any]] = {k: {} for k in self.KEYS}  # type -> key -> first message
        self.sizes: dict[str, int] = {}
        self.undecodable: dict[str, int] = {}
        # RvdK signal id -> the most times one AssessmentInput listed it (1: applied once; 2: applied twice)
        self.rvdk_in_inputs: dict[str, int] = {}
        self._consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None,
                                          auto_offset_reset="earliest", enable_auto_commit=False)
        self._task: Any = None

    async def __aenter__(self) -> "EventCollector":
        import asyncio

        await self._consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def read_again(self) -> None:
        """After a broker loss: read the new broker from its beginning. Kept positions would skip whatever the
        new broker holds below them (a consumer without a group keeps its positions across the loss). Awaited:
        aiokafka's seek_to_beginning is a coroutine, and an unawaited one moved nothing (the chaos harness then
        missed the AssessmentDue of cases the new broker held below its old positions, and never decided them)."""
        await self._consumer.seek_to_beginning()

    async def __aexit__(self, *exc: object) -> None:
        import asyncio

        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _run(self) -> None:
        import collections
        import time

        from vt.intake.v1 import events_pb2 as intake_events
        from vt.notifier.v1 import events_pb2 as notifier_events
        from vt.radar.v1 import events_pb2 as radar_events
        from vt.rvdk.v1 import events_pb2 as rvdk_events
        from vt.verwijsindex.v1 import events_pb2 as verwijsindex_events
        from vtkit.envelope import DecodeError, decode

        types: list[Any] = [radar_events.AssessmentDue, radar_events.AssessmentInput, radar_events.AssessmentCompleted,
                            notifier_events.DeliveryRequested, notifier_events.DeliveryDelivered,
                            intake_events.MeldingReceived, rvdk_events.RvdkSignal, verwijsindex_events.SignalMatch]
        assert {t.DESCRIPTOR.name for t in types} == set(self.KEYS)
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    kind = dict(record.headers).get("ce_type", b"").decode().rsplit(".", 1)[-1]
                    if kind not in self.KEYS:
                        continue
                    try:
                        event = decode(record.value, record.headers, types)
                    except DecodeError:
                        self.undecodable[kind] = self.undecodable.get(kind, 0) + 1
                        continue
                    key = getattr(event.message, self.KEYS[kind])
                    self.seen[kind].append((key, event.envelope.id, now))
                    self.messages[kind].setdefault(key, event.message)
                    if kind == "AssessmentInput":
                        for signal_id, times in collections.Counter(i.signal_id for i in event.message.rvdk).items():
                            self.rvdk_in_inputs[signal_id] = max(times, self.rvdk_in_inputs.get(signal_id, 0))
                    self.sizes.setdefault(kind, len(record.value or b"") + sum(len(k) + len(v) for k, v in record.headers))

    def first(self, kind: str) -> dict[str, float]:
        """key -> arrival time of its first event of this type."""
        out: dict[str, float] = {}
        for key, _, at in self.seen[kind]:
            out.setdefault(key, at)
        return out

    def keys(self, kind: str, predicate: Any = None) -> set[str]:
        return {k for k, m in self.messages[kind].items() if predicate is None or predicate(m)}

    async def wait_for(self, kind: str, keys: set[str], timeout: float) -> bool:
        return await self.wait_until(lambda: keys <= set(self.messages[kind]), timeout)

    async def wait_until(self, condition: Any, timeout: float) -> bool:
        import asyncio
        import time

        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 95, 99)) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {f"p{p}": float("nan") for p in points}
    return {f"p{p}": ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] for p in points}


def peak_rss_mib(pid: int) -> float:
    """Peak resident set size of a process (VmHWM of /proc/<pid>/status), in MiB; 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


