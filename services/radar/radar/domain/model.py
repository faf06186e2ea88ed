"""What radar knows about one person (keyed by pseudonym) and what it emits.

All timestamps are aware datetimes. PersonHistory round-trips through plain
JSON-able dicts so that it can live in a faust table (changelog) unchanged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# How many processed event ids a person keeps for deduplication. Redeliveries
# arrive within minutes (a restart, a rebalance), so the newest ids suffice.
MAX_PROCESSED_IDS = 1000
# How many verwijsindex matches a person keeps for the assessment input (the newest; a youth with more signals
# than this is well known to the professionals already).
MAX_MATCHES = 50


@dataclass(frozen=True)
class MeldingFact:
    """One person of one melding, as seen by the person agent."""

    tenant_id: str
    case_id: str
    person_id: str
    received_at: dt.datetime
    # The melding's own assessment deadline (absent in signals of older versions).
    due_at: dt.datetime | None = None


@dataclass(frozen=True)
class RvdkFact:
    signal_id: str
    kind: int
    observed_at: dt.datetime
    office: str


@dataclass(frozen=True)
class VerwijsindexMatchFact:
    """A verwijsindex match about the person: only that it happened (no registrant data)."""

    match_id: str
    kind: int
    matched_at: dt.datetime


@dataclass(frozen=True)
class CaseDestroyedFact:
    """The case's dossier was destroyed (Wmo 5.3.5 request or 20-year retention): forget the case."""

    tenant_id: str
    case_id: str


@dataclass(frozen=True)
class CaseClosedFact:
    """The decision on a case was taken; with safety conditions the household stays monitored."""

    tenant_id: str
    case_id: str
    person_id: str
    closed_at: dt.datetime
    monitor_until: dt.datetime | None = None
    # Decided on an onderzoek that has not ended: a later melding about the household joins it.
    onderzoek_open: bool = False


class Trigger(StrEnum):
    """Why a monitored case is alerted."""

    MELDING_SAME_ORGANISATION = "melding_same_organisation"
    MELDING_OTHER_ORGANISATION = "melding_other_organisation"
    RVDK = "rvdk"
    VERWIJSINDEX_MATCH = "verwijsindex_match"


@dataclass(frozen=True)
class InvolvementView:
    """One organisation's involvement as shown to a reader (no case content)."""

    tenant_id: str
    since: dt.datetime
    case_ids: tuple[str, ...] = ()


@dataclass
class Involvement:
    tenant_id: str
    since: dt.datetime
    # case id -> that region's person id within the case, in order of arrival
    cases: dict[str, str] = field(default_factory=dict)

    def latest_case(self) -> tuple[str, str]:
        case_id = next(reversed(self.cases))
        return case_id, self.cases[case_id]


@dataclass(frozen=True)
class OpenCase:
    """A case whose veiligheidsbeoordeling is not decided yet: new information joins it."""

    tenant_id: str
    case_id: str
    person_id: str


@dataclass(frozen=True)
class Monitored:
    """A closed case whose household is followed (Voorwaarden & Vervolg) until `until`."""

    tenant_id: str
    case_id: str
    person_id: str
    until: dt.datetime


