"""Radar trusts a regional record by the topic it came from (only that region may write it), not by the tenant
it names. A region's producer writing, on its own intake topic, a melding or a DossierDestroyed that names
another region changes nothing for that region: the record is dead-lettered with the reason."""

from __future__ import annotations

from devstack.processes import ServiceProcess
from simulators.rvdk import random_bsn
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2, radar_service_pb2, radar_service_pb2_grpc
from vtkit import topics
from vtkit.channels import OrgStubs
from vtkit.envelope import envelope_for, new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import eventually
from vttest.radar import Watcher, melding_received, publish_melding

WRITER, VICTIM = "groningen", "drenthe"


async def test_records_naming_another_region_on_a_regions_own_topic_are_dead_lettered(
        kafka: str, keys: KeyStore, publisher: Publisher, radar: ServiceProcess) -> None:
    watcher = await Watcher(kafka, topics.DEAD_LETTERS, topics.NATIONAL_ASSESSMENTS).start()
    try:
        # The victim region's real melding, on its own topic: radar opens its case.
        real_id = new_event_id()
        real = melding_received(keys, VICTIM, [random_bsn()], event_id=real_id)
        await publish_melding(publisher, real, real_id)
        async with OrgStubs(radar.address, keys, radar_service_pb2_grpc.RadarServiceStub) as stub:
            await eventually(lambda: stub(VICTIM).GetAssessment(radar_service_pb2.GetAssessmentRequest(
                case_id=real.contact_id)), truthy=False)

            # The writer region forges, on its own topic, an acute melding and a DossierDestroyed for the victim.
            forged_id = new_event_id()
            forged = melding_received(keys, VICTIM, [random_bsn()], event_id=forged_id, acute=True)
            envelope = envelope_for(forged, source=f"intake/{WRITER}", tenant=VICTIM, event_id=forged_id)
            await publisher.publish(topics.intake(WRITER), forged.contact_id, forged, envelope)
            destroy_id = new_event_id()
            destroy = intake_events.DossierDestroyed(tenant_id=VICTIM, dossier_id=real.contact_id,
                                                     contact_ids=[real.contact_id])
            await publisher.publish(topics.intake(WRITER), real.contact_id, destroy,
                                    envelope_for(destroy, source=f"intake/{WRITER}", tenant=VICTIM, event_id=destroy_id))
            # A control record the writer may write: read after both, so both were handled when it is seen.
            control_id = new_event_id()
            control = melding_received(keys, WRITER, [random_bsn()], event_id=control_id)
            await publish_melding(publisher, control, control_id)
            await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue)
                                   and s.message.case_id == control.contact_id, what="the control melding's assessment")
            dead = await watcher.wait_for(lambda s: s.topic == topics.DEAD_LETTERS
                                          and s.headers.get("ce_id") in {forged_id, destroy_id}, count=2,
                                          what="both forged records dead-lettered")
            still = await stub(VICTIM).GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=real.contact_id))
    finally:
        await watcher.stop()
    assert all(f"names tenant(s) ['{VICTIM}']" in d.headers["dl_reason"] for d in dead)
    assert all(d.headers["dl_topic"] == topics.intake(WRITER) for d in dead)
    assert forged.contact_id not in {s.message.case_id for s in watcher.matching(
        lambda s: isinstance(s.message, events_pb2.AssessmentDue))}  # no (acute) case opened for the victim
    assert still.due.case_id == real.contact_id  # the victim's case is still there: not destroyed
