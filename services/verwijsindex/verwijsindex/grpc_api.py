"""gRPC entrypoint: authenticates the registrant, translates via adapters.proto and answers domain errors with
their status (vtkit.grpcerrors.abort_domain). No rules live here."""

from __future__ import annotations

import logging
from typing import Any

import grpc
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as svc
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc as svc_grpc
from vtkit.audit import AuditLog
from vtkit.auth import Caller, caller
from vtkit.grpcerrors import abort_domain
from vtkit.paging import PageError, decode_token, encode_token, page_size
from vtkit.servicer import Access

from verwijsindex.adapters import proto
from verwijsindex.domain.errors import NotActive, NotFound, RuleViolation
from verwijsindex.handlers import Verwijsindex

log = logging.getLogger(__name__)


def registrant_id(who: Caller) -> str:
    """The registrant is the authenticated organisation, never a request field. A VT region (role "region")
    registers as its tenant id, a registrant organisation (school, GP, police...) as the organisation id of its own
    certificate (O=<register>-<code>: vtkit.registrants), so two schools are two registrants that match each other
    and never see each other's signals. National callers share the tenant "national": their role keeps them apart."""
    return who.tenant if who.role in REGISTRANT_ROLES else f"{who.tenant}:{who.role}"


# Organisations that may register, withdraw and list signals: the VT regions and the registrant organisations
# (schools, GPs, youth care, ...), each with its own certificate naming its sector. National service identities
# (rvdk, operations, notifier) and the inspector are not registrants (authorised officials only:
# docs/architecture.md, "Keys and certificates").
REGION_ROLE, REGISTRANT_ROLE = "region", "registrant"
REGISTRANT_ROLES = frozenset({REGION_ROLE, REGISTRANT_ROLE})
INSPECTOR_ROLE = "inspector"
# Why each operation touches the verwijsindex (the NEN 7513 "why").
PURPOSE = {"register signal": "signaal afgeven (Wet verwijsindex risicojongeren)",
           "withdraw signal": "signaal intrekken", "list own signals": "eigen signalen inzien",
           "read logbook": "toezicht (inspectie)"}


def _may_register(who: Caller) -> bool:
    """A region, or a registrant organisation whose certificate names one of the seven sectors (vtkit.pki refuses
    other registrant certificates already; this keeps the plaintext dev mode's tokens to the same rule)."""
    return who.role == REGION_ROLE or (who.role == REGISTRANT_ROLE and proto.sector_named(who.sector) is not None)


