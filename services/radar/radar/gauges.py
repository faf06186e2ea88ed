"""Radar's gauges on /metrics: deadlines per region (from the open cases) and the sector norms over the last 365 days
(from the open cases and the index of recent decisions, radar.open_work). No case or person ids in labels."""

from __future__ import annotations

import datetime as dt

from vtkit import metrics
from vtkit.calendar import local_date

from radar.domain.cases import CaseRecord
from radar.domain.lifecycle import NORM_DAYS, Decided, norms_of


def deadline_counts(cases: list[CaseRecord], now: dt.datetime) -> dict[tuple[str, str, str], int]:
    """(kind, region, state) -> how many assessments (undecided) and onderzoeken (without outcome) are pending, due
    today (Amsterdam) or overdue. Only open cases have such a deadline (radar.open_work)."""
    today = local_date(now)
    counts: dict[tuple[str, str, str], int] = {}
    for case in cases:
        deadlines = []
        if case.due_at is not None and not case.closed:
            deadlines.append(("assessment", case.due_at))
        if case.onderzoek_due_at is not None and case.onderzoek_completed_at is None:
            deadlines.append(("onderzoek", case.onderzoek_due_at))
        for kind, due in deadlines:
            state = "overdue" if now > due else "due_today" if local_date(due) == today else "pending"
            counts[(kind, case.tenant_id, state)] = counts.get((kind, case.tenant_id, state), 0) + 1
    return counts


def record_deadline_gauges(cases: list[CaseRecord], now: dt.datetime) -> None:
    """The deadline counts per region, for /metrics."""
    metrics.DEADLINES.clear()
    for (kind, tenant, state), count in deadline_counts(cases, now).items():
        metrics.DEADLINES.labels(kind, tenant, state).set(count)


def record_norm_gauges(open_cases: list[CaseRecord], decided: list[Decided], now: dt.datetime) -> None:
    """The sector norms per region over the last 365 days (no case or person ids in labels), from the open cases and
    what was decided (lifecycle.norms_of)."""
    open_by_tenant: dict[str, list[CaseRecord]] = {}
    decided_by_tenant: dict[str, list[Decided]] = {}
    for case in open_cases:
        open_by_tenant.setdefault(case.tenant_id, []).append(case)
    for fact in decided:
        decided_by_tenant.setdefault(fact.tenant_id, []).append(fact)
    last = local_date(now)
    for tenant in open_by_tenant.keys() | decided_by_tenant.keys():
        figures = norms_of(open_by_tenant.get(tenant, []), decided_by_tenant.get(tenant, []), tenant,
                           last - dt.timedelta(days=NORM_DAYS - 1), last, now)
        for name, figure in (("assessment_in_time", figures.assessments), ("onderzoek_in_time", figures.onderzoeken)):
            if figure.total:
                metrics.NORM_SHARE.labels(tenant, name).set(round(figure.share, 4))
