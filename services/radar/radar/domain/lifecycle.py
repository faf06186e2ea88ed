"""After the decision (docs/architecture.md, Case lifecycle): the onderzoek starts (norm: within 5 working days of the
decision) and ends with an outcome within 10 weeks (norm: 80% in time), which ends its deadline; a follow-up of
voorwaarden en vervolg starts monitoring; monitoring ends (stable safety) or is extended, each with a reason.
Pure rules: a refusal names the request field and the rule (InvalidDecision) or the case's state
(LifecycleConflict)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from vtkit import calendar
from vtkit.errors import FailedPrecondition

from radar.domain.cases import CaseRecord, Decision
from radar.domain.decisions import DecisionInput, InvalidDecision, validate

ONDERZOEK_START_WORKING_DAYS = 5
FOLLOW_UPS = frozenset({Decision.VOORWAARDEN_EN_VERVOLG, Decision.OVERDRACHT, Decision.RVDK_REQUEST,
                        Decision.NO_FURTHER_STEPS})
MAX_REASON = 2_000


class LifecycleConflict(FailedPrecondition):
    """The case is not in a state that allows the step (FAILED_PRECONDITION); names the field and the rule."""

    def __init__(self, field: str, reason: str):
        super().__init__(field, reason)


def validate_outcome(outcome: DecisionInput) -> None:
    """The onderzoek's outcome is a decision whose `decision` is the follow-up (request field `follow_up`)."""
    if outcome.decision not in FOLLOW_UPS:
        raise InvalidDecision("follow_up", "required: voorwaarden en vervolg, overdracht, RvdK request or no further "
                                           "steps")
    validate(outcome)


def validate_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidDecision("reason", "required: why monitoring ends or goes on")
    if len(reason) > MAX_REASON:
        raise InvalidDecision("reason", f"at most {MAX_REASON} characters")


def _require_onderzoek(record: CaseRecord) -> None:
    if record.decision is not Decision.ONDERZOEK:
        decided = record.decision.value if record.closed else "not decided yet"
        raise LifecycleConflict("case_id", f"this case has no onderzoek (decision: {decided})")


def check_start(record: CaseRecord) -> None:
    """An onderzoek can be started once decided on, and not after its outcome."""
    _require_onderzoek(record)
    if record.onderzoek_completed_at is not None:
        raise LifecycleConflict("case_id", "the onderzoek of this case has finished already")


def started_within_norm(decided_at: dt.datetime, started_at: dt.datetime) -> bool:
    limit = calendar.add_working_days(calendar.local_date(decided_at), ONDERZOEK_START_WORKING_DAYS)
    return calendar.local_date(started_at) <= limit


def check_outcome(record: CaseRecord, outcome: DecisionInput) -> bool:
    """True: this outcome was recorded before (a retry); raises when the case has no onderzoek or another
    outcome."""
    _require_onderzoek(record)
    if record.onderzoek_completed_at is not None:
        if record.outcome_fingerprint != outcome.fingerprint():
            raise LifecycleConflict("case_id", f"the onderzoek ended already ({record.onderzoek_follow_up.value})")
        return True
    return False


def finished_within_norm(record: CaseRecord, completed_at: dt.datetime) -> bool:
    return record.onderzoek_due_at is not None and completed_at <= record.onderzoek_due_at


def check_monitored(record: CaseRecord, now: dt.datetime) -> None:
    if not record.monitored_at(now):
        raise LifecycleConflict("case_id", "this household is not under monitoring")


def extension_until(record: CaseRecord, until: dt.date | None, now: dt.datetime) -> dt.datetime:
    """The new end of monitoring (end of that Amsterdam day): a later date than the current end, so in the future."""
    if until is None:
        raise InvalidDecision("until", "required: the new end date of monitoring")
    check_monitored(record, now)
    assert record.monitor_until is not None
    current = calendar.local_date(record.monitor_until)
    if until <= current:
        raise InvalidDecision("until", f"must be a later date than the current end ({current})")
    return calendar.end_of_day(until)


# -- sector norms --------------------------------------------------------------------------------------------

ASSESSMENT_NORM = 0.90
ONDERZOEK_NORM = 0.80
NORM_DAYS = 365  # the norm gauges' period: the last 365 Amsterdam days, today included
# How far back radar's index of recently decided cases reaches (radar.open_work): the gauges' period and a month more.
# A period of GetNorms that starts earlier is counted from the whole case table.
RECENT_DAYS = NORM_DAYS + 31


@dataclass(frozen=True)
class Figure:
    total: int
    on_time: int
    norm: float

    @property
    def share(self) -> float:
        return self.on_time / self.total if self.total else 0.0

    @property
    def meets_norm(self) -> bool:
        return self.total == 0 or self.share >= self.norm

    def __add__(self, other: Figure) -> Figure:
        return Figure(self.total + other.total, self.on_time + other.on_time, self.norm)


@dataclass(frozen=True)
class Norms:
    assessments: Figure
    onderzoeken: Figure
    open_assessments: int
    overdue_assessments: int
    open_onderzoeken: int
    overdue_onderzoeken: int

    def __add__(self, other: Norms) -> Norms:
        """The figures of two disjoint sets of cases (two radar workers' partitions) together: they are counts."""
        return Norms(self.assessments + other.assessments, self.onderzoeken + other.onderzoeken,
                     self.open_assessments + other.open_assessments,
                     self.overdue_assessments + other.overdue_assessments,
                     self.open_onderzoeken + other.open_onderzoeken, self.overdue_onderzoeken + other.overdue_onderzoeken)


