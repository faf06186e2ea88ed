"""The SQLite store on a real file: idempotent scheduling, claims and leases, settling with outbox rows."""

from __future__ import annotations

import datetime as dt
import pathlib
import sqlite3

import pytest
from notifier.domain import AttemptOutcome, BackoffPolicy, Delivery, DeliveryKind, DeliveryState, judge_attempt
from notifier.store import OUTBOX_KEEP_DAYS, Store

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=10)


@pytest.fixture()
def store(tmp_path: pathlib.Path) -> Store:
    return Store(tmp_path / "notifier.sqlite3")


def delivery(key: str = "k1", tenant: str = "utrecht", case_id: str = "c1", after: dt.datetime = NOW) -> Delivery:
    return Delivery(key=key, kind=DeliveryKind.MELDER_CALLBACK, tenant_id=tenant, case_id=case_id, cause_event_id="e1",
                    due_date=dt.date(2026, 3, 9), created_at=NOW, deliver_after=after, body=b"\x00body")


def test_durability_pragmas(tmp_path: pathlib.Path) -> None:
    s = Store(tmp_path / "db.sqlite3")
    assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert s.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_same_key_is_scheduled_once_with_one_requested_event(store: Store) -> None:
    assert store.add(delivery())
    assert not store.add(delivery())
    assert [e.event for e in store.unsent()] == ["requested"]
    stored = store.get("k1")
    assert stored is not None and stored.body == b"\x00body" and stored.state is DeliveryState.PENDING


def test_key_is_the_primary_key(store: Store) -> None:
    store.add(delivery())
    with pytest.raises(sqlite3.IntegrityError):
        store.db.execute("INSERT INTO deliveries (key, kind, tenant_id, case_id, cause_event_id, body, state, created_at,"
                         " deliver_after, next_attempt_at, updated_at) VALUES ('k1','x','t','c','e',x'00','pending',0,0,0,0)")


def test_due_respects_deliver_after_and_routed_tenants(store: Store) -> None:
    store.add(delivery("now"))
    store.add(delivery("later", after=NOW + dt.timedelta(hours=1)))
    store.add(delivery("elsewhere", tenant="drenthe"))
    assert [d.key for d in store.due(NOW, ["utrecht"])] == ["now"]
    assert {d.key for d in store.due(NOW + dt.timedelta(hours=2), ["utrecht", "drenthe"])} == {"now", "later", "elsewhere"}
    assert store.due(NOW, []) == []
    assert store.open_tenants() == {"utrecht", "drenthe"}


def test_claimed_row_is_hidden_until_its_lease_expires(store: Store) -> None:
    store.add(delivery())
    claimed = store.claim(store.due(NOW, ["utrecht"])[0], NOW, LEASE)
    assert claimed is not None and claimed.state is DeliveryState.IN_FLIGHT and claimed.attempts == 1
    assert store.due(NOW + dt.timedelta(seconds=5), ["utrecht"]) == []
    # After a crash mid-call the lease runs out and the same key is attempted again.
    again = store.due(NOW + LEASE, ["utrecht"])
    assert [d.key for d in again] == ["k1"] and again[0].state is DeliveryState.IN_FLIGHT


def test_stale_claim_loses(store: Store) -> None:
    store.add(delivery())
    seen = store.due(NOW, ["utrecht"])[0]
    assert store.claim(seen, NOW, LEASE) is not None
    assert store.claim(seen, NOW, LEASE) is None  # read before the first claim: attempts moved on


def test_settle_delivered_writes_the_event_and_closes_the_row(store: Store) -> None:
    store.add(delivery())
    claimed = store.claim(store.due(NOW, ["utrecht"])[0], NOW, LEASE)
    assert claimed is not None
    verdict = judge_attempt(AttemptOutcome.OK, claimed.attempts, BackoffPolicy(), NOW, 0.5)
    assert store.settle(claimed, verdict, NOW)
    assert not store.settle(claimed, verdict, NOW)  # only once
    assert [e.event for e in store.unsent()] == ["requested", "delivered"]
    assert store.due(NOW + dt.timedelta(days=1), ["utrecht"]) == []
    assert store.open_tenants() == set()


def test_settle_retry_then_failure(store: Store) -> None:
    policy = BackoffPolicy(base_seconds=1, max_attempts=2)
    store.add(delivery())
    first = store.claim(store.due(NOW, ["utrecht"])[0], NOW, LEASE)
    assert first is not None
    store.settle(first, judge_attempt(AttemptOutcome.TRANSIENT, 1, policy, NOW, 0.0, "UNAVAILABLE: x"), NOW)
    row = store.get("k1")
    assert row is not None and row.state is DeliveryState.PENDING and row.last_error == "UNAVAILABLE: x"
    assert store.due(NOW, ["utrecht"]) == []
    later = NOW + dt.timedelta(seconds=1)
    second = store.claim(store.due(later, ["utrecht"])[0], later, LEASE)
    assert second is not None and second.attempts == 2
    store.settle(second, judge_attempt(AttemptOutcome.TRANSIENT, 2, policy, later, 0.0, "UNAVAILABLE: x"), later)
    failed = store.unsent()[-1]
    assert failed.event == "failed" and not failed.permanent and "2 attempts" in failed.reason
    assert failed.delivery.attempts == 2


def test_sent_rows_are_kept_to_publish_again_after_a_broker_loss_with_their_event_ids(store: Store) -> None:
    store.add(delivery())
    first = store.unsent()
    assert store.unsent()[0].event_id == first[0].event_id  # a re-publication reuses the ce_id
    store.mark_sent([first[0].seq])
    assert store.unsent() == [] and store.unsent_count() == 0
    # The broker lost its history: the Delivery* events go again, the same events.
    assert store.requeue_sent() == 1
    assert [(e.seq, e.event_id) for e in store.unsent()] == [(first[0].seq, first[0].event_id)]


def test_rows_sent_longer_ago_than_a_broker_keeps_them_go(store: Store) -> None:
    store.add(delivery())
    [row] = store.unsent()
    store.mark_sent([row.seq])
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=OUTBOX_KEEP_DAYS + 1)).timestamp()
    store.db.execute("UPDATE outbox SET sent_at=?", (old,))
    store.add(delivery("second"))
    [second] = store.unsent()
    store.mark_sent([second.seq])  # marking prunes what was sent too long ago
    assert store.requeue_sent() == 1 and [e.event_id for e in store.unsent()] == [second.event_id]


def test_list_for_tenant_filters(store: Store) -> None:
    store.add(delivery("a", case_id="c1"))
    store.add(delivery("b", case_id="c2"))
    store.add(delivery("c", tenant="drenthe", case_id="c1"))
    assert [d.key for d in store.list_for_tenant("utrecht")] == ["a", "b"]
    assert [d.key for d in store.list_for_tenant("utrecht", case_id="c1")] == ["a"]
    assert store.list_for_tenant("utrecht", states={DeliveryState.DELIVERED}) == []
    assert len(store.list_for_tenant("utrecht", states={DeliveryState.PENDING, DeliveryState.IN_FLIGHT})) == 2


def test_state_survives_reopening(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "notifier.sqlite3"
    first = Store(path)
    first.add(delivery())
    first.close()
    assert Store(path).get("k1") is not None
