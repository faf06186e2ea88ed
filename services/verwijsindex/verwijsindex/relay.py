"""Outbox relay: publishes committed outbox rows in order and marks each sent only after
the broker acknowledged it. A broker outage delays events; it never loses one. A crash
between ack and mark re-sends the row: consumers dedupe on ce_id (at-least-once)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from aiokafka import AIOKafkaProducer
from vtkit import metrics

from verwijsindex.store import Store

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, store: Store, producer: AIOKafkaProducer, poll_seconds: float = 1.0, retry_seconds: float = 2.0):
        self.store = store
        self.producer = producer
        self.poll_seconds = poll_seconds
        self.retry_seconds = retry_seconds
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Called after a commit so new rows go out at once instead of at the next poll."""
        self._wake.set()

    async def publish_pending(self) -> int:
        sent = 0
        while rows := self.store.unsent(100):
            metrics.OUTBOX_BACKLOG.labels("verwijsindex", "national").set(len(rows))
            for row in rows:
                await self.producer.send_and_wait(row.topic, row.value, key=row.key.encode(), headers=row.headers)
                self.store.mark_sent(row.seq, dt.datetime.now(dt.UTC))
                metrics.EVENTS_PUBLISHED.labels(row.topic, "").inc()
                sent += 1
        metrics.OUTBOX_BACKLOG.labels("verwijsindex", "national").set(0)
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            delay = self.poll_seconds
            try:
                sent = await self.publish_pending()
                if sent:
                    log.info("outbox published", extra={"events": sent})
            except Exception as exc:  # broker trouble: keep the rows, try again later
                log.warning("outbox relay failed, will retry", extra={"error": f"{type(exc).__name__}: {exc}"})
                delay = self.retry_seconds
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(self._wake, stop), delay)


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
