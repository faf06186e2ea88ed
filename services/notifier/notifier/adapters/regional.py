"""gRPC client for the regional case systems (vt.notifier.v1.RegionalCallbackService)."""

from __future__ import annotations

import grpc
from vt.notifier.v1 import receivers_pb2_grpc

from notifier.adapters import proto
from notifier.domain import AttemptOutcome, Delivery, DeliveryKind

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


class RegionalClients:
    """One channel per configured regional endpoint, reused for every call."""

    def __init__(self, endpoints: dict[str, str], timeout_seconds: float):
        self.endpoints = dict(endpoints)
        self.timeout = timeout_seconds
        self._stubs: dict[str, receivers_pb2_grpc.RegionalCallbackServiceStub] = {}
        self._channels: list[grpc.aio.Channel] = []

    def serves(self, tenant_id: str) -> bool:
        return tenant_id in self.endpoints

    def _stub(self, tenant_id: str) -> receivers_pb2_grpc.RegionalCallbackServiceStub:
        stub = self._stubs.get(tenant_id)
        if stub is None:
            channel = grpc.aio.insecure_channel(self.endpoints[tenant_id])
            self._channels.append(channel)
            stub = self._stubs[tenant_id] = receivers_pb2_grpc.RegionalCallbackServiceStub(channel)
        return stub

    async def send(self, delivery: Delivery) -> tuple[AttemptOutcome, str]:
        """One attempt; returns the outcome and, for a failure, "CODE: details"."""
        stub = self._stub(delivery.tenant_id)
        try:
            if delivery.kind is DeliveryKind.MELDER_CALLBACK:
                await stub.DeliverCallback(proto.callback_request(delivery), timeout=self.timeout)
            elif delivery.kind is DeliveryKind.REGISTER_MATCH_NOTICE:
                await stub.DeliverRegisterMatch(proto.register_match_request(delivery), timeout=self.timeout)
            else:
                return AttemptOutcome.PERMANENT, f"no regional receiver for {delivery.kind.value}"
        except grpc.aio.AioRpcError as exc:
            return classify(exc.code()), f"{exc.code().name}: {exc.details() or ''}"
        return AttemptOutcome.OK, ""

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
