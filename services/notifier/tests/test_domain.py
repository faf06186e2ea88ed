"""Unit tests of the pure domain: key derivation, backoff, state transitions, overdue."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from notifier.domain import (
    AttemptOutcome,
    BackoffPolicy,
    Delivery,
    DeliveryKind,
    DeliveryState,
    delivery_key,
    judge_attempt,
)

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_key_is_sha256_of_cause_and_kind() -> None:
    expected = hashlib.sha256(b"evt-1:MELDER_CALLBACK").hexdigest()
    assert delivery_key("evt-1", DeliveryKind.MELDER_CALLBACK) == expected
    assert len(expected) == 64


def test_key_is_stable_and_separates_events_and_kinds() -> None:
    assert delivery_key("evt-1", DeliveryKind.MELDER_CALLBACK) == delivery_key("evt-1", DeliveryKind.MELDER_CALLBACK)
    assert delivery_key("evt-1", DeliveryKind.MELDER_CALLBACK) != delivery_key("evt-2", DeliveryKind.MELDER_CALLBACK)
    assert delivery_key("evt-1", DeliveryKind.MELDER_CALLBACK) != delivery_key("evt-1", DeliveryKind.HOUSEHOLD_LETTER)


def test_key_needs_a_cause() -> None:
    with pytest.raises(ValueError):
        delivery_key("", DeliveryKind.MELDER_CALLBACK)


@pytest.mark.parametrize(("attempts", "low", "high"), [(1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (5, 8.0, 16.0)])
def test_backoff_doubles_with_equal_jitter(attempts: int, low: float, high: float) -> None:
    policy = BackoffPolicy(base_seconds=1.0, max_attempts=8)
    assert policy.delay(attempts, 0.0) == low
    assert policy.delay(attempts, 1.0) == high
    assert low <= policy.delay(attempts, 0.37) <= high


def test_backoff_is_capped() -> None:
    policy = BackoffPolicy(base_seconds=1.0, max_attempts=50, max_delay_seconds=600)
    assert policy.delay(40, 1.0) == 600
    assert policy.delay(40, 0.0) == 300


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        BackoffPolicy(base_seconds=0)
    with pytest.raises(ValueError):
        BackoffPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        BackoffPolicy().delay(0, 0.5)
    with pytest.raises(ValueError):
        BackoffPolicy().delay(1, 1.5)


def test_backoff_exhausted_at_max_attempts() -> None:
    policy = BackoffPolicy(max_attempts=3)
    assert not policy.exhausted(2)
    assert policy.exhausted(3)


POLICY = BackoffPolicy(base_seconds=2.0, max_attempts=3)


def test_ok_attempt_delivers() -> None:
    assert judge_attempt(AttemptOutcome.OK, 1, POLICY, NOW, 0.5).state is DeliveryState.DELIVERED


def test_transient_failure_is_retried_later() -> None:
    verdict = judge_attempt(AttemptOutcome.TRANSIENT, 2, POLICY, NOW, 0.0, "UNAVAILABLE: down")
    assert verdict.state is DeliveryState.PENDING
    assert verdict.next_attempt_at == NOW + dt.timedelta(seconds=2.0)
    assert verdict.reason == "UNAVAILABLE: down"


def test_transient_failure_at_max_attempts_fails_not_permanently() -> None:
    verdict = judge_attempt(AttemptOutcome.TRANSIENT, 3, POLICY, NOW, 0.5, "UNAVAILABLE: down")
    assert verdict.state is DeliveryState.FAILED
    assert not verdict.permanent
    assert "3 attempts" in verdict.reason and "UNAVAILABLE" in verdict.reason


def test_permanent_failure_fails_at_once() -> None:
    verdict = judge_attempt(AttemptOutcome.PERMANENT, 1, POLICY, NOW, 0.5, "INVALID_ARGUMENT: bad")
    assert verdict.state is DeliveryState.FAILED and verdict.permanent


def _delivery(**changes: object) -> Delivery:
    base = Delivery(key="k", kind=DeliveryKind.MELDER_CALLBACK, tenant_id="utrecht", case_id="c", cause_event_id="e",
                    due_date=dt.date(2026, 3, 6), created_at=NOW, deliver_after=NOW, body=b"")
    return Delivery(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_claim_marks_in_flight_with_a_lease_and_counts_the_attempt() -> None:
    claimed = _delivery().claimed(NOW, dt.timedelta(seconds=15))
    assert claimed.state is DeliveryState.IN_FLIGHT
    assert claimed.attempts == 1
    assert claimed.next_attempt_at == NOW + dt.timedelta(seconds=15)
    # An in-flight row whose process died may be claimed again (same key, next attempt).
    assert claimed.claimed(NOW, dt.timedelta(seconds=15)).attempts == 2


@pytest.mark.parametrize("state", [DeliveryState.DELIVERED, DeliveryState.FAILED])
def test_settled_delivery_cannot_be_claimed(state: DeliveryState) -> None:
    with pytest.raises(ValueError):
        _delivery(state=state).claimed(NOW, dt.timedelta(seconds=1))


def test_overdue_only_after_the_due_date_and_while_open() -> None:
    d = _delivery()
    assert not d.overdue(dt.date(2026, 3, 6))  # the due date itself is still on time
    assert d.overdue(dt.date(2026, 3, 7))
    assert _delivery(state=DeliveryState.IN_FLIGHT).overdue(dt.date(2026, 3, 9))
    assert not _delivery(state=DeliveryState.DELIVERED).overdue(dt.date(2026, 3, 9))
    assert not _delivery(due_date=None).overdue(dt.date(2030, 1, 1))


def test_domain_imports_no_wire_or_io_library() -> None:
    import ast
    import pathlib

    import notifier.domain

    forbidden = ("grpc", "aiokafka", "google", "vt", "sqlite3", "faust")
    for path in pathlib.Path(notifier.domain.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.name} imports {name}"
