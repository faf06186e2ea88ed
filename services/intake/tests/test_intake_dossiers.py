"""Dossiers and their destruction against the real SQLite store and a real key directory (no broker):
a melding's fields are under its dossier key, destruction shreds and blanks it, the retention sweep does
the same after 20 years (fake clock), and a tenant-key rotation needs no restart."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import pathlib
import sqlite3

import pytest
from intake.domain.errors import ConflictError, ContactNotFound
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
from intake.retention import PURPOSE, sweep_once
from intake.store import ContactRecord, ContactStore
from vt.intake.v1 import events_pb2
from vtkit.audit import AuditLog
from vtkit.crypto import DecryptionError, Sealed, unwrap_opened
from vtkit.envelope import decode
from vtkit.keys import KeyDestroyed, LocalDataKeyStore, UnknownKey
from vtkit.keystore import KeyStore, init_keys

TENANT = "utrecht"
T0 = dt.datetime(2026, 5, 4, 9, 30, tzinfo=dt.UTC)
TEACHER = Identity(name="Petra de Vries", organisation="De Regenboog", email="p@example.nl")
MELDING = Melding(melder_type=MelderType.PROFESSIONAL, melder=TEACHER, situation=Situation.CAN_HELP_MYSELF,
                  directbetrokkenen=(Directbetrokkene(PersonRole.CHILD, bsn="111222333"),),
                  nature=(ConcernNature.CHILD_ABUSE,), narrative="blauwe plekken")
ANOTHER_HOUSEHOLD = dataclasses.replace(MELDING, narrative="een ander gezin",
                                        directbetrokkenen=(Directbetrokkene(PersonRole.CHILD, bsn="123456782"),))


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now




@pytest.fixture()
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture()
def store(tmp_path: pathlib.Path):  # type: ignore[no-untyped-def]
    db = ContactStore(tmp_path / "intake.sqlite3")
    yield db
    db.close()


@pytest.fixture()
def keys(tmp_path: pathlib.Path, store: ContactStore) -> KeyStore:
    """As intake has them: the region's dossier keys in its database, the rest in its own key dir."""
    return region_keys(init_keys(tmp_path / "keys").root, store, TENANT)


def published(keys: KeyStore) -> LocalDataKeyStore:
    """The shared key store as radar and the notifier read it."""
    return LocalDataKeyStore(keys.root)


@pytest.fixture()
def handlers(store: ContactStore, keys: KeyStore, clock: Clock) -> IntakeHandlers:
    return IntakeHandlers(TENANT, 9, store, PersonalDataProtector(keys, TENANT), clock=clock)


def outbox(store: ContactStore) -> list[object]:
    return [decode(row.entry.value, row.entry.envelope.headers()).message for row in store.unsent(1000)]


def _get(store: ContactStore, contact_id: str) -> ContactRecord:
    record = store.get(contact_id)
    assert record is not None
    return record


async def test_a_melding_opens_a_dossier_whose_key_protects_its_fields(handlers: IntakeHandlers,
                                                                       store: ContactStore) -> None:
    record = await handlers.submit_melding("k1", MELDING)
    assert record.dossier_id == record.contact_id
    assert record.payload.key_id == f"{TENANT}/dossier/{record.contact_id}"
    [event] = outbox(store)
    assert isinstance(event, events_pb2.MeldingReceived) and event.dossier_id == record.contact_id
    assert {event.melder.key_id, event.content.key_id, *(p.details.key_id for p in event.persons)} == {
        record.payload.key_id}
    advies = await handlers.register_advies("k2", Advies(asker=Asker(MelderType.PROFESSIONAL, TEACHER), question="?"))
    assert advies.dossier_id == "" and advies.payload.key_id == f"{TENANT}:1"


