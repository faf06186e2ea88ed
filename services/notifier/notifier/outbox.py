"""The notifier's outbox rows as Kafka records: DeliveryRequested / DeliveryDelivered / DeliveryFailed /
DeliveryOverdue, plus a dead-letter record for every failed delivery. vtkit.outbox publishes them.

A row is deleted only after the broker acknowledged its records (`Store.mark_sent`). Its ce_id was fixed
when the row was written, so a re-publication after a crash carries the same id and consumers dedupe.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from google.protobuf import message as pb_message
from vtkit import topics
from vtkit.envelope import Envelope, encode
from vtkit.outbox import OutboxRecord

from notifier.adapters import proto
from notifier.store import Store
from notifier.store_rows import OutboxEntry

log = logging.getLogger("notifier.outbox")
SOURCE = "notifier"
CONSUMER = "vt-notifier"


def outbox_records(store: Store) -> Callable[[OutboxEntry], list[OutboxRecord]]:
    def records(entry: OutboxEntry) -> list[OutboxRecord]:
        d = entry.delivery
        message: pb_message.Message
        if entry.event == "requested":
            message = proto.delivery_requested(d)
        elif entry.event == "delivered":
            message = proto.delivery_delivered(d, entry.created_at)
        elif entry.event == "overdue":
            message = proto.delivery_overdue(d, entry.created_at, len(store.postponements(d.tenant_id, d.case_id)))
        else:
            message = proto.delivery_failed(d, entry.created_at, entry.reason, entry.permanent)
        envelope = Envelope(id=entry.event_id, type=message.DESCRIPTOR.full_name, source=f"{SOURCE}/{d.tenant_id}",
                            time=entry.created_at, tenant=d.tenant_id)
        value, headers = encode(message, envelope)
        out = [OutboxRecord(topics.NATIONAL_DELIVERIES, d.key.encode(), value, headers, entry.event_id, d.tenant_id)]
        if entry.event == "failed":
            out.append(_dead_letter(value, headers, entry, d.key))  # the key is the idempotency key
        return out

    return records


def _dead_letter(value: bytes, headers: list[tuple[str, bytes]], entry: OutboxEntry, key: str) -> OutboxRecord:
    """The failed delivery also goes to the shared dead-letter topic (same dl_* headers as
    vtkit.kafka.dead_letter) so operations see it next to undecodable records."""
    headers = headers + [("dl_reason", entry.reason[:1000].encode()), ("dl_topic", topics.NATIONAL_DELIVERIES.encode()),
                         ("dl_consumer", CONSUMER.encode()), ("dl_service", b"notifier"),
                         ("dl_time", dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").encode())]
    log.warning("failed delivery dead-lettered", extra={"idempotency_key": key, "reason": entry.reason[:200]})
    return OutboxRecord(topics.DEAD_LETTERS, key.encode(), value, headers, entry.event_id, entry.delivery.tenant_id)
