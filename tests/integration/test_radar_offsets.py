"""A melding was once lost in make chaos (docs/measurements.md, "Chaos"): radar must never commit a record whose outputs
it did not publish.

A batch whose handling raises (here: the producer fails with an error that is not a KafkaError, which
radar's retry does not cover). With faust's take_events the agent left the batch by the exception and
the generator's `finally:` acked every event of it; faust restarted the actor and committed those
offsets: meldingen below radar's committed offset without an AssessmentDue, never read again, no dead
letter. Now nothing of the batch is acked, the worker stops (exit 1), and only handled records (and
only a run starting at the committed offset, radar.offsets) are committed; the test runs radar's real
faust app in-process against the real broker."""

from __future__ import annotations

import asyncio
import json
import pathlib
import sys
import uuid

import pytest
from radar.settings import Settings as RadarSettings
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import new_event_id
from vtkit.faults import DROPPED_MESSAGE
from vtkit.kafka import KafkaSettings, Publisher
from vtkit.keystore import KeyStore
from vttest.radar import (
    Watcher,
    melding_received,
    meldingen_below_committed,
    publish_melding,
    radar_process,
    start_radar,
)

TENANT = "drenthe"
BACKLOG = 1500


async def test_a_batch_that_fails_is_not_committed(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher) -> None:
    settings = RadarSettings(key_dir=str(keys.root), data_dir=str(tmp_path), kafka=KafkaSettings(bootstrap_servers=kafka),
                             app_id=f"vt-radar-{uuid.uuid4().hex[:8]}", table_store="memory", session_timeout=6.0)
    ours: set[str] = set()  # the broker is shared with other tests
    for _ in range(BACKLOG // 250):
        batch = [(melding_received(keys, TENANT, [], event_id=e), e) for e in (new_event_id() for _ in range(250))]
        await asyncio.gather(*(publish_melding(publisher, m, e) for m, e in batch))
        ours.update(m.contact_id for m, _ in batch)

    # radar's faust app runs in a helper process: its in-process shutdown leaves tasks behind that would
    # keep the test session's event loop from closing.
    cases_file, out = tmp_path / "cases.json", tmp_path / "out.json"
    cases_file.write_text(json.dumps(sorted(ours)))
    helper = await asyncio.create_subprocess_exec(
        sys.executable, str(pathlib.Path(__file__).with_name("radar_failing_batch.py")), kafka, str(keys.root),
        str(tmp_path / "data"), settings.app_id, str(cases_file), str(out))
    assert await asyncio.wait_for(helper.wait(), 120) == 0
    result = json.loads(out.read_text())
    due = set(result["due"])

    committed, _ = await meldingen_below_committed(kafka, TENANT, settings.app_id, ours)
    assert committed, "nothing committed: the test did not exercise the commit"
    assert len(due) < BACKLOG, "the backlog was done before the failure"
    assert result["failed"], "the injected failure never happened"
    missing = committed - due
    assert not missing, f"{len(missing)} meldingen committed without an AssessmentDue ({len(committed)} committed)"


# Regions no other test uses, so the first record of the topic (the one lost) is one of ours.
@pytest.mark.parametrize(("tenant", "count"), [("gelderland-midden", 120), ("noord-en-oost-gelderland", 1)],
                         ids=["records after it: the commit is held", "the last record of its partition"])
async def test_a_record_faust_lost_is_read_again_without_a_restart(
        kafka: str, keys: KeyStore, tmp_path: pathlib.Path, publisher: Publisher, tenant: str, count: int) -> None:
    """faust once acked a record it never handed to radar (after a broker loss: docs/measurements.md); the commit
    then stays held below it and, before radar.offsets seeks back, the melding waited for radar's next restart.
    The fault point `radar.intake.lose/<topic>` makes radar lose the first record of its region in the same way.
    A lost record with nothing after it in its partition holds no commit back; it is read again all the same."""
    meldingen = [(melding_received(keys, tenant, [], event_id=e), e) for e in (new_event_id() for _ in range(count))]
    await asyncio.gather(*(publish_melding(publisher, m, e) for m, e in meldingen))
    ours = {m.contact_id for m, _ in meldingen}
    watcher = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS).start()
    try:
        radar = await start_radar(radar_process(
            kafka, keys, tmp_path / "data", tmp_path / "radar.log", f"vt-radar-{uuid.uuid4().hex[:8]}",
            VT_FAULT_DROP=f"radar.intake.lose/{topics.intake(tenant)}@1"))
        try:
            await radar.wait_for_log(DROPPED_MESSAGE)
            await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue)
                                   and s.message.case_id in ours, count=count, timeout=90, what="AssessmentDue")
            log_text = radar.log_text()
        finally:
            assert radar.stop() == 0, radar.log_text()[-3000:]
    finally:
        await watcher.stop()
    assert "reading a partition again from its committed offset" in log_text
    assert log_text.count('"worker ready"') == 1, "radar restarted: the lost record was not read again while it ran"
