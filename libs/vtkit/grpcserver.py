"""A gRPC server with health checking, reflection and caller authentication."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from vtkit.auth import TokenAuthInterceptor


class GrpcServer:
    def __init__(self, port: int, tokens: Mapping[str, Mapping[str, str]] | None = None, host: str = "127.0.0.1"):
        interceptors = [TokenAuthInterceptor(tokens)] if tokens is not None else []
        self.server = grpc.aio.server(interceptors=interceptors)
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        self.host = host
        self._service_names: list[str] = [reflection.SERVICE_NAME, health.SERVICE_NAME]

    def add(self, add_to_server: Callable[[Any, Any], None], servicer: Any, full_names: Iterable[str]) -> None:
        add_to_server(servicer, self.server)
        self._service_names.extend(full_names)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        reflection.enable_server_reflection(self._service_names, self.server)
        await self.server.start()
        for name in ["", *self._service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float = 5.0) -> None:
        for name in ["", *self._service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)


async def wait_healthy(address: str, timeout: float = 30.0) -> None:
    """Poll the standard health service until it answers SERVING."""
    import asyncio
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            async with grpc.aio.insecure_channel(address) as channel:
                reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
        except grpc.aio.AioRpcError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{address} not healthy within {timeout}s")
        await asyncio.sleep(0.1)


async def reflected_services(address: str) -> list[str]:
    """The service names a server lists through gRPC reflection (what grpcurl would show)."""
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    async with grpc.aio.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async for reply in stub.ServerReflectionInfo(iter([request]), timeout=5):
            return [s.name for s in reply.list_services_response.service]
    return []
