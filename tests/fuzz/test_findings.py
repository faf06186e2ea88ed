"""Regression tests of what the fuzz run found (docs/measurements.md, "Fuzz"), each on the smallest input that
showed it, so a finding stays fixed even if the drawn inputs change."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.timestamp_pb2 import Timestamp
from intake.adapters import proto as intake_proto
from intake.domain.errors import ValidationError
from notifier.adapters import proto as notifier_proto
from notifier.domain.causes import InvalidCause
from ops.cli import read_all
from radar.adapters import proto as radar_proto
from verwijsindex.adapters import brp
from vt.intake.v1 import intake_service_pb2 as ipb
from vtkit import topics
from vtkit.envelope import MAX_VALUE_BYTES, DecodeError, decode, envelope_for
from vtkit.kafka import KafkaSettings, PermanentError, dead_letter, ensure_topics

pytestmark = pytest.mark.fuzz
# Seconds far outside the Timestamp range (years 1-9999): protobuf's ToDatetime raises ValueError.
OUT_OF_RANGE = Timestamp(seconds=2**62)


def test_intake_out_of_range_follow_up_is_invalid_argument_naming_the_field() -> None:
    request = ipb.RegisterAdviesRequest(follow_up_at=OUT_OF_RANGE)
    with pytest.raises(ValidationError, match="follow_up_at"):
        intake_proto.advies_from_proto(request)


def test_consumers_turn_out_of_range_timestamps_into_permanent_errors() -> None:
    with pytest.raises(InvalidCause):
        notifier_proto.to_datetime(OUT_OF_RANGE, True)
    with pytest.raises(PermanentError):
        radar_proto.to_datetime(OUT_OF_RANGE)
    with pytest.raises(brp.InvalidFacts, match="observed_at"):
        brp._time(OUT_OF_RANGE)
    assert radar_proto.to_datetime(Timestamp(seconds=0)) == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def test_an_oversized_record_is_refused_before_parsing() -> None:
    message = ipb.GetContactRequest(purpose="x" * MAX_VALUE_BYTES)
    value = message.SerializeToString()
    headers = envelope_for(message, source="fuzz").headers()
    with pytest.raises(DecodeError, match="exceeds the limit"):
        decode(value, headers)
    assert decode(ipb.GetContactRequest(purpose="ok").SerializeToString(), headers).message.purpose == "ok"


async def test_the_dead_letter_copy_of_a_4_mb_record_is_cut_to_fit(kafka: str) -> None:
    """Before, the copy exceeded the producer's 1 MiB request limit: notifier's consumer crashed on it."""
    settings = KafkaSettings(bootstrap_servers=kafka)
    await ensure_topics(settings)
    big = AIOKafkaProducer(bootstrap_servers=kafka, max_request_size=16 * 1024 * 1024)
    normal = AIOKafkaProducer(bootstrap_servers=kafka)  # the 1 MiB default every service uses
    await big.start()
    await normal.start()
    try:
        marker = uuid.uuid4().hex.encode()
        topic = topics.NATIONAL_RVDK
        await big.send_and_wait(topic, b"\xff" * (4 * 1024 * 1024), key=marker)
        [record] = [r for r in await read_all(kafka, topic) if r.key == marker]
        await dead_letter(normal, record, "fuzz", "DecodeError: too big")
    finally:
        await big.stop()
        await normal.stop()
    [copy] = [r for r in await read_all(kafka, topics.DEAD_LETTERS) if r.key == marker]
    headers = dict(copy.headers)
    assert len(copy.value) == MAX_VALUE_BYTES and headers["dl_value_bytes"] == str(4 * 1024 * 1024).encode()
    assert headers["dl_reason"] == b"DecodeError: too big" and headers["dl_offset"] == str(record.offset).encode()
