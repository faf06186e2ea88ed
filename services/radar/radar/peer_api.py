"""RadarPeerService: a radar worker's own part of a list read, for radar's other workers only, and what both
services use to count this worker's own cases (docs/architecture.md, "Radar with two workers")."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Protocol, TypeVar

import grpc
from vt.radar.v1 import radar_peer_service_pb2, radar_peer_service_pb2_grpc
from vtkit.audit import AuditLog
from vtkit.auth import Caller, caller
from vtkit.calendar import local_date
from vtkit.grpcerrors import abort_invalid
from vtkit.servicer import Access

from radar.adapters import proto
from radar.domain.cases import CaseRecord, OverdueDeadline
from radar.domain.lifecycle import RECENT_DAYS, Decided, Norms, may_count_for_norms, norms, norms_of
from radar.domain.overdue import overdue_key, overdue_of
from radar.open_work import partition_of
from radar.workers import PEER, Workers

PEER_SERVICE_NAME = "vt.radar.v1.RadarPeerService"
Reply = TypeVar("Reply")


class Cases(Protocol):
    def case_chunks(self, may_count: Callable[[dict[str, Any]], bool]) -> AsyncIterator[list[CaseRecord]]:
        """Every case (grows with the years) whose stored row passes `may_count`, a chunk at a time: the norms only."""

    def open_cases(self) -> Iterable[CaseRecord]:
        """Every case with open work (CaseRecord.has_open_work), through radar's index of open cases."""

    async def recent_decided(self, first: dt.date) -> list[Decided]:
        """What the cases decided or ended on or after `first` (not before RECENT_DAYS ago) count for the norms, from
        radar's index of recent decisions."""


class OfACase(Protocol):
    @property
    def case_id(self) -> str: ...


Owned = TypeVar("Owned", bound=OfACase)


def own_cases(cases: Iterable[Owned], workers: Workers) -> list[Owned]:
    """The cases (or what is known of them) of this worker's own partitions: a standby copy of another worker's is that
    worker's to count."""
    mine = workers.own_partitions()
    if mine is None:
        return list(cases)
    return [record for record in cases if partition_of(record.case_id, workers.partitions) in mine]


async def own_norms(state: Cases, workers: Workers, tenant: str, first: dt.date, last: dt.date,
                    now: dt.datetime) -> Norms:
    """The norm figures of this worker's own cases. A period from RECENT_DAYS ago or later: the open cases and the
    recent decisions, through their indexes (docs/architecture.md, "Case lifecycle"); an earlier one: the whole case
    table, a chunk at a time (the figures of chunks add up)."""
    if first >= local_date(now) - dt.timedelta(days=RECENT_DAYS):
        decided = own_cases(await state.recent_decided(first), workers)
        return norms_of(own_cases(state.open_cases(), workers), decided, tenant, first, last, now)
    figures = norms([], tenant, first, last, now)
    async for chunk in state.case_chunks(lambda row: may_count_for_norms(row, first, last)):
        figures += norms(own_cases(chunk, workers), tenant, first, last, now)
    return figures


def own_overdue(state: Cases, workers: Workers, tenant: str, after: OverdueDeadline | None,
                joined_elsewhere: Iterable[str] = ()) -> tuple[list[OverdueDeadline], set[str]]:
    """The region's overdue deadlines of this worker's own cases after `after` (None: all), in order, and the
    meldingen its cases show to have joined an episode (radar.domain.overdue.overdue_of). An overdue deadline is open
    work: the open cases hold every one."""
    items, joined = overdue_of(own_cases(state.open_cases(), workers), tenant, dt.datetime.now(dt.UTC),
                               joined_elsewhere)
    if after is not None:
        items = [i for i in items if overdue_key(i) > overdue_key(after)]
    return items, joined


async def peer_answer(context: grpc.aio.ServicerContext, call: Awaitable[Reply]) -> Reply:
    """The answer of another radar worker, or this call ended with its status (its details and BadRequest too)."""
    try:
        return await call
    except grpc.aio.AioRpcError as exc:
        details = [(k, v) for k, v in (exc.trailing_metadata() or ()) if k == "grpc-status-details-bin"]
        await context.abort(exc.code(), exc.details() or "", trailing_metadata=tuple(details))
        raise AssertionError("abort returns only by raising") from None


class RadarPeerApi(radar_peer_service_pb2_grpc.RadarPeerServiceServicer):
    """A radar worker's own part of a list read, for another radar worker only (radar.workers)."""

    def __init__(self, state: Cases, audit: AuditLog | None, workers: Workers):
        self.state = state
        self.workers = workers
        self.access = Access(audit, purpose="veiligheidsbeoordeling")

    async def _peer_only(self, what: str, tenant: str, context: grpc.aio.ServicerContext) -> None:
        who: Caller = caller()
        if (who.tenant, who.role) != PEER or who.via:
            await self.access.deny(context, what, {"case_id": "", "tenant": tenant}, grpc.StatusCode.PERMISSION_DENIED,
                                   "for radar's own workers only")

    async def ListOwnOverdue(self, request: radar_peer_service_pb2.ListOwnOverdueRequest,
                             context: grpc.aio.ServicerContext) -> radar_peer_service_pb2.ListOwnOverdueResponse:
        await self._peer_only("list overdue", request.tenant_id, context)
        if request.limit < 1:
            await abort_invalid(context, "limit", "at least 1")
        after = proto.overdue_from(request.after) if request.HasField("after") else None
        items, joined = own_overdue(self.state, self.workers, request.tenant_id, after, request.joined_case_ids)
        await self.access.record(context, "list overdue", {"case_id": "", "tenant": request.tenant_id},
                                 action="search")
        return radar_peer_service_pb2.ListOwnOverdueResponse(
            overdue=[proto.overdue_deadline(i) for i in items[:request.limit]], more=len(items) > request.limit,
            joined_case_ids=sorted(joined))

    async def GetOwnNorms(self, request: radar_peer_service_pb2.GetOwnNormsRequest,
                          context: grpc.aio.ServicerContext) -> radar_peer_service_pb2.GetOwnNormsResponse:
        await self._peer_only("read norms", request.tenant_id, context)
        first, last = proto.to_date(getattr(request, "from")), proto.to_date(request.to)
        if first is None or last is None:
            await abort_invalid(context, "from", "from and to are calendar dates")
        assert first is not None and last is not None
        figures = await own_norms(self.state, self.workers, request.tenant_id, first, last, dt.datetime.now(dt.UTC))
        await self.access.record(context, "read norms", {"case_id": "", "tenant": request.tenant_id},
                                 action="search")
        return radar_peer_service_pb2.GetOwnNormsResponse(norms=proto.norms_response(figures))
