"""Crypto-shredding reaches radar: after a region destroys a dossier (intake's DossierDestroyed), the real
radar process forgets the case: it is no longer an involvement for other regions, and its assessment is gone."""

from __future__ import annotations

import asyncio
import pathlib
import uuid
from typing import Any

import grpc
import pytest
from radar import open_work
from radar.app import PARTITIONS
from simulators.rvdk import random_bsn
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2, radar_service_pb2, radar_service_pb2_grpc
from vtkit import topics
from vtkit.channels import OrgStubs
from vtkit.envelope import envelope_for, new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import ServiceProcess, eventually
from vttest.radar import Watcher, melding_received, publish_melding, radar_process, start_radar

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


def partition_of(case_id: str) -> int:
    """The partition of radar's case table (and its changelog) a case id lands in."""
    return open_work.partition_of(case_id, PARTITIONS)


async def test_a_dossier_of_meldingen_in_other_partitions_stays_destroyed_when_radar_rebuilds_its_tables(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher) -> None:
    """A dossier's meldingen are keyed by their own ids, the DossierDestroyed record by the dossier's: radar drops
    each case in its own partition (a CaseDestroyed keyed by the case id), so the tombstone lands in the changelog
    partition that holds the case. Dropped from the DossierDestroyed record's partition, the hermelding came back
    when radar rebuilt its tables from the changelogs (a new data directory, or another worker taking over)."""
    app_id = f"vt-radar-{uuid.uuid4().hex[:8]}"

    def melding_in(partitions: set[int], but_not: set[int] = frozenset()) -> tuple[Any, str]:
        while True:
            event_id = new_event_id()
            melding = melding_received(keys, REGION_B, [random_bsn()], event_id=event_id)
            if partition_of(melding.contact_id) in partitions - but_not:
                return melding, event_id

    first = melding_in(set(range(PARTITIONS)))
    again = melding_in(set(range(PARTITIONS)), but_not={partition_of(first[0].contact_id)})  # the hermelding
    # Kept, in the same two partitions: once they are found after the restart, those partitions are rebuilt.
    controls = [melding_in({partition_of(m.contact_id)}) for m, _ in (first, again)]
    destroyed_ids = [first[0].contact_id, again[0].contact_id]
    radar_1 = await start_radar(radar_process(kafka, keys, tmp_path / "data-1", tmp_path / "radar-1.log", app_id))
    try:
        for melding, event_id in (first, again, *controls):
            await publish_melding(publisher, melding, event_id)
        async with OrgStubs(radar_1.address, keys, radar_service_pb2_grpc.RadarServiceStub) as stub:
            for melding, _ in (first, again, *controls):
                await eventually(lambda c=melding.contact_id: assessment(stub, c), truthy=False)
            destroyed = intake_events.DossierDestroyed(tenant_id=REGION_B, dossier_id=first[0].contact_id,
                                                       contact_ids=destroyed_ids)
            destroyed.destroyed_at.GetCurrentTime()
            await publisher.publish(topics.intake(REGION_B), first[0].contact_id, destroyed,
                                    envelope_for(destroyed, source=f"intake/{REGION_B}", tenant=REGION_B))
            for case_id in destroyed_ids:
                await eventually(lambda c=case_id: not_found(stub, c), what=f"{case_id} dropped")
    finally:
        assert radar_1.stop() == 0, radar_1.log_text()[-3000:]

    radar_2 = await start_radar(radar_process(kafka, keys, tmp_path / "data-2", tmp_path / "radar-2.log", app_id))
    try:
        async with OrgStubs(radar_2.address, keys, radar_service_pb2_grpc.RadarServiceStub) as stub:
            for melding, _ in controls:  # rebuilt from the changelogs alone
                await eventually(lambda c=melding.contact_id: assessment(stub, c), truthy=False)
            for case_id in destroyed_ids:
                assert await not_found(stub, case_id), f"{case_id} came back"
    finally:
        assert radar_2.stop() == 0, radar_2.log_text()[-3000:]


async def assessment(stub: OrgStubs[Any], case_id: str) -> Any:
    return await stub(REGION_B).GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=case_id))


async def not_found(stub: OrgStubs[Any], case_id: str) -> bool:
    try:
        await assessment(stub, case_id)
    except grpc.aio.AioRpcError as err:
        return err.code() == grpc.StatusCode.NOT_FOUND
    return False
