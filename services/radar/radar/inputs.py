"""The events radar reads, as its use cases (radar.handlers) take them: radar.adapters.proto translates each
protobuf message into one of these and refuses (PermanentError) one that lacks what radar needs. Sealed
identifiers and encrypted fields stay opaque vtkit values: only the use cases' keys open them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vtkit.crypto import Ciphertext, Sealed

from radar.domain.cases import DeadlineKind
from radar.domain.decisions import DecisionInput
from radar.domain.model import CaseClosedFact, CaseDestroyedFact, MeldingFact, RvdkFact, VerwijsindexMatchFact

# ---- vt.<tenant>.intake.v1 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SealedPerson:
    person_id: str
    identity: Sealed | None  # None: no identifier to match on


@dataclass(frozen=True)
class MeldingReceived:
    tenant_id: str
    contact_id: str
    received_at: dt.datetime
    acute: bool
    persons: tuple[SealedPerson, ...]
    dossier_id: str = ""
    melder_type: int = 0
    melder_may_be_named: bool = False
    melder: Ciphertext | None = None  # encrypted in intake, passed on to AssessmentDue unread


@dataclass(frozen=True)
class DossierDestroyed:
    tenant_id: str
    contact_ids: tuple[str, ...]


# ---- vt.national.rvdk.v1 and vt.national.verwijsindex.v1 -------------------------------------------------------


@dataclass(frozen=True)
class RvdkSignal:
    child: Sealed
    fact: RvdkFact


@dataclass(frozen=True)
class SignalMatch:
    """A verwijsindex match: its youth_pseudonym is radar's person key (same key, same "bsn:<bsn>")."""

    youth_pseudonym: str
    fact: VerwijsindexMatchFact


# ---- vt.national.radar-person.v1 -------------------------------------------------------------------------------

SignalFact = MeldingFact | RvdkFact | CaseClosedFact | VerwijsindexMatchFact | CaseDestroyedFact


@dataclass(frozen=True)
class PersonSignal:
    pseudonym: str
    fact: SignalFact


# ---- vt.national.assessments.v1 --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentCompleted:
    """A decision (RecordDecision's, read back), with what it decided as a DecisionInput without its free texts."""

    tenant_id: str
    decided_at: dt.datetime
    decision: DecisionInput
    episode_case_id: str = ""
    agreements: Ciphertext | None = None
    melder_feedback: Ciphertext | None = None

    @property
    def case_id(self) -> str:
        return self.decision.case_id


@dataclass(frozen=True)
class DeadlineOverdue:
    case_id: str
    kind: DeadlineKind | None  # None: a kind this version does not know


@dataclass(frozen=True)
class EpisodeJoined:
    tenant_id: str
    episode_case_id: str
    case_id: str
    due_at: dt.datetime | None
    joined_at: dt.datetime | None


@dataclass(frozen=True)
class OnderzoekStarted:
    tenant_id: str
    case_id: str
    started_at: dt.datetime


@dataclass(frozen=True)
class OnderzoekCompleted:
    tenant_id: str
    case_id: str
    completed_at: dt.datetime
    outcome: DecisionInput  # without its free texts
    monitor_until: dt.datetime | None


@dataclass(frozen=True)
class MonitoringChanged:
    tenant_id: str
    case_id: str
    monitor_until: dt.datetime


@dataclass(frozen=True)
class CaseDestroyed:
    """Radar's own: a case of a destroyed dossier, read in the case's own partition (radar.outputs.CaseDestroyed)."""
    tenant_id: str
    case_id: str


Lifecycle = OnderzoekStarted | OnderzoekCompleted | MonitoringChanged
AssessmentEvent = AssessmentCompleted | DeadlineOverdue | EpisodeJoined | Lifecycle
