"""A fake professional notification endpoint: a real gRPC server implementing
vt.notifier.v1.ProfessionalNotificationService, one for all recipients (registrants, regievoerders,
the RvdK, municipalities).

Same recording and failure injection as the fake regional system; a record names the recipient and
subject, never the (encrypted) body. Accepted requests are kept in memory (`.notices`).

Run standalone: `python -m vtkit.simulators.professional` (env GRPC_PORT, RECORD_FILE, ...).
"""

from __future__ import annotations

import asyncio

import grpc
from vt.notifier.v1 import receivers_pb2, receivers_pb2_grpc

from vtkit.simulators.regional_system import FakeRegionalSystem

SERVICE_NAME = "vt.notifier.v1.ProfessionalNotificationService"


class FakeProfessionalEndpoint(FakeRegionalSystem, receivers_pb2_grpc.ProfessionalNotificationServiceServicer):
    service_name = SERVICE_NAME
    add_to_server = staticmethod(receivers_pb2_grpc.add_ProfessionalNotificationServiceServicer_to_server)
    server_name = "professional-endpoint"

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.notices: list[receivers_pb2.NotifyRequest] = []

    async def Notify(self, request: receivers_pb2.NotifyRequest,
                     context: grpc.aio.ServicerContext) -> receivers_pb2.NotifyResponse:
        await self._receive("Notify", request, context, due_date="", recipient_id=request.recipient_id,
                            subject=request.subject, body_key_id=request.body.key_id)
        self.notices.append(request)
        return receivers_pb2.NotifyResponse()

    def to(self, recipient_id: str) -> list[receivers_pb2.NotifyRequest]:
        return [n for n in self.notices if n.recipient_id == recipient_id]


async def _main(stop: asyncio.Event) -> None:
    fake = FakeProfessionalEndpoint.from_env()
    await fake.start()
    await stop.wait()
    await fake.stop()


if __name__ == "__main__":
    from vtkit.service import run

    run("professional", _main)
