"""A request body that is not the protobuf message its RPC expects answers INVALID_ARGUMENT.

grpcio runs the generated request deserializer before any handler code, and an exception there
(corrupt wire format, invalid UTF-8 in a string field) reaches the caller as UNKNOWN "Unexpected
<class 'DecodeError'>". Found by the fuzz run (tests/fuzz): this interceptor wraps the
deserializer so that the handler is never called and the caller learns which message type the body
failed to be.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc


class _Undecodable:
    def __init__(self, reason: str):
        self.reason = reason


class RequestGuard(grpc.aio.ServerInterceptor):
    async def intercept_service(self, continuation: Callable[[Any], Awaitable[Any]], details: Any) -> Any:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None or handler.request_deserializer is None:
            return handler
        deserialize, inner = handler.request_deserializer, handler.unary_unary

        def safe_deserialize(body: bytes) -> Any:
            try:
                return deserialize(body)
            except Exception as exc:  # protobuf's DecodeError and whatever else a deserializer raises on bytes
                return _Undecodable(f"request body is not a valid message of this RPC: {exc}")

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            if isinstance(request, _Undecodable):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.reason)
            return await inner(request, context)

        return grpc.unary_unary_rpc_method_handler(guarded, request_deserializer=safe_deserialize,
                                                   response_serializer=handler.response_serializer)
