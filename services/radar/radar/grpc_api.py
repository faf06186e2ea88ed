"""RadarService: the register and the collected assessment input, for the caller's own tenant only.

A case of another tenant, or a person the caller's organisation is not involved
with, answers NOT_FOUND (nobody can search for a person they are not involved with).
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import grpc
from vt.radar.v1 import radar_service_pb2, radar_service_pb2_grpc
from vtkit.auth import caller

from radar.adapters import proto
from radar.audit import JsonlAuditLog
from radar.domain.cases import CaseRecord
from radar.domain.history import assessment_input, has_case, involvement_of
from radar.domain.model import PersonHistory

SERVICE_NAME = "vt.radar.v1.RadarService"


class State(Protocol):
    def case(self, case_id: str) -> CaseRecord | None: ...

    def person(self, pseudonym: str) -> PersonHistory | None: ...


class RadarApi(radar_service_pb2_grpc.RadarServiceServicer):
    def __init__(self, state: State, audit: JsonlAuditLog):
        self.state = state
        self.audit = audit

    async def _log(self, what: str, subject: dict[str, str], outcome: str) -> None:
        who = caller()
        await self.audit.record(what=what, subject=subject, tenant=who.tenant, role=who.role,
                                purpose="veiligheidsbeoordeling", outcome=outcome)

    async def _own_case(self, what: str, subject: dict[str, str], context: grpc.aio.ServicerContext) -> CaseRecord:
        case_id = subject["case_id"]
        record = self.state.case(case_id) if case_id else None
        if record is None or not record.belongs_to(caller().tenant):
            await self._log(what, subject, "not_found")
            await context.abort(grpc.StatusCode.NOT_FOUND, "case not found")
        assert record is not None
        return record

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
        await self._log("read assessment", subject, "ok")
        return proto.assessment_response(record.due, inputs)

    async def LookupInvolvement(self, request: radar_service_pb2.LookupInvolvementRequest,
                                context: grpc.aio.ServicerContext) -> radar_service_pb2.LookupInvolvementResponse:
        subject = {"case_id": request.case_id, "person_id": request.person_id}
        record = await self._own_case("search register", subject, context)
        pseudonym = record.persons.get(request.person_id)
        history = self.state.person(pseudonym) if pseudonym else None
        views = involvement_of(history, record.tenant_id) if history is not None else None
        if views is None:
            await self._log("search register", subject, "not_found")
            await context.abort(grpc.StatusCode.NOT_FOUND, "person not found")
        assert views is not None
        await self._log("search register", subject, "ok")
        return proto.lookup_response(views)
