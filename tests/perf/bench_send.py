"""CPU per record of sending to the embedded broker: a send per record (aiokafka's `send`, each future gathered) against
record batches (vtkit.kafka.send_batched), in the client and in the broker.

    VT_PORT_RANGE=24500-25999 .venv/bin/pytest -m bench tests/perf -k send_cpu -s -p no:cacheprovider

A broker of its own is started; SEND_BENCH_N (20,000) records of 2,300 bytes (a MeldingReceived's size) with CloudEvents
headers go to a topic of 4 partitions under ten thousand keys, SEND_BENCH_PER (8 and 32) at a time, each group awaited
before the next (as the outbox relay and radar send: docs/measurements.md, "Records sent as batches"), the two ways by
turns, SEND_BENCH_ROUNDS (2) times. Printed: microseconds of CPU per record in this process and in the broker
(/proc, loadgen.cpu)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import pytest
from devstack.broker import EmbeddedBroker, embedded_broker_pid, free_port
from loadgen.cpu import cpu_seconds
from vtkit.kafka import KafkaSettings, Outgoing, ensure_topics, send_batched, start_producer, stop_producer
from vtkit.topics import TopicSpec

pytestmark = pytest.mark.bench

N = int(os.environ.get("SEND_BENCH_N", "20000"))
PER = [int(p) for p in os.environ.get("SEND_BENCH_PER", "8,32").split(",")]
ROUNDS = int(os.environ.get("SEND_BENCH_ROUNDS", "2"))
TOPIC = "bench.send.v1"
HEADERS = [("ce_id", b"5b0b6f3e-3c55-4f55-9a39-7f1c2a0e6d11"), ("ce_type", b"vt.intake.v1.MeldingReceived"),
           ("ce_source", b"intake/groningen"), ("ce_time", b"2026-12-07T10:00:00.000+00:00")]


def own_cpu() -> float:
    return cpu_seconds(os.getpid(), descendants=False)


async def test_send_cpu_per_record() -> None:
    broker = EmbeddedBroker(free_port()).start()
    try:
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
        await ensure_topics(settings, [TopicSpec(TOPIC, 4)])
        producer = await start_producer(settings)
        broker_pid = embedded_broker_pid(broker.bootstrap_servers)
        assert broker_pid is not None
        value = os.urandom(2300)
        records: list[Outgoing] = [(TOPIC, f"case-{i % 10_000}".encode(), value, HEADERS) for i in range(N)]

        async def one_by_one(group: list[Outgoing]) -> None:
            await asyncio.gather(*[await producer.send(t, v, key=k, headers=list(h)) for t, k, v, h in group])

        async def batched(group: list[Outgoing]) -> None:
            await asyncio.gather(*await send_batched(producer, group))

        async def measure(way: Callable[[list[Outgoing]], Awaitable[None]], per: int) -> tuple[float, float]:
            own, broker_cpu = own_cpu(), cpu_seconds(broker_pid)
            for start in range(0, N, per):
                await way(records[start:start + per])
            return 1e6 * (own_cpu() - own) / N, 1e6 * (cpu_seconds(broker_pid) - broker_cpu) / N

        rows = []
        try:
            await measure(batched, 32)  # warm up: connections, metadata
            for round_ in range(ROUNDS):
                for per in PER:
                    for name, way in (("send", one_by_one), ("send_batched", batched)):
                        client, in_broker = await measure(way, per)
                        rows.append(f"round {round_ + 1}  {per:3} at a time  {name:12}  client {client:5.0f} us/record"
                                    f"  broker {in_broker:5.0f} us/record")
                        print(rows[-1], flush=True)
        finally:
            await stop_producer(producer)
        load = [f"{x:.2f}" for x in os.getloadavg()]
        print(f"\nCPU per record sent (N={N}, load {' '.join(load)}):\n" + "\n".join(rows))
    finally:
        broker.stop()
