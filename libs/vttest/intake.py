"""Helpers for tests that run intake as a real process (tests/integration/test_intake_*.py and the
e2e suite): start it, call it over gRPC, read its topic. Not used by the service itself."""

from __future__ import annotations

import json
import pathlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import grpc
from aiokafka import AIOKafkaConsumer
from vt.intake.v1 import events_pb2, intake_service_pb2_grpc
from vtkit.channels import Org
from vtkit.envelope import Event, decode
from vtkit.keystore import KeyStore
from vttest import ServiceProcess

# Importing events_pb2 registers the intake event types, so decode() can resolve ce_type.
_EVENT_TYPES = events_pb2.DESCRIPTOR
Records = list[tuple[bytes, Event, bytes]]  # (record key, decoded event, raw value)


def intake_process(tmp_path: pathlib.Path, kafka: str, keys: KeyStore, tenant: str, data_dir: pathlib.Path,
                   name: str = "") -> ServiceProcess:
    """A (not yet started) `python -m intake` for `tenant`; restarting it reuses `data_dir`."""
    env = {"VT_TENANT": tenant, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(data_dir),
           "KAFKA_BOOTSTRAP_SERVERS": kafka}
    name = name or f"intake-{tenant}"
    return ServiceProcess(name, "intake", env=env, log_path=tmp_path / f"{name}.log")


async def call(address: str, who: Org | None, method: str, request: Any, timeout: float = 10.0) -> Any:
    """One IntakeService RPC over a real channel as organisation `who` (its client certificate);
    None calls without any credential, as an outsider would (plaintext, no certificate)."""
    async with (who.channel(address) if who is not None else grpc.aio.insecure_channel(address)) as channel:
        stub = intake_service_pb2_grpc.IntakeServiceStub(channel)
        return await getattr(stub, method)(request, timeout=timeout)


async def read_topic(bootstrap: str, topic: str, until: Callable[[Records], bool], timeout: float = 20.0) -> Records:
    """Read `topic` from the earliest offset with a fresh consumer group until `until(records)` holds."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4()}",
                                auto_offset_reset="earliest", enable_auto_commit=False, metadata_max_age_ms=500)
    await consumer.start()
    records: Records = []
    try:
        deadline = time.monotonic() + timeout
        while not until(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met on {topic} within {timeout}s; {len(records)} records seen")
            batches = await consumer.getmany(timeout_ms=500)
            for batch in batches.values():
                records += [(r.key, decode(r.value, r.headers), r.value) for r in batch]
    finally:
        await consumer.stop()
    return records


def contact_ids(records: Records, type_name: str = "MeldingReceived") -> list[str]:
    return [e.message.contact_id for _, e, _ in records if e.message.DESCRIPTOR.name == type_name]


def http_address(process: ServiceProcess, timeout: float = 20.0) -> str:
    """The meldformulier's host:port, from the process's "listening" log line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in process.log_text().splitlines():
            if '"msg": "listening"' in line:
                return str(json.loads(line)["http"])
        if process.proc is not None and process.proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"no listening line with the http address:\n{process.log_text()[-3000:]}")
