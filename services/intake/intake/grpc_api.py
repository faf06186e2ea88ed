"""gRPC entrypoint: authorises the caller's tenant, translates through the proto adapter, calls the
use case, and maps domain errors to status codes. No business rules live here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from vt.intake.v1 import intake_service_pb2 as pb
from vt.intake.v1 import intake_service_pb2_grpc
from vtkit import metrics
from vtkit.audit import AuditLog, CommittedWith
from vtkit.auth import Caller, caller
from vtkit.grpcerrors import abort_domain, abort_invalid
from vtkit.servicer import Access
from vtkit.tenants import all_tenants

from intake.adapters import proto
from intake.domain.errors import ContactNotFound, DomainError, ValidationError
from intake.handlers import IntakeHandlers

log = logging.getLogger(__name__)
T = TypeVar("T")

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["IntakeService"].full_name


class TenantMismatch(Exception):
    pass


def _nested(prefix: str, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except DomainError as exc:
        raise exc.under(prefix) from None


# A break-glass reason long enough to say why it cannot wait, short enough to stay a reason.
MIN_EMERGENCY_REASON, MAX_EMERGENCY_REASON = 20, 1000


class IntakeServicer(intake_service_pb2_grpc.IntakeServiceServicer):
    def __init__(self, handlers: IntakeHandlers, audit: AuditLog):
        self.handlers = handlers
        self.access = Access(audit)  # written (and fsynced) before the answer leaves
        self.tenant = handlers.tenant

    def _authorise(self) -> Caller:
        """An intake serves exactly its own region; the tenant comes from the credential."""
        who = caller()
        if who.tenant != self.tenant:
            raise TenantMismatch(who.tenant)
        return who

    async def _answer(self, context: grpc.aio.ServicerContext, use_case: Callable[[], Awaitable[T]],
                      what: str = "", subject: dict[str, str] | None = None, region_only: bool = False) -> T:
        try:
            who = self._authorise()
            if region_only and who.role != "region":
                raise TenantMismatch(f"{who.tenant} ({who.role})")
            return await use_case()
        except TenantMismatch as exc:
            # Another region's caller: refused, and the refusal is in the access log (NEN 7513).
            await self.access.deny(context, what, subject or {}, grpc.StatusCode.PERMISSION_DENIED,
                                   f"this intake serves {self.tenant}; a caller of {exc} cannot use it")
        except ContactNotFound as exc:
            # Unknown here, or another region's contact (each region has its own store): a denial.
            await self.access.refuse(context, what, subject or {}, exc, action="read")
        except DomainError as exc:
            # The status of its kind, the message `field.path: rule`, and for INVALID_ARGUMENT/FAILED_PRECONDITION a
            # google.rpc.BadRequest naming the same field (vtkit.grpcerrors; docs/architecture.md, "Errors").
            await abort_domain(context, exc)
        raise AssertionError("unreachable: context.abort raises")

    def _creation(self, context: Any, method: str, purpose: str = "intake") -> CommittedWith | None:
        """The access record of a contact's creation, to be written with its commit (intake.store.save_in_group)."""
        return self.access.with_commit(context, method, action="create", purpose=purpose)

    async def _create(self, context: Any, method: str, record: Any, creation: CommittedWith | None,
                      purpose: str = "intake") -> Any:
        if creation is None or not creation.written:  # the key's earlier contact: no commit wrote it
            await self.access.record(context, method, {"contact_id": record.contact_id}, action="create",
                                     purpose=purpose)
        return proto.receipt_response(method, record)

    async def RegisterAdvies(self, request: pb.RegisterAdviesRequest, context: Any) -> Any:
        async def run() -> Any:
            creation = self._creation(context, "RegisterAdvies")
            record = await self.handlers.register_advies(request.idempotency_key, proto.advies_from_proto(request),
                                                         creation)
            return await self._create(context, "RegisterAdvies", record, creation)

        return await self._answer(context, run, "RegisterAdvies")

    async def RegisterVervolgadvies(self, request: pb.RegisterVervolgadviesRequest, context: Any) -> Any:
        async def run() -> Any:
            advies = _nested("advies", lambda: proto.advies_from_proto(request.advies))
            creation = self._creation(context, "RegisterVervolgadvies")
            record = await self.handlers.register_vervolgadvies(request.idempotency_key, request.previous_advies_id,
                                                                advies, creation)
            return await self._create(context, "RegisterVervolgadvies", record, creation)

        return await self._answer(context, run, "RegisterVervolgadvies", {"advies_id": request.previous_advies_id})

    async def SubmitMelding(self, request: pb.SubmitMeldingRequest, context: Any) -> Any:
        async def run() -> Any:
            melding = _nested("melding", lambda: proto.melding_from_proto(request.melding))
            creation = self._creation(context, "SubmitMelding")
            record = await self.handlers.submit_melding(request.idempotency_key, melding, creation)
            return await self._create(context, "SubmitMelding", record, creation)

        return await self._answer(context, run, "SubmitMelding")

    async def ConvertAdvies(self, request: pb.ConvertAdviesRequest, context: Any) -> Any:
        async def run() -> Any:
            melding = _nested("melding", lambda: proto.melding_from_proto(request.melding))
            creation = self._creation(context, "ConvertAdvies")
            record = await self.handlers.convert_advies(request.idempotency_key, request.advies_id,
                                                        proto.conversion_criteria_from_proto(request.criteria), melding,
                                                        creation)
            return await self._create(context, "ConvertAdvies", record, creation)

        return await self._answer(context, run, "ConvertAdvies", {"advies_id": request.advies_id})

    async def SubmitAmbtshalveMelding(self, request: pb.SubmitAmbtshalveMeldingRequest, context: Any) -> Any:
        async def run() -> Any:
            conditions, mdo = proto.ambtshalve_from_proto(request)
            melding = _nested("melding", lambda: proto.melding_from_proto(request.melding))
            creation = self._creation(context, "SubmitAmbtshalveMelding")
            record = await self.handlers.submit_ambtshalve_melding(request.idempotency_key, conditions, mdo, melding,
                                                                   creation)
            return await self._create(context, "SubmitAmbtshalveMelding", record, creation)

        return await self._answer(context, run, "SubmitAmbtshalveMelding")

    async def GetContact(self, request: pb.GetContactRequest, context: Any) -> Any:
        subject = {"contact_id": request.contact_id}
        if request.emergency_reason.strip() and caller().tenant != self.tenant:
            return await self._break_glass(request, context, subject)

        async def audited(outcome: str) -> None:
            # Every read attempt of personal data is logged; refusals by _answer.
            await self.access.record(context, "read contact", subject, action="read", outcome=outcome,
                                     purpose=request.purpose)

        async def run() -> Any:
            try:
                record, payload = await self.handlers.get_contact(request.contact_id)
            except ContactNotFound:
                raise  # a denial: audited by _answer
            except Exception:
                await audited("error")
                raise
            await audited("success")
            return proto.contact_response(record, payload)

        return await self._answer(context, run, "read contact", subject)

    async def _break_glass(self, request: pb.GetContactRequest, context: Any, subject: dict[str, str]) -> Any:
        """Another VT region reads a contact because it cannot wait (docs/architecture.md, "The access log"): only a
        region's system, with a reason; logged as `emergency` and told to this region's inbox before the answer."""
        who = caller()
        reason = request.emergency_reason.strip()
        what = "read contact (break-glass)"
        if who.role != "region" or who.tenant not in all_tenants():
            await self.access.deny(context, what, subject, grpc.StatusCode.PERMISSION_DENIED,
                                   "break-glass is for a VT region's system only", reason[:MAX_EMERGENCY_REASON])
        if not MIN_EMERGENCY_REASON <= len(reason) <= MAX_EMERGENCY_REASON:
            await abort_invalid(context, "emergency_reason",
                                f"{MIN_EMERGENCY_REASON} to {MAX_EMERGENCY_REASON} characters: why this cannot wait")
        try:
            record, payload = await self.handlers.get_contact(request.contact_id)
        except ContactNotFound as exc:
            await self.access.refuse(context, what, subject, exc, action="emergency", purpose=reason)
        await self.handlers.report_emergency_access(request.contact_id, who.tenant, who.user, reason)
        metrics.EMERGENCY_ACCESS.labels(self.tenant, who.tenant).inc()
        await self.access.record(context, what, subject, action="emergency", purpose=reason)
        return proto.contact_response(record, payload)

    async def DestroyDossier(self, request: pb.DestroyDossierRequest, context: Any) -> Any:
        """Wmo 5.3.5: the region's own staff (role region) destroy a household's dossier on a written request."""
        subject = {"contact_id": request.contact_id, "request_reference": request.request_reference}

        async def run() -> Any:
            if not request.request_reference.strip():
                raise ValidationError("request_reference", "name the written request this destruction answers")
            dossier_id, contact_ids, when = await self.handlers.destroy_dossier(request.contact_id)
            await self.access.record(context, "DestroyDossier",
                                     {**subject, "dossier_id": dossier_id, "contact_ids": ",".join(contact_ids)},
                                     action="delete", purpose="destruction request Wmo 5.3.5")
            return proto.destroy_dossier_response(dossier_id, contact_ids, when)

        return await self._answer(context, run, "DestroyDossier", subject, region_only=True)
