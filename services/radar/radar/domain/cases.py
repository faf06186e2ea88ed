"""What radar remembers per case (keyed by case id): whose it is, which persons
(by pseudonym) it concerns, its assessment deadline and its decision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from radar.domain.deadlines import onderzoek_deadline

# Households under safety conditions are followed about 1.5 years on average (docs/domain.md section 4).
DEFAULT_MONITORING_DAYS = 548


class Decision(StrEnum):
    """Outcome of the veiligheidsbeoordeling (CBS categories)."""

    UNSPECIFIED = "unspecified"
    ONDERZOEK = "onderzoek"
    VOORWAARDEN_EN_VERVOLG = "voorwaarden_en_vervolg"
    OVERDRACHT = "overdracht"
    NO_FURTHER_STEPS = "no_further_steps"
    REGIONAL_MAATWERK = "regional_maatwerk"
    RVDK_REQUEST = "rvdk_request"


class DeadlineKind(StrEnum):
    ASSESSMENT = "assessment"
    ONDERZOEK = "onderzoek"


@dataclass(frozen=True)
class OverdueDeadline:
    case_id: str
    kind: DeadlineKind
    due_at: dt.datetime


# Decisions after which VT itself keeps watch on the household (the monitor function).
MONITORED_DECISIONS = frozenset({Decision.VOORWAARDEN_EN_VERVOLG})


def monitoring_until(decision: Decision, decided_at: dt.datetime,
                     days: int = DEFAULT_MONITORING_DAYS) -> dt.datetime | None:
    return decided_at + dt.timedelta(days=days) if decision in MONITORED_DECISIONS else None


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _from_iso(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


@dataclass
class CaseRecord:
    tenant_id: str
    case_id: str
    due_at: dt.datetime | None = None  # None: the decision arrived before the melding itself
    # person id within the case -> pseudonym
    persons: dict[str, str] = field(default_factory=dict)
    # The AssessmentDue as emitted, opaque to the domain (adapter-encoded).
    due: str = ""
    closed_at: dt.datetime | None = None
    decision: Decision = Decision.UNSPECIFIED
    monitor_until: dt.datetime | None = None
    overdue_reported: bool = False
    # Decision ONDERZOEK: its 10-week deadline, and whether radar reported it overdue.
    onderzoek_due_at: dt.datetime | None = None
    onderzoek_overdue_reported: bool = False
    # Set when the decision came through RecordDecision: tells a retry from a different decision.
    decision_fingerprint: str = ""
    decision_event_id: str = ""
    # The onderzoek's life: started, and its outcome (which ends the 10-week deadline).
    onderzoek_started_at: dt.datetime | None = None
    onderzoek_completed_at: dt.datetime | None = None
    onderzoek_follow_up: Decision = Decision.UNSPECIFIED
    # The decision's judgement and who carries responsibility for safety, for a melding joining a running onderzoek.
    judgement: str = ""
    responsible_for_safety: str = ""
    outcome_fingerprint: str = ""
    outcome_event_id: str = ""
    # The household episode (docs/architecture.md, Case lifecycle): the later meldingen that joined this open
    # assessment, which its decision covers; and, on such a melding once decided with its episode, the episode's case.
    episode_members: list[str] = field(default_factory=list)
    episode_case_id: str = ""
    # The household's dossier (intake's MeldingReceived.dossier_id): its key protects what radar adds about the
    # case. "" for a case known before dossiers were recorded: its own id (a melding that opened its dossier).
    dossier_id: str = ""

    @property
    def dossier(self) -> str:
        return self.dossier_id or self.case_id

    @property
    def onderzoek_open(self) -> bool:
        """This case's own onderzoek runs (a melding that joined an episode has none of its own)."""
        return (self.decision is Decision.ONDERZOEK and self.onderzoek_completed_at is None
                and not self.episode_case_id)

    def monitored_at(self, now: dt.datetime) -> bool:
        return self.monitor_until is not None and self.monitor_until > now

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    @property
    def has_open_work(self) -> bool:
        """Something of this case can still fall due: its assessment (undecided; an episode's members are listed on
        it) or its onderzoek (a 10-week deadline without an outcome). What is_overdue, is_onderzoek_overdue,
        overdue_deadlines and joined_meldingen can find only on such a case, so radar's index of open work
        (radar.app, `open_cases`) holds exactly these (docs/architecture.md, "Case lifecycle")."""
        onderzoek_pending = self.onderzoek_due_at is not None and self.onderzoek_completed_at is None
        return not self.closed or onderzoek_pending or self.onderzoek_open

    def belongs_to(self, tenant: str) -> bool:
        return self.tenant_id == tenant and self.due_at is not None

    def is_overdue(self, now: dt.datetime) -> bool:
        """Past its deadline without a decision and not reported yet."""
        return self.due_at is not None and not self.closed and not self.overdue_reported and now > self.due_at

    def is_onderzoek_overdue(self, now: dt.datetime) -> bool:
        """An onderzoek past its 10-week deadline, without an outcome and not reported yet."""
        return (self.onderzoek_due_at is not None and self.onderzoek_completed_at is None
                and not self.onderzoek_overdue_reported and now > self.onderzoek_due_at)

    def overdue_deadlines(self, now: dt.datetime) -> list[OverdueDeadline]:
        """Every deadline of this case that has passed, reported or not (for listing)."""
        out = []
        if self.due_at is not None and not self.closed and now > self.due_at:
            out.append(OverdueDeadline(self.case_id, DeadlineKind.ASSESSMENT, self.due_at))
        if self.onderzoek_due_at is not None and self.onderzoek_completed_at is None and now > self.onderzoek_due_at:
            out.append(OverdueDeadline(self.case_id, DeadlineKind.ONDERZOEK, self.onderzoek_due_at))
        return out

    def join(self, member: str, member_due_at: dt.datetime | None) -> bool:
        """A melding joins this open assessment (due then at the earliest deadline of its meldingen) or running
        onderzoek. False when there is nothing to change (decided and no onderzoek running, or joined before)."""
        if (self.closed and not self.onderzoek_open) or member in self.episode_members or member == self.case_id:
            return False
        self.episode_members.append(member)
        if not self.closed and member_due_at is not None and self.due_at is not None and member_due_at < self.due_at:
            self.due_at = member_due_at
        return True

    def close(self, decided_at: dt.datetime, decision: Decision, monitoring_days: int = DEFAULT_MONITORING_DAYS,
              fingerprint: str = "", event_id: str = "", episode_case_id: str = "") -> None:
        self.closed_at = decided_at
        self.decision = decision
        self.monitor_until = monitoring_until(decision, decided_at, monitoring_days)
        # A joined melding's onderzoek is its episode's: no second 10-week deadline.
        self.episode_case_id = episode_case_id
        self.onderzoek_due_at = (onderzoek_deadline(decided_at).due_at
                                 if decision is Decision.ONDERZOEK and not episode_case_id else None)
        self.decision_fingerprint = fingerprint
        self.decision_event_id = event_id

    def to_dict(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "case_id": self.case_id, "due_at": _iso(self.due_at),
                "persons": dict(self.persons), "due": self.due, "closed_at": _iso(self.closed_at),
                "decision": self.decision.value, "monitor_until": _iso(self.monitor_until),
                "overdue_reported": self.overdue_reported, "onderzoek_due_at": _iso(self.onderzoek_due_at),
                "onderzoek_overdue_reported": self.onderzoek_overdue_reported,
                "decision_fingerprint": self.decision_fingerprint, "decision_event_id": self.decision_event_id,
                "onderzoek_started_at": _iso(self.onderzoek_started_at),
                "onderzoek_completed_at": _iso(self.onderzoek_completed_at),
                "onderzoek_follow_up": self.onderzoek_follow_up.value, "outcome_fingerprint": self.outcome_fingerprint,
                "outcome_event_id": self.outcome_event_id, "episode_members": list(self.episode_members),
                "episode_case_id": self.episode_case_id, "dossier_id": self.dossier_id, "judgement": self.judgement,
                "responsible_for_safety": self.responsible_for_safety}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CaseRecord":
        """Read back what to_dict wrote (fields added later take their defaults in older rows)."""
        times = ("due_at", "closed_at", "monitor_until", "onderzoek_due_at", "onderzoek_started_at",
                 "onderzoek_completed_at")
        decisions = ("decision", "onderzoek_follow_up")
        known = {f.name for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            if name in times:
                value = _from_iso(value)
            elif name in decisions:
                value = Decision(value or "unspecified")
            elif name in ("persons",):
                value = dict(value)
            elif name == "episode_members":
                value = list(value)
            values[name] = value
        return cls(**values)


def joined_meldingen(cases: Iterable[CaseRecord]) -> dict[str, str]:
    """Undecided meldingen that joined an open assessment of their household -> that assessment's case: they have no
    deadline and no decision of their own (the episode's cover them)."""
    return {member: case.case_id for case in cases if not case.closed for member in case.episode_members}
