"""The RvdK feed simulator (simulators.rvdk) produces what radar expects."""

from __future__ import annotations

import random

import pytest
from simulators.rvdk import build_signal, parse_kind, random_bsn, random_signals
from stdnum.nl import bsn as stdnum_bsn
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vtkit.crypto import Sealed
from vtkit.keystore import KeyStore


def test_random_bsns_pass_the_eleven_proof() -> None:
    rng = random.Random(7)
    assert all(stdnum_bsn.is_valid(random_bsn(rng)) for _ in range(500))


def test_kind_names_and_numbers() -> None:
    assert parse_kind("criminal_case") == rvdk_events.RVDK_SIGNAL_KIND_CRIMINAL_CASE
    assert parse_kind("RVDK_SIGNAL_KIND_INVESTIGATION_OPEN") == rvdk_events.RVDK_SIGNAL_KIND_INVESTIGATION_OPEN
    assert parse_kind(3) == 3
    with pytest.raises(ValueError):
        parse_kind("nonsense")


def test_signal_is_sealed_to_radar_only(keys: KeyStore) -> None:
    signal = build_signal(keys, "111222333", "CUSTODY_AND_ACCESS", "Zwolle")
    child = signal.child
    sealed = Sealed(child.recipient, child.ephemeral_public_key, child.nonce, child.ciphertext)
    assert keys.seal_opener("radar").open(sealed) == b"bsn:111222333"
    assert b"111222333" not in signal.SerializeToString()
    with pytest.raises(stdnum_bsn.ValidationError):
        build_signal(keys, "123456789", "CRIMINAL_CASE", "Zwolle")  # fails the 11-proof


def test_random_signals_are_realistic(keys: KeyStore) -> None:
    signals = random_signals(keys, 40, random.Random(1))
    assert len({s.signal_id for s in signals}) == 40
    assert {s.kind for s in signals} <= set(rvdk_events.RvdkSignalKind.values()) - {0}
    assert all(s.rvdk_office and s.HasField("observed_at") for s in signals)
