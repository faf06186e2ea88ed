"""Deliveries to one regional case system in batches: one DeliverBatch call at a time per receiver, holding what came
while the last call was out (vtkit.groupcommit.Coalescer), at most MAX_BATCH deliveries each.

A delivery waits for no timer: when no call is out, it goes at once, alone. Under load the waiting ones go together,
so the receiver's and the notifier's cost of a call (mTLS, HTTP/2, the interceptors) is shared by the batch
(docs/architecture.md "Outgoing notices"; docs/measurements.md). Each delivery keeps its own outcome, idempotency key
and retries: the receiver answers one result per delivery. A receiver that answers UNIMPLEMENTED gets the single
calls of before, from then on (until the notifier starts again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from vt.notifier.v1 import receivers_pb2, receivers_pb2_grpc
from vtkit import tracing
from vtkit.groupcommit import Coalescer

log = logging.getLogger("notifier.receiver_batch")
# As many as the scheduler attempts at once (notifier.scheduler max_concurrent).
MAX_BATCH = 32
CODES = {code.value[0]: code for code in grpc.StatusCode}
# What a delivery's answer is: its status code and, when not OK, why.
Answer = tuple[grpc.StatusCode, str]


@dataclass(frozen=True)
class _Waiting:
    delivery: receivers_pb2.BatchedDelivery
    trace: Any  # the attempt's trace context (vtkit.tracing), or None with tracing off


class ReceiverBatches:
    """The batches of one receiver (its stub)."""

    def __init__(self, stub: receivers_pb2_grpc.RegionalCallbackServiceStub, address: str, timeout: float):
        self.stub = stub
        self.address = address
        self.timeout = timeout
        self.batched = True  # until the receiver answers UNIMPLEMENTED
        self._batches: Coalescer[_Waiting, Answer] = Coalescer(self._call, MAX_BATCH)

    @property
    def waiting(self) -> int:
        """Deliveries waiting for the call out to return."""
        return self._batches.waiting

    async def deliver(self, delivery: receivers_pb2.BatchedDelivery) -> Answer:
        """The receiver's answer to this delivery."""
        if not self.batched:
            return await self._single(delivery)
        return await self._batches.submit(_Waiting(delivery, tracing.current_context()))

    async def _call(self, waiting: Sequence[_Waiting]) -> list[Answer]:
        # The call continues the trace of the batch's first attempt and links the others' (vtkit.tracing.span).
        with tracing.span("deliver batch", parent=waiting[0].trace, linked=[w.trace for w in waiting[1:]],
                          attributes={"vt.delivery.batch_size": len(waiting)}):
            try:
                answer = await self.stub.DeliverBatch(
                    receivers_pb2.DeliverBatchRequest(deliveries=[w.delivery for w in waiting]), timeout=self.timeout)
            except grpc.aio.AioRpcError as exc:
                if exc.code() is not grpc.StatusCode.UNIMPLEMENTED:
                    return [(exc.code(), exc.details() or "")] * len(waiting)
                self.batched = False
                log.warning("receiver does not take DeliverBatch; single calls from now on",
                            extra={"address": self.address})
                return list(await asyncio.gather(*(self._single(w.delivery) for w in waiting)))
        if len(answer.results) != len(waiting):
            return [(grpc.StatusCode.INTERNAL,
                     f"the receiver answered {len(answer.results)} results for {len(waiting)} deliveries")] * len(waiting)
        return [(CODES.get(r.code, grpc.StatusCode.UNKNOWN), r.message) for r in answer.results]

    async def _single(self, delivery: receivers_pb2.BatchedDelivery) -> Answer:
        """The delivery by the call of its own kind."""
        kind = delivery.WhichOneof("delivery")
        try:
            if kind == "callback":
                await self.stub.DeliverCallback(delivery.callback, timeout=self.timeout)
            elif kind == "register_match":
                await self.stub.DeliverRegisterMatch(delivery.register_match, timeout=self.timeout)
            else:
                await self.stub.DeliverInboxItem(delivery.inbox_item, timeout=self.timeout)
        except grpc.aio.AioRpcError as exc:
            return exc.code(), exc.details() or ""
        return grpc.StatusCode.OK, ""
