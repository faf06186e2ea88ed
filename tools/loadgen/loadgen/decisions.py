"""The regions' case workers in `make chaos`: record the veiligheidsbeoordeling's decision for cases through
radar's RecordDecision, as a regional case system does, so that AssessmentCompleted flows and the notifier sends
the outcome callback and the household letter.

A call that fails while radar is down (UNAVAILABLE, DEADLINE_EXCEEDED) is sent again, identical: radar's
RecordDecision is idempotent (the AssessmentCompleted event id depends on tenant and case only; the same decision
again answers that id, also once the case is closed), so a retry after a lost reply is not a failure. NOT_FOUND is
retried too: a restarted radar may answer before its case table has caught up with the changelog."""

from __future__ import annotations

import asyncio
import re
import time
import zlib
from typing import Any

import grpc
from vt.radar.v1 import events_pb2, radar_service_pb2, radar_service_pb2_grpc
from vtkit.channels import OrgStubs
from vtkit.keystore import KeyStore

# Part of radar's refusal of a decision on a melding that joined its household's open assessment.
EPISODE = "household episode"
# Radar names the episode's case in the refusal: "... record the decision on <case id>, it covers this melding".
EPISODE_CASE = re.compile(r"record the decision on ([0-9a-f-]+),")
# CANCELLED: radar stopping (to start again after a broker loss) ends the calls still running after its grace; a
# case worker that did not cancel its call tries it again (RecordDecision is idempotent). `make chaos` once gave up a
# decision on it.
RETRIED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.NOT_FOUND,
           grpc.StatusCode.CANCELLED}


def chosen(case_id: str, fraction: float) -> bool:
    """Whether the case is decided in a run deciding `fraction` of the cases: stable per case id, so a rerun with
    the same seed decides the same cases."""
    return fraction >= 1.0 or zlib.crc32(case_id.encode()) % 10_000 < fraction * 10_000


def decision_for(case_id: str, tenant: str) -> radar_service_pb2.RecordDecisionRequest:
    return radar_service_pb2.RecordDecisionRequest(
        case_id=case_id, judgement=events_pb2.SAFETY_JUDGEMENT_SAFE, decision=events_pb2.DECISION_NO_FURTHER_STEPS,
        responsible_for_safety=f"VT {tenant}, chaos case worker")


class CaseWorkers:
    """`concurrency` workers taking (case id, tenant) from `submit` and deciding each once, calling as the region
    (one mTLS channel per region through vtkit.channels). `decided` maps case -> AssessmentCompleted event id,
    `failed` case -> the error it gave up on after `retry_for` seconds."""

    def __init__(self, address: str, keys: KeyStore, *, concurrency: int = 8, retry_for: float = 180.0,
                 call_timeout: float = 10.0):
        self.stubs: OrgStubs[Any] = OrgStubs(address, keys, radar_service_pb2_grpc.RadarServiceStub)
        self.queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.submitted: set[str] = set()
        self.decided: dict[str, str] = {}
        self.failed: dict[str, str] = {}
        # Meldingen that joined their household's open assessment: that case's decision covers them (radar refuses
        # a decision of their own, naming the episode).
        self.joined: dict[str, str] = {}
        self.retries = 0  # calls sent again (radar down, reply lost, case not yet in its table)
        self.retried_ok = 0  # cases whose decision succeeded only on a repeated identical call
        self.concurrency, self.retry_for, self.call_timeout = concurrency, retry_for, call_timeout
        self._tasks: list[asyncio.Task[None]] = []
        self._decided_more = asyncio.Event()

    def submit(self, case_id: str, tenant: str) -> None:
        if case_id not in self.submitted:
            self.submitted.add(case_id)
            self.queue.put_nowait((case_id, tenant))

    async def reached(self, count: int) -> None:
        """Returns once `count` cases are decided."""
        while len(self.decided) < count:
            self._decided_more.clear()
            await self._decided_more.wait()

    @property
    def done(self) -> int:
        return len(self.decided) + len(self.failed) + len(self.joined)

    async def __aenter__(self) -> "CaseWorkers":
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.stubs.close()

    async def _work(self) -> None:
        while True:
            case_id, tenant = await self.queue.get()
            await self._decide(case_id, tenant)

    async def _decide(self, case_id: str, tenant: str) -> None:
        request = decision_for(case_id, tenant)
        deadline = time.monotonic() + self.retry_for
        attempts = 0
        while True:
            attempts += 1
            try:
                reply = await self.stubs(tenant).RecordDecision(request, timeout=self.call_timeout)
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.FAILED_PRECONDITION and EPISODE in (exc.details() or ""):
                    self.joined[case_id] = exc.details() or ""
                    # As a case worker would: decide the episode radar names; its decision covers this melding (a
                    # chosen melding whose episode's own case was not chosen was otherwise never decided).
                    lead = EPISODE_CASE.search(exc.details() or "")
                    if lead:
                        self.submit(lead.group(1), tenant)
                    return
                if exc.code() in RETRIED and time.monotonic() < deadline:
                    self.retries += 1
                    await asyncio.sleep(min(0.2 * attempts, 2.0))
                    continue
                self.failed[case_id] = f"{exc.code().name}: {exc.details()}"
                return
            self.decided[case_id] = reply.event_id
            self._decided_more.set()
            if attempts > 1:
                self.retried_ok += 1
            return
