"""The outbox relay every service uses: committed rows go to Kafka in order, at least once, and a row that
can never be sent is quarantined instead of blocking the rows behind it.

A service writes its facts and their outbox rows in one transaction (docs/architecture.md, Durability);
the relay reads unsent rows in batches, sends their records as record batches (vtkit.kafka.send_batched: one
per partition, in order), waits for the broker's acknowledgements, then marks the rows sent in one
transaction. A broker outage delays rows and is retried with back-off, for ever. A crash between the
acknowledgement and the mark re-sends rows with their stored event ids: consumers dedupe on them.

A poison row (larger than any consumer accepts, refused by the broker as too large or invalid, or one
the service cannot turn into a record) is moved to the quarantine with its reason: counted on
/metrics (vt_outbox_quarantined), logged, listed by `vt-ops quarantine`, and the health service
`vt.outbox` answers NOT_SERVING (degraded) while it is not empty. One such row once stalled every
later melding of a region, acute ones included, while health said SERVING.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidMessageError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)

from vtkit import metrics, tracing
from vtkit.envelope import MAX_VALUE_BYTES
from vtkit.kafka import KafkaSettings, cluster_id, ensure_topics, make_producer, send_batched

log = logging.getLogger("vtkit.outbox")
FINAL_DRAIN_SECONDS = 2.0
HEALTH_NAME = "vt.outbox"  # NOT_SERVING while rows are quarantined: the service runs, degraded
# After a broker was found replaced, the outbox is published a second time this long after (see _second_pass), if
# that is within SECOND_PASS_WITHIN of it.
SECOND_PASS_AFTER = 30.0
SECOND_PASS_WITHIN = 120.0
RECOVERY_REQUESTED = "recovery requested by an operator"  # in place of a cluster id: `vt-ops recover`

# What the broker or the client answers for a record that will never be accepted, however often it is sent.
REFUSED_FOR_GOOD = (MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError, CorruptRecordException,
                    InvalidMessageError)

@dataclass(frozen=True)
class OutboxRecord:
    """One Kafka record of an outbox row (a row may yield several, e.g. a failed delivery and its dead letter)."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]
    event_id: str
    tenant: str = ""  # the metrics label


class PoisonRow(Exception):
    """A row that can never become an acceptable record (any exception from a service's `records(row)` counts
    as one too: the row's content fails the same way every time)."""


class Row(Protocol):
    @property
    def seq(self) -> int: ...


R = TypeVar("R", bound=Row)


class OutboxStore(Protocol[R]):
    """What a service's store offers the relay."""

    def unsent(self, limit: int) -> Sequence[R]: ...

    def mark_sent(self, seqs: Sequence[int]) -> None: ...

    def quarantine(self, row: R, record: OutboxRecord | None, reason: str) -> None: ...

    def unsent_count(self) -> int: ...

    def quarantined_count(self) -> int: ...

    def broker_cluster(self) -> str: ...

    def note_broker_cluster(self, cluster_id: str) -> None: ...

    def broker_cluster_noted_at(self) -> dt.datetime | None: ...

    def requeue_sent(self) -> int:
        """Mark every row the store still holds as unsent again (the broker lost them); returns how many."""
        ...


class ProducerSource(Protocol):
    async def get(self) -> AIOKafkaProducer: ...

    async def declare_topics(self) -> None:
        """Create the declared topics on a broker that has none (after a broker loss), before publishing:
        tansu creates a topic a client merely asks about, and several clients asking at once race there."""
        ...

    async def failed(self) -> None: ...

    async def close(self) -> None: ...


class SharedProducer:
    """The service's producer, started and stopped by the service."""

    def __init__(self, producer: AIOKafkaProducer, kafka: KafkaSettings):
        self.producer = producer
        self.kafka = kafka

    async def get(self) -> AIOKafkaProducer:
        return self.producer

    async def declare_topics(self) -> None:
        await ensure_topics(self.kafka)

    async def failed(self) -> None:
        pass

    async def close(self) -> None:
        pass


