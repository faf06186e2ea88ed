"""Crash and restart of the real notifier: schedules live in SQLite, and the receiver never sees a
second distinct delivery for one idempotency key (a repeat of the key, flagged by the fake, is the
documented worst case after a crash during a call)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest
from simulators.regional_system import FakeRegionalSystem
from vtkit.kafka import Publisher
from vttest import eventually
from vttest.notifier import DeliveryEvents, Notifier, assessment_due, of_case, publish_due


async def test_sigkill_after_delivery_then_restart_sends_no_new_delivery(
        publisher: Publisher, fake: FakeRegionalSystem, make_notifier: Callable[..., Notifier],
        delivery_events: DeliveryEvents, record_property: Callable[[str, object], None]) -> None:
    tenant, case_id, sentinel = "gooi-en-vechtstreek", f"case-{uuid.uuid4()}", f"case-{uuid.uuid4()}"
    notifier = make_notifier({tenant: fake.address}, NOTIFIER_CALL_TIMEOUT_SECONDS="1")
    proc = await notifier.start()
    envelope = await publish_due(publisher, assessment_due(tenant, case_id))
    await eventually(lambda: fake.distinct(case_id), "the first delivery")
    proc.kill()  # no chance to settle, commit or flush anything

    # The cause arrives again, and the restarted notifier (a fresh group) replays the topic too.
    await publish_due(publisher, assessment_due(tenant, case_id), event_id=envelope.id)
    notifier.env["NOTIFIER_GROUP_ID"] += "-restarted"
    await notifier.start(from_end=False)
    await publish_due(publisher, assessment_due(tenant, sentinel), record_key=case_id)
    await eventually(lambda: fake.distinct(sentinel), "the sentinel behind the replayed events")
    # Settled (possibly after one lease-expiry redelivery if the kill hit the call in flight).
    await delivery_events.wait_for(of_case(case_id, "DeliveryDelivered"), "DeliveryDelivered after restart")
    await asyncio.sleep(1.0)

    distinct, accepted = fake.distinct(case_id), fake.accepted(case_id)
    duplicates = len(accepted) - len(distinct)
    record_property("duplicate_deliveries_after_sigkill", duplicates)
    assert len(distinct) == 1, accepted
    assert {c["idempotency_key"] for c in accepted} == {distinct[0]["idempotency_key"]}
    assert duplicates <= 1, f"at most the one in-flight call may be repeated, saw {duplicates}"
    assert len(of_case(case_id, "DeliveryRequested")(delivery_events.seen)) == 1


@pytest.mark.parametrize("fake", [{"delay_seconds": 1.5}], indirect=True)
async def test_crash_during_the_call_repeats_the_same_key_once(
        publisher: Publisher, fake: FakeRegionalSystem, make_notifier: Callable[..., Notifier],
        delivery_events: DeliveryEvents) -> None:
    tenant, case_id = "zuid-holland-zuid", f"case-{uuid.uuid4()}"
    # Lease = 2 * 2 s + 5 s: the in-flight row is attempted again about 9 s after the crash.
    notifier = make_notifier({tenant: fake.address}, NOTIFIER_CALL_TIMEOUT_SECONDS="2")
    proc = await notifier.start()
    await publish_due(publisher, assessment_due(tenant, case_id))
    await eventually(lambda: fake.accepted(case_id), "the call to arrive")
    proc.kill()  # the fake is still holding the call: the row is in flight in SQLite

    await notifier.start()
    await delivery_events.wait_for(of_case(case_id, "DeliveryDelivered"), "DeliveryDelivered after the lease expired")
    accepted = fake.accepted(case_id)
    assert [c["duplicate"] for c in accepted] == [False, True], accepted
    assert len({c["idempotency_key"] for c in accepted}) == 1
    assert of_case(case_id, "DeliveryDelivered")(delivery_events.seen)[0].attempts == 2


async def test_pending_schedule_survives_restart_without_replaying_kafka(
        publisher: Publisher, fake: FakeRegionalSystem, make_notifier: Callable[..., Notifier],
        delivery_events: DeliveryEvents) -> None:
    tenant, case_id = "hollands-midden", f"case-{uuid.uuid4()}"
    notifier = make_notifier({})  # region not connected yet: the delivery must wait, not fail
    proc = await notifier.start()
    await publish_due(publisher, assessment_due(tenant, case_id))
    await delivery_events.wait_for(of_case(case_id, "DeliveryRequested"), "DeliveryRequested")
    assert proc.stop() == 0
    assert "no regional endpoint configured" in proc.log_text()

    # Same consumer group: the event was committed. Were it read again it would insert nothing (same
    # key), so the delivery below can only come from the row stored before the restart.
    notifier.env["NOTIFIER_REGIONAL_ENDPOINTS"] = f"{tenant}={fake.address}"
    await notifier.start()
    calls = await eventually(lambda: fake.distinct(case_id), "the delivery from the stored schedule")
    assert len(calls) == 1 and calls[0]["due_date"] == "2025-12-31"
    await delivery_events.wait_for(of_case(case_id, "DeliveryDelivered"), "DeliveryDelivered")
