"""Who is calling: the tenant and role come from the credential, never from a request field.

Every server requires mutual TLS (docs/security.md, "Identity: mTLS"): CertAuthInterceptor reads the caller from the client
certificate the TLS handshake verified against the suite's CA (vtkit.pki); metadata such as
"authorization" is ignored. Only with the dev flag VT_GRPC_PLAINTEXT=1 does a server run in
plaintext, and then TokenAuthInterceptor resolves a bearer token issued per organisation
(keystore tokens.json). Either way handlers read `caller()`.

Every call refused UNAUTHENTICATED is counted (vt_grpc_unauthenticated_total{service, reason}, no personal data in
labels) and handed to `on_refused`, which a server sets to write the NEN 7513 record when the refused caller
presented a CA-verified certificate (vtkit.grpcserver.GrpcServer.audit_refusals). A caller without one never
gets this far: the TLS handshake refuses it, which grpcio does not show to Python (see vtkit.grpcserver).
"""

from __future__ import annotations

import contextvars
import dataclasses
import json
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from vtkit import metrics
from vtkit.grpcerrors import abort_message
from vtkit.pki import NotAnIdentity, identity_from_pem

_caller: contextvars.ContextVar["Caller | None"] = contextvars.ContextVar("vt_caller", default=None)
# The dev flag VT_GRPC_PLAINTEXT=1: servers listen in plaintext and accept tokens.json's bearer tokens, clients
# (vtkit.channels) connect in plaintext with a token. Here, below both vtkit.grpcserver and vtkit.channels.
PLAINTEXT_FLAG = "VT_GRPC_PLAINTEXT"


def plaintext_enabled() -> bool:
    """The explicit dev flag; anything but "1" means mutual TLS."""
    return os.environ.get(PLAINTEXT_FLAG, "") == "1"


OPEN_METHODS = ("/grpc.health.v1.Health/", "/grpc.reflection.")
# (context, full method name, reason): called before a call is refused UNAUTHENTICATED.
OnRefused = Callable[[grpc.aio.ServicerContext, str, str], Awaitable[None]]


def service_of(method: str) -> str:
    """"/vt.intake.v1.IntakeService/SubmitMelding" -> "vt.intake.v1.IntakeService" (a metric label)."""
    return method.strip("/").split("/", 1)[0] or "unknown"


class _Refusals:
    """Counts UNAUTHENTICATED refusals and passes them on to the server's hook, if it has one."""

    def __init__(self) -> None:
        self.on_refused: OnRefused | None = None

    async def refused(self, context: grpc.aio.ServicerContext, method: str, reason: str) -> None:
        metrics.GRPC_UNAUTHENTICATED.labels(service_of(method), reason).inc()
        if self.on_refused is not None:
            await self.on_refused(context, method, reason)


@dataclass(frozen=True)
class Caller:
    tenant: str
    role: str
    # The person acting in the calling organisation's system (a case system names its worker on each call with
    # the metadata USER_HEADER / USER_ROLE_HEADER); bound to the certificate's organisation, so a claim can never
    # name a user of another one. Empty when the call names nobody.
    user: str = ""
    user_role: str = ""
    # A registrant organisation's sector (from its certificate: vtkit.registrants); empty for every other caller.
    sector: str = ""
    # The delegate ("<tenant>/<role>") that relayed this call for the organisation above: a worker of the same
    # service that forwarded it to the worker owning the object (ON_BEHALF_HEADER). Empty for a direct call.
    via: str = ""


USER_HEADER, USER_ROLE_HEADER = "vt-user", "vt-user-role"
_USER = re.compile(r"[A-Za-z0-9._@-]{1,64}")
# A service run as several workers forwards a call to the worker that owns its object, naming the caller it acts
# for in this header (docs/architecture.md, "Radar with two workers"). A server believes it only from the delegate
# identities it was built with (the service's own workers' certificate); anyone else naming it is refused.
ON_BEHALF_HEADER = "vt-on-behalf-of"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
Delegates = frozenset[tuple[str, str]]


def caller() -> Caller:
    current = _caller.get()
    if current is None:
        raise RuntimeError("no authenticated caller in this context")
    return current


def acting_user() -> str:
    """The named user of the current call as the audit log records it ("<user>[/<role>]@<organisation>"), or ""
    outside a call or when the call names nobody."""
    current = _caller.get()
    if current is None or not current.user:
        return ""
    role = f"/{current.user_role}" if current.user_role else ""
    return f"{current.user}{role}@{current.tenant}"


def user_metadata(user: str, role: str = "") -> tuple[tuple[str, str], ...]:
    """The metadata a case system sends to name the worker acting (vtkit.audit records them)."""
    return ((USER_HEADER, user), *(((USER_ROLE_HEADER, role),) if role else ()))


def on_behalf_metadata(who: Caller) -> tuple[tuple[str, str], ...]:
    """The metadata a delegate sends to forward a call of `who` (its user included) to another worker."""
    named = {"tenant": who.tenant, "role": who.role, "sector": who.sector}
    return ((ON_BEHALF_HEADER, json.dumps(named, sort_keys=True, separators=(",", ":"))),
            *(user_metadata(who.user, who.user_role) if who.user else ()))


Refusal = tuple[grpc.StatusCode, str]


