"""What notifier.store reads back: its rows as values, and the conversions between SQLite and them (times are Unix
seconds, REAL, so due rows are found with a plain comparison)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection
from dataclasses import dataclass

from notifier.domain import Delivery, DeliveryKind, DeliveryState


@dataclass(frozen=True)
class CaseRecord:
    tenant_id: str
    case_id: str
    event_id: str
    received_at: dt.datetime
    melding: bytes


@dataclass(frozen=True)
class Postponement:
    weeks: int
    reason: str
    recorded_at: dt.datetime
    due_before: dt.date
    due_after: dt.date


@dataclass(frozen=True)
class MelderContact:
    outcome: str  # "contacted" | "not_reached"
    contacted_at: dt.datetime
    recorded_at: dt.datetime


@dataclass(frozen=True)
class OutboxEntry:
    seq: int
    event_id: str
    event: str
    delivery: Delivery
    created_at: dt.datetime
    reason: str
    permanent: bool


@dataclass(frozen=True)
class InboxRow:
    seq: int
    delivery: Delivery
    occurred_at: dt.datetime
    acknowledge_before: dt.datetime
    acknowledged_at: dt.datetime | None
    escalated_at: dt.datetime | None


def to_ts(moment: dt.datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.timestamp()


def from_ts(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


def marks(values: Collection[object]) -> str:
    return ",".join("?" * len(values))


def delivery_of(row: sqlite3.Row) -> Delivery:
    return Delivery(
        key=row["key"], kind=DeliveryKind(row["kind"]), tenant_id=row["tenant_id"], case_id=row["case_id"],
        cause_event_id=row["cause_event_id"],
        due_date=dt.date.fromisoformat(row["due_date"]) if row["due_date"] else None,
        created_at=from_ts(row["created_at"]) or dt.datetime.now(dt.UTC), deliver_after=from_ts(row["deliver_after"]) or
        dt.datetime.now(dt.UTC), body=bytes(row["body"]), state=DeliveryState(row["state"]), attempts=row["attempts"],
        next_attempt_at=from_ts(row["next_attempt_at"]), updated_at=from_ts(row["updated_at"]), last_error=row["last_error"],
        after_key=row["after_key"])


def case_of(row: sqlite3.Row) -> CaseRecord:
    return CaseRecord(tenant_id=row["tenant_id"], case_id=row["case_id"], event_id=row["event_id"],
                      received_at=from_ts(row["received_at"]) or dt.datetime.now(dt.UTC), melding=bytes(row["melding"]))


# An inbox item with its delivery, as inbox_row_of reads it.
INBOX_ROWS = ("SELECT i.seq, i.occurred_at AS i_occurred_at, i.acknowledge_before, i.acknowledged_at, i.escalated_at,"
              " d.* FROM inbox i JOIN deliveries d ON d.key = i.key")


def inbox_row_of(row: sqlite3.Row) -> InboxRow:
    return InboxRow(seq=row["seq"], delivery=delivery_of(row),
                    occurred_at=from_ts(row["i_occurred_at"]) or dt.datetime.now(dt.UTC),
                    acknowledge_before=from_ts(row["acknowledge_before"]) or dt.datetime.now(dt.UTC),
                    acknowledged_at=from_ts(row["acknowledged_at"]), escalated_at=from_ts(row["escalated_at"]))