async def test_a_meldings_identities_are_sealed_to_radar_under_one_ephemeral_key_of_its_own(
        handlers: IntakeHandlers, store: ContactStore, keys: KeyStore) -> None:
    two = dataclasses.replace(MELDING, directbetrokkenen=(Directbetrokkene(PersonRole.CHILD, bsn="111222333"),
                                                          Directbetrokkene(PersonRole.VICTIM, bsn="123456782")))
    await handlers.submit_melding("k1", two)
    await handlers.submit_melding("k2", ANOTHER_HOUSEHOLD)
    # The relay's read: it publishes the dossier keys (for radar's view below) before it sends.
    (first, first_id), (second, second_id) = [
        (e.message, e.envelope.id) for e in (decode(r.entry.value, r.entry.envelope.headers()) for r in store.unsent(1000))]
    assert isinstance(first, events_pb2.MeldingReceived) and isinstance(second, events_pb2.MeldingReceived)
    ephemeral = [[p.sealed_identity.ephemeral_public_key for p in e.persons] for e in (first, second)]
    assert ephemeral[0][0] == ephemeral[0][1] != ephemeral[1][0]
    assert first.persons[0].sealed_identity.nonce != first.persons[1].sealed_identity.nonce
    radar, shared = keys.seal_opener("radar"), KeyStore(keys.root, data_keys=published(keys))
    opened = []
    for event, event_id in ((first, first_id), (second, second_id)):
        for person in event.persons:
            s = person.sealed_identity
            inner = radar.open(Sealed(s.recipient, s.ephemeral_public_key, s.nonce, s.ciphertext))
            opened.append(unwrap_opened(inner, shared.tenant_reader(TENANT), event_id=event_id,
                                        field=f"identity:{person.person_id}"))
    assert [b"111222333" in i for i in opened] == [True, False, False] and b"123456782" in opened[1]


async def test_destruction_shreds_and_blanks_the_dossier_and_queues_dossier_destroyed(
        handlers: IntakeHandlers, store: ContactStore, keys: KeyStore) -> None:
    advies = await handlers.register_advies("a1", Advies(asker=Asker(MelderType.PROFESSIONAL, TEACHER), question="?"))
    vervolg = await handlers.register_vervolgadvies("a2", advies.contact_id,
                                                    Advies(asker=Asker(MelderType.PROFESSIONAL, TEACHER), question="!"))
    melding = await handlers.convert_advies("m1", advies.contact_id, ConversionCriteria("ernstig", "kan niet"), MELDING)
    other = await handlers.submit_melding("m2", ANOTHER_HOUSEHOLD)
    ciphertext = _get(store, melding.contact_id).payload

    dossier_id, ids, _ = await handlers.destroy_dossier(advies.contact_id)  # any contact of the dossier names it
    assert dossier_id == melding.contact_id
    assert sorted(ids) == sorted([advies.contact_id, vervolg.contact_id, melding.contact_id])
    for contact_id in ids:
        with pytest.raises(ContactNotFound, match="destroyed"):
            await handlers.get_contact(contact_id)
        assert _get(store, contact_id).payload.ciphertext == b""
    with pytest.raises(DecryptionError):  # a copy of the ciphertext (a backup, Kafka) no longer opens
        keys.tenant_cipher(TENANT).decrypt(ciphertext, event_id=melding.contact_id, field="contact")
    with pytest.raises(KeyDestroyed):
        keys.data_keys.data_key(f"{TENANT}/dossier/{dossier_id}")
    # Unsent events of the destroyed contacts are dropped; DossierDestroyed is queued; the other dossier stays.
    queued = outbox(store)
    assert [type(e).__name__ for e in queued] == ["MeldingReceived", "DossierDestroyed"]
    assert queued[0].contact_id == other.contact_id  # type: ignore[attr-defined]
    destroyed = queued[1]
    assert isinstance(destroyed, events_pb2.DossierDestroyed)
    assert destroyed.dossier_id == dossier_id and sorted(destroyed.contact_ids) == sorted(ids)
    assert destroyed.reason == events_pb2.DESTRUCTION_REASON_REQUEST
    _, payload = await handlers.get_contact(other.contact_id)
    assert b"een ander gezin" in payload
    # Asking again is harmless: nothing new is queued.
    assert (await handlers.destroy_dossier(melding.contact_id))[1] == ids
    assert len(outbox(store)) == 2


async def test_an_advies_outside_any_dossier_or_an_unknown_id_is_refused(handlers: IntakeHandlers) -> None:
    advies = await handlers.register_advies("a1", Advies(asker=Asker(MelderType.PROFESSIONAL, TEACHER), question="?"))
    with pytest.raises(ConflictError):
        await handlers.destroy_dossier(advies.contact_id)
    with pytest.raises(ContactNotFound):
        await handlers.destroy_dossier("not-a-contact")


