"""The outbox relay: publishes committed events to Kafka in order, marks them sent after the ack.

A broker outage only delays events: every error backs off and retries the same rows, forever.
A crash between the ack and `mark_sent` re-publishes a row with the same ce_id (consumers
dedupe on it), so delivery is at-least-once and nothing acknowledged is ever lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaProducer
from vt.intake.v1 import events_pb2
from vtkit import metrics
from vtkit.audit import AuditForwarder
from vtkit.envelope import decode
from vtkit.kafka import KafkaSettings, Publisher, ensure_topics, make_producer

from intake.store import ContactStore, PendingEvent

# Importing events_pb2 registers the intake event types, so decode() can resolve ce_type.
_EVENT_TYPES = events_pb2.DESCRIPTOR
log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, store: ContactStore, kafka: KafkaSettings, *, tenant: str = "", batch_size: int = 100,
                 poll_interval: float = 0.5, max_backoff: float = 10.0, connect_timeout: float = 15.0,
                 audit: AuditForwarder | None = None):
        self.store = store
        # Copies the access log to vt.national.audit.v1 after each drain, on the same producer.
        self.audit = audit
        self.tenant = tenant  # only a metrics label
        self.kafka = kafka
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.connect_timeout = connect_timeout
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        # Re-checked after every failure: a broker that comes back empty (the embedded broker keeps
        # topics in memory only) would otherwise reject every publish, with auto-creation off.
        self._topics_ready = False

    def wake(self) -> None:
        """Called after a commit so the new events go out now instead of at the next poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                self._wake.clear()  # before draining, so a commit during the drain is not missed
                await self._retry_until_done("publish outbox", self._drain, stop)
                await self._sleep_or_wake(stop)
        finally:
            await self._close_producer()

    async def _ensure_topics(self) -> None:
        if not self._topics_ready:
            # Bounded: against an unreachable broker the admin client may wait a long time.
            await asyncio.wait_for(ensure_topics(self.kafka), self.connect_timeout)
            self._topics_ready = True

    async def _drain(self) -> None:
        """Ensure the topics exist, then publish unsent rows until none are left."""
        # Counted before touching the broker, so an outage shows as a growing backlog on /metrics.
        await self._count_backlog()
        await self._ensure_topics()
        while True:
            pending = await asyncio.to_thread(self.store.unsent, self.batch_size)
            if not pending:
                metrics.OUTBOX_BACKLOG.labels("intake", self.tenant).set(0)
                if self.audit is not None:
                    await self.audit.forward_pending(Publisher(await self._ensure_producer()))
                return
            publisher = Publisher(await self._ensure_producer())
            for row in pending:
                await self._publish(publisher, row)
            await asyncio.to_thread(self.store.mark_sent, [row.seq for row in pending])
            log.info("published outbox", extra={"count": len(pending), "last_seq": pending[-1].seq})
            await self._count_backlog()

    async def _count_backlog(self) -> None:
        metrics.OUTBOX_BACKLOG.labels("intake", self.tenant).set(await asyncio.to_thread(self.store.unsent_count))

    async def _publish(self, publisher: Publisher, row: PendingEvent) -> None:
        entry = row.entry
        # The stored value + envelope are turned back into the event exactly as committed.
        event = decode(entry.value, entry.envelope.headers())
        await publisher.publish(entry.topic, entry.key, event.message, event.envelope)

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = make_producer(self.kafka)
            try:
                await asyncio.wait_for(producer.start(), self.connect_timeout)
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception:  # a producer that lost its broker may fail to flush; rows stay unsent
                log.warning("producer did not stop cleanly", exc_info=True)

    async def _retry_until_done(self, what: str, step: Callable[[], Awaitable[None]], stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                await step()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(f"{what} failed; retrying", extra={"error": f"{type(exc).__name__}: {exc}",
                                                                "retry_in_s": backoff})
                # A fresh producer after a failure: aiokafka may keep a stale connection state.
                await self._close_producer()
                self._topics_ready = False
                await self._sleep(stop, backoff)
                backoff = min(backoff * 2, self.max_backoff)

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> None:
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except TimeoutError:
            pass

    async def _sleep_or_wake(self, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopping, woken}, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            woken.cancel()
