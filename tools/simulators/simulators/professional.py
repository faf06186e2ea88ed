"""A fake professional notification endpoint: a real gRPC server implementing
vt.notifier.v1.ProfessionalNotificationService, one for all recipients (registrants, regievoerders,
the RvdK, municipalities).

Same recording, failure injection and caller check (the notifier only) as the fake regional system; a record names
the recipient and subject and keeps the request as it arrived (`request_b64`: its body still encrypted or sealed), so
a test can open it as the receiver would (`open_notice`). Accepted requests are kept in memory (`.notices`).

Run standalone: `python -m simulators.professional` (env GRPC_PORT, RECORD_FILE, ...).
"""

from __future__ import annotations

import asyncio
import base64
import os

import grpc
from google.protobuf.message import Message
from vt.notifier.v1 import receivers_pb2, receivers_pb2_grpc
from vtkit.crypto import Ciphertext, Sealed
from vtkit.keystore import KeyStore

from simulators.regional_system import FakeRegionalSystem, read_records

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
                            subject=request.subject, body_key_id=request.body.key_id,
                            sealed_to=request.sealed_body.recipient,
                            request_b64=base64.b64encode(request.SerializeToString()).decode())
        self.notices.append(request)
        return receivers_pb2.NotifyResponse()

    def to(self, recipient_id: str) -> list[receivers_pb2.NotifyRequest]:
        return [n for n in self.notices if n.recipient_id == recipient_id]

    def opened(self, request: receivers_pb2.NotifyRequest) -> Message:
        """A notice of a decision as its receiver reads it (open_notice with this endpoint's keys)."""
        return open_notice(self.keys or KeyStore(os.environ["VT_KEY_DIR"]), request)


# What the body of each notice of a decision is (receivers.proto NotifyRequest).
NOTICE_BODIES: dict[str, type[Message]] = {
    "rvdk_request": receivers_pb2.RvdkRequest,
    "municipality_notice": receivers_pb2.MunicipalityNotice,
    "overdracht": receivers_pb2.HandoverNotice,
    "ambtshalve_melding": receivers_pb2.AmbtshalveNotice,
    "ambtshalve_decision": receivers_pb2.AmbtshalveNotice,
}


def open_notice(keys: KeyStore, request: receivers_pb2.NotifyRequest) -> Message:
    """Opens the body of a notice of a decision as its receiver does: an RvdK request with the RvdK's private seal
    key (only the RvdK holds it), the others with the notifier's notice key, bound to the call's idempotency key and
    recipient. DecryptionError when it does not open; KeyError for a subject without such a body."""
    kind = NOTICE_BODIES[request.subject]
    if request.HasField("sealed_body"):
        s = request.sealed_body
        plain = keys.seal_opener(s.recipient).open(Sealed(s.recipient, s.ephemeral_public_key, s.nonce, s.ciphertext))
    else:
        plain = keys.field_cipher("notifier").decrypt(
            Ciphertext(request.body.key_id, request.body.nonce, request.body.ciphertext),
            event_id=request.idempotency_key, field=f"notice/{request.recipient_id}")
    return kind.FromString(plain)


def recorded_notices(path: str | os.PathLike[str]) -> list[receivers_pb2.NotifyRequest]:
    """The requests an out-of-process endpoint accepted (first deliveries), from its RECORD_FILE."""
    return [receivers_pb2.NotifyRequest.FromString(base64.b64decode(r["request_b64"])) for r in read_records(path)
            if r.get("status") == "OK" and not r.get("duplicate") and r.get("request_b64")]


async def _main(stop: asyncio.Event) -> None:
    fake = FakeProfessionalEndpoint.from_env()
    await fake.start()
    await stop.wait()
    await fake.stop()


if __name__ == "__main__":
    from vtkit.service import run

    run("professional", _main)
