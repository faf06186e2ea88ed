"""Radar must never commit the offset of a MeldingReceived whose AssessmentDue it has not published.

A SIGTERM arrives while radar is in the middle of a batch: the fault point `radar.intake.publish/<topic>`
(vtkit.faults) holds radar's second batch from this test's region topic between handling and publishing, so the stop lands
there on every machine, fast or slow. faust's `take_events` acked every buffered event in a `finally:` when the agent was
cancelled, and the worker could commit those offsets on its way out (not seen in this test before the
fix: faust's stop happened to commit first). A batch is acked only after its outputs are acknowledged,
so after the stop every committed melding has its AssessmentDue, radar exits 0, and the next radar of
the group publishes the AssessmentDue of every other melding."""

from __future__ import annotations

import asyncio
import pathlib
import uuid

from simulators.rvdk import random_bsn
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import new_event_id
from vtkit.faults import HELD_MESSAGE
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest.radar import (
    Watcher,
    committed_offsets,
    melding_received,
    meldingen_below_committed,
    publish_melding,
    radar_process,
    start_radar,
)

TENANT = "fryslan"
BATCH = 500  # radar.app.BATCH
BACKLOG = 3 * BATCH  # one batch handled, one held at the fault point, at least one more behind it


async def test_sigterm_mid_batch_commits_only_meldingen_whose_assessment_due_was_published(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher) -> None:
    app_id = f"vt-radar-{uuid.uuid4().hex[:8]}"
    meldingen = []
    for _ in range(BACKLOG):
        event_id = new_event_id()
        # one person each: radar opens the sealed identity and feeds the person topic, as in real traffic
        meldingen.append((melding_received(keys, TENANT, [random_bsn()], event_id=event_id), event_id))
    for i in range(0, BACKLOG, 250):
        await asyncio.gather(*(publish_melding(publisher, m, e) for m, e in meldingen[i:i + 250]))

    ours = {m.contact_id for m, _ in meldingen}  # the broker is shared with other tests
    watcher = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS).start()
    try:
        radar = await start_radar(radar_process(kafka, keys, tmp_path / "data", tmp_path / "radar.log", app_id,
                                                VT_FAULT_HOLD=f"radar.intake.publish/{topics.intake(TENANT)}@2"))
        try:
            await radar.wait_for_log(HELD_MESSAGE)  # the first batch is out, the second one is held
            # faust commits in the background (every few seconds): wait until the first batch is committed, so
            # the stop below always meets a worker with committed work and a batch in flight.
            # A condition with a generous deadline: on a loaded machine (the chaos smoke test beside it) 30 s once
            # was not enough for faust's first background commit.
            for _ in range(600):
                if sum((await committed_offsets(kafka, TENANT, app_id)).values()) > 0:
                    break
                await asyncio.sleep(0.2)
        finally:
            code = radar.stop()
        assert code == 0, radar.log_text()[-3000:]
        committed_cases, committed = await meldingen_below_committed(kafka, TENANT, app_id, ours)

        def due_now() -> set[str]:
            return {s.message.case_id for s in watcher.matching(
                lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours)}

        # Every AssessmentDue was acknowledged before the stop; give the watcher time to read them all.
        for _ in range(150):
            if committed_cases <= due_now():
                break
            await asyncio.sleep(0.2)
        due = due_now()
    finally:
        await watcher.stop()

    assert committed > 0, "radar committed nothing: the test did not exercise the commit"
    assert len(due) < BACKLOG, "radar finished the backlog before the stop: no batch was interrupted"
    missing = committed_cases - due
    assert not missing, (f"{len(missing)} meldingen committed without an AssessmentDue "
                         f"(committed {committed}, {len(due)} assessments)")

    # The interrupted batch and the rest are read again by the next radar of the same group.
    watcher = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS).start()
    try:
        radar = await start_radar(radar_process(kafka, keys, tmp_path / "data", tmp_path / "radar-2.log", app_id))
        try:
            # (the watcher reads the topic from the start: the first radar's assessments are counted too)
            for _ in range(600):
                if len({s.message.case_id for s in watcher.matching(
                        lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours)}) == BACKLOG:
                    break
                await asyncio.sleep(0.1)
        finally:
            assert radar.stop() == 0, radar.log_text()[-3000:]
        due |= {s.message.case_id for s in watcher.matching(
            lambda s: isinstance(s.message, events_pb2.AssessmentDue) and s.message.case_id in ours)}
    finally:
        await watcher.stop()
    assert due == ours
