"""Client channels that carry an organisation's identity.

Every gRPC client in the suite (services calling each other, tests, demo, load generator)
opens its channel here, so how an organisation proves who it is lives in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from vtkit.auth import bearer_metadata
from vtkit.keystore import KeyStore


class _BearerToken(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, token: str):
        self._metadata = bearer_metadata(token)

    async def intercept_unary_unary(self, continuation: Callable[..., Awaitable[Any]], details: Any,
                                    request: Any) -> Any:
        metadata = tuple(details.metadata or ()) + self._metadata
        details = details._replace(metadata=metadata)
        return await continuation(details, request)


def client_channel(address: str, keys: KeyStore, tenant: str, role: str = "region") -> grpc.aio.Channel:
    """A channel to `address` on which every call is made as organisation `tenant` in `role`."""
    return grpc.aio.insecure_channel(address, interceptors=[_BearerToken(keys.token_for(tenant, role))])
