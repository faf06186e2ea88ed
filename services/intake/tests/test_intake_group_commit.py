"""Group commit of intake's store (services/intake/intake/store.py; vtkit.groupcommit): the contacts of concurrent
requests share one COMMIT, each is answered only once that COMMIT returned, and one that fails in its savepoint
leaves the others of its group stored. Through IntakeHandlers on a real SQLite file; the concurrency is made by
holding the first group's writer until the others have queued behind it, never by timing."""

from __future__ import annotations

import asyncio
import os
import pathlib
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from intake.domain.errors import ConflictError
from intake.domain.model import (
    Advies,
    Asker,
    ConcernNature,
    ConversionCriteria,
    Directbetrokkene,
    Identity,
    MelderType,
    Melding,
    PersonRole,
    Situation,
)
from intake.dossier_keys import region_keys
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.store import ContactRecord, ContactStore
from vtkit.audit import AuditLog, CommittedWith
from vtkit.audit import read as audit_read
from vtkit.keystore import KeyStore

TENANT = "utrecht"
TEACHER = Identity(name="Petra de Vries", organisation="De Regenboog", email="p@example.nl")
BSNS = ("111222333", "123456782", "100000009", "100000010", "100000022", "100000034", "100000046", "100000058")


def melding_about(bsn: str) -> Melding:
    return Melding(melder_type=MelderType.PROFESSIONAL, melder=TEACHER, situation=Situation.CAN_HELP_MYSELF,
                   directbetrokkenen=(Directbetrokkene(PersonRole.CHILD, bsn=bsn),),
                   nature=(ConcernNature.CHILD_ABUSE,), narrative="blauwe plekken")


class HeldCommits:
    """The store's group-commit hook: records the size of every group, and holds the writer after the COMMIT of the
    first group that follows `hold()` until `release`, so the requests started meanwhile queue behind it."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.holding = False
        self.held, self.release = threading.Event(), threading.Event()

    def hold(self) -> None:
        self.holding, self.sizes = True, []
        self.held.clear()
        self.release.clear()

    def __call__(self, size: int) -> None:
        self.sizes.append(size)
        if self.holding:
            self.holding = False
            self.held.set()
            assert self.release.wait(10), "the test never released the held group"


@pytest.fixture()
def commits() -> HeldCommits:
    return HeldCommits()


@pytest.fixture()
def store(tmp_path: pathlib.Path, commits: HeldCommits) -> Iterator[ContactStore]:
    db = ContactStore(tmp_path / "intake.sqlite3", on_group_committed=commits)
    yield db
    commits.release.set()
    db.close()


@pytest.fixture()
def handlers(store: ContactStore, keys: KeyStore) -> IntakeHandlers:
    return IntakeHandlers(TENANT, 9, store, PersonalDataProtector(region_keys(keys.root, store, TENANT), TENANT))


async def behind_a_held_group(store: ContactStore, commits: HeldCommits, first: Awaitable[Any],
                              others: list[Callable[[], Awaitable[Any]]]) -> list[asyncio.Task[Any]]:
    """Start `first`, hold its group after its COMMIT, start `others` and release once every one of them has queued
    its save (the next group takes them all). The tasks, `first`'s first."""
    arrived, all_queued = 0, asyncio.Event()
    save_in_group = store.save_in_group

    async def counted_save(*args: Any) -> Any:
        nonlocal arrived
        saving = asyncio.ensure_future(save_in_group(*args))
        await asyncio.sleep(0)  # the save's first step queues it (tasks run in the order they were created)
        arrived += 1
        if arrived == len(others):
            all_queued.set()
        return await saving

    commits.hold()
    started = asyncio.ensure_future(first)
    assert await asyncio.to_thread(commits.held.wait, 10)
    store.save_in_group = counted_save  # type: ignore[method-assign]
    tasks = [started, *(asyncio.ensure_future(other()) for other in others)]
    await asyncio.wait_for(all_queued.wait(), 30)
    assert store.waiting_saves == len(others) and not any(task.done() for task in tasks)  # none answered early
    commits.release.set()
    return tasks


