"""Event handling and the scheduler against a real SQLite file and a real in-process fake regional
system (gRPC on loopback); only Kafka is left out."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
from collections.abc import AsyncIterator

import grpc
import pytest
from notifier.adapters import events, proto
from notifier.adapters.regional import RegionalClients, classify
from notifier.consumer import EventHandler
from notifier.domain import AttemptOutcome, BackoffPolicy, DeliveryKind, DeliveryState, delivery_key
from notifier.domain.callback import Callback
from notifier.scheduler import Scheduler
from notifier.settings import parse_endpoints
from notifier.store import Store
from simulators.regional_system import FakeRegionalSystem, read_records
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.verwijsindex.v1 import events_pb2 as vi_events
from vtkit.calendar import AMSTERDAM
from vtkit.config import ConfigError
from vtkit.envelope import Event, envelope_for
from vtkit.kafka import PermanentError
from vtkit.keystore import KeyStore

MELDER = common_pb2.EncryptedField(key_id="utrecht:1", nonce=b"\x01" * 12, ciphertext=b"\xffsecret\x00")


def due_event(case_id: str = "case-1", with_due: bool = False) -> radar_events.AssessmentDue:
    msg = radar_events.AssessmentDue(tenant_id="utrecht", case_id=case_id, acute=True, melder=MELDER)
    msg.received_at.FromDatetime(dt.datetime(2026, 4, 2, 9, 0, tzinfo=AMSTERDAM).astimezone(dt.UTC))
    if with_due:
        msg.due_date.CopyFrom(common_pb2.Date(year=2026, month=4, day=13))
    return msg


@pytest.fixture()
def store(tmp_path: pathlib.Path) -> Store:
    return Store(tmp_path / "notifier.sqlite3")


@pytest.fixture()
async def fake(tmp_path: pathlib.Path, request: pytest.FixtureRequest, keys: KeyStore) -> AsyncIterator[FakeRegionalSystem]:
    system = FakeRegionalSystem(record_file=tmp_path / "calls.jsonl", tenant="utrecht", keys=keys,
                                **getattr(request, "param", {}))
    await system.start()
    yield system
    await system.stop()


async def test_redelivered_event_schedules_nothing(store: Store) -> None:
    handler = EventHandler(store)
    msg = due_event()
    event = envelope_for(msg, source="radar/utrecht", tenant="utrecht")
    await handler(Event(event, msg))
    await handler(Event(event, msg))
    rows = store.list_for_tenant("utrecht")
    assert len(rows) == 1
    assert rows[0].key == delivery_key(event.id, DeliveryKind.MELDER_CALLBACK)
    assert rows[0].due_date == dt.date(2026, 4, 13)  # computed: Easter 2026 skipped
    assert [e.event for e in store.unsent()] == ["requested"]


async def test_other_types_are_ignored_and_invalid_ones_dead_lettered(store: Store) -> None:
    handler = EventHandler(store)
    other = radar_events.RegisterEntry(tenant_id="utrecht", case_id="c")
    await handler(Event(envelope_for(other, source="radar"), other))
    assert store.list_for_tenant("utrecht") == []
    broken = radar_events.AssessmentDue(tenant_id="utrecht")
    with pytest.raises(PermanentError):
        await handler(Event(envelope_for(broken, source="radar"), broken))
    stray = radar_events.RegisterMatch(addressed_to="atlantis", own_case_id="c")
    with pytest.raises(PermanentError):
        await handler(Event(envelope_for(stray, source="radar"), stray))


@pytest.mark.parametrize("message", [
    radar_events.MonitoringAlert(tenant_id="utrecht", case_id="c", trigger=radar_events.MONITORING_TRIGGER_RVDK,
                                 rvdk=radar_events.RvdkInfo(kind=647)),  # type: ignore[arg-type]
    intake_events.DossierDestroyed(tenant_id="utrecht", dossier_id="d", reason=647),  # type: ignore[arg-type]
    vi_events.SignalMatch(match_id="m", kind=647),  # type: ignore[arg-type]
])
async def test_an_enum_value_the_notifier_does_not_know_is_dead_lettered(store: Store, message: object) -> None:
    """A newer producer's value is not told on as a wrong name, nor does it stop the consumer (fuzz run)."""
    with pytest.raises(PermanentError, match="unknown .* 647"):
        await EventHandler(store)(Event(envelope_for(message, source="radar"), message))  # type: ignore[arg-type]


async def test_register_match_goes_to_the_addressed_region(store: Store) -> None:
    msg = radar_events.RegisterMatch(match_id="m1", addressed_to="drenthe", own_case_id="d-7", own_person_id="p-2",
                                     other=common_pb2.Involvement(tenant_id="utrecht"))
    await EventHandler(store)(Event(envelope_for(msg, source="radar"), msg))
    (row,) = store.list_for_tenant("drenthe")
    assert row.kind is DeliveryKind.REGISTER_MATCH_NOTICE and row.case_id == "d-7" and row.due_date is None
    request = proto.register_match_request(row)
    assert request.person_id == "p-2" and request.other.tenant_id == "utrecht" and request.idempotency_key == row.key


