"""gRPC entrypoint: authorises the caller's tenant, translates through the proto adapter, calls the
use case, and maps domain errors to status codes. No business rules live here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from vt.intake.v1 import intake_service_pb2 as pb
from vt.intake.v1 import intake_service_pb2_grpc
from vtkit.auth import Caller, caller

from intake.adapters import proto
from intake.audit import JsonlAuditLog
from intake.domain.errors import ConflictError, ContactNotFound, DomainError, ValidationError
from intake.handlers import IntakeHandlers

log = logging.getLogger(__name__)
T = TypeVar("T")

_STATUS: dict[type[DomainError], grpc.StatusCode] = {
    ValidationError: grpc.StatusCode.INVALID_ARGUMENT,
    ContactNotFound: grpc.StatusCode.NOT_FOUND,
    ConflictError: grpc.StatusCode.FAILED_PRECONDITION,
}
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["IntakeService"].full_name


class TenantMismatch(Exception):
    pass


def _nested(prefix: str, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except DomainError as exc:
        raise exc.under(prefix) from None


class IntakeServicer(intake_service_pb2_grpc.IntakeServiceServicer):
    def __init__(self, handlers: IntakeHandlers, audit: JsonlAuditLog):
        self.handlers = handlers
        self.audit = audit
        self.tenant = handlers.tenant

    def _authorise(self) -> Caller:
        """An intake serves exactly its own region; the tenant comes from the credential."""
        who = caller()
        if who.tenant != self.tenant:
            raise TenantMismatch(who.tenant)
        return who

    async def _answer(self, context: grpc.aio.ServicerContext, use_case: Callable[[], Awaitable[T]]) -> T:
        try:
            self._authorise()
            return await use_case()
        except TenantMismatch as exc:
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                f"this intake serves {self.tenant}; a caller of {exc} cannot use it")
        except DomainError as exc:
            await context.abort(_STATUS[type(exc)], str(exc))
        raise AssertionError("unreachable: context.abort raises")

    async def RegisterAdvies(self, request: pb.RegisterAdviesRequest, context: Any) -> Any:
        async def run() -> Any:
            record = await self.handlers.register_advies(request.idempotency_key, proto.advies_from_proto(request))
            return proto.receipt_response("RegisterAdvies", record)

        return await self._answer(context, run)

    async def RegisterVervolgadvies(self, request: pb.RegisterVervolgadviesRequest, context: Any) -> Any:
        async def run() -> Any:
            advies = _nested("advies", lambda: proto.advies_from_proto(request.advies))
            record = await self.handlers.register_vervolgadvies(request.idempotency_key, request.previous_advies_id,
                                                                advies)
            return proto.receipt_response("RegisterVervolgadvies", record)

        return await self._answer(context, run)

    async def SubmitMelding(self, request: pb.SubmitMeldingRequest, context: Any) -> Any:
        async def run() -> Any:
            melding = _nested("melding", lambda: proto.melding_from_proto(request.melding))
            record = await self.handlers.submit_melding(request.idempotency_key, melding)
            return proto.receipt_response("SubmitMelding", record)

        return await self._answer(context, run)

    async def ConvertAdvies(self, request: pb.ConvertAdviesRequest, context: Any) -> Any:
        async def run() -> Any:
            melding = _nested("melding", lambda: proto.melding_from_proto(request.melding))
            record = await self.handlers.convert_advies(request.idempotency_key, request.advies_id,
                                                        proto.conversion_criteria_from_proto(request.criteria), melding)
            return proto.receipt_response("ConvertAdvies", record)

        return await self._answer(context, run)

    async def SubmitAmbtshalveMelding(self, request: pb.SubmitAmbtshalveMeldingRequest, context: Any) -> Any:
        async def run() -> Any:
            conditions, mdo = proto.ambtshalve_from_proto(request)
            melding = _nested("melding", lambda: proto.melding_from_proto(request.melding))
            record = await self.handlers.submit_ambtshalve_melding(request.idempotency_key, conditions, mdo, melding)
            return proto.receipt_response("SubmitAmbtshalveMelding", record)

        return await self._answer(context, run)

    async def GetContact(self, request: pb.GetContactRequest, context: Any) -> Any:
        who = caller()

        async def audited(outcome: str) -> None:
            # Every read attempt of personal data is logged, refused ones too; written before the
            # answer leaves, so no access is ever answered without its log line.
            await self.audit.record(what="read contact", subject=request.contact_id, tenant=who.tenant, role=who.role,
                                    purpose=request.purpose or "not stated", outcome=outcome)

        async def run() -> Any:
            try:
                record, payload = await self.handlers.get_contact(request.contact_id)
            except ContactNotFound:
                await audited("not_found")
                raise
            except Exception:
                await audited("error")
                raise
            await audited("success")
            return proto.contact_response(record, payload)

        if who.tenant != self.tenant:
            await audited("permission_denied")
        return await self._answer(context, run)
