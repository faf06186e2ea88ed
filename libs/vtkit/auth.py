"""Who is calling: the tenant and role come from the credential, never from a request field.

Until mTLS lands (issue 7) a caller presents a bearer token issued per organisation
(keystore tokens.json); the interceptor resolves it and handlers read `caller()`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc

_caller: contextvars.ContextVar["Caller | None"] = contextvars.ContextVar("vt_caller", default=None)
OPEN_METHODS = ("/grpc.health.v1.Health/", "/grpc.reflection.")


@dataclass(frozen=True)
class Caller:
    tenant: str
    role: str


def caller() -> Caller:
    current = _caller.get()
    if current is None:
        raise RuntimeError("no authenticated caller in this context")
    return current


def bearer_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


class TokenAuthInterceptor(grpc.aio.ServerInterceptor):
    """Rejects calls without a known token (UNAUTHENTICATED) and exposes the caller."""

    def __init__(self, tokens: Mapping[str, Mapping[str, str]]):
        self._tokens = {t: Caller(v["tenant"], v["role"]) for t, v in tokens.items()}

    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_METHODS):
            return handler
        metadata = dict(details.invocation_metadata or ())
        token = str(metadata.get("authorization", "")).removeprefix("Bearer ").strip()
        who = self._tokens.get(token)
        if who is None or handler.unary_unary is None:
            return _deny(handler)
        inner = handler.unary_unary

        async def authenticated(request: Any, context: grpc.aio.ServicerContext) -> Any:
            reset = _caller.set(who)
            try:
                return await inner(request, context)
            finally:
                _caller.reset(reset)

        return grpc.unary_unary_rpc_method_handler(authenticated, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)


def _deny(handler: Any) -> Any:
    async def abort(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or unknown credential")

    return grpc.unary_unary_rpc_method_handler(abort, request_deserializer=handler.request_deserializer,
                                               response_serializer=handler.response_serializer)
