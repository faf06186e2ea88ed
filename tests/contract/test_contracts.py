"""The contracts: lint-clean, generated code fresh, and every event of the suite present."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
import vt.intake.v1.events_pb2
import vt.notifier.v1.events_pb2
import vt.radar.v1.events_pb2
import vt.rvdk.v1.events_pb2
import vt.verwijsindex.v1.events_pb2  # noqa: F401  (registers the messages)
from google.protobuf import symbol_database

ROOT = pathlib.Path(__file__).resolve().parents[2]

EVENTS = [
    "vt.intake.v1.AdviesRegistered", "vt.intake.v1.MeldingReceived", "vt.intake.v1.AdviesConverted",
    "vt.intake.v1.AmbtshalveMeldingMade", "vt.radar.v1.RegisterEntry", "vt.radar.v1.RegisterMatch",
    "vt.rvdk.v1.RvdkSignal", "vt.radar.v1.AssessmentDue", "vt.radar.v1.AssessmentInput",
    "vt.radar.v1.AssessmentCompleted", "vt.verwijsindex.v1.SignalRegistered", "vt.verwijsindex.v1.SignalMatch",
    "vt.verwijsindex.v1.HouseholdFacts", "vt.verwijsindex.v1.YouthRelocated",
    "vt.notifier.v1.DeliveryRequested", "vt.notifier.v1.DeliveryDelivered", "vt.notifier.v1.DeliveryFailed",
]


def test_buf_lint_is_clean() -> None:
    buf = pathlib.Path(sys.executable).with_name("buf")
    result = subprocess.run([str(buf), "lint"], cwd=ROOT / "proto", capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_is_not_stale() -> None:
    result = subprocess.run([sys.executable, "scripts/gen_proto.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", EVENTS)
def test_every_event_of_the_suite_has_a_contract(name: str) -> None:
    message = symbol_database.Default().GetSymbol(name)
    assert message.DESCRIPTOR.full_name == name


@pytest.mark.parametrize("name", EVENTS)
def test_events_carry_no_clear_personal_fields(name: str) -> None:
    """Names, BSNs, addresses and contact details travel only as EncryptedField or SealedIdentifier."""
    forbidden = {"bsn", "name", "surname", "first_names", "email", "phone", "postcode", "house_number", "address"}

    def walk(descriptor, seen):  # type: ignore[no-untyped-def]
        if descriptor.full_name in seen or descriptor.full_name.startswith("vt.common.v1.EncryptedField"):
            return
        seen.add(descriptor.full_name)
        for field in descriptor.fields:
            assert field.name not in forbidden, f"{descriptor.full_name}.{field.name} would carry personal data in clear"
            if field.message_type is not None:
                walk(field.message_type, seen)

    walk(symbol_database.Default().GetSymbol(name).DESCRIPTOR, set())
