"""Crypto-shredding reaches radar: after a region destroys a dossier (intake's DossierDestroyed), the real
radar process forgets the case: it is no longer an involvement for other regions, and its assessment is gone."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from simulators.rvdk import random_bsn
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2, radar_service_pb2, radar_service_pb2_grpc
from vtkit import topics
from vtkit.channels import OrgStubs
from vtkit.envelope import envelope_for, new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import ServiceProcess, eventually
from vttest.radar import Watcher, melding_received, publish_melding

REGION_A = "noord-holland-noord"
REGION_B = "flevoland"




async def test_a_destroyed_dossier_leaves_no_involvement_and_no_assessment_in_radar(
        kafka: str, keys: KeyStore, radar: ServiceProcess, publisher: Publisher) -> None:
    bsn = random_bsn()
    id_b, id_a = new_event_id(), new_event_id()
    melding_b = melding_received(keys, REGION_B, [bsn], event_id=id_b)
    melding_a = melding_received(keys, REGION_A, [bsn], event_id=id_a)
    watcher = await Watcher(kafka, topics.register(REGION_A)).start()
    try:
        await publish_melding(publisher, melding_b, id_b)
        await asyncio.sleep(1.0)
        await publish_melding(publisher, melding_a, id_a)
        await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.RegisterMatch)
                               and s.message.own_case_id == melding_a.contact_id, what="match")
    finally:
        await watcher.stop()
    case_a, person_a, case_b = melding_a.contact_id, melding_a.persons[0].person_id, melding_b.contact_id
    lookup = radar_service_pb2.LookupInvolvementRequest(case_id=case_a, person_id=person_a)

    async with OrgStubs(radar.address, keys, radar_service_pb2_grpc.RadarServiceStub) as stub:
        async def b_is_involved() -> None:
            reply = await stub(REGION_A).LookupInvolvement(lookup)
            assert REGION_B in [i.tenant_id for i in reply.involvements]
        await eventually(b_is_involved, truthy=False)
        await eventually(lambda: stub(REGION_B).GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=case_b)),
                         truthy=False)

        destroyed = intake_events.DossierDestroyed(tenant_id=REGION_B, dossier_id=case_b, contact_ids=[case_b])
        destroyed.destroyed_at.GetCurrentTime()
        envelope = envelope_for(destroyed, source=f"intake/{REGION_B}", tenant=REGION_B)
        await publisher.publish(topics.intake(REGION_B), case_b, destroyed, envelope)

        async def b_is_forgotten() -> None:
            reply = await stub(REGION_A).LookupInvolvement(lookup)
            assert [i.tenant_id for i in reply.involvements] == [REGION_A]
        await eventually(b_is_forgotten, truthy=False)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub(REGION_B).GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=case_b))
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        # A's own case is untouched.
        assert (await stub(REGION_A).GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=case_a))).due.case_id == case_a
