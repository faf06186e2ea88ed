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
    assert not {m.DESCRIPTOR.full_name for m in own} & proto.ASSESSMENT_INPUT_TYPES
    # Another agent (no filter) handles whatever it reads.
    await streams._process("radar.person", record(own[0], "c-1"), work, Staged())
    assert handled[-1] == own[0].DESCRIPTOR.full_name