def stored_elsewhere(store: ContactStore, contact_id: str) -> bool:
    """Committed: another connection to the file sees the contact and its events."""
    with sqlite3.connect(store.path) as other:
        contacts = other.execute("SELECT COUNT(*) FROM contacts WHERE contact_id = ?", (contact_id,)).fetchone()[0]
        events = other.execute("SELECT COUNT(*) FROM outbox WHERE record_key = ?", (contact_id,)).fetchone()[0]
    return bool(contacts == 1 and events >= 1)


async def test_concurrent_meldingen_share_commits_and_each_is_stored_when_it_is_acknowledged(
        handlers: IntakeHandlers, store: ContactStore, commits: HeldCommits) -> None:
    n = len(BSNS)
    others = [lambda bsn=bsn: handlers.submit_melding(f"k-{bsn}", melding_about(bsn)) for bsn in BSNS[1:]]
    # A retry of one of them while it waits in the same group: the first contact, stored once.
    others.append(lambda: handlers.submit_melding(f"k-{BSNS[1]}", melding_about(BSNS[1])))
    tasks = await behind_a_held_group(store, commits, handlers.submit_melding(f"k-{BSNS[0]}", melding_about(BSNS[0])),
                                      others)
    acknowledged = []
    for finished in asyncio.as_completed(tasks):
        record = await finished
        assert stored_elsewhere(store, record.contact_id)  # durable before the request is answered
        acknowledged.append(record)

    assert commits.sizes == [1, n]  # n + 1 requests, two COMMITs
    assert len({r.contact_id for r in acknowledged}) == n and tasks[1].result() == tasks[-1].result()
    for record in acknowledged:
        assert (await handlers.get_contact(record.contact_id))[0] == record
    assert store.unsent_count() == n


async def test_a_save_that_fails_in_its_group_is_rolled_back_alone_and_the_others_are_stored(
        handlers: IntakeHandlers, store: ContactStore, commits: HeldCommits) -> None:
    criteria = ConversionCriteria("ernstig", "kan het niet aan")
    advies = await handlers.register_advies("a", Advies(asker=Asker(MelderType.PROFESSIONAL, TEACHER), question="?"))
    # Both conversions of the advies pass the use case's check (neither is committed yet); the store refuses the
    # second in its savepoint, and only that one.
    tasks = await behind_a_held_group(store, commits, handlers.submit_melding("m-0", melding_about(BSNS[0])), [
        lambda: handlers.convert_advies("c-1", advies.contact_id, criteria, melding_about(BSNS[1])),
        lambda: handlers.convert_advies("c-2", advies.contact_id, criteria, melding_about(BSNS[2])),
        lambda: handlers.submit_melding("m-3", melding_about(BSNS[3])),
    ])
    first, one, other, last = await asyncio.gather(*tasks, return_exceptions=True)

    assert commits.sizes == [1, 3]
    # Which conversion reaches the group first depends on its worker-thread hops: exactly one of them is refused.
    (refused_key, refused), = [(k, r) for k, r in (("c-1", one), ("c-2", other)) if isinstance(r, BaseException)]
    (converted_key, converted), = [(k, r) for k, r in (("c-1", one), ("c-2", other)) if k != refused_key]
    assert isinstance(refused, ConflictError) and refused.field == "advies_id"
    assert isinstance(first, ContactRecord) and isinstance(converted, ContactRecord) and isinstance(last, ContactRecord)
    for record in (first, converted, last):
        assert stored_elsewhere(store, record.contact_id)
    assert store.find_by_idempotency_key(refused_key) is None
    assert (await handlers.get_contact(advies.contact_id))[0].converted_to == converted.contact_id
    assert store.unsent_count() == 1 + 1 + 2 + 1  # AdviesRegistered, MeldingReceived, the conversion's two, the last
    again = await handlers.convert_advies(converted_key, advies.contact_id, criteria, melding_about(BSNS[1]))
    assert again == converted


