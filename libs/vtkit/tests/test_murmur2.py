"""vtkit.kafka.murmur2 places every key where the Java client and aiokafka place it: the same hash as aiokafka's murmur2
for keys of every length (the tail of 0-3 bytes after the 4-byte words is where a port goes wrong)."""

from __future__ import annotations

from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given, settings
from hypothesis import strategies as st
from vtkit.kafka import key_partitioner, murmur2


@settings(max_examples=500)
@given(st.binary(max_size=200))
def test_the_same_hash_as_aiokafka(key: bytes) -> None:
    assert murmur2(key) == aiokafka_murmur2(key)


def test_known_placements_of_the_java_client() -> None:
    # org.apache.kafka.common.utils.Utils.murmur2 of these keys (the Java client's own test values, as signed ints).
    for key, expected in [(b"21", -973932308), (b"foobar", -790332482), (b"a-little-bit-long-string", -985981536),
                          (b"a-little-bit-longer-string", -1486304829), (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                                                                          -58897971), (b"abc", 479470107)]:
        assert murmur2(key) == expected & 0xFFFFFFFF
    assert key_partitioner(b"foobar", list(range(4)), list(range(4))) == (-790332482 & 0x7FFFFFFF) % 4
