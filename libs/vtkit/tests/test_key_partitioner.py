"""The producers' partitioner places every key where aiokafka's default (the Java client's murmur2) does: radar finds a
case's rows in the partition its records were keyed into (radar.open_work.partition_of), whichever client wrote them."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st
from vtkit.kafka import key_partitioner


@given(st.binary(max_size=64), st.integers(min_value=1, max_value=64))
def test_a_key_goes_where_the_default_partitioner_puts_it_also_the_second_time(key: bytes, partitions: int) -> None:
    every = list(range(partitions))
    expected = DefaultPartitioner()(key, every, every)
    assert key_partitioner(key, every, every) == expected
    assert key_partitioner(bytes(key), every, every) == expected  # remembered, from an equal key


def test_a_record_without_a_key_goes_to_an_available_partition() -> None:
    assert {key_partitioner(None, [0, 1, 2, 3], [2]) for _ in range(20)} == {2}
