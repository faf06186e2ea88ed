"""RadarService over real gRPC: GetAssessment and LookupInvolvement, for the caller's tenant only."""

from __future__ import annotations

import asyncio
import json
import pathlib
import uuid

import grpc
import pytest
from simulators.rvdk import publish_rvdk_signal, random_bsn
from vt.radar.v1 import events_pb2, radar_service_pb2, radar_service_pb2_grpc
from vtkit import audit, topics
from vtkit.channels import OrgStubs
from vtkit.envelope import new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import ServiceProcess, eventually
from vttest.radar import Watcher, melding_received, publish_melding

REGION_A = "gelderland-zuid"
REGION_B = "haaglanden"
OUTSIDER = "zeeland"




async def test_get_assessment_and_lookup_for_own_tenant_only(kafka: str, keys: KeyStore, radar: ServiceProcess,
                                                              publisher: Publisher, data_dir: pathlib.Path) -> None:
    watcher = await Watcher(kafka, topics.register(REGION_A)).start()
    try:
        bsn = random_bsn()
        signal_id = await publish_rvdk_signal(kafka, keys, bsn, "CUSTODY_AND_ACCESS", "Den Haag")
        id_b, id_a = new_event_id(), new_event_id()
        melding_b = melding_received(keys, REGION_B, [bsn], event_id=id_b)
        melding_a = melding_received(keys, REGION_A, [bsn], event_id=id_a)
        await publish_melding(publisher, melding_b, id_b)
        await asyncio.sleep(1.0)
        await publish_melding(publisher, melding_a, id_a)
        await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.RegisterMatch)
                               and s.message.own_case_id == melding_a.contact_id, what="match")
    finally:
        await watcher.stop()

    case_a, person_a = melding_a.contact_id, melding_a.persons[0].person_id
    async with OrgStubs(radar.address, keys, radar_service_pb2_grpc.RadarServiceStub) as stub:
        as_a = stub(REGION_A)

        async def assessment() -> radar_service_pb2.GetAssessmentResponse:
            reply = await as_a.GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=case_a))
            assert len(reply.inputs) == 1
            return reply

        reply = await eventually(assessment, truthy=False)
        assert reply.due.case_id == case_a and reply.due.tenant_id == REGION_A
        [inp] = reply.inputs
        assert inp.person_id == person_a
        assert [o.tenant_id for o in inp.other_organisations] == [REGION_B]
        assert [r.signal_id for r in inp.rvdk] == [signal_id]

        lookup = await as_a.LookupInvolvement(
            radar_service_pb2.LookupInvolvementRequest(case_id=case_a, person_id=person_a))
        own, other = lookup.involvements
        assert (own.tenant_id, list(own.case_ids)) == (REGION_A, [case_a])
        assert (other.tenant_id, list(other.case_ids)) == (REGION_B, [])

        # Another region's case, another region's person reference, a region not involved: NOT_FOUND.
        for request, caller in [
            (radar_service_pb2.GetAssessmentRequest(case_id=case_a), REGION_B),
            (radar_service_pb2.GetAssessmentRequest(case_id=f"case-{uuid.uuid4()}"), REGION_A),
        ]:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub(caller).GetAssessment(request)
            assert err.value.code() == grpc.StatusCode.NOT_FOUND
        for lookup_request, caller in [
            (radar_service_pb2.LookupInvolvementRequest(case_id=case_a, person_id=person_a), OUTSIDER),
            (radar_service_pb2.LookupInvolvementRequest(case_id=case_a, person_id=person_a), REGION_B),
            (radar_service_pb2.LookupInvolvementRequest(case_id=case_a, person_id="someone-else"), REGION_A),
        ]:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub(caller).LookupInvolvement(lookup_request)
            assert err.value.code() == grpc.StatusCode.NOT_FOUND

        # No client certificate: the TLS handshake fails before any RPC reaches radar.
        async with grpc.aio.insecure_channel(radar.address) as plain:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await radar_service_pb2_grpc.RadarServiceStub(plain).GetAssessment(
                    radar_service_pb2.GetAssessmentRequest(case_id=case_a), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE

    # Every read is in the access log (who, what, about which case, outcome), without personal data.
    text = (data_dir / "audit-radar.jsonl").read_text()
    entries = [json.loads(line) for line in text.splitlines()]
    seen = {(e["what"], e["who"]["tenant"], e["outcome"], e.get("detail", "")) for e in entries
            if e["subject"]["case_id"] == case_a}
    assert {("read assessment", REGION_A, "success", ""), ("search register", REGION_A, "success", ""),
            ("read assessment", REGION_B, "denied", "not_found"),
            ("search register", OUTSIDER, "denied", "not_found")} <= seen
    assert audit.verify(data_dir / "audit-radar.jsonl", keys).ok
    assert bsn not in text
