"""A fake letter gateway: a real gRPC server implementing vt.notifier.v1.LetterGatewayService.

Stands in for the print-and-post service in tests and the local stack. Same recording and failure
injection as the fake regional system (RECORD_FILE, TENANT, FAIL_FIRST, FAIL_PERMANENT,
DELAY_SECONDS); the recorded call carries no personal data (the PDF and addressee stay encrypted,
only their key ids and the PDF's ciphertext size are recorded). Accepted requests are kept in
memory (`.letters`) so an in-process test can decrypt and inspect the letter; with KEEP_DIR set each accepted
letter is also written there, still sealed, as `<sha256 of the idempotency key>.pb` (a serialized SendLetterRequest), as a print
service keeps what it posted, so a test of the whole stack can open it with the region's key.

Run standalone: `python -m simulators.letter_gateway` (env GRPC_PORT, RECORD_FILE, KEEP_DIR, ...).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import pathlib

import grpc
from vt.notifier.v1 import receivers_pb2, receivers_pb2_grpc

from simulators.regional_system import FakeRegionalSystem

SERVICE_NAME = "vt.notifier.v1.LetterGatewayService"


class FakeLetterGateway(FakeRegionalSystem, receivers_pb2_grpc.LetterGatewayServiceServicer):
    service_name = SERVICE_NAME
    add_to_server = staticmethod(receivers_pb2_grpc.add_LetterGatewayServiceServicer_to_server)
    server_name = "letter-gateway"

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.letters: list[receivers_pb2.SendLetterRequest] = []
        keep = os.environ.get("KEEP_DIR", "")
        self.keep_dir = pathlib.Path(keep) if keep else None

    async def SendLetter(self, request: receivers_pb2.SendLetterRequest,
                         context: grpc.aio.ServicerContext) -> receivers_pb2.SendLetterResponse:
        await self._receive("SendLetter", request, context, due_date="", pdf_key_id=request.pdf.key_id,
                            pdf_bytes=len(request.pdf.ciphertext), addressee_key_id=request.addressee.key_id)
        self.letters.append(request)
        if self.keep_dir is not None:
            self.keep_dir.mkdir(parents=True, exist_ok=True)
            name = hashlib.sha256(request.idempotency_key.encode()).hexdigest()  # whatever the key holds
            (self.keep_dir / f"{name}.pb").write_bytes(request.SerializeToString())
        return receivers_pb2.SendLetterResponse()


async def _main(stop: asyncio.Event) -> None:
    fake = FakeLetterGateway.from_env()
    await fake.start()
    await stop.wait()
    await fake.stop()


if __name__ == "__main__":
    from vtkit.service import run

    run("letter_gateway", _main)