async def test_the_retention_sweep_destroys_dossiers_twenty_years_after_their_last_change(
        handlers: IntakeHandlers, store: ContactStore, keys: KeyStore, clock: Clock, tmp_path: pathlib.Path) -> None:
    old = await handlers.submit_melding("m1", MELDING)
    clock.now = T0 + dt.timedelta(days=365 * 3)
    young = await handlers.submit_melding("m2", ANOTHER_HOUSEHOLD)
    audit = AuditLog(tmp_path / "audit.jsonl", f"intake/{TENANT}")

    clock.now = dt.datetime(2046, 5, 4, 9, 29, tzinfo=dt.UTC)  # one minute short of 20 years
    assert await sweep_once(handlers, audit) == 0
    clock.now = dt.datetime(2046, 5, 4, 9, 31, tzinfo=dt.UTC)
    assert await sweep_once(handlers, audit) == 1
    with pytest.raises(ContactNotFound, match="destroyed"):
        await handlers.get_contact(old.contact_id)
    await handlers.get_contact(young.contact_id)
    destroyed = [e for e in outbox(store) if isinstance(e, events_pb2.DossierDestroyed)]
    assert [(e.dossier_id, e.reason) for e in destroyed] == [(old.contact_id, events_pb2.DESTRUCTION_REASON_RETENTION)]
    [record] = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert record["action"] == "delete" and record["purpose"] == PURPOSE
    assert record["subject"]["dossier_id"] == old.contact_id


async def test_a_crash_between_blanking_and_key_destruction_is_finished_by_the_sweep(
        handlers: IntakeHandlers, store: ContactStore, keys: KeyStore, monkeypatch: pytest.MonkeyPatch,
        tmp_path: pathlib.Path) -> None:
    """Intake's own copy of the key goes with the blanking (one commit); the published one, which radar and the notifier
    read, after it: a crash in between leaves the published key, and the sweep destroys it."""
    record = await handlers.submit_melding("m1", MELDING)
    key_id = f"{TENANT}/dossier/{record.contact_id}"
    store.unsent()  # the relay publishes the key before it sends the MeldingReceived
    assert published(keys).data_key(key_id) == keys.data_keys.data_key(key_id)

    def crash(_store: LocalDataKeyStore, _key_id: str) -> bool:
        raise OSError("power cut")

    monkeypatch.setattr(LocalDataKeyStore, "destroy", crash)
    with pytest.raises(OSError):
        await handlers.destroy_dossier(record.contact_id)
    with pytest.raises(KeyDestroyed):
        keys.data_keys.data_key(key_id)
    assert published(keys).data_key(key_id)  # the published key survived the "crash"
    monkeypatch.undo()
    await sweep_once(handlers, AuditLog(tmp_path / "audit.jsonl", f"intake/{TENANT}"))
    with pytest.raises(KeyDestroyed):
        published(keys).data_key(key_id)


async def test_a_rotated_tenant_key_is_used_at_once_and_old_contacts_still_open(
        handlers: IntakeHandlers, keys: KeyStore) -> None:
    ask = Advies(asker=Asker(MelderType.PROFESSIONAL, TEACHER), question="voor de rotatie")
    before = await handlers.register_advies("a1", ask)
    keys.data_keys.rotate(TENANT)
    after = await handlers.register_advies("a2", dataclasses.replace(ask, question="na de rotatie"))
    assert (before.payload.key_id, after.payload.key_id) == (f"{TENANT}:1", f"{TENANT}:2")
    assert b"voor de rotatie" in (await handlers.get_contact(before.contact_id))[1]
    assert b"na de rotatie" in (await handlers.get_contact(after.contact_id))[1]


async def test_a_later_melding_about_the_household_joins_its_dossier_until_the_dossier_is_destroyed(
        handlers: IntakeHandlers, store: ContactStore, keys: KeyStore) -> None:
    """One dossier per household: a melding sharing a directbetrokkene (the same BSN) with a dossier of the region
    joins it (a hermelding), under its key; another household has its own; after destruction a new melding about
    the household opens a new dossier. The index holds keyed hashes only, never the BSN."""
    first = await handlers.submit_melding("h1", MELDING)
    sibling = Directbetrokkene(PersonRole.CHILD, bsn="234567892")
    later = await handlers.submit_melding("h2", dataclasses.replace(
        MELDING, directbetrokkenen=(sibling, *MELDING.directbetrokkenen)))
    elsewhere = await handlers.submit_melding("h3", ANOTHER_HOUSEHOLD)
    assert later.contact_id != first.contact_id and later.dossier_id == first.contact_id
    assert later.payload.key_id == f"{TENANT}/dossier/{first.contact_id}"
    assert elsewhere.dossier_id == elsewhere.contact_id
    events = [e for e in outbox(store) if isinstance(e, events_pb2.MeldingReceived)]
    assert [e.dossier_id for e in events] == [first.contact_id, first.contact_id, elsewhere.contact_id]
    index = store._db.execute("SELECT person_key, dossier_id FROM household_index").fetchall()
    assert "111222333" not in str(index) and len(index) == 3  # the child, the sibling, the other household's child

    dossier_id, ids, _ = await handlers.destroy_dossier(later.contact_id)
    assert dossier_id == first.contact_id and sorted(ids) == sorted([first.contact_id, later.contact_id])
    again = await handlers.submit_melding("h4", dataclasses.replace(MELDING, directbetrokkenen=(sibling,)))
    assert again.dossier_id == again.contact_id  # the destroyed dossier is not reopened


