"""The deadline gauges radar exposes on /metrics: pending, due today and overdue per region."""

from __future__ import annotations

import datetime as dt

from radar.domain.cases import CaseRecord
from radar.gauges import record_deadline_gauges
from vtkit import metrics


def value(kind: str, tenant: str, state: str) -> float:
    return metrics.DEADLINES.labels(kind, tenant, state)._value.get()  # noqa: SLF001 (the gauge's current value)


def test_deadlines_are_counted_per_region_and_state() -> None:
    now = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)
    cases = [
        CaseRecord("zeeland", "late", now - dt.timedelta(days=1)),
        CaseRecord("zeeland", "today", now + dt.timedelta(hours=8)),
        CaseRecord("zeeland", "later", now + dt.timedelta(days=4)),
        CaseRecord("twente", "late-too", now - dt.timedelta(days=3)),
    ]
    record_deadline_gauges(cases, now)
    assert value("assessment", "zeeland", "overdue") == 1
    assert value("assessment", "zeeland", "due_today") == 1
    assert value("assessment", "zeeland", "pending") == 1
    assert value("assessment", "twente", "overdue") == 1
