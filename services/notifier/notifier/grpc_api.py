"""NotifierService: delivery queries and letter postponements, always limited to the authenticated
caller's tenant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import grpc
from vt.notifier.v1 import notifier_service_pb2, notifier_service_pb2_grpc
from vtkit.audit import AuditLog
from vtkit.auth import caller
from vtkit.calendar import AMSTERDAM, end_of_day, local_date

from notifier.adapters import proto
from notifier.domain.letter import InvalidPostponement, check_postponement, letter_due_date
from notifier.store import Store

SERVICE_NAME = "vt.notifier.v1.NotifierService"


class NotifierApi(notifier_service_pb2_grpc.NotifierServiceServicer):
    def __init__(self, store: Store, on_change: Callable[[], None] = lambda: None, audit: AuditLog | None = None):
        self.store = store
        self.on_change = on_change
        self.audit = audit

    async def _log(self, context: grpc.aio.ServicerContext, action: str, what: str, case_id: str, outcome: str,
                   detail: str = "") -> None:
        """NEN 7513 record (vtkit.audit); a NOT_FOUND for a case of another tenant is a denial."""
        if self.audit is None:
            return
        who = caller()
        await self.audit.record(action=action, what=what, subject={"case_id": case_id}, tenant=who.tenant,
                                role=who.role, purpose="delivery to region and household", outcome=outcome,
                                detail=detail, peer=context.peer() or "")

    async def ListDeliveries(self, request: notifier_service_pb2.ListDeliveriesRequest,
                             context: grpc.aio.ServicerContext) -> notifier_service_pb2.ListDeliveriesResponse:
        # The tenant comes from the credential, never from the request (design.md, tenancy).
        tenant = caller().tenant
        rows = self.store.list_for_tenant(tenant, proto.states_from_proto(request.state), request.case_id)
        # Deadlines are Amsterdam calendar days: "overdue" flips at local midnight, not UTC midnight.
        today = dt.datetime.now(AMSTERDAM).date()
        await self._log(context, "search", "list deliveries", request.case_id, "success")
        return proto.list_response(rows, today)

    async def PostponeLetter(self, request: notifier_service_pb2.PostponeLetterRequest,
                             context: grpc.aio.ServicerContext) -> notifier_service_pb2.PostponeLetterResponse:
        """Record a postponement (1-2 weeks, with a reason) of informing the household of one of the
        caller's cases. The letter's latest due date moves by `weeks` and the letter is held until the
        postponement ends (at the latest the start of its new due date)."""
        tenant = caller().tenant
        try:
            check_postponement(request.weeks, request.reason)
        except InvalidPostponement as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        letter = self.store.letter_for_case(tenant, request.case_id) if request.case_id else None
        case = self.store.get_case(tenant, request.case_id) if request.case_id else None
        if letter is None or case is None:
            # Also for another tenant's case: its existence is not disclosed.
            await self._log(context, "denied", "postpone letter", request.case_id, "denied", "not_found")
            await context.abort(grpc.StatusCode.NOT_FOUND, "no household letter for this case")
        assert letter is not None and case is not None
        if not letter.state.is_open:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"the letter is already {letter.state.value}")
        now = dt.datetime.now(dt.UTC)
        before = sum(p.weeks for p in self.store.postponements(tenant, request.case_id))
        new_due = letter_due_date(local_date(case.received_at), before + request.weeks)
        hold_until = min(now + dt.timedelta(weeks=request.weeks), end_of_day(new_due - dt.timedelta(days=1)))
        current = replace(letter, due_date=letter_due_date(local_date(case.received_at), before))
        count = self.store.postpone(current, request.weeks, request.reason, now, new_due, hold_until)
        self.on_change()
        await self._log(context, "update", "postpone letter", request.case_id, "success")
        return notifier_service_pb2.PostponeLetterResponse(latest_due=proto.from_date(new_due), postponements=count)
