"""What radar remembers per case (keyed by case id): whose it is, which persons
(by pseudonym) it concerns, its assessment deadline and its decision."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Households under safety conditions are followed about 1.5 years on average (domain.md section 4).
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

    @property
    def closed(self) -> bool:
        return self.closed_at is not None

    def belongs_to(self, tenant: str) -> bool:
        return self.tenant_id == tenant and self.due_at is not None

    def is_overdue(self, now: dt.datetime) -> bool:
        """Past its deadline without a decision and not reported yet."""
        return self.due_at is not None and not self.closed and not self.overdue_reported and now > self.due_at

    def close(self, decided_at: dt.datetime, decision: Decision, monitoring_days: int = DEFAULT_MONITORING_DAYS) -> None:
        self.closed_at = decided_at
        self.decision = decision
        self.monitor_until = monitoring_until(decision, decided_at, monitoring_days)

    def to_dict(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "case_id": self.case_id, "due_at": _iso(self.due_at),
                "persons": dict(self.persons), "due": self.due, "closed_at": _iso(self.closed_at),
                "decision": self.decision.value, "monitor_until": _iso(self.monitor_until),
                "overdue_reported": self.overdue_reported}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CaseRecord":
        return cls(data["tenant_id"], data["case_id"], _from_iso(data.get("due_at")), dict(data.get("persons", {})),
                   data.get("due", ""), _from_iso(data.get("closed_at")), Decision(data.get("decision", "unspecified")),
                   _from_iso(data.get("monitor_until")), bool(data.get("overdue_reported", False)))
