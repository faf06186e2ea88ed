"""Client channels that carry an organisation's identity.

Every gRPC client in the suite (services calling each other, tests, demo, load generator)
opens its channel here, so how an organisation proves who it is lives in one place: its client
certificate from `<key_dir>/pki/clients/<tenant>/<role>.pem` over mutual TLS (vtkit.pki). Only
with the dev flag VT_GRPC_PLAINTEXT=1 is the channel plaintext with the organisation's bearer token.
Every unary call on such a channel is counted and timed (vt_grpc_client_*) and, with tracing on, carries the
trace context in its metadata (vtkit.grpcobs).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc

from vtkit import pki
from vtkit.auth import bearer_metadata, plaintext_enabled
from vtkit.grpcobs import ClientObservability
from vtkit.keystore import KeyStore

S = TypeVar("S")


class _BearerToken(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, token: str):
        self._metadata = bearer_metadata(token)

    async def intercept_unary_unary(self, continuation: Callable[..., Awaitable[Any]], details: Any,
                                    request: Any) -> Any:
        metadata = tuple(details.metadata or ()) + self._metadata
        details = details._replace(metadata=metadata)
        return await continuation(details, request)


@functools.lru_cache(maxsize=256)
def _credentials(key_dir: str, tenant: str, role: str) -> grpc.ChannelCredentials:
    # Read once per identity: a load generator opens many channels.
    cert, key = pki.client_pair(key_dir, tenant, role)
    return grpc.ssl_channel_credentials(root_certificates=pki.ca_pem(key_dir), private_key=key,
                                        certificate_chain=cert)


def client_channel(address: str, keys: KeyStore, tenant: str, role: str = "region",
                   server_name: str = "") -> grpc.aio.Channel:
    """A channel to `address` on which every call is made as organisation `tenant` in `role`. `server_name`: the
    name the server's certificate must hold when `address` is not one of them (one pod of several, by its IP)."""
    if plaintext_enabled():
        return grpc.aio.insecure_channel(address, interceptors=[ClientObservability(),
                                                                _BearerToken(keys.token_for(tenant, role))])
    options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
    return grpc.aio.secure_channel(address, _credentials(str(keys.root.resolve()), tenant, role), options=options,
                                   interceptors=[ClientObservability()])



def server_probe_channel(address: str, key_dir: str, server_name: str) -> grpc.aio.Channel:
    """A channel presenting server `server_name`'s own certificate: what a pod's health probe holds. It
    names no organisation, so servers answer health and reflection on it and refuse every service RPC."""
    if plaintext_enabled():
        return grpc.aio.insecure_channel(address)
    cert, key = pki.server_pair(key_dir, server_name)
    return grpc.aio.secure_channel(address, grpc.ssl_channel_credentials(
        root_certificates=pki.ca_pem(key_dir), private_key=key, certificate_chain=cert))


@dataclass(frozen=True)
class Org:
    """An organisation identity to call as, for helpers that open a channel per call (tests, demo)."""

    keys: KeyStore
    tenant: str
    role: str = "region"

    def channel(self, address: str) -> grpc.aio.Channel:
        return client_channel(address, self.keys, self.tenant, self.role)


class OrgStubs(Generic[S]):
    """Stubs of one service at `address`, one channel per organisation: for tests and tools that act
    as several organisations in turn (with mTLS the identity belongs to the channel, not the call)."""

    def __init__(self, address: str, keys: KeyStore, stub_class: Callable[[grpc.aio.Channel], S]):
        self.address, self.keys, self.stub_class = address, keys, stub_class
        self._open: dict[tuple[str, str], tuple[grpc.aio.Channel, S]] = {}

    def __call__(self, tenant: str, role: str = "region") -> S:
        if (tenant, role) not in self._open:
            channel = client_channel(self.address, self.keys, tenant, role)
            self._open[tenant, role] = (channel, self.stub_class(channel))
        return self._open[tenant, role][1]

    async def close(self) -> None:
        for channel, _ in self._open.values():
            await channel.close()
        self._open.clear()

    async def __aenter__(self) -> "OrgStubs[S]":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