class VerwijsindexServicer(svc_grpc.VerwijsindexServiceServicer):
    def __init__(self, app: Verwijsindex, audit: AuditLog | None = None):
        self.app = app
        # Every access, accepted or refused, goes to the NEN 7513 access log; the logbook (SQLite, for the
        # inspector) keeps the accepted changes besides.
        self.access = Access(audit, purposes=PURPOSE)

    async def _log(self, context: Any, action: str, what: str, subject: dict[str, str], outcome: str = "success") -> None:
        await self.access.record(context, what, subject, action=action, outcome=outcome)

    async def _registrant(self, context: Any, what: str, subject: dict[str, str]) -> str:
        """The caller as registrant; another role is refused, and the refusal logged."""
        who = caller()
        if not _may_register(who):
            await self.access.deny(context, what, subject, grpc.StatusCode.PERMISSION_DENIED,
                                   f"role {who.role!r} may not use the verwijsindex as registrant")
        return registrant_id(who)

    async def RegisterSignal(self, request: svc.RegisterSignalRequest, context: Any) -> svc.RegisterSignalResponse:
        who = await self._registrant(context, "register signal", {"signal_id": "(none: refused)"})
        try:
            result = self.app.register(who, proto.registration_from_request(request, proto.sector_named(caller().sector)))
        except RuleViolation as exc:
            # No signal exists to name: the subject is the refused request (the BSN never enters the log).
            await self.access.refuse(context, "register signal", {"signal_id": "(none: rejected)"}, exc,
                                     action="create")
        signal = result.signal
        await self._log(context, "create", "register signal",
                        {"signal_id": signal.signal_id, "youth_pseudonym": signal.youth_pseudonym},
                        "success" if result.created else "success (already registered)")
        log.info("signal registered" if result.created else "signal already registered",
                 extra={"signal_id": result.signal.signal_id, "registrant": who})
        return proto.register_response(result.signal)

    async def WithdrawSignal(self, request: svc.WithdrawSignalRequest, context: Any) -> svc.WithdrawSignalResponse:
        who = await self._registrant(context, "withdraw signal", {"signal_id": request.signal_id})
        subject = {"signal_id": request.signal_id}
        try:
            self.app.withdraw(who, request.signal_id, proto.withdraw_reason(request))
        except (RuleViolation, NotFound, NotActive) as exc:
            await self.access.refuse(context, "withdraw signal", subject, exc, action="delete")
        await self._log(context, "delete", "withdraw signal", subject)
        log.info("signal withdrawn", extra={"signal_id": request.signal_id, "registrant": who})
        return svc.WithdrawSignalResponse()

    async def ListMySignals(self, request: svc.ListMySignalsRequest, context: Any) -> svc.ListMySignalsResponse:
        who = await self._registrant(context, "list own signals", {"registrant_id": registrant_id(caller())})
        try:
            size = page_size(request.page_size)
            after = decode_token("ListMySignals", request.page_token, (str, str))
        except PageError as exc:
            await abort_domain(context, exc)
        signals = self.app.list_mine_page(who, after, size + 1)  # type: ignore[arg-type]
        page, more = signals[:size], len(signals) > size
        await self._log(context, "search", "list own signals", {"registrant_id": who}, f"success ({len(page)} signals)")
        # The cursor is the stored row key (registered_at as stored, signal_id): exact, never a re-formatted time.
        last = page[-1] if page else None
        token = encode_token("ListMySignals", (last.registered_at.isoformat(), last.signal_id)) if more and last else ""
        return proto.list_response(page, token)

    async def ListLogbook(self, request: svc.ListLogbookRequest, context: Any) -> svc.ListLogbookResponse:
        who = caller()
        if who.role != INSPECTOR_ROLE:
            await self.access.deny(context, "read logbook", {"signal_id": request.signal_id},
                                   grpc.StatusCode.PERMISSION_DENIED, "the logbook is for the inspector only")
        # Paging when asked for (a page_size or a page_token), oldest first by sequence; else `limit` as always, so
        # a client that does not page sees no change (proto/vt/verwijsindex/v1/verwijsindex_service.proto).
        paging = bool(request.page_size or request.page_token)
        try:
            size = page_size(request.page_size)
            after = decode_token("ListLogbook", request.page_token, (int,))
        except PageError as exc:
            await abort_domain(context, exc)
        entries = self.app.logbook(registrant_id(who), signal_id=request.signal_id or None,
                                   youth_pseudonym=request.youth_pseudonym or None,
                                   registrant_id=request.registrant_id or None,
                                   limit=size + 1 if paging else request.limit,
                                   after_seq=(int(after[0]) if after else 0) if paging else None)
        more = paging and len(entries) > size
        if paging:
            entries = entries[:size]
        subject = {k: v for k, v in (("signal_id", request.signal_id), ("youth_pseudonym", request.youth_pseudonym),
                                     ("registrant_id", request.registrant_id)) if v} or {"logbook": "all"}
        await self._log(context, "read", "read logbook", subject, f"success ({len(entries)} entries)")
        log.info("logbook queried", extra={"inspector": registrant_id(who), "entries": len(entries)})
        return proto.logbook_response(entries, encode_token("ListLogbook", (entries[-1].seq,)) if more else "")


def add_to(server: Any, app: Verwijsindex, audit: AuditLog | None = None) -> None:
    """Register the servicer on a vtkit GrpcServer (health + reflection names included)."""
    server.add(svc_grpc.add_VerwijsindexServiceServicer_to_server, VerwijsindexServicer(app, audit),
               [svc.DESCRIPTOR.services_by_name["VerwijsindexService"].full_name])
