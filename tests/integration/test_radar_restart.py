"""radar keeps its per-person history over restarts: the table is rebuilt from the changelog
(fresh data directory) and a SIGKILL mid-stream replays input without a second match."""

from __future__ import annotations

import asyncio
import pathlib
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from simulators.rvdk import random_bsn
from vt.radar.v1 import events_pb2, radar_service_pb2, radar_service_pb2_grpc
from vtkit import topics
from vtkit.channels import OrgStubs
from vtkit.envelope import new_event_id
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest.radar import Seen, Watcher, melding_received, publish_melding, radar_process, start_radar

REGIONS = ("fryslan", "drenthe", "twente")


@pytest.fixture()
async def watcher(kafka: str, publisher: Publisher) -> AsyncIterator[Watcher]:
    w = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS, *(topics.register(r) for r in REGIONS)).start()
    try:
        yield w
    finally:
        await w.stop()


def matches_of(case_id: str):
    def check(s: Seen) -> bool:
        return isinstance(s.message, events_pb2.RegisterMatch) and s.message.own_case_id == case_id
    return check


async def test_history_survives_a_restart_with_an_empty_data_directory(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher, watcher: Watcher) -> None:
    app_id = f"vt-radar-{uuid.uuid4().hex[:8]}"
    bsn = random_bsn()
    first = await start_radar(radar_process(kafka, keys, tmp_path / "data-1", tmp_path / "radar-1.log", app_id))
    try:
        id_1 = new_event_id()
        melding_1 = melding_received(keys, REGIONS[0], [bsn], event_id=id_1)
        await publish_melding(publisher, melding_1, id_1)
        await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentInput)
                               and s.message.case_id == melding_1.contact_id, what="input before restart")
    finally:
        assert first.stop() == 0, first.log_text()[-3000:]

    second = await start_radar(radar_process(kafka, keys, tmp_path / "data-2", tmp_path / "radar-2.log", app_id))
    try:
        # Redelivery after the restart is recognised from the recovered history.
        await publish_melding(publisher, melding_1, id_1)
        id_2 = new_event_id()
        melding_2 = melding_received(keys, REGIONS[1], [bsn], event_id=id_2)
        await publish_melding(publisher, melding_2, id_2)
        await watcher.wait_for(matches_of(melding_2.contact_id), what="match after restart")
        [to_first] = await watcher.wait_for(matches_of(melding_1.contact_id), what="match for the first region")
        assert to_first.message.other.tenant_id == REGIONS[1]
        [inp] = await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentInput)
                                       and s.message.case_id == melding_2.contact_id, what="input after restart")
        assert [o.tenant_id for o in inp.message.other_organisations] == [REGIONS[0]]
        entries = watcher.matching(lambda s: isinstance(s.message, events_pb2.RegisterEntry)
                                   and s.message.case_id == melding_1.contact_id)
        assert len({s.envelope.id for s in entries if s.envelope}) == 1
    finally:
        assert second.stop() == 0, second.log_text()[-3000:]


async def test_sigkill_replays_without_a_second_match(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher, watcher: Watcher) -> None:
    app_id = f"vt-radar-{uuid.uuid4().hex[:8]}"
    data = tmp_path / "data"
    bsn = random_bsn()
    first = await start_radar(radar_process(kafka, keys, data, tmp_path / "radar-1.log", app_id))
    try:
        meldingen = []
        for region in REGIONS[:2]:
            event_id = new_event_id()
            melding = melding_received(keys, region, [bsn], event_id=event_id)
            await publish_melding(publisher, melding, event_id)
            meldingen.append(melding)
        await watcher.wait_for(matches_of(meldingen[1].contact_id), what="match before the kill")
    finally:
        first.kill()  # no commit, no flush: whatever was not committed is processed again

    second = await start_radar(radar_process(kafka, keys, data, tmp_path / "radar-2.log", app_id))
    try:
        event_id = new_event_id()
        third = melding_received(keys, REGIONS[2], [bsn], event_id=event_id)
        await publish_melding(publisher, third, event_id)
        await watcher.wait_for(matches_of(third.contact_id), count=2, what="matches of the third region")
        # Replayed records may appear twice on a topic, but always under the same event id: each of the
        # first two regions has exactly two distinct matches (with each other, and with the third region).
        for melding in meldingen:
            copies = watcher.matching(matches_of(melding.contact_id))
            assert len({s.envelope.id for s in copies if s.envelope}) == 2
        to_third = watcher.matching(matches_of(third.contact_id))
        assert {s.message.other.tenant_id for s in to_third} == set(REGIONS[:2])
    finally:
        assert second.stop() == 0, second.log_text()[-3000:]


async def test_a_burst_of_table_writes_survives_a_restart_with_an_empty_data_directory(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher, watcher: Watcher) -> None:
    """A batch of meldingen writes radar's case table in one go, so its changelog gets batches of several records.
    The embedded broker reports a partition's end as its last batch's first record + 1 (vtkit.kafka
    .true_end_offsets); faust's recovery stopped there, and a case written late in the batch was gone after the
    restart (a recorded decision never closed its case in the chaos smoke test)."""
    app_id, region, count = f"vt-radar-{uuid.uuid4().hex[:8]}", "noord-holland-noord", 60
    meldingen = [(melding_received(keys, region, [random_bsn()], event_id=e), e) for e in
                 (new_event_id() for _ in range(count))]
    ours = {m.contact_id for m, _ in meldingen}
    await asyncio.gather(*(publish_melding(publisher, m, e) for m, e in meldingen))  # before radar starts: one batch
    first = await start_radar(radar_process(kafka, keys, tmp_path / "data-1", tmp_path / "radar-1.log", app_id))
    try:
        await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours,
                               count=count, what="AssessmentDue")
    finally:
        assert first.stop() == 0, first.log_text()[-3000:]

    second = await start_radar(radar_process(kafka, keys, tmp_path / "data-2", tmp_path / "radar-2.log", app_id))
    try:
        async with OrgStubs(second.address, keys, radar_service_pb2_grpc.RadarServiceStub) as stub:
            missing = []
            for melding, _ in meldingen:
                try:
                    await stub(region).GetAssessment(radar_service_pb2.GetAssessmentRequest(case_id=melding.contact_id))
                except grpc.aio.AioRpcError as err:
                    assert err.code() == grpc.StatusCode.NOT_FOUND, err
                    missing.append(melding.contact_id)
    finally:
        assert second.stop() == 0, second.log_text()[-3000:]
    assert not missing, f"{len(missing)} of {count} cases lost at the restart"
