"""Radar's assessments agent passes over its own outputs on vt.national.assessments.v1 by the ce_type header
(docs/architecture.md, "Case lifecycle"): about half of that topic's records, never verified, decoded or handled."""

from __future__ import annotations

import pathlib
from types import SimpleNamespace
from typing import Any

from radar.adapters import proto
from radar.app import RadarStreams
from radar.settings import Settings
from radar.staging import Staged
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.config import load_settings
from vtkit.envelope import Event, encode, envelope_for
from vtkit.keystore import init_keys


def record(message: Any, case_id: str) -> SimpleNamespace:
    value, headers = encode(message, envelope_for(message, source="radar", tenant="utrecht"))
    return SimpleNamespace(topic=topics.NATIONAL_ASSESSMENTS, key=case_id.encode(), value=value, headers=headers,
                           partition=0, offset=0)


async def test_own_outputs_are_passed_over_and_inputs_handled(tmp_path: pathlib.Path) -> None:
    init_keys(tmp_path / "keys")
    settings = load_settings(Settings, {"VT_KEY_DIR": str(tmp_path / "keys"), "VT_DATA_DIR": str(tmp_path),
                                        "RADAR_TABLE_STORE": "memory", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"})
    streams = RadarStreams(settings, settings.kafka, radar=None, producer=None)  # type: ignore[arg-type]
    handled: list[str] = []

    async def work(event: Event, message: Any, staged: Staged) -> None:
        handled.append(event.envelope.type)

    own = [events_pb2.AssessmentDue(tenant_id="utrecht", case_id="c-1"),
           events_pb2.AssessmentInput(tenant_id="utrecht", case_id="c-1"),
           events_pb2.MonitoringAlert(tenant_id="utrecht", case_id="c-1")]
    acted_on = [events_pb2.AssessmentCompleted(tenant_id="utrecht", case_id="c-1"),
                events_pb2.EpisodeJoined(tenant_id="utrecht", case_id="c-2", episode_case_id="c-1")]
    for message in [*own, *acted_on]:
        await streams._process("radar.assessments", record(message, "c-1"), work, Staged())
    assert handled == [m.DESCRIPTOR.full_name for m in acted_on]
    assert {m.DESCRIPTOR.full_name for m in acted_on} <= proto.ASSESSMENT_INPUT_TYPES
    assert {m.DESCRIPTOR.full_name for m in own} <= proto.PASSED_OVER_TYPES
    assert not proto.PASSED_OVER_TYPES & proto.ASSESSMENT_INPUT_TYPES
    # A type radar never writes is decoded and handled as before (garbage is still dead-lettered there).
    foreign = events_pb2.MonitoringAlert(tenant_id="utrecht", case_id="c-1")
    value, headers = encode(foreign, envelope_for(foreign, source="radar", tenant="utrecht"))
    headers = [(k, b"vt.other.v1.Thing" if k == "ce_type" else v) for k, v in headers]
    dead: list[str] = []

    async def dead_letter(message: Any, consumer: str, reason: str) -> None:
        dead.append(reason)

    streams._dead_letter = dead_letter  # type: ignore[method-assign]
    await streams._process("radar.assessments", SimpleNamespace(topic=topics.NATIONAL_ASSESSMENTS, key=b"c-1",
                                                                value=value, headers=headers, partition=0, offset=1),
                           work, Staged())
    assert len(dead) == 1 and "vt.other.v1.Thing" in dead[0]
    # Another agent (no filter) handles whatever it reads.
    await streams._process("radar.person", record(own[0], "c-1"), work, Staged())
    assert handled[-1] == own[0].DESCRIPTOR.full_name
