import pytest
from vt.radar.v1 import events_pb2
from vtkit.envelope import DecodeError, decode, encode, envelope_for


def test_roundtrip_carries_cloudevents_headers() -> None:
    msg = events_pb2.RegisterEntry(tenant_id="utrecht", pseudonym="p", case_id="c1")
    env = envelope_for(msg, source="radar", tenant="utrecht")
    value, headers = encode(msg, env)
    names = {k for k, _ in headers}
    assert {"ce_id", "ce_type", "ce_source", "ce_time", "content-type", "schema_version"} <= names
    event = decode(value, headers)
    assert event.message == msg
    assert event.envelope.id == env.id
    assert event.envelope.type == "vt.radar.v1.RegisterEntry"


def test_missing_header_is_a_decode_error() -> None:
    msg = events_pb2.RegisterEntry(case_id="c1")
    value, headers = encode(msg, envelope_for(msg, source="radar"))
    with pytest.raises(DecodeError, match="ce_id"):
        decode(value, [h for h in headers if h[0] != "ce_id"])


def test_garbage_value_and_unknown_type_are_decode_errors() -> None:
    msg = events_pb2.RegisterEntry(case_id="c1")
    _, headers = encode(msg, envelope_for(msg, source="radar"))
    with pytest.raises(DecodeError, match="not a valid"):
        decode(b"\xff\xff\xff", headers)
    bad = [(k, b"vt.nope.v1.Nothing" if k == "ce_type" else v) for k, v in headers]
    with pytest.raises(DecodeError, match="unknown ce_type"):
        decode(b"", bad)


def test_expected_types_restrict_a_topic() -> None:
    msg = events_pb2.RegisterEntry(case_id="c1")
    value, headers = encode(msg, envelope_for(msg, source="radar"))
    with pytest.raises(DecodeError, match="unexpected ce_type"):
        decode(value, headers, expected=[events_pb2.RegisterMatch])