@dataclass
class PersonHistory:
    involvements: dict[str, Involvement] = field(default_factory=dict)
    rvdk: list[RvdkFact] = field(default_factory=list)
    open_cases: dict[str, OpenCase] = field(default_factory=dict)
    # Cases decided on an onderzoek that is still running (its outcome not recorded).
    open_onderzoeken: dict[str, OpenCase] = field(default_factory=dict)
    closed_case_ids: list[str] = field(default_factory=list)
    monitored: dict[str, Monitored] = field(default_factory=dict)
    processed: list[str] = field(default_factory=list)
    # Verwijsindex matches about the person: only that one happened, its kind and when (no registrant data).
    verwijsindex_matches: list[VerwijsindexMatchFact] = field(default_factory=list)
    # Processed event id -> the matches and alerts it gave, for as long as the id is in `processed`: a signal read
    # again after a broker loss emits them again as they were (docs/architecture.md, "Broker loss").
    notices: dict[str, Notices] = field(default_factory=dict)

    def seen(self, event_id: str) -> bool:
        return event_id in self.processed

    def mark_processed(self, event_id: str) -> None:
        self.processed.append(event_id)
        for forgotten in self.processed[:-MAX_PROCESSED_IDS]:
            self.notices.pop(forgotten, None)
        del self.processed[:-MAX_PROCESSED_IDS]

    def to_dict(self) -> dict[str, Any]:
        return {
            "involvements": [
                {"tenant_id": i.tenant_id, "since": i.since.isoformat(), "cases": [[c, p] for c, p in i.cases.items()]}
                for i in self.involvements.values()
            ],
            "rvdk": [_rvdk_to(r) for r in self.rvdk],
            "open_cases": [[o.tenant_id, o.case_id, o.person_id] for o in self.open_cases.values()],
            "open_onderzoeken": [[o.tenant_id, o.case_id, o.person_id] for o in self.open_onderzoeken.values()],
            "closed_case_ids": list(self.closed_case_ids),
            "monitored": [[m.tenant_id, m.case_id, m.person_id, m.until.isoformat()] for m in self.monitored.values()],
            "processed": list(self.processed),
            "verwijsindex_matches": [_match_fact_to(m) for m in self.verwijsindex_matches],
            "notices": {event_id: n.to_dict() for event_id, n in self.notices.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "PersonHistory":
        if not data:
            return cls()
        involvements = {}
        for row in data.get("involvements", []):
            inv = Involvement(row["tenant_id"], dt.datetime.fromisoformat(row["since"]), {c: p for c, p in row["cases"]})
            involvements[inv.tenant_id] = inv
        return cls(
            involvements=involvements,
            rvdk=[_rvdk_from(r) for r in data.get("rvdk", [])],
            open_cases={c: OpenCase(t, c, p) for t, c, p in data.get("open_cases", [])},
            open_onderzoeken={c: OpenCase(t, c, p) for t, c, p in data.get("open_onderzoeken", [])},
            closed_case_ids=list(data.get("closed_case_ids", [])),
            monitored={c: Monitored(t, c, p, dt.datetime.fromisoformat(u)) for t, c, p, u in data.get("monitored", [])},
            processed=list(data.get("processed", [])),
            verwijsindex_matches=[_match_fact_from(m) for m in data.get("verwijsindex_matches", [])],
            notices={event_id: Notices.from_dict(n) for event_id, n in data.get("notices", {}).items()},
        )


# ---- outputs ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterEntryOut:
    tenant_id: str
    case_id: str
    person_id: str
    since: dt.datetime


@dataclass(frozen=True)
class MatchOut:
    """One copy of a register match, addressed to one of the two regions."""

    match_key: str  # identifies the pair; both copies share it
    addressed_to: str
    own_case_id: str
    own_person_id: str
    own: InvolvementView
    other: InvolvementView
    matched_at: dt.datetime


@dataclass(frozen=True)
class AssessmentInputOut:
    tenant_id: str
    case_id: str
    person_id: str
    earlier_case_ids: tuple[str, ...]
    other_organisations: tuple[InvolvementView, ...]
    rvdk: tuple[RvdkFact, ...]
    collected_at: dt.datetime
    repeat_melding: bool
    # Hermelding: the most recent earlier closed case of the same VT.
    repeat_of_case_id: str = ""
    # An open assessment of the same VT this melding joins (the earliest open one).
    joins_case_id: str = ""
    # For the open assessment others joined: the later open cases of the same VT.
    joined_by_case_ids: tuple[str, ...] = ()
    # Verwijsindex matches about the person (another professional registered a signal).
    verwijsindex_matches: tuple[VerwijsindexMatchFact, ...] = ()


@dataclass(frozen=True)
class MonitoringAlertOut:
    tenant_id: str
    case_id: str
    person_id: str
    trigger: Trigger
    other: InvolvementView | None
    rvdk: RvdkFact | None
    detected_at: dt.datetime
    verwijsindex_match: VerwijsindexMatchFact | None = None


@dataclass(frozen=True)
class EpisodeJoinOut:
    """A melding joins the open assessment of the same household at the same VT (the household episode)."""

    tenant_id: str
    episode_case_id: str
    case_id: str
    due_at: dt.datetime | None


@dataclass
class Outcome:
    """The new state of a person plus everything to emit. `duplicate`: the event was seen before."""

    history: PersonHistory
    duplicate: bool = False
    register_entries: list[RegisterEntryOut] = field(default_factory=list)
    matches: list[MatchOut] = field(default_factory=list)
    inputs: list[AssessmentInputOut] = field(default_factory=list)
    alerts: list[MonitoringAlertOut] = field(default_factory=list)
    joins: list[EpisodeJoinOut] = field(default_factory=list)


@dataclass(frozen=True)
class Notices:
    """The matches and monitoring alerts one processed signal gave."""

    matches: tuple[MatchOut, ...] = ()
    alerts: tuple[MonitoringAlertOut, ...] = ()

    def about_case(self, case_id: str) -> bool:
        return (any(case_id in (m.own_case_id, *m.own.case_ids, *m.other.case_ids) for m in self.matches)
                or any(a.case_id == case_id or (a.other and case_id in a.other.case_ids) for a in self.alerts))

    def to_dict(self) -> dict[str, Any]:
        return {"matches": [[m.match_key, m.addressed_to, m.own_case_id, m.own_person_id, _view_to(m.own),
                             _view_to(m.other), m.matched_at.isoformat()] for m in self.matches],
                "alerts": [[a.tenant_id, a.case_id, a.person_id, a.trigger.value, a.other and _view_to(a.other),
                            a.rvdk and _rvdk_to(a.rvdk), a.detected_at.isoformat(),
                            a.verwijsindex_match and _match_fact_to(a.verwijsindex_match)] for a in self.alerts]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Notices":
        return cls(
            matches=tuple(MatchOut(key, to, case, person, _view_from(own), _view_from(other), _time(at))
                          for key, to, case, person, own, other, at in data.get("matches", [])),
            alerts=tuple(MonitoringAlertOut(tenant, case, person, Trigger(trigger), other and _view_from(other),
                                            rvdk and _rvdk_from(rvdk), _time(at), match and _match_fact_from(match))
                         for tenant, case, person, trigger, other, rvdk, at, match in data.get("alerts", [])))


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _view_to(view: InvolvementView) -> list[Any]:
    return [view.tenant_id, view.since.isoformat(), list(view.case_ids)]


def _view_from(row: list[Any]) -> InvolvementView:
    return InvolvementView(row[0], _time(row[1]), tuple(row[2]))


def _rvdk_to(fact: RvdkFact) -> dict[str, Any]:
    return {"signal_id": fact.signal_id, "kind": fact.kind, "observed_at": fact.observed_at.isoformat(),
            "office": fact.office}


def _rvdk_from(row: dict[str, Any]) -> RvdkFact:
    return RvdkFact(row["signal_id"], int(row["kind"]), _time(row["observed_at"]), row["office"])


def _match_fact_to(fact: VerwijsindexMatchFact) -> list[Any]:
    return [fact.match_id, fact.kind, fact.matched_at.isoformat()]


def _match_fact_from(row: list[Any]) -> VerwijsindexMatchFact:
    return VerwijsindexMatchFact(row[0], int(row[1]), _time(row[2]))
