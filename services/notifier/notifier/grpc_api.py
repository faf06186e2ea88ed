"""NotifierService: delivery queries and letter postponements, always limited to the authenticated
caller's tenant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NoReturn

import grpc
from vt.notifier.v1 import notifier_service_pb2, notifier_service_pb2_grpc
from vtkit import metrics
from vtkit.audit import AuditLog
from vtkit.auth import caller
from vtkit.calendar import AMSTERDAM, end_of_day, local_date
from vtkit.grpcerrors import abort_domain, abort_invalid
from vtkit.paging import MAX_PAGE, PageError, decode_token, encode_token, page_size
from vtkit.servicer import Access

from notifier.adapters import proto
from notifier.domain import DeliveryKind
from notifier.domain.causes import InvalidCause
from notifier.domain.letter import InvalidPostponement, check_postponement, letter_due_date
from notifier.store import Store

SERVICE_NAME = "vt.notifier.v1.NotifierService"
# A case system's clock may run a little ahead of ours.
CLOCK_SKEW = dt.timedelta(minutes=5)


class NotifierApi(notifier_service_pb2_grpc.NotifierServiceServicer):
    def __init__(self, store: Store, on_change: Callable[[], None] = lambda: None, audit: AuditLog | None = None):
        self.store = store
        self.on_change = on_change
        self.access = Access(audit, purpose="delivery to region and household")

    async def _log(self, context: grpc.aio.ServicerContext, action: str, what: str, case_id: str,
                   detail: str = "") -> None:
        await self.access.record(context, what, {"case_id": case_id}, action=action, detail=detail)

    async def _no_case(self, context: grpc.aio.ServicerContext, what: str, case_id: str) -> NoReturn:
        # Also for another region's case: its existence is not disclosed.
        await self.access.deny(context, what, {"case_id": case_id}, grpc.StatusCode.NOT_FOUND,
                               "case_id: no case of your region with this id")

    async def ListDeliveries(self, request: notifier_service_pb2.ListDeliveriesRequest,
                             context: grpc.aio.ServicerContext) -> notifier_service_pb2.ListDeliveriesResponse:
        # The tenant comes from the credential, never from the request (docs/security.md, "Protection of personal data").
        tenant = caller().tenant
        try:
            size = page_size(request.page_size)
            after = decode_token("ListDeliveries", request.page_token, (float, str))
        except PageError as exc:
            await abort_domain(context, exc)
        # Ordered by (created_at, key): both fixed for a delivery, the key unique, so pages never skip or repeat.
        keyed = self.store.deliveries_page(tenant, proto.states_from_proto(request.state), request.case_id,
                                           after, size + 1)  # type: ignore[arg-type]
        more = len(keyed) > size
        keyed = keyed[:size]
        rows = [d for _, d in keyed]
        # Deadlines are Amsterdam calendar days: "overdue" flips at local midnight, not UTC midnight.
        today = dt.datetime.now(AMSTERDAM).date()
        waiting = {d.key for d in rows if d.kind is DeliveryKind.HOUSEHOLD_LETTER and d.state.is_open
                   and self.store.melder_contact(tenant, d.case_id) is None}
        await self._log(context, "search", "list deliveries", request.case_id)
        return proto.list_response(rows, today, waiting, encode_token("ListDeliveries", keyed[-1][0]) if more else "")

    async def ConfirmMelderContacted(self, request: notifier_service_pb2.ConfirmMelderContactedRequest,
                                     context: grpc.aio.ServicerContext
                                     ) -> notifier_service_pb2.ConfirmMelderContactedResponse:
        """The region talked with the melder about the decision (or could not reach them): the household letter
        of the case may go (docs/architecture.md, "What leaves Veilig Thuis")."""
        tenant = caller().tenant
        outcome = proto.contact_outcome(request.outcome)
        if outcome is None:
            await abort_invalid(context, "outcome", "required: contacted or not reached")
        now = dt.datetime.now(dt.UTC)
        try:
            contacted_at = proto.to_datetime(request.contacted_at, request.HasField("contacted_at")) or now
        except InvalidCause as exc:
            await abort_invalid(context, "contacted_at", str(exc))
        if contacted_at > now + CLOCK_SKEW:
            await abort_invalid(context, "contacted_at", "must not lie in the future")
        if not request.case_id or not self.store.knows_case(tenant, request.case_id):
            await self._no_case(context, "confirm melder contacted", request.case_id)
        assert outcome is not None
        contact = self.store.confirm_melder_contact(tenant, request.case_id, outcome, contacted_at, now)
        letter = self.store.letter_for_case(tenant, request.case_id)
        self.on_change()
        await self._log(context, "update", "confirm melder contacted", request.case_id, contact.outcome)
        return proto.contact_response(contact, letter is not None and letter.state.is_open)

    async def PostponeLetter(self, request: notifier_service_pb2.PostponeLetterRequest,
                             context: grpc.aio.ServicerContext) -> notifier_service_pb2.PostponeLetterResponse:
        """Record a postponement (1-2 weeks, with a reason) of informing the household of one of the
        caller's cases. The letter's latest due date moves by `weeks` and the letter is held until the
        postponement ends (at the latest the start of its new due date)."""
        tenant = caller().tenant
        try:
            check_postponement(request.weeks, request.reason)
        except InvalidPostponement as exc:
            await abort_domain(context, exc)
        letter = self.store.letter_for_case(tenant, request.case_id) if request.case_id else None
        case = self.store.get_case(tenant, request.case_id) if request.case_id else None
        if case is None:
            await self._no_case(context, "postpone letter", request.case_id)
        assert case is not None
        if letter is not None and not letter.state.is_open:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"the letter is already {letter.state.value}")
        # The 4 weeks run from recording, so a case not decided yet can be postponed too (its letter, once
        # scheduled, takes the postponed due date).
        now = dt.datetime.now(dt.UTC)
        before = sum(p.weeks for p in self.store.postponements(tenant, request.case_id))
        due_before = letter_due_date(local_date(case.received_at), before)
        new_due = letter_due_date(local_date(case.received_at), before + request.weeks)
        hold_until = min(now + dt.timedelta(weeks=request.weeks), end_of_day(new_due - dt.timedelta(days=1)))
        count = self.store.postpone(tenant, request.case_id, request.weeks, request.reason, now, due_before, new_due,
                                    hold_until)
        self.on_change()
        await self._log(context, "update", "postpone letter", request.case_id)
        return notifier_service_pb2.PostponeLetterResponse(latest_due=proto.from_date(new_due), postponements=count)

    async def ListInbox(self, request: notifier_service_pb2.ListInboxRequest,
                        context: grpc.aio.ServicerContext) -> notifier_service_pb2.ListInboxResponse:
        """The caller's region inbox, oldest first, a page at a time (NEN 7513: a search, logged)."""
        tenant = caller().tenant
        try:
            size = page_size(request.page_size)
            after = parse_page_token(request.page_token)
        except PageError as exc:
            await abort_domain(context, exc)
        try:
            since = proto.to_datetime(request.since, request.HasField("since"))
        except InvalidCause as exc:
            await abort_invalid(context, "since", str(exc))
        rows = self.store.inbox_page(tenant, after, size + 1, since, request.unacknowledged_only, request.case_id)
        page, more = rows[:size], len(rows) > size
        await self._log(context, "search", "list inbox", request.case_id, f"{len(page)} items")
        return notifier_service_pb2.ListInboxResponse(
            items=[proto.listed_item(r) for r in page], next_page_token=page_token(page[-1].seq) if more else "")

    async def AcknowledgeInbox(self, request: notifier_service_pb2.AcknowledgeInboxRequest,
                               context: grpc.aio.ServicerContext) -> notifier_service_pb2.AcknowledgeInboxResponse:
        """A worker of the caller's region saw these items. A key of another region is NOT_FOUND, as unknown."""
        tenant = caller().tenant
        if not request.idempotency_keys or len(request.idempotency_keys) > MAX_PAGE:
            await abort_invalid(context, "idempotency_keys", f"give 1 to {MAX_PAGE} keys")
        now = dt.datetime.now(dt.UTC)
        done, unknown = self.store.acknowledge(tenant, request.idempotency_keys, now)
        if unknown:
            await self.access.record(context, "acknowledge inbox item", {"case_id": ""}, action="denied",
                                     outcome="denied",
                                     detail=f"not_found: {len(unknown)} of {len(request.idempotency_keys)} keys")
            await context.abort(grpc.StatusCode.NOT_FOUND, f"idempotency_keys: {len(unknown)} keys name no item of "
                                                           "your region; nothing was acknowledged")
        for row in done:
            metrics.INBOX_ACKNOWLEDGED.labels(tenant, str(now <= row.acknowledge_before).lower()).inc()
            await self._log(context, "update", "acknowledge inbox item", row.delivery.case_id)
        self.on_change()
        return notifier_service_pb2.AcknowledgeInboxResponse(acknowledged=len(done))


def page_token(seq: int) -> str:
    # ListInbox's tokens keep the form they were published with ("inbox-<seq>"); the sizes and the refusals are
    # vtkit.paging's, shared with every other List RPC.
    return f"inbox-{seq}"


def parse_page_token(token: str) -> int:
    if not token:
        return 0
    prefix, _, number = token.partition("-")
    if prefix != "inbox" or not number.isdigit():
        raise PageError("page_token", "not a next_page_token of ListInbox")
    return int(number)
