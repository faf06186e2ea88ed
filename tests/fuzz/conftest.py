"""The fuzz run's own broker and one real process of each service (docs/measurements.md, "Fuzz").

The broker is the module's own (embedded mode): the garbage the Kafka fuzz publishes must never reach
the readers of the shared session broker that later test modules start from the earliest offset.
"""

from __future__ import annotations

import asyncio
import pathlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import KafkaSettings, ensure_topics
from vtkit.keystore import KeyStore
from vttest import BrokerUnavailable, ServiceProcess, kafka_bootstrap, kafka_mode
from vttest.intake import intake_process
from vttest.notifier import Notifier
from vttest.radar import radar_process, start_radar

TENANT = "utrecht"


@dataclass
class Stack:
    kafka: str
    keys: KeyStore
    processes: dict[str, ServiceProcess]  # by proto package: vt.intake.v1, vt.radar.v1, ...
    notifier_group: str
    logs: pathlib.Path
    tenant: str = TENANT


@pytest.fixture(scope="module")
def kafka(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    mode = kafka_mode(request.config.getoption("--kafka"))
    try:
        with kafka_bootstrap(mode, tmp_path_factory.mktemp("fuzz-broker") / "broker.log") as servers:
            yield servers
    except BrokerUnavailable as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.fixture(scope="module")
async def stack(kafka: str, keys: KeyStore, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    root = tmp_path_factory.mktemp("fuzz")
    # The health probes of the helpers below find the client certificates through VT_KEY_DIR.
    env = pytest.MonkeyPatch()
    env.setenv("VT_KEY_DIR", str(keys.root))
    await ensure_topics(KafkaSettings(bootstrap_servers=kafka))  # a fresh broker: notifier positions its group on them
    intake = intake_process(root, kafka, keys, TENANT, root / "intake-data").start()
    radar = radar_process(kafka, keys, root / "radar-data", root / "radar.log", app_id=f"vt-radar-fuzz-{uuid.uuid4().hex[:8]}",
                          RADAR_TABLE_STORE="memory")
    verwijsindex = ServiceProcess("verwijsindex", "verwijsindex", log_path=root / "verwijsindex.log", env={
        "KAFKA_BOOTSTRAP_SERVERS": kafka, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(root / "vi-data")}).start()
    # No regional system listens: deliveries stay pending, which is all the fuzz needs to see them.
    notifier = Notifier(kafka, keys, root / "notifier-data", root, {TENANT: "127.0.0.1:9"})
    try:
        _, notifier_proc, *_ = await asyncio.gather(start_radar(radar), notifier.start(),
                                                    wait_healthy(intake.address, 60, keys),
                                                    wait_healthy(verwijsindex.address, 60, keys))
        yield Stack(kafka, keys, {"vt.intake.v1": intake, "vt.radar.v1": radar, "vt.verwijsindex.v1": verwijsindex,
                                  "vt.notifier.v1": notifier_proc}, notifier.env["NOTIFIER_GROUP_ID"], root)
    finally:
        for process in (intake, radar, verwijsindex):
            process.stop()
        notifier.stop()
        env.undo()
