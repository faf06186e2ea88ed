"""The idempotency key of a delivery: derived, never random, so a redelivered cause maps to the same row."""

from __future__ import annotations

import hashlib

from notifier.domain.delivery import DeliveryKind


def delivery_key(cause_event_id: str, kind: DeliveryKind) -> str:
    """sha256 hex of "<cause ce_id>:<kind>".

    The cause event id is the Kafka dedupe key (docs/architecture.md, "Contracts and records"), so the same event
    read twice yields the same key, and one event that causes several kinds of delivery yields one key per kind. The key
    is also sent to the receiver, which dedupes on it after a crash between send and bookkeeping.
    """
    if not cause_event_id:
        raise ValueError("a delivery needs the id of the event that caused it")
    return hashlib.sha256(f"{cause_event_id}:{kind.value}".encode()).hexdigest()