def test_callback_body_passes_melder_through_unchanged() -> None:
    msg = due_event(with_due=True)
    facts = events.assessment_due(msg)
    body = proto.callback_body(Callback(key="key", tenant_id=facts.tenant_id, case_id=facts.case_id,
                                        due_date=dt.date(2026, 4, 13), received_at=facts.received_at,
                                        acute=facts.acute, melder=facts.melder))
    request = receivers_pb2.DeliverCallbackRequest.FromString(body)
    assert request.melder.SerializeToString() == MELDER.SerializeToString()
    assert request.received_at == msg.received_at and request.acute
    assert (request.due_date.year, request.due_date.month, request.due_date.day) == (2026, 4, 13)


@pytest.mark.parametrize(("code", "outcome"), [
    (grpc.StatusCode.UNAVAILABLE, AttemptOutcome.TRANSIENT), (grpc.StatusCode.DEADLINE_EXCEEDED, AttemptOutcome.TRANSIENT),
    (grpc.StatusCode.INVALID_ARGUMENT, AttemptOutcome.PERMANENT), (grpc.StatusCode.NOT_FOUND, AttemptOutcome.PERMANENT),
    (grpc.StatusCode.PERMISSION_DENIED, AttemptOutcome.PERMANENT), (grpc.StatusCode.ALREADY_EXISTS, AttemptOutcome.OK),
])
def test_status_codes(code: grpc.StatusCode, outcome: AttemptOutcome) -> None:
    assert classify(code) is outcome


def test_endpoints_parsing() -> None:
    assert parse_endpoints("") == {}
    assert parse_endpoints(" utrecht=127.0.0.1:5000, drenthe=h:1 ") == {"utrecht": "127.0.0.1:5000", "drenthe": "h:1"}
    for bad in ("utrecht", "utrecht=nohostport", "atlantis=h:1"):
        with pytest.raises(ConfigError):
            parse_endpoints(bad)


async def _schedule(store: Store, case_id: str = "case-1") -> str:
    msg = due_event(case_id)
    env = envelope_for(msg, source="radar/utrecht", tenant="utrecht")
    await EventHandler(store)(Event(env, msg))
    return delivery_key(env.id, DeliveryKind.MELDER_CALLBACK)


def scheduler_for(store: Store, fake: FakeRegionalSystem, attempts: int = 3) -> Scheduler:
    assert fake.keys is not None
    clients = RegionalClients({"utrecht": fake.address}, timeout_seconds=2, keys=fake.keys)
    return Scheduler(store, clients, BackoffPolicy(base_seconds=0.01, max_attempts=attempts), 0.05, rand=lambda: 0.0)


async def test_scheduler_delivers_and_records(store: Store, fake: FakeRegionalSystem, tmp_path: pathlib.Path) -> None:
    key = await _schedule(store)
    scheduler = scheduler_for(store, fake)
    assert scheduler.scan_once() == 1
    await scheduler.drain()
    row = store.get(key)
    assert row is not None and row.state is DeliveryState.DELIVERED and row.attempts == 1
    (call,) = read_records(tmp_path / "calls.jsonl")
    assert call["idempotency_key"] == key and call["due_date"] == "2026-04-13" and not call["duplicate"]
    assert call["caller"] == "national/notifier"  # the notifier's own client certificate (mTLS)
    assert scheduler.scan_once() == 0


@pytest.mark.parametrize("fake", [{"fail_first": 10}], indirect=True)
async def test_scheduler_gives_up_after_max_attempts(store: Store, fake: FakeRegionalSystem) -> None:
    key = await _schedule(store)
    scheduler = scheduler_for(store, fake, attempts=3)
    for _ in range(50):
        scheduler.scan_once()
        await scheduler.drain()
        row = store.get(key)
        if row is not None and row.state is DeliveryState.FAILED:
            break
        await asyncio.sleep(0.02)
    assert row is not None and row.state is DeliveryState.FAILED and row.attempts == 3
    failed = store.unsent()[-1]
    assert failed.event == "failed" and not failed.permanent and "UNAVAILABLE" in failed.reason
    assert len(fake.calls) == 3


async def test_unrouted_tenant_stays_pending(store: Store, fake: FakeRegionalSystem) -> None:
    msg = due_event()
    msg.tenant_id = "drenthe"
    await EventHandler(store)(Event(envelope_for(msg, source="radar"), msg))
    scheduler = scheduler_for(store, fake)
    assert scheduler.scan_once() == 0
    assert store.list_for_tenant("drenthe")[0].state is DeliveryState.PENDING


async def test_a_melding_that_joined_its_household_episode_gets_a_callback_but_no_letter_of_its_own(store: Store) -> None:
    for case_id, episode in (("lead", ""), ("joined", "lead")):
        msg = radar_events.AssessmentCompleted(tenant_id="utrecht", case_id=case_id, episode_case_id=episode,
                                               decision=radar_events.DECISION_RVDK_REQUEST, rvdk_request=True)
        msg.decided_at.FromDatetime(dt.datetime(2026, 4, 2, 9, 0, tzinfo=dt.UTC))
        await EventHandler(store)(Event(envelope_for(msg, source="radar/utrecht", tenant="utrecht"), msg))
    kinds = {case: sorted(d.kind.value for d in store.list_for_tenant("utrecht", case_id=case)) for case in ("lead", "joined")}
    assert kinds == {"lead": ["HOUSEHOLD_LETTER", "MELDER_CALLBACK", "MUNICIPALITY_NOTICE", "RVDK_REQUEST_NOTICE"],
                     "joined": ["MELDER_CALLBACK"]}
