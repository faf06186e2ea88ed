"""Abuse protection of the public form: how many submissions one client address, and the whole region, may send
(a token bucket each). One person reports once or twice; 200 acute meldingen from one client in a second are not a
person, and must not bury the real ones. Pure Python on an injected clock, so tests need no waiting.

`request.remote` is the client address as the server sees it: behind an ingress that is the proxy, so a deployment
must pass the client's address through (the ingress does; see deploy/k8s) or the per-address limit becomes a
per-proxy one."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class TokenBuckets:
    """`capacity` submissions at once per key, refilled at `capacity` per `period` seconds."""

    def __init__(self, capacity: int, period: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 100_000):
        if capacity < 1 or period <= 0:
            raise ValueError("a limit needs a capacity of at least 1 and a positive period")
        self.capacity, self.rate, self.clock, self.max_keys = capacity, capacity / period, clock, max_keys
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str) -> float:
        """Takes one submission for `key`: 0 when allowed, else the seconds until the next one is."""
        now = self.clock()
        bucket = self._buckets.get(key) or _Bucket(float(self.capacity), now)
        bucket.tokens = min(float(self.capacity), bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        self._buckets[key] = bucket
        if len(self._buckets) > self.max_keys:  # forget the oldest keys (a flood of addresses must not grow memory)
            for old in list(self._buckets)[: len(self._buckets) - self.max_keys]:
                del self._buckets[old]
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate


@dataclass(frozen=True)
class FormLimits:
    """Per client address and per region; `refused` says which limit refused and for how long.

    A submission without a solved proof of work (intake.web.friction: no JavaScript, or a bot that skips the
    work) first takes from the stricter `unproven_*` buckets, then from the ordinary ones too, so the region's
    overall limit holds for both."""
    per_address: TokenBuckets
    per_region: TokenBuckets
    unproven_per_address: TokenBuckets | None = None
    unproven_per_region: TokenBuckets | None = None

    def refused(self, address: str, proven: bool = True) -> tuple[str, float] | None:
        if not proven:
            if self.unproven_per_address is not None and (wait := self.unproven_per_address.take(address)):
                return "address_unproven", wait
            if self.unproven_per_region is not None and (wait := self.unproven_per_region.take("region")):
                return "region_unproven", wait
        wait = self.per_address.take(address)
        if wait:
            return "address", wait
        wait = self.per_region.take("region")
        if wait:
            return "region", wait
        return None
