"""Which radar worker owns a case, and the calls to the other workers (docs/architecture.md, "Radar with two
workers").

Radar's workers split the partitions of its input topics and tables (faust's assignor). Each advertises the
address its gRPC service is reached at as faust's `canonical_url`, so the assignment every worker receives maps each
partition of the case table's changelog to the address of the worker that owns it. faust's own router
(`app.router.key_store`) is not used: it places a key by its JSON form, while intake keys a case's records by the
bare case id (radar.open_work.partition_of).

A call to another worker is made with radar's own client certificate (national/radar) and names the caller it is
made for (vtkit.auth.ON_BEHALF_HEADER); only radar's server believes that header, and only from that certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import grpc
from vt.radar.v1 import radar_peer_service_pb2_grpc, radar_service_pb2_grpc
from vtkit.auth import Caller, on_behalf_metadata
from vtkit.channels import client_channel
from vtkit.keystore import KeyStore
from vtkit.pki import NATIONAL_TENANT

from radar.open_work import partition_of

# The identity radar's workers call each other with, and the name on their server certificate.
PEER = (NATIONAL_TENANT, "radar")
SERVER_NAME = "radar"
# A forwarded call waits at most this long for the owner (a case system retries UNAVAILABLE).
FORWARD_TIMEOUT = 10.0


class Assignment(Protocol):
    def tables_metadata(self) -> Mapping[str, Mapping[str, list[int]]]:
        """faust's changelog distribution: worker URL -> changelog topic -> its active partitions."""


class _NoAssignment:
    def tables_metadata(self) -> Mapping[str, Mapping[str, list[int]]]:
        return {}


def address_of(url: str) -> str:
    """"grpc://10.1.2.3:50051" -> "10.1.2.3:50051"."""
    return url.split("://", 1)[-1].rstrip("/")


class Workers:
    """The other radar workers of this one's consumer group, as the last assignment names them."""

    def __init__(self, assignment: Assignment, changelog: str, partitions: int, own_url: str,
                 keys: KeyStore | None):
        self.assignment = assignment
        self.changelog = changelog
        self.partitions = partitions
        self.own_url = own_url
        self.keys = keys
        self._channels: dict[str, grpc.aio.Channel] = {}

    @classmethod
    def alone(cls) -> Workers:
        """A worker that never has others (tests of one worker's behaviour): it owns every case."""
        return cls(_NoAssignment(), "", 1, "", None)

    def _owners(self) -> dict[int, str]:
        return {partition: url for url, topics in self.assignment.tables_metadata().items()
                for partition in topics.get(self.changelog, ())}

    def owner_of(self, case_id: str) -> str | None:
        """The address of the other worker that owns the case, or None: this worker owns it, or the assignment
        names no other worker (alone, or not assigned yet)."""
        url = self._owners().get(partition_of(case_id, self.partitions))
        return address_of(url) if url is not None and url != self.own_url else None

    def others(self) -> list[str]:
        """The addresses of the other workers that own partitions now."""
        return sorted({address_of(url) for url in self._owners().values() if url != self.own_url})

    def own_partitions(self) -> frozenset[int] | None:
        """The partitions whose cases a list read here counts (a standby copy of another worker's is that worker's to
        count); None: every case, while the assignment names no other worker."""
        owners = self._owners()
        if not any(url != self.own_url for url in owners.values()):
            return None
        return frozenset(partition for partition, url in owners.items() if url == self.own_url)

    def _channel(self, address: str) -> grpc.aio.Channel:
        if address not in self._channels:
            assert self.keys is not None, "a worker alone calls no other"
            self._channels[address] = client_channel(address, self.keys, *PEER, server_name=SERVER_NAME)
        return self._channels[address]

    async def forward(self, address: str, method: str, request: Any, who: Caller, within: float | None) -> Any:
        """RadarService.`method` at the worker at `address`, for `who`, within the caller's remaining time."""
        stub = radar_service_pb2_grpc.RadarServiceStub(self._channel(address))
        timeout = FORWARD_TIMEOUT if within is None else min(within, FORWARD_TIMEOUT)
        return await getattr(stub, method)(request, metadata=on_behalf_metadata(who), timeout=timeout)

    def peer(self, address: str) -> radar_peer_service_pb2_grpc.RadarPeerServiceStub:
        return radar_peer_service_pb2_grpc.RadarPeerServiceStub(self._channel(address))

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()
        self._channels.clear()