async def test_a_hermelding_is_a_change_of_the_household_dossier_so_its_retention_restarts(
        handlers: IntakeHandlers, store: ContactStore, clock: Clock, tmp_path: pathlib.Path) -> None:
    first = await handlers.submit_melding("m1", MELDING)
    clock.now = T0 + dt.timedelta(days=365 * 3)
    later = await handlers.submit_melding("m2", MELDING)
    assert later.dossier_id == first.contact_id
    audit = AuditLog(tmp_path / "audit.jsonl", f"intake/{TENANT}")
    clock.now = dt.datetime(2046, 5, 4, 9, 31, tzinfo=dt.UTC)  # 20 years after the first melding, 17 after the later
    assert await sweep_once(handlers, audit) == 0
    await handlers.get_contact(first.contact_id)


# -- the dossier keys in intake's database (intake.dossier_keys) ---------------------------------------------------

async def test_a_melding_s_key_is_committed_with_it_and_published_before_its_events_are_sent(
        handlers: IntakeHandlers, store: ContactStore, keys: KeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """No key file and no fsync of one before the acknowledgement: the key is a row of the contact's commit. The relay
    publishes it (fsynced) when it reads the rows to send, before it sends them."""
    fsynced: list[str] = []  # the files and directories os.fsync was called on (SQLite's own fsync is not os.fsync)
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (fsynced.append(os.readlink(f"/proc/self/fd/{fd}")), real_fsync(fd))[1])
    record = await handlers.submit_melding("m1", MELDING)
    key_id = f"{TENANT}/dossier/{record.contact_id}"
    assert not [path for path in fsynced if "dossiers" in path]  # no key file on the way to the answer
    assert store.dossier_key(record.contact_id) is not None
    with pytest.raises(UnknownKey):
        published(keys).data_key(key_id)
    assert b"blauwe plekken" in (await handlers.get_contact(record.contact_id))[1]  # intake reads its own at once

    [row] = store.unsent()  # what the relay does before it sends
    assert published(keys).data_key(key_id) == keys.data_keys.data_key(key_id)
    assert [path for path in fsynced if path.endswith(f"/dossiers/{TENANT}")]  # durable before the event is sent
    assert row.entry.key == record.contact_id and store.unpublished_dossier_keys() == []


async def test_a_save_that_fails_leaves_no_key_behind(handlers: IntakeHandlers, store: ContactStore,
                                                      keys: KeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(store, "_insert_outbox", broken)
    with pytest.raises(sqlite3.OperationalError):
        await handlers.submit_melding("m1", MELDING)
    monkeypatch.undo()
    assert store.live_dossier_keys() == [] and store.unsent() == []
    assert not list((keys.root / "data-keys" / "dossiers").glob("*/*.json"))


def test_key_files_of_an_earlier_intake_are_imported_once(tmp_path: pathlib.Path, store: ContactStore) -> None:
    """An intake that kept its dossier keys as files: its first start on this version takes them into its
    database (as published), with their last change, so they open, count for retention and are destroyed here."""
    key_dir = init_keys(tmp_path / "keys").root
    files = LocalDataKeyStore(key_dir)
    key_id, key = files.open_dossier_key(TENANT, "d-old", T0)
    files.open_dossier_key("twente", "d-other-region", T0)
    keys = region_keys(key_dir, store, TENANT).data_keys
    assert store.live_dossier_keys() == ["d-old"] and store.unpublished_dossier_keys() == []
    assert keys.data_key(key_id) == key
    assert keys.expired_dossier_keys(T0 + dt.timedelta(days=1)) == [key_id]
    files.open_dossier_key(TENANT, "d-made-as-a-file-later", T0)
    region_keys(key_dir, store, TENANT)  # a restart imports nothing again
    assert store.live_dossier_keys() == ["d-old"]
    assert keys.destroy(key_id) is True
    with pytest.raises(KeyDestroyed):
        LocalDataKeyStore(key_dir).data_key(key_id)
