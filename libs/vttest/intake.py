"""Helpers for tests that run intake as a real process (tests/integration/test_intake_*.py and the
e2e suite): start it, call it over gRPC, read its topic. Not used by the service itself."""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import grpc
from vt.intake.v1 import events_pb2, intake_service_pb2_grpc
from vtkit.channels import Org
from vtkit.keystore import KeyStore

from vttest import Records, ServiceProcess, read_topic  # noqa: F401  (read_topic: re-exported)

# Importing events_pb2 registers the intake event types, so decode() can resolve ce_type.
_EVENT_TYPES = events_pb2.DESCRIPTOR


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
