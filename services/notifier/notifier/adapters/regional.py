"""gRPC clients of the receivers: the regional case systems (RegionalCallbackService), the letter
gateway (LetterGatewayService) and the professional notification endpoint
(ProfessionalNotificationService)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import grpc
from vt.notifier.v1 import receivers_pb2, receivers_pb2_grpc
from vtkit.calendar import AMSTERDAM
from vtkit.channels import client_channel
from vtkit.keystore import KeyStore

from notifier.adapters import proto
from notifier.adapters.receiver_batch import ReceiverBatches
from notifier.domain import AttemptOutcome, Delivery, DeliveryKind
from notifier.domain.notices import NOTICE_KINDS, NoticeUndeliverable

# The receiver could take the same request later: it is down, overloaded, or answered too late.
# UNKNOWN and INTERNAL are included because a crashing receiver reports them; the attempt limit
# still bounds the retries.
TRANSIENT = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
                       grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED, grpc.StatusCode.UNKNOWN,
                       grpc.StatusCode.INTERNAL, grpc.StatusCode.CANCELLED})
# The receiver says it already holds this idempotency key: that is a successful delivery.
ALREADY_DONE = frozenset({grpc.StatusCode.ALREADY_EXISTS})


def classify(code: grpc.StatusCode) -> AttemptOutcome:
    """Everything else (INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNIMPLEMENTED, ...) is permanent:
    sending the same request again cannot change the answer."""
    if code in ALREADY_DONE:
        return AttemptOutcome.OK
    if code in TRANSIENT:
        return AttemptOutcome.TRANSIENT
    return AttemptOutcome.PERMANENT


# Sent to one national endpoint each, whatever the tenant (when that endpoint is configured).
LETTER_KINDS = frozenset({DeliveryKind.HOUSEHOLD_LETTER})
PROFESSIONAL_KINDS = frozenset({DeliveryKind.VERWIJSINDEX_MATCH_NOTICE, DeliveryKind.RVDK_REQUEST_NOTICE,
                                DeliveryKind.AMBTSHALVE_NOTICE, DeliveryKind.VERWIJSINDEX_RELOCATION_NOTICE,
                                DeliveryKind.MUNICIPALITY_NOTICE, DeliveryKind.OVERDRACHT_NOTICE,
                                DeliveryKind.AMBTSHALVE_DECISION_NOTICE})
# NOTICE_KINDS are built from the case when sent (notifier.notices.NoticeBuilder); the RvdK request goes to the
# RvdK's own receiver when one is configured (NOTIFIER_RVDK_ENDPOINT), else to the professional endpoint like the rest.


# Pushed with DeliverInboxItem to the region's case system (the register match keeps DeliverRegisterMatch).
INBOX_ITEM_KINDS = frozenset({DeliveryKind.INBOX_ASSESSMENT_INPUT, DeliveryKind.INBOX_MONITORING_ALERT,
                              DeliveryKind.INBOX_DEADLINE_OVERDUE, DeliveryKind.INBOX_LETTER_NOT_SENT,
                              DeliveryKind.INBOX_EMERGENCY_ACCESS})


class LetterSource(Protocol):
    def requests(self, delivery: Delivery, today: dt.date) -> list[receivers_pb2.SendLetterRequest]: ...


class NoticeSource(Protocol):
    def requests(self, delivery: Delivery, today: dt.date) -> list[receivers_pb2.NotifyRequest]: ...


# Who the notifier is to the receivers: its own client certificate (mTLS, vtkit.channels).
IDENTITY = ("national", "notifier")


class RegionalClients:
    """One channel per configured endpoint, reused for every call."""

    def __init__(self, endpoints: dict[str, str], timeout_seconds: float, letter_gateway: str = "",
                 professional_endpoint: str = "", letters: LetterSource | None = None, *, keys: KeyStore,
                 teamlead_endpoints: dict[str, str] | None = None, notices: NoticeSource | None = None,
                 rvdk_endpoint: str = ""):
        self.keys = keys
        self.endpoints = dict(endpoints)
        # Per region, where an inbox item nobody acknowledged in time goes (the team lead's receiver).
        self.teamlead_endpoints = dict(teamlead_endpoints or {})
        self.timeout = timeout_seconds
        self.letter_gateway = letter_gateway if letters is not None else ""
        self.professional_endpoint = professional_endpoint
        self.letters = letters
        self.notices = notices
        self.rvdk_endpoint = rvdk_endpoint
        self._receivers: dict[str, ReceiverBatches] = {}  # per regional or team-lead address
        self._channels: list[grpc.aio.Channel] = []
        self._letter_stub: receivers_pb2_grpc.LetterGatewayServiceStub | None = None
        self._professional_stub: receivers_pb2_grpc.ProfessionalNotificationServiceStub | None = None
        self._rvdk_stub: receivers_pb2_grpc.ProfessionalNotificationServiceStub | None = None

    def any_tenant_kinds(self) -> frozenset[DeliveryKind]:
        """Kinds that can be sent for every tenant now (their national endpoint is configured)."""
        kinds: set[DeliveryKind] = set()
        if self.letter_gateway:
            kinds |= LETTER_KINDS
        if self.professional_endpoint:
            kinds |= PROFESSIONAL_KINDS
        if self.rvdk_endpoint:
            kinds.add(DeliveryKind.RVDK_REQUEST_NOTICE)
        return frozenset(kinds)

    def _channel(self, address: str) -> grpc.aio.Channel:
        channel = client_channel(address, self.keys, *IDENTITY)
        self._channels.append(channel)
        return channel

    async def _send_national(self, delivery: Delivery) -> None:
        if delivery.kind in LETTER_KINDS:
            if self.letters is None:
                raise RuntimeError("no letter source")
            if self._letter_stub is None:
                self._letter_stub = receivers_pb2_grpc.LetterGatewayServiceStub(self._channel(self.letter_gateway))
            # One call per addressee, each with its own derived idempotency key (notifier.letters.LetterBuilder):
            # a failure part-way makes the whole delivery retry, and the gateway dedupes the calls it already has.
            for request in self.letters.requests(delivery, dt.datetime.now(AMSTERDAM).date()):
                await self._letter_stub.SendLetter(request, timeout=self.timeout)
        else:
            stub = self._notify_stub(delivery.kind)
            if delivery.kind in NOTICE_KINDS and self.notices is not None:
                # One call per receiver (a municipality per child's municipality), each with its own key, like letters.
                requests = self.notices.requests(delivery, dt.datetime.now(AMSTERDAM).date())
            else:
                requests = [proto.notify_request(delivery)]
            for request in requests:
                await stub.Notify(request, timeout=self.timeout)

    def _notify_stub(self, kind: DeliveryKind) -> receivers_pb2_grpc.ProfessionalNotificationServiceStub:
        if kind is DeliveryKind.RVDK_REQUEST_NOTICE and self.rvdk_endpoint:
            if self._rvdk_stub is None:
                self._rvdk_stub = receivers_pb2_grpc.ProfessionalNotificationServiceStub(
                    self._channel(self.rvdk_endpoint))
            return self._rvdk_stub
        if self._professional_stub is None:
            self._professional_stub = receivers_pb2_grpc.ProfessionalNotificationServiceStub(
                self._channel(self.professional_endpoint))
        return self._professional_stub

    def destination(self, delivery: Delivery) -> str:
        """Where a delivery's personal data goes (receiver kind and address), for the export audit record."""
        if delivery.kind in LETTER_KINDS:
            return f"letter-gateway {self.letter_gateway}"
        if delivery.kind is DeliveryKind.RVDK_REQUEST_NOTICE and self.rvdk_endpoint:
            return f"rvdk {self.rvdk_endpoint}"
        if delivery.kind in PROFESSIONAL_KINDS:
            return f"professional-endpoint {self.professional_endpoint}"
        if delivery.kind is DeliveryKind.INBOX_ESCALATION:
            return f"team-lead/{delivery.tenant_id} {self.teamlead_endpoints.get(delivery.tenant_id, '')}"
        return f"regional-system/{delivery.tenant_id} {self.endpoints.get(delivery.tenant_id, '')}"

    def serves(self, tenant_id: str) -> bool:
        return tenant_id in self.endpoints

    def receiver(self, address: str) -> ReceiverBatches:
        """The batches of the regional or team-lead receiver at `address`."""
        receiver = self._receivers.get(address)
        if receiver is None:
            stub = receivers_pb2_grpc.RegionalCallbackServiceStub(self._channel(address))
            receiver = self._receivers[address] = ReceiverBatches(stub, address, self.timeout)
        return receiver

    async def send(self, delivery: Delivery) -> tuple[AttemptOutcome, str]:
        """One attempt; returns the outcome and, for a failure, "CODE: details"."""
        try:
            if delivery.kind in LETTER_KINDS | PROFESSIONAL_KINDS:
                await self._send_national(delivery)
                return AttemptOutcome.OK, ""
            if delivery.kind is DeliveryKind.INBOX_ESCALATION:
                address = self.teamlead_endpoints[delivery.tenant_id]
                batched = receivers_pb2.BatchedDelivery(inbox_item=proto.inbox_request(delivery))
            else:
                address = self.endpoints[delivery.tenant_id]
                if delivery.kind in INBOX_ITEM_KINDS:
                    batched = receivers_pb2.BatchedDelivery(inbox_item=proto.inbox_request(delivery))
                elif delivery.kind is DeliveryKind.MELDER_CALLBACK:
                    batched = receivers_pb2.BatchedDelivery(callback=proto.callback_request(delivery))
                elif delivery.kind is DeliveryKind.REGISTER_MATCH_NOTICE:
                    batched = receivers_pb2.BatchedDelivery(register_match=proto.register_match_request(delivery))
                else:
                    return AttemptOutcome.PERMANENT, f"no regional receiver for {delivery.kind.value}"
            code, details = await self.receiver(address).deliver(batched)
            if code is not grpc.StatusCode.OK:
                return classify(code), f"{code.name}: {details}"
        except grpc.aio.AioRpcError as exc:
            return classify(exc.code()), f"{exc.code().name}: {exc.details() or ''}"
        except NoticeUndeliverable as exc:
            # No personal data in the reason: it says what the case lacks (no child, no municipality known).
            return AttemptOutcome.PERMANENT, f"UNDELIVERABLE: {exc}"
        except LookupError as exc:
            # Something the request needs has not arrived yet (a letter before its MeldingReceived).
            return AttemptOutcome.TRANSIENT, f"NOT_READY: {exc}"
        except ValueError as exc:
            # The stored data cannot be made into a request (a field that does not decrypt).
            return AttemptOutcome.PERMANENT, f"INVALID_DATA: {type(exc).__name__}"
        return AttemptOutcome.OK, ""

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
