"""Publishes the outbox: DeliveryRequested / DeliveryDelivered / DeliveryFailed / DeliveryOverdue, and a dead-letter
record for every failed delivery.

At least once: a row is deleted only after the broker acknowledged it. Its ce_id was fixed when
the row was written, so a re-publication after a crash carries the same id and consumers dedupe.
A batch of rows is sent together (one producer keeps the order per partition) and its rows are
deleted in one transaction once every send is acknowledged: waiting for each row's acknowledgement
and committing each deletion separately (an fsync each) was the notifier's largest cost
(docs/perf/profile.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from aiokafka import AIOKafkaProducer
from google.protobuf import message as pb_message
from vtkit import metrics, topics
from vtkit.envelope import Envelope, encode

from notifier.adapters import proto
from notifier.store import OutboxEntry, Store

log = logging.getLogger("notifier.outbox")
SOURCE = "notifier"
CONSUMER = "vt-notifier"


class OutboxRelay:
    def __init__(self, store: Store, producer: AIOKafkaProducer, interval: float):
        self.store = store
        self.producer = producer
        self.interval = interval
        self.wake = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.publish_pending()
            except Exception:
                # A broker outage delays events; the rows stay and are retried on the next round.
                log.exception("publishing the outbox failed; will retry")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.interval)
        with contextlib.suppress(Exception):
            await self.publish_pending()  # flush what the last attempts produced before exiting

    async def publish_pending(self) -> int:
        count = 0
        while batch := self.store.outbox_batch():
            sent = [await self._send(entry) for entry in batch]
            await asyncio.gather(*(f for futures in sent for f in futures))
            self.store.outbox_done_many([entry.seq for entry in batch])
            count += len(batch)
            for entry in batch:
                metrics.EVENTS_PUBLISHED.labels(topics.NATIONAL_DELIVERIES, entry.delivery.tenant_id).inc()
        return count

    async def _send(self, entry: OutboxEntry) -> list[asyncio.Future[Any]]:
        """Queues the row's record(s) with the producer; the futures resolve on the broker's acknowledgement."""
        d = entry.delivery
        message: pb_message.Message
        if entry.event == "requested":
            message = proto.delivery_requested(d)
        elif entry.event == "delivered":
            message = proto.delivery_delivered(d, entry.created_at)
        elif entry.event == "overdue":
            message = proto.delivery_overdue(d, entry.created_at, len(self.store.postponements(d.tenant_id, d.case_id)))
        else:
            message = proto.delivery_failed(d, entry.created_at, entry.reason, entry.permanent)
        envelope = Envelope(id=entry.event_id, type=message.DESCRIPTOR.full_name, source=f"{SOURCE}/{d.tenant_id}",
                            time=entry.created_at, tenant=d.tenant_id)
        value, headers = encode(message, envelope)
        futures = [await self.producer.send(topics.NATIONAL_DELIVERIES, value, key=d.key.encode(), headers=headers)]
        if entry.event == "failed":
            futures.append(await self._dead_letter(message, envelope, entry.reason))
        return futures

    async def _dead_letter(self, message: pb_message.Message, envelope: Envelope, reason: str) -> asyncio.Future[Any]:
        """The failed delivery goes to the shared dead-letter topic (same dl_* headers as
        vtkit.kafka.dead_letter) so operations see it next to undecodable records."""
        value, headers = encode(message, envelope)
        headers += [("dl_reason", reason[:1000].encode()), ("dl_topic", topics.NATIONAL_DELIVERIES.encode()),
                    ("dl_consumer", CONSUMER.encode())]
        key = message.idempotency_key  # type: ignore[attr-defined]
        future = await self.producer.send(topics.DEAD_LETTERS, value, key=key.encode(), headers=headers)
        log.warning("failed delivery dead-lettered", extra={"idempotency_key": key, "reason": reason[:200]})
        return future