def _represented(who: Caller, claim: str, delegates: Delegates) -> Caller | Refusal:
    """The organisation a delegate's call names, or why the claim is refused."""
    if (who.tenant, who.role) not in delegates:
        return (grpc.StatusCode.PERMISSION_DENIED,
                f"{ON_BEHALF_HEADER}: only this service's own workers may act for another organisation")
    try:
        named = json.loads(claim)
        tenant, role, sector = (str(named.get(k, "")) for k in ("tenant", "role", "sector"))
    except (ValueError, AttributeError):
        return grpc.StatusCode.INVALID_ARGUMENT, f"{ON_BEHALF_HEADER}: not a JSON object naming tenant and role"
    if not (_NAME.fullmatch(tenant) and _NAME.fullmatch(role)) or (sector and not _NAME.fullmatch(sector)):
        return grpc.StatusCode.INVALID_ARGUMENT, f"{ON_BEHALF_HEADER}: tenant and role of 1 to 64 letters, digits or . _ -"
    return Caller(tenant, role, sector=sector, via=f"{who.tenant}/{who.role}")


def _named(who: Caller, context: grpc.aio.ServicerContext, delegates: Delegates = frozenset()) -> Caller | Refusal:
    """`who` (or the organisation a delegate acts for) with the user the call names, or why the names are refused
    (the header is the offending "field" of the call: vtkit.grpcerrors)."""
    metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    if (claim := metadata.get(ON_BEHALF_HEADER)) is not None:
        represented = _represented(who, claim, delegates)
        if not isinstance(represented, Caller):
            return represented
        who = represented
    user, role = metadata.get(USER_HEADER, ""), metadata.get(USER_ROLE_HEADER, "")
    for name, value in ((USER_HEADER, user), (USER_ROLE_HEADER, role)):
        if value and not _USER.fullmatch(value):
            return grpc.StatusCode.INVALID_ARGUMENT, f"{name}: 1 to 64 letters, digits or . _ @ -"
    return dataclasses.replace(who, user=user, user_role=role) if user else who


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def _as(handler: Any, who_of: Callable[[grpc.aio.ServicerContext], Caller | None], method: str,
        refusals: _Refusals, delegates: Delegates) -> Any:
    """`handler` run with `caller()` set to `who_of(context)`; UNAUTHENTICATED when that is None."""
    inner = handler.unary_unary

    async def authenticated(request: Any, context: grpc.aio.ServicerContext) -> Any:
        who = who_of(context)
        if who is None:
            await refusals.refused(context, method, "no_identity")
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "client certificate names no organisation")
        assert who is not None
        named = _named(who, context, delegates)
        if not isinstance(named, Caller):
            await abort_message(context, *named)
        assert isinstance(named, Caller)
        reset = _caller.set(named)
        try:
            return await inner(request, context)
        finally:
            _caller.reset(reset)

    return grpc.unary_unary_rpc_method_handler(authenticated, request_deserializer=handler.request_deserializer,
                                               response_serializer=handler.response_serializer)


class CertAuthInterceptor(grpc.aio.ServerInterceptor, _Refusals):
    """mTLS: the caller is the O (tenant) and OU (role) of the verified peer certificate.

    The interceptor does not see the call's transport, so it wraps the handler and reads the peer
    certificate from the servicer context when the call runs. Health and reflection stay open to any
    certificate the CA issued (the handshake already required one)."""

    def __init__(self, delegates: Delegates = frozenset()) -> None:
        _Refusals.__init__(self)
        self.delegates = delegates

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_METHODS):
            return handler
        if handler.unary_unary is None:
            return _deny(handler, details.method, "not_unary", self)
        return _as(handler, peer_caller, details.method, self, self.delegates)


def peer_caller(context: grpc.aio.ServicerContext) -> Caller | None:
    """The organisation of the verified peer certificate, or None (no TLS, no or a non-client certificate)."""
    certs = context.auth_context().get("x509_pem_cert") or []
    if len(certs) != 1:
        return None
    try:
        who = identity_from_pem(bytes(certs[0]))
    except (NotAnIdentity, ValueError):
        return None
    return Caller(who.tenant, who.role, sector=who.sector)


def peer_certificate_names(context: grpc.aio.ServicerContext) -> dict[str, str] | None:
    """O, OU and CN of the verified peer certificate (whatever of them it has), or None without one."""
    certs = context.auth_context().get("x509_pem_cert") or []
    if len(certs) != 1:
        return None
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        subject = x509.load_pem_x509_certificate(bytes(certs[0])).subject
    except ValueError:
        return None
    names = {"O": NameOID.ORGANIZATION_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "CN": NameOID.COMMON_NAME}
    return {key: str(values[0].value) for key, oid in names.items() if (values := subject.get_attributes_for_oid(oid))}


class TokenAuthInterceptor(grpc.aio.ServerInterceptor, _Refusals):
    """Plaintext dev mode only (VT_GRPC_PLAINTEXT=1). Rejects calls without a known token
    (UNAUTHENTICATED) and exposes the caller."""

    def __init__(self, tokens: Mapping[str, Mapping[str, str]], delegates: Delegates = frozenset()):
        _Refusals.__init__(self)
        self.delegates = delegates
        self._tokens = {t: Caller(v["tenant"], v["role"], sector=v.get("sector", "")) for t, v in tokens.items()}

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_METHODS):
            return handler
        metadata = dict(details.invocation_metadata or ())
        token = str(metadata.get("authorization", "")).removeprefix("Bearer ").strip()
        who = self._tokens.get(token)
        if who is None or handler.unary_unary is None:
            return _deny(handler, details.method, "unknown_token" if who is None else "not_unary", self)
        return _as(handler, lambda _context: who, details.method, self, self.delegates)


def _deny(handler: Any, method: str, reason: str, refusals: _Refusals) -> Any:
    async def abort(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await refusals.refused(context, method, reason)
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or unknown credential")

    return grpc.unary_unary_rpc_method_handler(abort, request_deserializer=handler.request_deserializer,
                                               response_serializer=handler.response_serializer)
