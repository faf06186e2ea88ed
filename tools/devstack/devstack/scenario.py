"""Building blocks of the demo and the end-to-end tests: realistic requests,
real gRPC calls, and a watcher that reads topics from the beginning."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from simulators.rvdk import random_bsn  # noqa: F401  (re-exported for tests and the demo)
from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from vtkit.channels import Org
from vtkit.envelope import DecodeError, Event, decode


def melding_request(bsn: str, *, acute: bool = False, melder_name: str = "Petra de Vries",
                    organisation: str = "Basisschool De Regenboog") -> intake_service_pb2.SubmitMeldingRequest:
    """A professional's melding about one child, complete as docs/domain.md section 3 asks."""
    return intake_service_pb2.SubmitMeldingRequest(
        idempotency_key=str(uuid.uuid4()),
        melding=intake_service_pb2.Melding(
            melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL,
            melder=intake_service_pb2.Professional(name=melder_name, role="leerkracht", organisation=organisation,
                                                   phone="0201234567", email="p.devries@example.nl"),
            disclosure=intake_service_pb2.Disclosure(),
            situation=intake_service_pb2.SITUATION_VT_TAKES_OVER,
            directbetrokkenen=[intake_service_pb2.Directbetrokkene(role=common_pb2.PERSON_ROLE_CHILD, bsn=bsn)],
            household_label="gezin",
            nature=[common_pb2.CONCERN_NATURE_CHILD_ABUSE],
            acute=acute,
            afwegingskader=intake_service_pb2.AfwegingskaderAnswers(suspicion=True, acute_or_structural_unsafety=True),
            narrative="Kind komt herhaaldelijk met blauwe plekken op school.",
        ),
    )


async def submit_melding(address: str, who: Org,
                         request: intake_service_pb2.SubmitMeldingRequest) -> intake_service_pb2.SubmitMeldingResponse:
    """Submit as organisation `who` (normally the intake's own region)."""
    async with who.channel(address) as channel:
        stub = intake_service_pb2_grpc.IntakeServiceStub(channel)
        reply: intake_service_pb2.SubmitMeldingResponse = await stub.SubmitMelding(request, timeout=10)
        return reply


class TopicWatcher:
    """Reads topics from the earliest offset without a consumer group and keeps every decoded event."""

    def __init__(self, bootstrap: str, topics: Sequence[str]):
        self.events: list[tuple[str, Event]] = []
        self.records: list[ConsumerRecord] = []  # every raw record, decodable or not
        self._consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None,
                                          auto_offset_reset="earliest", enable_auto_commit=False)
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> TopicWatcher:
        try:
            await self._consumer.start()
        except BaseException:
            await self._consumer.stop()  # no unclosed consumer left behind when the broker cannot be reached
            raise
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _run(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    self.records.append(record)
                    try:
                        self.events.append((record.topic, decode(record.value, record.headers)))
                    except DecodeError:
                        continue
            if batches:
                self._changed.set()

    async def wait_for(self, predicate: Callable[[str, Any], bool], timeout: float = 60.0,
                       what: str = "event") -> Event:
        """The first event (topic, message) matching `predicate`, waiting at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for topic, event in self.events:
                if predicate(topic, event.message):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {what} within {timeout}s ({len(self.events)} events seen)")
            self._changed.clear()
            with_timeout = asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))
            try:
                await with_timeout
            except TimeoutError:
                pass

    def matching(self, predicate: Callable[[str, Any], bool]) -> list[Event]:
        return [event for topic, event in self.events if predicate(topic, event.message)]


async def wait_for_record(path: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 60.0) -> dict[str, Any]:
    """The first JSON line of a fake receiver's record file that matches `predicate`."""
    import json
    import pathlib

    deadline = time.monotonic() + timeout
    while True:
        file = pathlib.Path(path)
        if file.exists():
            for line in file.read_text().splitlines():
                if line.strip() and predicate(row := json.loads(line)):
                    return row
        if time.monotonic() > deadline:
            raise TimeoutError(f"no matching record in {path} within {timeout}s")
        await asyncio.sleep(0.1)
