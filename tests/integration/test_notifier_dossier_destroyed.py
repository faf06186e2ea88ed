"""DossierDestroyed (intake, Wmo 5.3.5) against the real notifier process: a household letter waiting
for its case's callback is cancelled (DeliveryFailed, permanent, "dossier destroyed") and never reaches
the letter gateway, while another household's letter is sent as usual. Events are published on the
session broker as intake and radar publish them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from notifier.letters import sealed
from simulators.letter_gateway import FakeLetterGateway
from simulators.regional_system import FakeRegionalSystem
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import notifier_service_pb2, notifier_service_pb2_grpc
from vt.radar.v1 import events_pb2 as radar_events
from vtkit import topics
from vtkit.channels import OrgStubs
from vtkit.envelope import envelope_for
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import eventually
from vttest.notifier import DeliveryEvents, Notifier

LETTER = 2  # vt.notifier.v1.DeliveryKind household letter


async def publish_case(publisher: Publisher, keys: KeyStore, tenant: str, case_id: str) -> None:
    """intake's MeldingReceived (its fields under the dossier key, as intake encrypts them)."""
    key_id = keys.data_keys.create_dossier_key(tenant, case_id, dt.datetime.now(dt.UTC))
    cipher = keys.dossier_cipher(tenant, key_id)
    msg = intake_events.MeldingReceived(tenant_id=tenant, contact_id=case_id, dossier_id=case_id,
                                        reference=case_id[:13], melder_type=common_pb2.MELDER_TYPE_BYSTANDER)
    env = envelope_for(msg, source=f"intake/{tenant}", tenant=tenant)
    msg.received_at.GetCurrentTime()
    msg.melder.CopyFrom(sealed(cipher, json.dumps({"name": "Bea Buurvrouw"}).encode(), env.id, "melder"))
    details = {"first_names": "Anna", "surname": "de Vries", "postcode": "8901AB", "house_number": "12"}
    msg.persons.add(person_id="p1", role=common_pb2.PERSON_ROLE_VICTIM,
                    details=sealed(cipher, json.dumps(details).encode(), env.id, "person:p1"))
    await publisher.publish(topics.intake(tenant), case_id, msg, env)


async def publish_decision(publisher: Publisher, keys: KeyStore, tenant: str, case_id: str) -> None:
    msg = radar_events.AssessmentCompleted(tenant_id=tenant, case_id=case_id, decision=radar_events.DECISION_ONDERZOEK)
    env = envelope_for(msg, source=f"radar/{tenant}", tenant=tenant)
    msg.decided_at.GetCurrentTime()
    msg.agreements.CopyFrom(sealed(keys.case_cipher(tenant, case_id), b"Wekelijks contact.", env.id, "agreements"))
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, case_id, msg, env)


async def publish_destroyed(publisher: Publisher, tenant: str, case_id: str) -> None:
    msg = intake_events.DossierDestroyed(tenant_id=tenant, dossier_id=case_id, contact_ids=[case_id],
                                         reason=intake_events.DESTRUCTION_REASON_REQUEST)
    msg.destroyed_at.GetCurrentTime()
    await publisher.publish(topics.intake(tenant), case_id, msg,
                            envelope_for(msg, source=f"intake/{tenant}", tenant=tenant))


async def test_a_destroyed_dossiers_letter_is_cancelled_and_never_sent(
        publisher: Publisher, keys: KeyStore, fake: FakeRegionalSystem, letter_gateway: FakeLetterGateway,
        make_notifier: Callable[..., Notifier], delivery_events: DeliveryEvents) -> None:
    tenant, sent = "fryslan", f"case-{uuid.uuid4()}"
    # A region without a regional endpoint: its callback stays pending, so its letter waits (scheduled, unsent).
    held_tenant, held = "zeeland", f"case-{uuid.uuid4()}"
    proc = await make_notifier({tenant: fake.address}, NOTIFIER_LETTER_GATEWAY=letter_gateway.address).start()
    fake.confirm_via = proc.address  # the region's worker confirms the conversation with each melder
    for t, c in ((tenant, sent), (held_tenant, held)):
        await publish_case(publisher, keys, t, c)
        await publish_decision(publisher, keys, t, c)

    async with OrgStubs(proc.address, keys, notifier_service_pb2_grpc.NotifierServiceStub) as stub:
        async def letters_of_held() -> list[Any]:
            reply = await stub(held_tenant).ListDeliveries(notifier_service_pb2.ListDeliveriesRequest(case_id=held))
            return [d for d in reply.deliveries if d.kind == LETTER]

        async def scheduled() -> list[Any]:
            return [d for d in await letters_of_held() if d.state == notifier_service_pb2.DELIVERY_STATE_PENDING]

        await eventually(scheduled, "the held household letter scheduled")
        await publish_destroyed(publisher, held_tenant, held)

        def cancelled(seen: list[tuple[str, str, Any, dict[str, str]]]) -> bool:
            return any(n == "DeliveryFailed" and m.case_id == held and m.kind == LETTER and m.permanent
                       and "dossier destroyed" in m.reason for _, n, m, _ in seen)

        await delivery_events.wait_for(cancelled, "DeliveryFailed of the destroyed dossier's letter")
        [row] = await letters_of_held()
        assert row.state == notifier_service_pb2.DELIVERY_STATE_FAILED

    # The other household's letter goes out (its fields open under its own dossier key); the destroyed one's not.
    await eventually(lambda: letter_gateway.distinct(sent), "the other household's letter")
    assert letter_gateway.distinct(held) == []


