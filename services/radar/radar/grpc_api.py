"""RadarService: the register, the collected assessment input, the decision and the overdue
deadlines, for the caller's own tenant only.

A case of another tenant, or a person the caller's organisation is not involved
with, answers NOT_FOUND (nobody can search for a person they are not involved with).
Every call is in the access log. RecordDecision only writes AssessmentCompleted to radar's
outbox (on disk before it answers; the relay takes it to Kafka, also after a broker lost it):
tables are written by the agents alone, and the assessments agent closes the case
when it reads the event back.

Radar may run as several workers that split the cases (docs/architecture.md, "Radar with two workers"): a call about
one case is answered by the worker that owns it (forwarded there for the caller: radar.workers), so one worker
guards each case's decision; a list is merged from every worker's own part (RadarPeerApi).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, Protocol

import grpc
from vt.radar.v1 import radar_peer_service_pb2, radar_service_pb2, radar_service_pb2_grpc
from vtkit.audit import AuditLog
from vtkit.auth import caller
from vtkit.calendar import local_date
from vtkit.errors import DomainError
from vtkit.grpcerrors import abort_domain, abort_invalid
from vtkit.paging import PageError, decode_token, encode_token, page_size
from vtkit.servicer import Access

from radar.adapters import proto
from radar.domain.cases import CaseRecord, DeadlineKind, OverdueDeadline, joined_meldingen
from radar.domain.decisions import InvalidDecision
from radar.domain.history import assessment_input, cases_in_region, has_case, involvement_of
from radar.domain.lifecycle import (
    LifecycleConflict,
    extension_until,
    validate_outcome,
    validate_reason,
)
from radar.domain.model import PersonHistory
from radar.domain.overdue import Part, merged_page
from radar.handlers import DecisionConflict, DecisionResult, LifecycleResult, Radar
from radar.outputs import Out
from radar.peer_api import Cases, Reply, own_norms, own_overdue, peer_answer
from radar.workers import FORWARD_TIMEOUT, Workers

SERVICE_NAME = "vt.radar.v1.RadarService"
# NEN 7513 action of each logged operation.
ACTIONS = {"read assessment": "read", "search register": "search", "record decision": "update",
           "list overdue": "search", "start onderzoek": "update", "record onderzoek outcome": "update",
           "end monitoring": "update", "extend monitoring": "update", "read norms": "search"}
MAX_PENDING = 10_000


class State(Cases, Protocol):
    def case(self, case_id: str) -> CaseRecord | None: ...

    def person(self, pseudonym: str) -> PersonHistory | None: ...


# Case ids are intake's contact ids (a UUID); anything much longer names no case.
MAX_ID = 128
# The norms count decisions of this suite: a period before it holds nothing (and year 1 minus a year overflows).
FIRST_NORMS_YEAR = 2000


def at_owner(method: Callable[..., Awaitable[Reply]]) -> Callable[..., Awaitable[Reply]]:
    """The call about one case (request.case_id) answered by the worker that owns the case: forwarded there for the
    caller when another worker owns it. One worker thus guards each case's decision and lifecycle, and a read sees
    what was just written there (docs/architecture.md, "Radar with two workers")."""
    name = method.__name__

    @functools.wraps(method)
    async def routed(self: RadarApi, request: Any, context: grpc.aio.ServicerContext) -> Reply:
        # An empty or overlong id names no case: refused where the call arrived.
        owner = self.workers.owner_of(request.case_id) if 0 < len(request.case_id) <= MAX_ID else None
        if owner is None:
            return await method(self, request, context)
        if caller().via:  # forwarded here, yet another worker owns it: the assignment moved in between
            await context.abort(grpc.StatusCode.UNAVAILABLE, "the case is moving to another radar worker; try again")
        return await peer_answer(context, self.workers.forward(owner, name, request, caller(),
                                                               context.time_remaining()))

    return routed


class RadarApi(radar_service_pb2_grpc.RadarServiceServicer):
    def __init__(self, state: State, audit: AuditLog | None, radar: Radar,
                 commit: Callable[[list[Out]], Awaitable[None]], workers: Workers | None = None):
        self.state = state
        self.commit = commit  # durable in radar's outbox when it returns
        self.access = Access(audit, purpose="veiligheidsbeoordeling")
        self.radar = radar
        self.workers = workers or Workers.alone()
        # Decisions published but not yet applied to the case table by the agent (this process only):
        # case id -> (fingerprint, result). Lets a quick second call with another decision fail too.
        self._pending: dict[str, tuple[str, DecisionResult]] = {}
        # The same for onderzoek outcomes.
        self._pending_outcomes: dict[str, tuple[str, LifecycleResult]] = {}

    async def _log(self, what: str, subject: dict[str, str], context: grpc.aio.ServicerContext,
                   outcome: str = "success") -> None:
        await self.access.record(context, what, subject, action=ACTIONS[what], outcome=outcome)

    async def _refuse(self, what: str, subject: dict[str, str], context: grpc.aio.ServicerContext,
                      error: DomainError) -> NoReturn:
        await self.access.refuse(context, what, subject, error, action=ACTIONS[what])

    async def _own_case(self, what: str, subject: dict[str, str], context: grpc.aio.ServicerContext) -> CaseRecord:
        case_id = subject["case_id"]
        if len(case_id) > MAX_ID:
            # No case has such an id: answered at once, and kept out of the access log (a fuzzed 120 KB id was
            # written, fsynced and forwarded before the NOT_FOUND).
            await abort_invalid(context, "case_id", f"at most {MAX_ID} characters")
        record = self.state.case(case_id) if case_id else None
        if record is None or not record.belongs_to(caller().tenant):
            # Also another region's case: a case or person the caller may not see is a denial, answered as unknown.
            await self.access.deny(context, what, subject, grpc.StatusCode.NOT_FOUND, "case not found")
        assert record is not None
        return record

    @at_owner
    async def GetAssessment(self, request: radar_service_pb2.GetAssessmentRequest,
                            context: grpc.aio.ServicerContext) -> radar_service_pb2.GetAssessmentResponse:
        subject = {"case_id": request.case_id}
        record = await self._own_case("read assessment", subject, context)
        now = dt.datetime.now(dt.UTC)
        inputs = []
        for pseudonym in record.persons.values():
            history = self.state.person(pseudonym)
            if history is not None and has_case(history, record.tenant_id, record.case_id):
                inputs.append(assessment_input(history, record.case_id, now))
        await self._log("read assessment", subject, context)
        return proto.assessment_response(record, inputs)

    @at_owner
    async def LookupInvolvement(self, request: radar_service_pb2.LookupInvolvementRequest,
                                context: grpc.aio.ServicerContext) -> radar_service_pb2.LookupInvolvementResponse:
        subject = {"case_id": request.case_id, "person_id": request.person_id}
        record = await self._own_case("search register", subject, context)
        pseudonym = record.persons.get(request.person_id)
        history = self.state.person(pseudonym) if pseudonym else None
        views = involvement_of(history, record.tenant_id) if history is not None else None
        if views is None:
            await self.access.deny(context, "search register", subject, grpc.StatusCode.NOT_FOUND, "person not found")
        assert views is not None
        await self._log("search register", subject, context)
        return proto.lookup_response(views)

    @at_owner
    async def RecordDecision(self, request: radar_service_pb2.RecordDecisionRequest,
                             context: grpc.aio.ServicerContext) -> radar_service_pb2.RecordDecisionResponse:
        what, subject = "record decision", {"case_id": request.case_id}
        chosen = proto.decision_request(request)
        try:
            # Validation first: it reveals nothing about which cases exist.
            self.radar.validate(chosen)
        except InvalidDecision as exc:
            await self._refuse(what, subject, context, exc)
        record = await self._own_case(what, subject, context)
        pending = self._pending.get(record.case_id)
        if record.closed:
            self._pending.pop(record.case_id, None)
        elif pending is not None and pending[0] != chosen.fingerprint():
            await self._log(what, subject, context, "failed_precondition")
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "case is being decided already, differently")
        try:
            episode = self._episode_of(record)
            result = self.radar.record_decision(record.tenant_id, record, chosen, dt.datetime.now(dt.UTC), episode)
        except DecisionConflict as exc:
            await self._refuse(what, subject, context, exc)
        if result.output is not None:
            await self.commit([result.output])  # on disk before we answer
            if pending is None:
                self._pending[record.case_id] = (chosen.fingerprint(), result)
                while len(self._pending) > MAX_PENDING:  # the oldest are applied long since
                    del self._pending[next(iter(self._pending))]
            else:
                result = pending[1]  # a retry: answer what the first call answered
        await self._log(what, subject, context)
        return proto.decision_response(result.event_id, result.decided_at, result.onderzoek_due_at)

    def _episode_of(self, record: CaseRecord) -> str:
        """The open household episode the melding joined ('' if none). It joined through a shared person, so only the
        cases of its persons in its region can list it: those few records are read, not every open case (a decision
        decoded thousands of records per call, on the event loop the agents share)."""
        candidates = sorted({case_id for pseudonym in record.persons.values()
                             if (history := self.state.person(pseudonym)) is not None
                             for case_id in cases_in_region(history, record.tenant_id) if case_id != record.case_id})
        cases = [case for case in map(self.state.case, candidates) if case is not None]
        return joined_meldingen(cases).get(record.case_id, "")

    async def ListOverdue(self, request: radar_service_pb2.ListOverdueRequest,
                          context: grpc.aio.ServicerContext) -> radar_service_pb2.ListOverdueResponse:
        tenant = caller().tenant
        try:
            size = page_size(request.page_size)
            after = decode_token("ListOverdue", request.page_token, (str, str, str))
        except PageError as exc:
            await abort_domain(context, exc)
        cursor: OverdueDeadline | None = None
        if after is not None:
            # The key is compared as a time, not as text (radar.domain.overdue).
            try:
                cursor = OverdueDeadline(str(after[1]), DeadlineKind(str(after[2])),
                                         dt.datetime.fromisoformat(str(after[0])))
                if cursor.due_at.tzinfo is None:  # due moments are aware: a naive one could not be compared
                    raise ValueError("naive")
            except ValueError:
                await abort_invalid(context, "page_token", "not a next_page_token of ListOverdue")
        # This worker's part in full, the others' from their first `size` after the cursor.
        items, joined = own_overdue(self.state, self.workers, tenant, cursor)
        parts = [Part(items)]
        asked = radar_peer_service_pb2.ListOwnOverdueRequest(
            tenant_id=tenant, limit=size, joined_case_ids=sorted(joined),
            after=proto.overdue_deadline(cursor) if cursor is not None else None)
        replies = await asyncio.gather(*(peer_answer(context, self.workers.peer(address).ListOwnOverdue(
            asked, timeout=FORWARD_TIMEOUT)) for address in self.workers.others()))
        parts += [Part([proto.overdue_from(o) for o in reply.overdue], reply.more) for reply in replies]
        left_out = joined.union(*(reply.joined_case_ids for reply in replies))
        page, next_key = merged_page(parts, left_out, size)
        await self._log("list overdue", {"case_id": "", "tenant": tenant}, context)
        token = encode_token("ListOverdue", (next_key[0].isoformat(), next_key[1], next_key[2])) if next_key else ""
        return proto.overdue_response(page, token)

    # ---- after the decision: the onderzoek and monitoring ---------------------------------------------------------

    async def _step(self, what: str, subject: dict[str, str], context: grpc.aio.ServicerContext,
                    step: Callable[[CaseRecord], LifecycleResult]) -> tuple[CaseRecord, LifecycleResult]:
        """One lifecycle step on one of the caller's cases: refused steps name the field and the rule, the event
        is on disk (outbox) before the answer; every call is audited."""
        record = await self._own_case(what, subject, context)
        try:
            result = step(record)
        except (InvalidDecision, LifecycleConflict, DecisionConflict) as exc:
            await self._refuse(what, subject, context, exc)
        if result.output is not None:
            await self.commit([result.output])
        await self._log(what, subject, context)
        return record, result

    @at_owner
    async def RecordOnderzoekStarted(self, request: radar_service_pb2.RecordOnderzoekStartedRequest,
                                     context: grpc.aio.ServicerContext
                                     ) -> radar_service_pb2.RecordOnderzoekStartedResponse:
        now = dt.datetime.now(dt.UTC)
        record, result = await self._step("start onderzoek", {"case_id": request.case_id}, context,
                                          lambda r: self.radar.record_onderzoek_started(r.tenant_id, r, now))
        return proto.started_response(result.at, result.within_norm, record.onderzoek_due_at)

    @at_owner
    async def RecordOnderzoekOutcome(self, request: radar_service_pb2.RecordOnderzoekOutcomeRequest,
                                     context: grpc.aio.ServicerContext
                                     ) -> radar_service_pb2.RecordOnderzoekOutcomeResponse:
        what, subject = "record onderzoek outcome", {"case_id": request.case_id}
        outcome = proto.outcome_request(request)
        try:
            validate_outcome(outcome)  # first: it reveals nothing about which cases exist
        except InvalidDecision as exc:
            await self._refuse(what, subject, context, exc)
        pending = self._pending_outcomes.get(request.case_id)
        if pending is not None and pending[0] != outcome.fingerprint():
            await self._own_case(what, subject, context)
            await self._log(what, subject, context, "failed_precondition")
            await abort_invalid(context, "case_id", "the onderzoek is being ended already, with another outcome",
                                grpc.StatusCode.FAILED_PRECONDITION)
        now = dt.datetime.now(dt.UTC)
        _, result = await self._step(what, subject, context,
                                     lambda r: self.radar.record_onderzoek_outcome(r.tenant_id, r, outcome, now))
        if pending is not None:
            result = pending[1]  # a retry before the agent applied the first: answer what the first answered
        elif result.output is not None:
            self._pending_outcomes[request.case_id] = (outcome.fingerprint(), result)
            while len(self._pending_outcomes) > MAX_PENDING:
                del self._pending_outcomes[next(iter(self._pending_outcomes))]
        return proto.outcome_response(result.event_id, result.at, result.within_norm, result.monitor_until)

    @at_owner
    async def EndMonitoring(self, request: radar_service_pb2.EndMonitoringRequest,
                            context: grpc.aio.ServicerContext) -> radar_service_pb2.EndMonitoringResponse:
        now = dt.datetime.now(dt.UTC)
        _, result = await self._step("end monitoring", {"case_id": request.case_id}, context,
                                     lambda r: self.radar.change_monitoring(r.tenant_id, r, None, request.reason, now))
        return radar_service_pb2.EndMonitoringResponse(ended_at=proto.timestamp(result.at))

    @at_owner
    async def ExtendMonitoring(self, request: radar_service_pb2.ExtendMonitoringRequest,
                               context: grpc.aio.ServicerContext) -> radar_service_pb2.ExtendMonitoringResponse:
        now = dt.datetime.now(dt.UTC)

        def extend(record: CaseRecord) -> LifecycleResult:
            validate_reason(request.reason)
            if request.until.year and proto.to_date(request.until) is None:
                raise InvalidDecision("until", "not a calendar date")
            until = extension_until(record, proto.to_date(request.until), now)
            return self.radar.change_monitoring(record.tenant_id, record, until, request.reason, now)

        _, result = await self._step("extend monitoring", {"case_id": request.case_id}, context, extend)
        assert result.monitor_until is not None
        return radar_service_pb2.ExtendMonitoringResponse(monitor_until=proto.timestamp(result.monitor_until))

    async def GetNorms(self, request: radar_service_pb2.GetNormsRequest,
                       context: grpc.aio.ServicerContext) -> radar_service_pb2.GetNormsResponse:
        tenant, now = caller().tenant, dt.datetime.now(dt.UTC)
        for name in ("from", "to"):
            given = getattr(request, name)
            if given.year and proto.to_date(given) is None:
                await abort_invalid(context, name, "not a calendar date")
            if given.year and given.year < FIRST_NORMS_YEAR:
                await abort_invalid(context, name, f"not before {FIRST_NORMS_YEAR}-01-01")
        last = proto.to_date(request.to) or local_date(now)
        first = proto.to_date(getattr(request, "from")) or last - dt.timedelta(days=364)
        if first > last:
            await abort_invalid(context, "from", "must not be after to")
        # This worker's own cases, and every other worker's figures of its own (they add up).
        figures = await own_norms(self.state, self.workers, tenant, first, last, now)
        asked = radar_peer_service_pb2.GetOwnNormsRequest(tenant_id=tenant, to=proto.date(last),
                                                          **{"from": proto.date(first)})
        for reply in await asyncio.gather(*(peer_answer(context, self.workers.peer(address).GetOwnNorms(
                asked, timeout=FORWARD_TIMEOUT)) for address in self.workers.others())):
            figures += proto.norms_from(reply.norms)
        await self._log("read norms", {"case_id": "", "tenant": tenant}, context)
        return proto.norms_response(figures)
