"""Who is calling: the tenant and role come from the credential, never from a request field.

Every server requires mutual TLS (issue 7): CertAuthInterceptor reads the caller from the client
certificate the TLS handshake verified against the suite's CA (vtkit.pki); metadata such as
"authorization" is ignored. Only with the dev flag VT_GRPC_PLAINTEXT=1 does a server run in
plaintext, and then TokenAuthInterceptor resolves a bearer token issued per organisation
(keystore tokens.json). Either way handlers read `caller()`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from vtkit.pki import NotAnIdentity, identity_from_pem

_caller: contextvars.ContextVar["Caller | None"] = contextvars.ContextVar("vt_caller", default=None)
OPEN_METHODS = ("/grpc.health.v1.Health/", "/grpc.reflection.")


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


USER_HEADER, USER_ROLE_HEADER = "vt-user", "vt-user-role"
_USER = re.compile(r"[A-Za-z0-9._@-]{1,64}")


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


def _named(who: Caller, context: grpc.aio.ServicerContext) -> Caller | str:
    """`who` with the user the call names, or the reason the names are refused."""
    metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    user, role = metadata.get(USER_HEADER, ""), metadata.get(USER_ROLE_HEADER, "")
    for name, value in ((USER_HEADER, user), (USER_ROLE_HEADER, role)):
        if value and not _USER.fullmatch(value):
            return f"{name}: 1 to 64 letters, digits or . _ @ -"
    return dataclasses.replace(who, user=user, user_role=role) if user else who


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def _as(handler: Any, who_of: Callable[[grpc.aio.ServicerContext], Caller | None]) -> Any:
    """`handler` run with `caller()` set to `who_of(context)`; UNAUTHENTICATED when that is None."""
    inner = handler.unary_unary

    async def authenticated(request: Any, context: grpc.aio.ServicerContext) -> Any:
        who = who_of(context)
        if who is None:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "client certificate names no organisation")
        assert who is not None
        named = _named(who, context)
        if isinstance(named, str):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, named)
        assert isinstance(named, Caller)
        reset = _caller.set(named)
        try:
            return await inner(request, context)
        finally:
            _caller.reset(reset)

    return grpc.unary_unary_rpc_method_handler(authenticated, request_deserializer=handler.request_deserializer,
                                               response_serializer=handler.response_serializer)


class CertAuthInterceptor(grpc.aio.ServerInterceptor):
    """mTLS: the caller is the O (tenant) and OU (role) of the verified peer certificate.

    The interceptor does not see the call's transport, so it wraps the handler and reads the peer
    certificate from the servicer context when the call runs. Health and reflection stay open to any
    certificate the CA issued (the handshake already required one)."""

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_METHODS):
            return handler
        if handler.unary_unary is None:
            return _deny(handler)
        return _as(handler, peer_caller)


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


class TokenAuthInterceptor(grpc.aio.ServerInterceptor):
    """Plaintext dev mode only (VT_GRPC_PLAINTEXT=1). Rejects calls without a known token
    (UNAUTHENTICATED) and exposes the caller."""

    def __init__(self, tokens: Mapping[str, Mapping[str, str]]):
        self._tokens = {t: Caller(v["tenant"], v["role"], sector=v.get("sector", "")) for t, v in tokens.items()}

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_METHODS):
            return handler
        metadata = dict(details.invocation_metadata or ())
        token = str(metadata.get("authorization", "")).removeprefix("Bearer ").strip()
        who = self._tokens.get(token)
        if who is None or handler.unary_unary is None:
            return _deny(handler)
        return _as(handler, lambda _context: who)


def _deny(handler: Any) -> Any:
    async def abort(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or unknown credential")

    return grpc.unary_unary_rpc_method_handler(abort, request_deserializer=handler.request_deserializer,
                                               response_serializer=handler.response_serializer)
