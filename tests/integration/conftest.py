"""Fixtures integration tests share: a radar process (memory table store), a fake regional system, a fake letter gateway, a
fake professional endpoint, notifier processes and a reader of the delivery events."""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from simulators.letter_gateway import FakeLetterGateway
from simulators.professional import FakeProfessionalEndpoint
from simulators.regional_system import FakeRegionalSystem
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import ServiceProcess
from vttest.notifier import DeliveryEvents, Notifier
from vttest.radar import radar_process, start_radar


@pytest.fixture()
async def fake(tmp_path: pathlib.Path, request: pytest.FixtureRequest, keys: KeyStore) -> AsyncIterator[FakeRegionalSystem]:
    """Options (FAIL_FIRST etc.) come from indirect parametrisation."""
    system = FakeRegionalSystem(record_file=tmp_path / "regional.jsonl", keys=keys, **getattr(request, "param", {}))
    await system.start()
    try:
        yield system
    finally:
        await system.stop()


@pytest.fixture()
async def letter_gateway(tmp_path: pathlib.Path, keys: KeyStore) -> AsyncIterator[FakeLetterGateway]:
    gateway = FakeLetterGateway(record_file=tmp_path / "letters.jsonl", keys=keys)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop()


@pytest.fixture()
async def professional(tmp_path: pathlib.Path, keys: KeyStore) -> AsyncIterator[FakeProfessionalEndpoint]:
    endpoint = FakeProfessionalEndpoint(record_file=tmp_path / "notices.jsonl", keys=keys)
    await endpoint.start()
    try:
        yield endpoint
    finally:
        await endpoint.stop()


@pytest.fixture()
async def make_notifier(kafka: str, keys: KeyStore, data_dir: pathlib.Path,
                        tmp_path: pathlib.Path) -> AsyncIterator[Callable[..., Notifier]]:
    started: list[Notifier] = []

    def factory(endpoints: dict[str, str], **extra: str) -> Notifier:
        started.append(Notifier(kafka, keys, data_dir, tmp_path / "logs", endpoints, **extra))
        return started[-1]

    yield factory
    for notifier in started:
        notifier.stop()


@pytest.fixture()
async def delivery_events(kafka: str) -> AsyncIterator[DeliveryEvents]:
    events = DeliveryEvents(kafka)
    await events.consumer.start()
    try:
        yield events
    finally:
        await events.consumer.stop()


@pytest.fixture()
async def radar(kafka: str, keys: KeyStore, data_dir: pathlib.Path, tmp_path: pathlib.Path,
                publisher: Publisher) -> AsyncIterator[ServiceProcess]:
    """A radar process with the memory table store (state from the changelog only); files that need other
    settings define their own `radar`."""
    process = radar_process(kafka, keys, data_dir, tmp_path / "radar.log", app_id=f"vt-radar-{uuid.uuid4().hex[:8]}",
                            RADAR_TABLE_STORE="memory")
    await start_radar(process)
    try:
        yield process
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]
