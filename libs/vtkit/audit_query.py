"""Reading an access log is a query to the service that writes it (vt.audit.v1.AuditService): the log keeps one
writer, the reader is the inspector's certificate, and every read, or refusal, is a record of the log it reads
(docs/architecture.md, "The access log")."""

from __future__ import annotations

import asyncio

import grpc
from vt.audit.v1 import audit_service_pb2, audit_service_pb2_grpc

from vtkit import pki
from vtkit.audit import AUDITOR_ROLE, AuditLog, read_after
from vtkit.auth import caller
from vtkit.channels import client_channel
from vtkit.grpcerrors import abort_invalid, abort_violations
from vtkit.grpcserver import GrpcServer
from vtkit.keystore import KeyStore
from vtkit.servicer import Access

SERVICE_NAME = "vt.audit.v1.AuditService"
DEFAULT_LIMIT, MAX_LIMIT = 500, 1000


class AuditQuery(audit_service_pb2_grpc.AuditServiceServicer):
    def __init__(self, log: AuditLog):
        self.log = log
        self.access = Access(log)

    async def ReadLog(self, request: audit_service_pb2.ReadLogRequest,
                      context: grpc.aio.ServicerContext) -> audit_service_pb2.ReadLogResponse:
        who = caller()
        what, subject = "read audit log", {"audit_log": self.log.service}
        if (who.tenant, who.role) != (pki.NATIONAL_TENANT, AUDITOR_ROLE):
            await self.access.deny(context, what, subject, grpc.StatusCode.PERMISSION_DENIED,
                                   "the access log is for the inspector only", request.purpose)
        if not request.purpose.strip():
            await abort_invalid(context, "purpose", "required: why the log is read")
        if not 0 <= request.limit <= MAX_LIMIT or request.after_seq < 0:
            rules = [("limit", f"0 to {MAX_LIMIT} (0 means {DEFAULT_LIMIT})"), ("after_seq", "not negative")]
            broken = [rules[0]] * (not 0 <= request.limit <= MAX_LIMIT) + [rules[1]] * (request.after_seq < 0)
            await abort_violations(context, broken, message="; ".join(f"{f}: {r}" for f, r in rules))
        lines, last = await asyncio.to_thread(read_after, self.log.path, request.after_seq,
                                              request.limit or DEFAULT_LIMIT)
        await self.access.record(context, what, subject, action="read", detail=f"{len(lines)} records",
                                 purpose=request.purpose)
        return audit_service_pb2.ReadLogResponse(lines=lines, last_seq=last)


def serve_audit_log(server: GrpcServer, log: AuditLog) -> None:
    """Every service serves its own access log to the inspector."""
    server.add(audit_service_pb2_grpc.add_AuditServiceServicer_to_server, AuditQuery(log), [SERVICE_NAME])


async def read_log(address: str, keys: KeyStore, purpose: str, after_seq: int = 0,
                   limit: int = 0) -> audit_service_pb2.ReadLogResponse:
    """Read a service's log as the national inspector (its certificate in the key dir)."""
    async with client_channel(address, keys, pki.NATIONAL_TENANT, AUDITOR_ROLE) as channel:
        stub = audit_service_pb2_grpc.AuditServiceStub(channel)
        reply: audit_service_pb2.ReadLogResponse = await stub.ReadLog(audit_service_pb2.ReadLogRequest(
            after_seq=after_seq, limit=limit, purpose=purpose), timeout=30)
        return reply
