"""vttest.fuzz draws what it promises: every message type of the suite, unknown enum numbers,
map entries, at most one oneof member, extreme integers, huge strings, unparseable raw bodies and
mutants that keep most of a valid seed."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
import vt
from devstack.scenario import melding_request, random_bsn
from google.protobuf.descriptor import FieldDescriptor
from vt.audit.v1 import events_pb2 as audit_events
from vt.intake.v1 import intake_service_pb2 as ipb
from vt.radar.v1 import events_pb2 as radar_events
from vttest.fuzz import examples, messages, mutations, raw_bodies

pytestmark = pytest.mark.fuzz


def suite_message_types() -> list[type]:
    found = []
    for module_info in pkgutil.walk_packages(vt.__path__, "vt."):
        if module_info.name.endswith("_pb2"):
            module = importlib.import_module(module_info.name)
            found += [getattr(module, name) for name in module.DESCRIPTOR.message_types_by_name]
    return found


def test_every_message_type_of_the_suite_can_be_drawn_and_round_trips() -> None:
    types = suite_message_types()
    assert len(types) > 40
    for cls in types:
        for message in examples(messages(cls.DESCRIPTOR), 3, seed=1):
            assert cls.FromString(message.SerializeToString()) == message


def test_enums_get_unknown_numbers_and_maps_get_entries() -> None:
    drawn = examples(messages(audit_events.AuditRecord.DESCRIPTOR), 100, seed=2)
    assert any(len(m.subject) > 0 for m in drawn)
    outcomes = examples(messages(ipb.RegisterAdviesRequest.DESCRIPTOR), 100, seed=3)
    known = {v.number for v in ipb.AdviesOutcome.DESCRIPTOR.values}
    assert any(m.outcome not in known for m in outcomes)


def test_oneof_members_are_drawn_one_at_a_time() -> None:
    drawn = examples(messages(radar_events.PersonSignal.DESCRIPTOR), 100, seed=4)
    members = [m.WhichOneof("signal") for m in drawn]
    assert None in members and len({x for x in members if x}) >= 2


def test_extremes_and_huge_strings_are_drawn() -> None:
    drawn = examples(messages(ipb.RegisterAdviesRequest.DESCRIPTOR), 200, seed=5)
    stamps = [m.follow_up_at.seconds for m in drawn if m.HasField("follow_up_at")]
    assert -(2**63) in stamps or 2**63 - 1 in stamps
    assert any(len(m.question) >= 10_000 for m in drawn)
    int64 = ipb.RegisterAdviesRequest.DESCRIPTOR.fields_by_name["follow_up_at"].message_type.fields_by_name["seconds"]
    assert int64.type == FieldDescriptor.TYPE_INT64


def test_raw_bodies_include_unparseable_ones() -> None:
    def parses(body: bytes) -> bool:
        try:
            ipb.SubmitMeldingRequest.FromString(body)
            return True
        except Exception:
            return False

    assert not all(parses(b) for b in examples(raw_bodies(), 30, seed=6))


def test_mutants_stay_close_to_a_valid_seed() -> None:
    seed = melding_request(random_bsn())
    mutants = examples(mutations(seed), 50, seed=7)
    assert len(mutants) > 30 and seed in mutants
    changed = [m for m in mutants if m != seed]
    # A mutant changes some fields, not all of them: most keep the melding, many keep the situation.
    assert sum(m.HasField("melding") for m in changed) > len(changed) / 2
    assert sum(m.melding.situation == seed.melding.situation for m in changed) > len(changed) / 4