class OwnProducer:
    """A producer of the relay's own, replaced after every failure: aiokafka may keep a stale connection
    state, and a broker that came back empty (the embedded one keeps topics in memory) has no topics."""

    def __init__(self, kafka: KafkaSettings, connect_timeout: float = 15.0):
        self.kafka = kafka
        self.connect_timeout = connect_timeout
        self._producer: AIOKafkaProducer | None = None

    async def declare_topics(self) -> None:
        # Bounded: against an unreachable broker the admin client may wait a long time.
        await asyncio.wait_for(ensure_topics(self.kafka), self.connect_timeout)

    async def get(self) -> AIOKafkaProducer:
        if self._producer is None:
            await self.declare_topics()
            producer = make_producer(self.kafka)
            try:
                await asyncio.wait_for(producer.start(), self.connect_timeout)
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def failed(self) -> None:
        await self.close()

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception:  # a producer that lost its broker may fail to flush; rows stay unsent
                log.warning("producer did not stop cleanly", exc_info=True)


class OutboxRelay(Generic[R]):
    def __init__(self, service: str, store: OutboxStore[R], records: Callable[[R], list[OutboxRecord]],
                 producer: ProducerSource, *, tenant: str = "", batch_size: int = 100, poll_interval: float = 0.5,
                 max_backoff: float = 10.0, threaded: bool = True,
                 after_drain: Callable[[AIOKafkaProducer], Awaitable[None]] | None = None,
                 on_quarantine: Callable[[int], Awaitable[None]] | None = None, broker_check_seconds: float = 5.0,
                 on_new_cluster: Callable[[], None] | None = None, second_pass_after: float = SECOND_PASS_AFTER,
                 linger: float = 0.0):
        self.service = service
        self.tenant = tenant  # metrics label of the backlog and the quarantine
        self.store = store
        self.records = records
        self.producer = producer
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.threaded = threaded  # store calls in a worker thread, so an fsync never blocks the event loop
        self.after_drain = after_drain  # e.g. copy the access log to the audit topic on the same producer
        self.on_quarantine = on_quarantine  # told the quarantine's size (health: degraded)
        self.broker_check_seconds = broker_check_seconds
        # Told when the broker is found replaced while the service runs (not at its start): a service whose consumers
        # hold positions on the lost broker acts on it (radar restarts; docs/architecture.md, "Broker loss").
        self.on_new_cluster = on_new_cluster
        self.second_pass_after = second_pass_after
        self.linger = linger  # seconds a pass waits after the commit that woke it
        self._second_pass_done = ""  # the cluster this process checked for a second pass
        self._broker_checked = -math.inf  # monotonic time of the last cluster id check
        self._wake = asyncio.Event()
        self._alone = False  # the next pass sends one record per batch (a refusal in a shared batch)
        self.stopping = False  # the last pass, after `stop` (after_drain may do now what it would leave for later)
        self._drained = False  # the last pass ended with nothing unsent

    def wake(self) -> None:
        """Called after a commit so the new rows go out now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self._report_quarantine()
            while not stop.is_set():
                self._wake.clear()  # before draining, so a commit during the drain is not missed
                await self._retry_until_done(self.publish_pending, stop)
                await self._sleep_or_wake(stop)
            # What was committed while stopping (a request in its grace period), if the broker answers at once.
            self.stopping = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.publish_pending(), FINAL_DRAIN_SECONDS)
        finally:
            await self.producer.close()

    async def publish_pending(self) -> int:
        """Send unsent rows until none are left; returns how many were marked sent."""
        # Counted before touching the broker, so an outage shows as a growing backlog on /metrics; after a pass that
        # drained the outbox only what was committed since is there, and a failing pass is retried and counted then.
        if not self._drained:
            await self._count_backlog()
        self._drained = False
        sent = 0
        await self._check_broker(await self.producer.get())
        while rows := await self._store(self.store.unsent, self.batch_size):
            producer = await self.producer.get()
            done, failure = await self._send_batch(producer, rows)
            if done:
                await self._store(self.store.mark_sent, done)
            sent += len(done)
            if failure is not None:
                raise failure
            log.debug("published outbox", extra={"service": self.service, "count": len(done), "last_seq": rows[-1].seq})
            if len(rows) < self.batch_size:
                # Nothing else was unsent when the rows were read, and what was committed since has woken the relay for
                # its next pass, which counts it: no second query (and worker-thread hop) for an empty answer.
                metrics.OUTBOX_BACKLOG.labels(self.service, self.tenant).set(0)
                break
            await self._count_backlog()
        self._drained = True
        if self.after_drain is not None:
            await self.after_drain(await self.producer.get())
        return sent

    async def _check_broker(self, producer: AIOKafkaProducer) -> None:
        """A broker whose cluster id changed lost what we published (the embedded broker keeps it in memory
        only, and a restart is a new cluster): queue every row again, with its event id, without an operator."""
        if time.monotonic() - self._broker_checked < self.broker_check_seconds:
            return
        current = await cluster_id(producer)
        running = self._broker_checked != -math.inf  # not the check at the service's start
        self._broker_checked = time.monotonic()
        previous = await self._store(self.store.broker_cluster)
        if current == previous:
            await self._second_pass(current)
            return
        if previous:
            await self.producer.declare_topics()
        requeued = await self._store(self.store.requeue_sent) if previous else 0
        await self._store(self.store.note_broker_cluster, current)
        if previous:
            metrics.BROKER_RECOVERIES.labels(self.service, self.tenant).inc()
            why = ("recovery requested by an operator" if previous == RECOVERY_REQUESTED
                   else "the broker lost its history (new cluster id)")
            log.warning(f"{why}: publishing the outbox again",
                        extra={"service": self.service, "tenant": self.tenant, "previous_cluster": previous,
                               "cluster": current, "rows": requeued})
            if running and previous != RECOVERY_REQUESTED and self.on_new_cluster is not None:
                self.on_new_cluster()

    async def _second_pass(self, cluster: str) -> None:
        """Publishes the outbox once more, `second_pass_after` seconds after the broker was found replaced: tansu 0.6
        (the embedded broker) can acknowledge a batch and lose it when several producers write the first batches of
        a partition at the same moment, which is exactly what every relay does right after a loss (a recorded
        decision, acknowledged, was missing on the new broker; docs/architecture.md, "Broker loss"). Consumers
        dedupe on the event ids. Also after a restart soon after the loss (radar restarts itself then)."""
        if self._second_pass_done == cluster:
            return
        noted = await self._store(self.store.broker_cluster_noted_at)
        age = (dt.datetime.now(dt.UTC) - noted).total_seconds() if noted is not None else math.inf
        if age < self.second_pass_after:
            return
        self._second_pass_done = cluster
        if age > SECOND_PASS_WITHIN:
            return  # noted long ago: an ordinary start
        requeued = await self._store(self.store.requeue_sent)
        log.warning("publishing the outbox a second time after the broker was replaced",
                    extra={"service": self.service, "tenant": self.tenant, "cluster": cluster, "rows": requeued})

    async def _send_batch(self, producer: AIOKafkaProducer, rows: Sequence[R]) -> tuple[list[int], Exception | None]:
        """Queue every record as record batches (vtkit.kafka.send_batched), then wait for all acknowledgements; poison
        rows are quarantined on the way. Returns the rows acknowledged and the first other failure (broker trouble: the
        rest is sent again)."""
        prepared: list[tuple[R, list[OutboxRecord]]] = []
        for row in rows:
            try:
                records = self.records(row)
            except Exception as exc:  # the row's content, not the broker: it will fail the same way every time
                await self._quarantine(row, None, exc)
                continue
            # Every consumer refuses a record larger than this (vtkit.envelope.decode): sending it helps no one.
            if too_large := next((r for r in records if len(r.value) > MAX_VALUE_BYTES), None):
                await self._quarantine(row, too_large, PoisonRow(
                    f"value of {len(too_large.value)} bytes exceeds the limit of {MAX_VALUE_BYTES} bytes"))
                continue
            prepared.append((row, records))
        # A row written while a trace was active carries its context in its headers (vtkit.tracing): each record is
        # sent in a producer span of that trace, whose context replaces the stored one. Outside the signed bytes.
        spans, outgoing = [], []
        for _, records in prepared:
            for record in records:
                span, headers = tracing.start_producer_span(record.topic, record.headers, parent_from_headers=True)
                spans.append(span)
                outgoing.append((record.topic, record.key, record.value, headers))
        alone, self._alone = self._alone, False
        try:
            futures = await send_batched(producer, outgoing, alone=alone)
        except Exception as exc:
            for span in spans:
                tracing.end_span(span, exc)
            return [], exc
        for span, future in zip(spans, futures, strict=True):
            tracing.end_when_done(span, future)
        batches = list(dict.fromkeys(futures))
        result = dict(zip(batches, await asyncio.gather(*batches, return_exceptions=True), strict=True))
        per_row: list[list[asyncio.Future[Any]]] = []  # each row's futures
        rows_of: collections.defaultdict[int, set[int]] = collections.defaultdict(set)  # the rows in each batch
        position = 0
        for n, (_, records) in enumerate(prepared):
            per_row.append(futures[position:position + len(records)])
            position += len(records)
            for future in per_row[-1]:
                rows_of[id(future)].add(n)
        done: list[int] = []
        failure: Exception | None = None
        for (row, records), mine in zip(prepared, per_row, strict=True):
            errors = [result[f] for f in mine if isinstance(result[f], BaseException)]
            refused = [e for e in errors if isinstance(e, REFUSED_FOR_GOOD)]
            if refused and all(len(rows_of[id(f)]) == 1 for f in mine if isinstance(result[f], REFUSED_FOR_GOOD)):
                await self._quarantine(row, records[0], refused[0])
            elif errors:
                # Refused in a batch with other rows' records: which one is poison is not known. The next pass sends one
                # record per batch, where a refusal names its row.
                self._alone = self._alone or bool(refused)
                failure = failure or (errors[0] if isinstance(errors[0], Exception) else RuntimeError(str(errors[0])))
            else:
                done.append(row.seq)
                for record in records:
                    metrics.child(metrics.EVENTS_PUBLISHED, record.topic, record.tenant).inc()
        return done, failure

    async def _quarantine(self, row: R, record: OutboxRecord | None, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {exc}"
        await self._store(self.store.quarantine, row, record, reason)
        log.error("outbox row quarantined: it can never be sent; the rows behind it go on",
                  extra={"service": self.service, "tenant": self.tenant, "seq": row.seq,
                         "event_id": record.event_id if record else "", "reason": reason[:300]})
        await self._report_quarantine()

    async def _report_quarantine(self) -> None:
        count = await self._store(self.store.quarantined_count)
        metrics.OUTBOX_QUARANTINED.labels(self.service, self.tenant).set(count)
        if self.on_quarantine is not None:
            await self.on_quarantine(count)

    async def _count_backlog(self) -> None:
        metrics.OUTBOX_BACKLOG.labels(self.service, self.tenant).set(await self._store(self.store.unsent_count))

    async def _store(self, call: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(call, *args) if self.threaded else call(*args)

    async def _retry_until_done(self, step: Callable[[], Awaitable[Any]], stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                await step()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("publishing the outbox failed; retrying",
                            extra={"service": self.service, "error": f"{type(exc).__name__}: {exc}", "retry_in_s": backoff})
                await self.producer.failed()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _sleep_or_wake(self, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopping, woken}, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
            if self.linger and woken.done() and not stopping.done():
                # Woken by a commit: the commits of the next moments go in the same pass (one read, one send, one
                # mark per pass, each a worker-thread hop, however few rows it carries).
                await asyncio.wait({stopping}, timeout=self.linger)
        finally:
            stopping.cancel()
            woken.cancel()
