"""Suite-wide fixtures (every test tree): one broker per test session, a key directory, a data directory."""

from __future__ import annotations

import os
import pathlib
from collections.abc import AsyncIterator, Iterator

import pytest
from vtkit.kafka import KafkaSettings, Publisher, ensure_topics, make_producer
from vtkit.keystore import KeyStore, init_keys
from vtkit.signing import Signers
from vttest import BrokerUnavailable, kafka_bootstrap, kafka_mode

# `make test` runs the suite on several pytest-xdist workers: each picks the ports of its brokers, services
# and fake systems (and those of the processes it starts) from its own slice of devstack.broker's range.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw"):
    _low = 20000 + 1500 * (int(_worker[2:]) % 8)
    os.environ["VT_PORT_RANGE"] = f"{_low}-{_low + 1500}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--kafka", default=None, help="embedded (default), external (KAFKA_BOOTSTRAP_SERVERS) or testcontainers")


@pytest.fixture(scope="session")
def kafka(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap servers of the broker all tests of this session share."""
    mode = kafka_mode(request.config.getoption("--kafka"))
    try:
        with kafka_bootstrap(mode, tmp_path_factory.mktemp("broker") / "broker.log") as servers:
            yield servers
    except BrokerUnavailable as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    return init_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture()
def data_dir(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture()
async def publisher(kafka: str, keys: KeyStore) -> AsyncIterator[Publisher]:
    """Publishes enveloped events to the session's broker, signed as the topic's writer where the consumers need it
    (vtkit.signing: a region on its intake topic, the RvdK); topics exist before the first send."""
    settings = KafkaSettings(bootstrap_servers=kafka)
    await ensure_topics(settings)
    producer = make_producer(settings)
    await producer.start()
    try:
        yield Publisher(producer, Signers(keys.root).headers)
    finally:
        await producer.stop()