async def test_each_new_contact_s_access_record_is_written_with_its_group_and_a_retry_s_is_left_to_the_caller(
        handlers: IntakeHandlers, store: ContactStore, commits: HeldCommits, tmp_path: pathlib.Path) -> None:
    syncs: list[int] = []

    def fsync(fd: int) -> None:
        syncs.append(fd)
        os.fsync(fd)

    log = AuditLog(tmp_path / "audit.jsonl", f"intake/{TENANT}", fsync=fsync)

    def creation() -> CommittedWith:  # as the servicer makes it (vtkit.servicer.Access.with_commit)
        return CommittedWith(log, lambda subject: log.entry(action="create", what="SubmitMelding", subject=subject,
                                                            tenant=TENANT, role="region", purpose="intake",
                                                            outcome="success"))

    made = [creation() for _ in range(4)]
    tasks = await behind_a_held_group(store, commits, handlers.submit_melding("k-0", melding_about(BSNS[0]), made[0]), [
        lambda: handlers.submit_melding("k-1", melding_about(BSNS[1]), made[1]),
        lambda: handlers.submit_melding("k-1", melding_about(BSNS[1]), made[2]),  # a retry in the same group
        lambda: handlers.submit_melding("k-3", melding_about(BSNS[3]), made[3]),
    ])
    for finished in asyncio.as_completed(tasks):
        record = await finished
        logged = [r["subject"]["contact_id"] for r in audit_read(log.path)]
        assert record.contact_id in logged or record == tasks[1].result()  # on disk before the answer (or a retry)
    contacts = [task.result().contact_id for task in tasks]
    # One of the key's two requests reaches the group first: that one stores the contact and its record; the other
    # answers the same contact, and its caller records that answer.
    assert made[0].written and made[3].written and [made[1].written, made[2].written].count(True) == 1
    logged = [r["subject"]["contact_id"] for r in audit_read(log.path)]
    assert logged[0] == contacts[0] and sorted(logged[1:]) == sorted([contacts[1], contacts[3]])
    assert contacts[2] == contacts[1]
    assert len(syncs) == 2  # one write and fsync per group, with its commit


async def test_a_group_whose_writer_another_thread_holds_waits_in_a_worker_thread_not_on_the_event_loop(
        handlers: IntakeHandlers, store: ContactStore) -> None:
    """The group's statements run on the event loop only when the writer is free; while another thread holds it (the
    relay marking rows sent, a destruction) the whole group waits for it in a worker thread, and the loop goes on."""
    held, waiting, let_go = threading.Event(), threading.Event(), threading.Event()
    outcome: list[str] = []

    def holder() -> None:  # as the relay's thread holds the writer
        with store._lock:
            held.set()
            outcome.append("released" if let_go.wait(10) else "the event loop was blocked")

    in_thread = store._save_group

    def save_group(saves: Any) -> Any:
        waiting.set()
        return in_thread(saves)

    store._save_group = save_group  # type: ignore[method-assign]
    thread = threading.Thread(target=holder)
    thread.start()
    assert await asyncio.to_thread(held.wait, 10)
    submitted = asyncio.ensure_future(handlers.submit_melding("k-held", melding_about(BSNS[0])))
    assert await asyncio.to_thread(waiting.wait, 10)  # the group went to a worker thread, behind the holder
    await asyncio.sleep(0.01)
    assert not submitted.done()  # not answered while the writer is held
    let_go.set()  # from the event loop: it was not blocked on the writer
    record = await asyncio.wait_for(submitted, 10)
    thread.join(10)
    assert outcome == ["released"]
    assert stored_elsewhere(store, record.contact_id)


class FailingCommit:
    """The store's connection, whose first COMMIT fails as a full or broken disk makes it fail."""

    def __init__(self, db: sqlite3.Connection):
        self.db, self.failed = db, False

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT" and not self.failed:
            self.failed = True
            raise sqlite3.OperationalError("disk I/O error")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


async def test_a_group_whose_commit_fails_is_refused_as_a_whole_and_the_next_group_is_stored(
        handlers: IntakeHandlers, store: ContactStore) -> None:
    store._db = FailingCommit(store._db)  # type: ignore[assignment]

    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        await handlers.submit_melding("k-lost", melding_about(BSNS[0]))

    assert store._db.failed  # type: ignore[attr-defined]
    assert store.find_by_idempotency_key("k-lost") is None and store.unsent_count() == 0  # rolled back
    record = await asyncio.wait_for(handlers.submit_melding("k-next", melding_about(BSNS[1])), 10)  # writer let go
    assert stored_elsewhere(store, record.contact_id)
    again = await handlers.submit_melding("k-lost", melding_about(BSNS[0]))  # the refused request, retried
    assert stored_elsewhere(store, again.contact_id)
