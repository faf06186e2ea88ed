"""Retry timing: exponential backoff with jitter, bounded by a maximum number of attempts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BackoffPolicy:
    base_seconds: float = 1.0
    max_attempts: int = 8
    factor: float = 2.0
    # A regional system that is down for hours should still be retried about every ten minutes,
    # not once a day, so the callback task arrives soon after it is back.
    max_delay_seconds: float = 600.0

    def __post_init__(self) -> None:
        if self.base_seconds <= 0 or self.max_attempts < 1 or self.factor < 1:
            raise ValueError(f"invalid backoff policy {self}")

    def delay(self, attempts: int, rand: float) -> float:
        """Seconds to wait after `attempts` failed attempts (>= 1); `rand` in [0, 1).

        Equal jitter: half the exponential delay is fixed, half random. The fixed half keeps a
        struggling receiver from being hammered; the random half spreads the retries of many
        deliveries that failed together (one regional outage) so they do not return in lockstep.
        """
        if attempts < 1:
            raise ValueError("delay is defined after at least one attempt")
        if not 0.0 <= rand <= 1.0:
            raise ValueError("rand must be in [0, 1]")
        raw = min(self.max_delay_seconds, self.base_seconds * self.factor ** (attempts - 1))
        return raw / 2 + raw / 2 * rand

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts
