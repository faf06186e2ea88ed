"""DossierDestroyed (intake, Wmo 5.3.5 / 5.3.4) against a real SQLite store and real keys: the case's
MeldingReceived is dropped, its open deliveries (the household letter among them) are cancelled and
never become due, and a late or redelivered event about the case schedules nothing."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest
from notifier.consumer import EventHandler
from notifier.domain import DeliveryKind, DeliveryState
from notifier.store import Store
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2 as radar_events
from vtkit.envelope import Event, envelope_for
from vtkit.keystore import KeyStore, init_keys

TENANT = "fryslan"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    return init_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture()
def store(tmp_path: pathlib.Path) -> Store:
    return Store(tmp_path / "notifier.sqlite3")


async def deliver(handler: EventHandler, message: object) -> str:
    env = envelope_for(message, source="test", tenant=TENANT)  # type: ignore[arg-type]
    await handler(Event(env, message))  # type: ignore[arg-type]
    return env.id


async def case_with_decision(handler: EventHandler, keys: KeyStore, case_id: str) -> None:
    """What intake and radar publish about a case (the fields' content does not matter here)."""
    received = intake_events.MeldingReceived(tenant_id=TENANT, contact_id=case_id, dossier_id=case_id)
    received.received_at.FromDatetime(dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    await deliver(handler, received)
    decided = radar_events.AssessmentCompleted(tenant_id=TENANT, case_id=case_id,
                                               decision=radar_events.DECISION_ONDERZOEK)
    decided.decided_at.FromDatetime(dt.datetime(2026, 1, 9, 12, tzinfo=dt.UTC))
    await deliver(handler, decided)


def destroyed(case_id: str) -> intake_events.DossierDestroyed:
    msg = intake_events.DossierDestroyed(tenant_id=TENANT, dossier_id=case_id, contact_ids=[case_id],
                                         reason=intake_events.DESTRUCTION_REASON_REQUEST)
    msg.destroyed_at.GetCurrentTime()
    return msg


async def test_a_destroyed_dossier_cancels_its_letter_and_drops_its_case(store: Store, keys: KeyStore) -> None:
    handler = EventHandler(store, keys=keys)
    await case_with_decision(handler, keys, "gone")
    await case_with_decision(handler, keys, "kept")
    letter = store.letter_for_case(TENANT, "gone")
    assert letter is not None and letter.state is DeliveryState.PENDING
    open_before = store.list_for_tenant(TENANT, (DeliveryState.PENDING,), case_id="gone")
    assert {d.kind for d in open_before} >= {DeliveryKind.HOUSEHOLD_LETTER}

    await deliver(handler, destroyed("gone"))

    assert store.get_case(TENANT, "gone") is None and store.get_case(TENANT, "kept") is not None
    cancelled = store.list_for_tenant(TENANT, case_id="gone")
    assert cancelled and all(d.state is DeliveryState.FAILED for d in cancelled)
    failures = [e for e in store.unsent(1000) if e.event == "failed"]
    assert {e.delivery.key for e in failures} == {d.key for d in open_before}
    assert all(e.permanent and "dossier destroyed (request)" in e.reason for e in failures)
    far_future = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    due = store.due(far_future, [TENANT], limit=1000)
    assert {d.case_id for d in due} == {"kept"}  # the other household's deliveries are untouched


async def test_events_after_the_destruction_schedule_nothing(store: Store, keys: KeyStore) -> None:
    handler = EventHandler(store, keys=keys)
    await deliver(handler, destroyed("late"))
    await case_with_decision(handler, keys, "late")  # a redelivered MeldingReceived and a late decision
    assert store.get_case(TENANT, "late") is None
    assert store.list_for_tenant(TENANT, case_id="late") == []
    await deliver(handler, destroyed("late"))  # a redelivered DossierDestroyed changes nothing
    assert store.list_for_tenant(TENANT, case_id="late") == []