@dataclass(frozen=True)
class Decided:
    """What the norms count of a case's decision and of its onderzoek's outcome, and the last day they count it by
    (the later of the two, Amsterdam date). Radar's index of recent decisions holds it per case (radar.open_work), so the
    figures of a recent period need no case record."""
    tenant_id: str
    case_id: str
    due_at: dt.datetime | None
    closed_at: dt.datetime | None
    onderzoek_due_at: dt.datetime | None
    onderzoek_completed_at: dt.datetime | None
    day: dt.date

    @classmethod
    def of(cls, case: CaseRecord) -> Decided | None:
        """None while the case has neither a decision nor an onderzoek outcome."""
        days = [calendar.local_date(moment) for moment in (case.closed_at, case.onderzoek_completed_at) if moment]
        if not days:
            return None
        return cls(case.tenant_id, case.case_id, case.due_at, case.closed_at, case.onderzoek_due_at,
                   case.onderzoek_completed_at, max(days))

    def to_dict(self) -> dict[str, str | None]:
        moments = {"due_at": self.due_at, "closed_at": self.closed_at, "onderzoek_due_at": self.onderzoek_due_at,
                   "onderzoek_completed_at": self.onderzoek_completed_at}
        return {"day": self.day.isoformat(), "tenant_id": self.tenant_id, "case_id": self.case_id,
                **{name: moment.isoformat() if moment else None for name, moment in moments.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decided:
        def moment(name: str) -> dt.datetime | None:
            return dt.datetime.fromisoformat(data[name]) if data.get(name) else None

        return cls(data["tenant_id"], data["case_id"], moment("due_at"), moment("closed_at"), moment("onderzoek_due_at"),
                   moment("onderzoek_completed_at"), dt.date.fromisoformat(data["day"]))


def norms(cases: list[CaseRecord], tenant: str, first: dt.date, last: dt.date, now: dt.datetime) -> Norms:
    """The region's figures: decisions and onderzoek outcomes whose Amsterdam date lies in [first, last], and
    what is open and overdue now."""
    return norms_of(cases, [d for c in cases if (d := Decided.of(c)) is not None], tenant, first, last, now)


def norms_of(open_cases: Iterable[CaseRecord], decided: Iterable[Decided], tenant: str, first: dt.date, last: dt.date,
             now: dt.datetime) -> Norms:
    """`norms` from its two sources: the open and overdue counts from the cases (only those with open work count),
    the period's figures from what was decided (radar reads the first from its index of open work, the second from
    its index of recent decisions)."""
    def in_period(moment: dt.datetime | None) -> bool:
        return moment is not None and first <= calendar.local_date(moment) <= last

    own = [d for d in decided if d.tenant_id == tenant and d.due_at is not None]
    decisions = [d for d in own if in_period(d.closed_at)]
    finished = [d for d in own if d.onderzoek_due_at is not None and in_period(d.onderzoek_completed_at)]
    pending = [c for c in open_cases if c.tenant_id == tenant and c.due_at is not None]
    open_assessments = [c for c in pending if not c.closed]
    open_onderzoeken = [c for c in pending if c.onderzoek_open]
    return Norms(
        assessments=Figure(len(decisions), sum(1 for d in decisions if d.closed_at and d.due_at and d.closed_at <= d.due_at),
                           ASSESSMENT_NORM),
        onderzoeken=Figure(len(finished), sum(1 for d in finished if d.onderzoek_completed_at and d.onderzoek_due_at
                                              and d.onderzoek_completed_at <= d.onderzoek_due_at), ONDERZOEK_NORM),
        open_assessments=len(open_assessments),
        overdue_assessments=sum(1 for c in open_assessments if c.due_at and now > c.due_at),
        open_onderzoeken=len(open_onderzoeken),
        overdue_onderzoeken=sum(1 for c in open_onderzoeken if c.onderzoek_due_at and now > c.onderzoek_due_at))


def counts_for_norms(case: CaseRecord, first: dt.date) -> bool:
    """Whether `norms` over a period from `first` up to today can count this case: it is open (undecided or an
    onderzoek running), or it was decided or its onderzoek ended on or after `first`. The others change no figure."""
    def since_first(moment: dt.datetime | None) -> bool:
        return moment is not None and calendar.local_date(moment) >= first

    return case.has_open_work or since_first(case.closed_at) or since_first(case.onderzoek_completed_at)


# The stored dates are compared as text: an ISO moment's date in its own offset lies within a day of its Amsterdam
# date, so a margin of two days never leaves out a case that counts.
_SIEVE_MARGIN = dt.timedelta(days=2)


def may_count_for_norms(row: Mapping[str, Any], first: dt.date, last: dt.date | None = None) -> bool:
    """Whether a stored case (CaseRecord.to_dict) may change `norms` over [first, last] (None: up to today), read
    from its text without decoding it: False only when it cannot. A sieve before CaseRecord.from_dict when the whole
    case table is read (ten years of cases are mostly decided long ago); `norms` and `counts_for_norms` decide."""
    closed, completed = row.get("closed_at"), row.get("onderzoek_completed_at")
    if not closed or (row.get("onderzoek_due_at") and not completed):
        return True  # undecided, or an onderzoek without its outcome
    if row.get("decision") == Decision.ONDERZOEK.value and not completed and not row.get("episode_case_id"):
        return True  # an onderzoek of its own is running
    low = (first - _SIEVE_MARGIN).isoformat()
    high = (last + _SIEVE_MARGIN).isoformat() if last is not None else "9999"
    return any(isinstance(moment, str) and low <= moment[:10] <= high for moment in (closed, completed))
