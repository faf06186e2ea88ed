"""The scheduler's claims and settles on a real SQLite file, counted in commits (each one an fsync): a scan claims
what it starts in one transaction, attempts that finish together settle in one, and a settle that fails is undone
alone. The receiver is a stand-in whose calls wait for the test's word, so which attempts finish together is decided
by the test (one asyncio.Event), never by timing."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib

import pytest
from notifier.adapters.regional import RegionalClients
from notifier.domain import AttemptOutcome, BackoffPolicy, Delivery, DeliveryKind, DeliveryState
from notifier.scheduler import Scheduler
from notifier.settle_queue import SettleQueue
from notifier.store import Store
from vtkit.keystore import KeyStore

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TENANT = "utrecht"
KEYS = [f"k{i}" for i in range(6)]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


class HeldReceiver(RegionalClients):
    """Answers OK to every call, but only once `answer` is set; remembers the idempotency keys it was sent."""

    def __init__(self, keys: KeyStore) -> None:
        super().__init__({TENANT: "127.0.0.1:1"}, timeout_seconds=1, keys=keys)
        self.answer = asyncio.Event()
        self.sent: list[str] = []

    async def send(self, delivery: Delivery) -> tuple[AttemptOutcome, str]:
        self.sent.append(delivery.key)
        await self.answer.wait()
        return AttemptOutcome.OK, ""


@pytest.fixture()
def store(tmp_path: pathlib.Path) -> Store:
    store = Store(tmp_path / "notifier.sqlite3")
    for key in KEYS:
        store.add(Delivery(key=key, kind=DeliveryKind.MELDER_CALLBACK, tenant_id=TENANT, case_id=f"case-{key}",
                           cause_event_id=f"e-{key}", due_date=dt.date(2026, 3, 9), created_at=NOW, deliver_after=NOW,
                           body=b"body"))
    return store


@pytest.fixture()
def receiver(keys: KeyStore) -> HeldReceiver:
    return HeldReceiver(keys)


def scheduler(store: Store, receiver: HeldReceiver, clock: Clock, max_concurrent: int = 32) -> Scheduler:
    return Scheduler(store, receiver, BackoffPolicy(base_seconds=1, max_attempts=3), 60, clock=clock,
                     rand=lambda: 0.0, max_concurrent=max_concurrent)


def events(store: Store, event: str) -> list[str]:
    return sorted(e.delivery.key for e in store.unsent() if e.event == event)


async def test_a_scan_claims_every_delivery_it_starts_in_one_transaction(store: Store, receiver: HeldReceiver) -> None:
    s = scheduler(store, receiver, Clock())
    before = store.commits
    assert s.scan_once() == len(KEYS)
    assert store.commits == before + 1
    lease_end = NOW + s.lease
    for key in KEYS:
        row = store.get(key)
        assert row is not None and row.state is DeliveryState.IN_FLIGHT and row.attempts == 1
        assert row.next_attempt_at == lease_end  # each row its own lease, as before
    receiver.answer.set()
    await s.drain()


async def test_a_scan_claims_no_more_than_there_is_room_for(store: Store, receiver: HeldReceiver) -> None:
    s = scheduler(store, receiver, Clock(), max_concurrent=4)
    assert s.scan_once() == 4
    assert s.scan_once() == 0  # every place taken: the other two stay pending, unclaimed
    assert sorted(d.state.value for d in store.list_for_tenant(TENANT)) == ["in_flight"] * 4 + ["pending"] * 2
    receiver.answer.set()
    await s.drain()
    assert s.wake.is_set()  # a place came free for a row the scan had to leave: the next scan comes at once
    assert s.scan_once() == 2
    await s.drain()
    assert events(store, "delivered") == KEYS


async def test_attempts_that_finish_together_settle_in_one_transaction(store: Store, receiver: HeldReceiver) -> None:
    s = scheduler(store, receiver, Clock())
    s.scan_once()
    await asyncio.sleep(0)  # one turn of the loop: every attempt is waiting for its answer
    assert sorted(receiver.sent) == KEYS
    before = store.commits
    receiver.answer.set()  # every call is answered in the same turn of the loop
    await s.drain()
    assert store.commits == before + 1
    assert all(d.state is DeliveryState.DELIVERED for d in store.list_for_tenant(TENANT))
    assert events(store, "delivered") == KEYS  # each result with its outbox row, in that one commit


async def test_a_settle_that_fails_is_undone_alone(store: Store, receiver: HeldReceiver) -> None:
    """A write refused by SQLite for one row (a trigger stands in for a disk or constraint error) leaves that row in
    flight, as a crash before its settle would; the others' results are committed. After the lease the row is sent
    again with the same idempotency key."""
    store.db.execute("CREATE TRIGGER refuse_k2 BEFORE UPDATE OF state ON deliveries"
                     " WHEN NEW.key = 'k2' AND NEW.state = 'delivered' BEGIN SELECT RAISE(ABORT, 'refused'); END")
    clock = Clock()
    s = scheduler(store, receiver, clock)
    s.scan_once()
    receiver.answer.set()
    before = store.commits
    await s.drain()
    assert store.commits == before + 1
    others = [k for k in KEYS if k != "k2"]
    assert events(store, "delivered") == others
    k2 = store.get("k2")
    assert k2 is not None and k2.state is DeliveryState.IN_FLIGHT and k2.attempts == 1

    store.db.execute("DROP TRIGGER refuse_k2")
    assert s.scan_once() == 0  # its lease still runs
    clock.now = NOW + s.lease
    assert s.scan_once() == 1
    await s.drain()
    k2 = store.get("k2")
    assert k2 is not None and k2.state is DeliveryState.DELIVERED and k2.attempts == 2
    assert receiver.sent.count("k2") == 2 and all(receiver.sent.count(k) == 1 for k in others)


async def test_a_settle_waits_for_the_consumers_open_transaction(store: Store) -> None:
    """The consumer's batch transaction (Store.group) stays open while it awaits a dead-letter send. A result written
    into it would be durable only at its commit, after the relay may have published its outbox row; the settle
    queue writes after it instead, in a commit of its own."""
    written: list[str] = []
    queue: SettleQueue[str, bool] = SettleQueue(store, lambda key: written.append(key) is None)
    with store.group():
        settling = asyncio.create_task(queue.settle("k1"))
        for _ in range(3):  # turns of the loop, as while the consumer awaits its send
            await asyncio.sleep(0)
        assert written == [] and not settling.done()
        commits_in_group = store.commits
    assert store.commits == commits_in_group + 1  # the consumer's commit
    assert await settling
    assert written == ["k1"] and store.commits == commits_in_group + 2
