"""The record envelope: protobuf value + CloudEvents-style headers (docs/architecture.md, "Contracts and records").

Headers: ce_id (event id, the dedupe key), ce_type (full protobuf message name),
ce_source (service/tenant), ce_time (RFC 3339), ce_specversion, content-type and
schema version. Decoding looks the type up in the protobuf descriptor pool, so
every generated message is decodable without a hand-kept registry.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from google.protobuf import message as pb_message
from google.protobuf import symbol_database

CONTENT_TYPE = "application/x-protobuf"
SCHEMA_VERSION = "v1"
# No event of the suite comes near this; a bigger value is refused before parsing. Outputs derived from
# an input stay below the producers' 1 MiB request limit, and so does the input's dead-letter copy
# (found by the fuzz run, docs/measurements.md "Fuzz": a 4 MB record made consumers crash or retry forever on the publish).
MAX_VALUE_BYTES = 512 * 1024
_symbols = symbol_database.Default()


class DecodeError(ValueError):
    """A record that cannot be turned back into an event; goes to the dead-letter topic."""


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    source: str
    time: dt.datetime
    tenant: str = ""

    def headers(self) -> list[tuple[str, bytes]]:
        return [
            ("ce_specversion", b"1.0"),
            ("ce_id", self.id.encode()),
            ("ce_type", self.type.encode()),
            ("ce_source", self.source.encode()),
            ("ce_time", self.time.isoformat().encode()),
            ("ce_tenant", self.tenant.encode()),
            ("content-type", CONTENT_TYPE.encode()),
            ("schema_version", SCHEMA_VERSION.encode()),
        ]


@dataclass(frozen=True)
class Event:
    envelope: Envelope
    message: Any  # a generated protobuf message


def new_event_id() -> str:
    return str(uuid.uuid4())


def envelope_for(message: pb_message.Message, *, source: str, tenant: str = "",
                 event_id: str | None = None, time: dt.datetime | None = None) -> Envelope:
    return Envelope(
        id=event_id or new_event_id(),
        type=message.DESCRIPTOR.full_name,
        source=source,
        time=time or dt.datetime.now(dt.UTC),
        tenant=tenant,
    )


def encode(message: pb_message.Message, envelope: Envelope) -> tuple[bytes, list[tuple[str, bytes]]]:
    if envelope.type != message.DESCRIPTOR.full_name:
        raise ValueError(f"envelope type {envelope.type} does not match {message.DESCRIPTOR.full_name}")
    return message.SerializeToString(), envelope.headers()


def header_map(headers: Sequence[tuple[str, bytes]] | None, strict: bool = True) -> dict[str, str]:
    """Headers as text; a value that is not UTF-8 raises DecodeError, or with `strict` off (readers that only look,
    e.g. of a shared dead-letter topic) reads with replacement characters."""
    out: dict[str, str] = {}
    for key, value in headers or ():
        try:
            out[key] = value.decode() if value is not None else ""
        except UnicodeDecodeError:
            if strict:
                raise DecodeError(f"header {key!r} is not UTF-8") from None
            out[key] = value.decode("utf-8", "replace")
    return out


def header_value(headers: Sequence[tuple[str, bytes]] | None, name: str) -> str:
    """One header's value ('' when absent or not UTF-8), without reading the rest: a consumer can pass over
    records it does not act on (by ce_type) before it verifies or decodes them."""
    for key, value in headers or ():
        if key == name:
            try:
                return value.decode() if value is not None else ""
            except UnicodeDecodeError:
                return ""
    return ""


def decode(value: bytes | None, headers: Sequence[tuple[str, bytes]] | None,
           expected: Sequence[type[pb_message.Message]] | None = None) -> Event:
    """Decode a record; raises DecodeError with a reason for anything unusable."""
    if value is not None and len(value) > MAX_VALUE_BYTES:
        raise DecodeError(f"value of {len(value)} bytes exceeds the limit of {MAX_VALUE_BYTES} bytes")
    h = header_map(headers)
    for required in ("ce_id", "ce_type", "ce_source", "ce_time"):
        if not h.get(required):
            raise DecodeError(f"missing header {required}")
    if h.get("content-type", CONTENT_TYPE) != CONTENT_TYPE:
        raise DecodeError(f"unsupported content-type {h['content-type']!r}")
    if h.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise DecodeError(f"unsupported schema_version {h['schema_version']!r}")
    try:
        time = dt.datetime.fromisoformat(h["ce_time"])
    except ValueError:
        raise DecodeError(f"ce_time {h['ce_time']!r} is not RFC 3339") from None
    if expected is not None:
        allowed = {cls.DESCRIPTOR.full_name: cls for cls in expected}
        if h["ce_type"] not in allowed:
            raise DecodeError(f"unexpected ce_type {h['ce_type']!r} on this topic")
        cls: Any = allowed[h["ce_type"]]
    else:
        try:
            cls = _symbols.GetSymbol(h["ce_type"])
        except KeyError:
            raise DecodeError(f"unknown ce_type {h['ce_type']!r}") from None
    message = cls()
    try:
        message.ParseFromString(value or b"")
    except Exception as exc:  # protobuf raises DecodeError and others on bad bytes
        raise DecodeError(f"value is not a valid {h['ce_type']}: {exc}") from None
    envelope = Envelope(id=h["ce_id"], type=h["ce_type"], source=h["ce_source"], time=time, tenant=h.get("ce_tenant", ""))
    return Event(envelope, message)
