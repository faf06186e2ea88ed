"""What every servicer does around its use case: the access record and the refusal, in one shape.

Each gRPC call that touches personal data leaves one NEN 7513 record (vtkit.audit), accepted or refused, written
before the answer leaves (docs/architecture.md, "The access log"). Who called comes from the certificate
(vtkit.auth.caller), never from the request; the peer from the call. A refusal because the caller may not see or
do something is a denial: action and outcome `denied`, the detail `not_found` or `permission_denied`. Another
organisation's object answers NOT_FOUND exactly like an unknown one. A refusal by a rule keeps the intended action
with the outcome of its status (`invalid_argument`, `failed_precondition`: vtkit.grpcerrors.outcome_of).

    access = Access(audit, purpose="veiligheidsbeoordeling")
    await access.record(context, "read assessment", {"case_id": case_id}, action="read")
    await access.deny(context, "read assessment", {"case_id": case_id}, grpc.StatusCode.NOT_FOUND, "case not found")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import grpc

from vtkit.audit import AuditLog, CommittedWith
from vtkit.auth import caller
from vtkit.errors import DomainError
from vtkit.grpcerrors import abort_domain, abort_message, outcome_of, status_of

# The refusals that are denials: the caller may not see (NOT_FOUND, as unknown) or may not do (PERMISSION_DENIED).
DENIALS = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.PERMISSION_DENIED})


class Access:
    """One service's access records of gRPC calls. `audit` None: a service run without an access log (tests of
    other behaviour); the refusals still answer the same."""

    def __init__(self, audit: AuditLog | None, purpose: str = "not stated", purposes: Mapping[str, str] | None = None):
        self.audit = audit
        # The NEN 7513 "why": a call's own (a request field), else the operation's in `purposes`, else `purpose`.
        self.purpose = purpose
        self.purposes = dict(purposes or {})

    async def record(self, context: Any, what: str, subject: dict[str, str], *, action: str,
                     outcome: str = "success", detail: str = "", purpose: str = "") -> None:
        if self.audit is None:
            return
        await self.audit.record(subject=subject, **self._fields(context, what, action, outcome, detail, purpose))

    def with_commit(self, context: Any, what: str, *, action: str, purpose: str = "") -> CommittedWith | None:
        """A successful access to be recorded with the commit of what it is about (vtkit.audit.CommittedWith), made
        from the caller now; None without an access log."""
        audit = self.audit
        if audit is None:
            return None
        fields = self._fields(context, what, action, "success", "", purpose)
        return CommittedWith(audit, lambda subject: audit.entry(subject=subject, **fields))

    def _fields(self, context: Any, what: str, action: str, outcome: str, detail: str, purpose: str) -> dict[str, Any]:
        """A record's fields but its subject: the caller (certificate) and its peer, and the "why"."""
        who = caller()
        peer = (context.peer() if context is not None else "") or ""
        return {"action": action, "what": what, "tenant": who.tenant, "role": who.role,
                "purpose": purpose or self.purposes.get(what, self.purpose), "outcome": outcome, "detail": detail,
                "peer": peer, "via": who.via}

    async def denied(self, context: Any, what: str, subject: dict[str, str], code: grpc.StatusCode,
                     purpose: str = "") -> None:
        """Record a denial (NOT_FOUND or PERMISSION_DENIED) without ending the call."""
        await self.record(context, what, subject, action="denied", outcome="denied", detail=code.name.lower(),
                          purpose=purpose)

    async def deny(self, context: Any, what: str, subject: dict[str, str], code: grpc.StatusCode, message: str,
                   purpose: str = "") -> NoReturn:
        """Record the denial, then end the call with `code` and `message`."""
        assert code in DENIALS, code
        await self.denied(context, what, subject, code, purpose)
        await abort_message(context, code, message)

    async def refuse(self, context: Any, what: str, subject: dict[str, str], error: DomainError, *,
                     action: str, purpose: str = "") -> NoReturn:
        """Record a call refused with a domain error (a NotFound or PermissionDenied as a denial, any other kind
        with the intended action and its status as outcome), then end it with the error's status."""
        code = status_of(error)
        if code in DENIALS:
            await self.denied(context, what, subject, code, purpose)
        else:
            await self.record(context, what, subject, action=action, outcome=outcome_of(error), purpose=purpose)
        await abort_domain(context, error)
