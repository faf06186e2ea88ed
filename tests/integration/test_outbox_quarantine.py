"""One outbox row that can never be sent must not stall the region: it is quarantined with its reason,
the rows behind it (an acute melding) go on to radar, health shows the intake degraded, and `vt-ops
quarantine` and the dashboard list it. The row is the one an earlier intake accepted from the meldformulier: a narrative of
control bytes that grows six-fold when encoded, beyond what any consumer accepts (vtkit.envelope)."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import sqlite3
import subprocess
import sys
import uuid

from devstack.broker import free_port
from devstack.processes import ROOT, ServiceProcess
from devstack.scenario import melding_request, random_bsn
from ops.observer import Observer
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.channels import Org
from vtkit.envelope import MAX_VALUE_BYTES
from vtkit.grpcserver import health_status, wait_healthy
from vtkit.keystore import KeyStore
from vtkit.outbox import HEALTH_NAME
from vttest.intake import call, intake_process
from vttest.radar import Watcher

TENANT = "zeeland"


def add_oversized_row(database: pathlib.Path) -> str:
    """An outbox row as the old intake committed it (same columns, a value no consumer accepts)."""
    event_id = str(uuid.uuid4())
    with sqlite3.connect(database) as db:
        db.execute("INSERT INTO outbox (topic, record_key, value, event_id, event_type, event_source, event_time,"
                   " event_tenant) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (topics.intake(TENANT), f"case-{uuid.uuid4()}", b"\x0a" * (MAX_VALUE_BYTES + 1), event_id,
                    "vt.intake.v1.MeldingReceived", f"intake/{TENANT}", dt.datetime.now(dt.UTC).isoformat(), TENANT))
    return event_id


async def test_a_row_that_can_never_be_sent_is_quarantined_and_the_acute_melding_behind_it_is_assessed(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path, radar: ServiceProcess) -> None:
    intake = intake_process(tmp_path, kafka, keys, TENANT, data_dir)
    metrics_url = f"http://127.0.0.1:{free_port()}/metrics"
    intake.env = {**intake.env, "METRICS_PORT": metrics_url.rsplit(":", 1)[1].split("/")[0]}
    intake.start()
    watcher = await Watcher(kafka, topics.NATIONAL_ASSESSMENTS).start()
    try:
        await wait_healthy(intake.address, timeout=20, keys=keys)
        assert await health_status(intake.address, HEALTH_NAME, keys) == "SERVING"
        poison = add_oversized_row(data_dir / f"intake-{TENANT}.sqlite3")
        reply = await call(intake.address, Org(keys, TENANT), "SubmitMelding", melding_request(random_bsn(), acute=True))

        await watcher.wait_for(lambda s: isinstance(s.message, events_pb2.AssessmentDue)
                               and s.message.case_id == reply.contact_id, what="the acute melding's AssessmentDue")
        await intake.wait_for_log("outbox row quarantined")
        for _ in range(50):  # health follows the quarantine right after the log line
            if await health_status(intake.address, HEALTH_NAME, keys) == "NOT_SERVING":
                break
            await asyncio.sleep(0.1)
        assert await health_status(intake.address, HEALTH_NAME, keys) == "NOT_SERVING"
        assert await health_status(intake.address, "", keys) == "SERVING"  # still takes meldingen
        # The operator's dashboard lists it (from the intake's /metrics).
        [outbox] = (await Observer(kafka, metrics_urls={f"intake-{TENANT}": metrics_url}).sample())["outboxes"]
        assert outbox == {"service": f"intake-{TENANT}", "up": True, "backlog": 0, "quarantined": 1, "recoveries": 0}
    finally:
        await watcher.stop()
        assert intake.stop() == 0, intake.log_text()[-3000:]

    listed = (await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "ops.cli", "quarantine", "--data-dir",
                                                       str(data_dir)], capture_output=True, text=True, cwd=ROOT,
                                      check=True)).stdout
    assert poison in listed and "exceeds the limit" in listed, listed
    assert str(MAX_VALUE_BYTES + 1) in listed

    # Quarantined for good: a restarted intake does not try it again, and stays degraded.
    again = intake_process(tmp_path, kafka, keys, TENANT, data_dir, name="intake-again").start()
    try:
        await wait_healthy(again.address, timeout=20, keys=keys)
        assert await health_status(again.address, HEALTH_NAME, keys) == "NOT_SERVING"
    finally:
        assert again.stop() == 0
    assert "outbox row quarantined" not in again.log_text()
