"""Hypothesis strategies generated from protobuf descriptors, for fuzzing every RPC and consumer
(`make fuzz`, docs/measurements.md "Fuzz"). Walking the descriptor instead of writing a strategy per message means a new
field, message or RPC is fuzzed without anyone touching the tests.

messages(descriptor) draws each field set or left unset; scalars including the extremes of their range;
empty, unicode and huge strings and bytes; enums including numbers the schema does not know; nested
messages up to `max_depth`; repeated fields and maps; at most one member of each oneof.
mutations(seed) draws variants of one valid message, which get further into a service than messages
drawn from scratch; raw_bodies() draws bytes that need not parse at all. examples(strategy, n) turns a
strategy into a list of inputs for async tests, which cannot be @given tests themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import message as pb_message
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from hypothesis import strategies as st

F = FieldDescriptor
_INT_RANGES = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1), F.TYPE_SINT32: (-(2**31), 2**31 - 1), F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1), F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_INT64: (-(2**63), 2**63 - 1), F.TYPE_SINT64: (-(2**63), 2**63 - 1), F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1), F.TYPE_FIXED64: (0, 2**64 - 1),
}
# Far above any field a service accepts but below gRPC's 4 MiB message limit, so the service itself
# has to refuse it; the Kafka fuzz sends bigger ones separately.
HUGE = 300_000


def _ints(low: int, high: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from(sorted({low, high, 0, 1, -1 if low < 0 else 0, high // 2})),
                     st.integers(low, high))


def _strings() -> st.SearchStrategy[str]:
    return st.one_of(
        st.just(""),
        st.text(),  # any unicode a protobuf string may hold: controls, NUL, right-to-left, emoji, ...
        st.text(alphabet="0123456789", min_size=1, max_size=12),  # BSN, phone, postcode lookalikes
        st.sampled_from(["\x00", " ", "\u202e", "../../etc/passwd", "'; DROP TABLE contacts;--", "%s%n", "<script>"]),
        st.integers(10_000, HUGE).map(lambda n: "é" * (n // 2)),
    )


def _bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=64), st.integers(10_000, HUGE).map(lambda n: b"\xff" * n))


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type in _INT_RANGES:
        return _ints(*_INT_RANGES[field.type])
    if field.type == F.TYPE_BOOL:
        return st.booleans()
    if field.type == F.TYPE_DOUBLE:
        return st.floats()
    if field.type == F.TYPE_FLOAT:
        return st.floats(width=32)
    if field.type == F.TYPE_STRING:
        return _strings()
    if field.type == F.TYPE_BYTES:
        return _bytes()
    if field.type == F.TYPE_ENUM:
        known = st.sampled_from([v.number for v in field.enum_type.values])
        # Open (proto3) enums keep numbers the schema does not know: a newer client may send them.
        return known if field.enum_type.is_closed else st.one_of(known, _ints(-(2**31), 2**31 - 1))
    raise TypeError(f"no strategy for field type {field.type} of {field.full_name}")


def _value(field: FieldDescriptor, depth: int, max_depth: int) -> st.SearchStrategy[Any]:
    if field.type in (F.TYPE_MESSAGE, F.TYPE_GROUP):
        return _message(field.message_type, depth + 1, max_depth)
    return _scalar(field)


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == F.TYPE_MESSAGE and field.message_type.GetOptions().map_entry


def _fill(draw: Callable[[st.SearchStrategy[Any]], Any], msg: pb_message.Message, field: FieldDescriptor, depth: int,
          max_depth: int) -> None:
    """Give `field` of `msg` a freshly drawn value (a map or repeated field: drawn entries added)."""
    target = getattr(msg, field.name)
    if _is_map(field):
        key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        for k, v in draw(st.dictionaries(_scalar(key_field), _value(value_field, depth, max_depth), max_size=4)).items():
            if value_field.type == F.TYPE_MESSAGE:
                target[k].CopyFrom(v)
            else:
                target[k] = v
    elif field.is_repeated:
        items = draw(st.lists(_value(field, depth, max_depth), max_size=5))
        if field.type == F.TYPE_MESSAGE:
            for item in items:
                target.add().CopyFrom(item)
        else:
            target.extend(items)
    elif field.type == F.TYPE_MESSAGE:
        target.CopyFrom(draw(_value(field, depth, max_depth)))
    else:
        setattr(msg, field.name, draw(_scalar(field)))


@st.composite
def _draw_message(draw: Callable[[st.SearchStrategy[Any]], Any], descriptor: Descriptor, depth: int,
                  max_depth: int) -> pb_message.Message:
    msg = message_factory.GetMessageClass(descriptor)()
    # At most one member of each real oneof (proto3 `optional` makes synthetic ones: not a choice).
    skipped = set()
    for oneof in descriptor.oneofs:
        if getattr(oneof, "is_synthetic", False) or (len(oneof.fields) == 1 and oneof.name.startswith("_")):
            continue
        chosen = draw(st.sampled_from([None, *oneof.fields]))
        skipped |= {f.name for f in oneof.fields if f is not chosen}
    for field in descriptor.fields:
        if field.name in skipped or not draw(st.booleans()):
            continue
        if field.type == F.TYPE_MESSAGE and depth + 1 > max_depth:
            continue  # bounded depth: recursive messages stop here
        _fill(draw, msg, field, depth, max_depth)
    return msg


def _message(descriptor: Descriptor, depth: int, max_depth: int) -> st.SearchStrategy[pb_message.Message]:
    return _draw_message(descriptor, depth, max_depth)


def messages(descriptor: Descriptor, max_depth: int = 4) -> st.SearchStrategy[pb_message.Message]:
    """Instances of the message `descriptor` describes, with every field fuzzed (see module docstring)."""
    return _message(descriptor, 0, max_depth)


@st.composite
def _draw_mutation(draw: Callable[[st.SearchStrategy[Any]], Any], seed: pb_message.Message, depth: int,
                   max_depth: int) -> pb_message.Message:
    """A copy of `seed` with some fields replaced, cleared, extended or mutated in turn. Requests drawn
    from scratch mostly fail the first validation; mutants of a valid request get past it and reach
    the handlers, the store and the publishing behind it."""
    msg = type(seed)()
    msg.CopyFrom(seed)
    for field in msg.DESCRIPTOR.fields:
        roll = draw(st.integers(0, 9))
        if roll < 6:
            continue  # most fields stay as the valid seed has them
        if roll == 9:
            msg.ClearField(field.name)
            continue
        nested = field.type == F.TYPE_MESSAGE and not _is_map(field)
        if nested and roll < 8 and field.is_repeated and len(getattr(msg, field.name)):
            items = getattr(msg, field.name)  # mutate one element of a repeated message
            index = draw(st.integers(0, len(items) - 1))
            items[index].CopyFrom(draw(_draw_mutation(items[index], depth + 1, max_depth)))
        elif nested and roll < 8 and not field.is_repeated and msg.HasField(field.name):
            getattr(msg, field.name).CopyFrom(draw(_draw_mutation(getattr(msg, field.name), depth + 1, max_depth)))
        elif depth < max_depth or field.type != F.TYPE_MESSAGE:
            if not field.is_repeated or roll == 7:
                msg.ClearField(field.name)  # replace; roll 8 on a repeated field appends instead
            _fill(draw, msg, field, depth, max_depth)
    return msg


def mutations(seed: pb_message.Message, max_depth: int = 4) -> st.SearchStrategy[pb_message.Message]:
    """Variants of a valid message `seed` (see _draw_mutation)."""
    return _draw_mutation(seed, 0, max_depth)


def raw_bodies() -> st.SearchStrategy[bytes]:
    """Request bodies that need not parse: random bytes, truncated varints, absurd lengths, wrong wire types."""
    return st.one_of(
        st.binary(max_size=256),
        st.just(b"\x0a\xff\xff\xff\xff\x0f"),  # field 1, length-delimited, length 4 GiB, no data
        st.just(b"\x08"),  # field 1 varint, truncated
        st.just(b"\x0f"),  # wire type 7 does not exist
        st.just(b"\x0a\x05\xff\xfe\xfd\xfc\xfb"),  # field 1 as a string of invalid UTF-8
        st.just(b"\x0b\x0b\x0b\x0b"),  # unterminated groups
    )


def examples(strategy: st.SearchStrategy[Any], count: int, seed: int | None = None) -> list[Any]:
    """Draw `count` inputs the way @given would (varied, edge cases first), for async callers that cannot
    be @given tests themselves. Generation only: findings are reported with their input, not shrunk."""
    drawn: list[Any] = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), derandomize=seed is None)
    @given(strategy)
    def collect(value: Any) -> None:
        drawn.append(value)

    if seed is not None:
        collect = fixed_seed(seed)(collect)
    collect()
    unique: dict[Any, Any] = {}  # the first draws repeat the simplest input: send each once
    for value in drawn:
        key = value.SerializeToString(deterministic=True) if isinstance(value, pb_message.Message) else repr(value)
        unique.setdefault(key, value)
    return list(unique.values())
