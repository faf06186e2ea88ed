"""The events radar publishes, as its use cases (radar.handlers) build them, and `Out`: one of them with the topic,
key and envelope it is published under. radar.adapters.proto turns an Out into the protobuf record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vtkit.crypto import Ciphertext

from radar.domain.cases import DeadlineKind, Decision
from radar.domain.deadlines import Deadline
from radar.domain.decisions import DecisionInput, Judgement
from radar.domain.model import AssessmentInputOut, EpisodeJoinOut, MatchOut, MonitoringAlertOut, RegisterEntryOut
from radar.inputs import SignalFact

SOURCE = "radar"  # the ce_source of everything radar publishes


@dataclass(frozen=True)
class AssessmentDue:
    tenant_id: str
    case_id: str
    received_at: dt.datetime
    acute: bool
    deadline: Deadline
    melder_type: int = 0
    melder_may_be_named: bool = False
    melder: Ciphertext | None = None  # the melding's, as intake encrypted it


@dataclass(frozen=True)
class PersonSignal:
    pseudonym: str
    fact: SignalFact
    decision: Decision = Decision.UNSPECIFIED  # of a CaseClosedFact: what the case was decided (or followed up) with


@dataclass(frozen=True)
class RegisterEntry:
    pseudonym: str
    entry: RegisterEntryOut


@dataclass(frozen=True)
class RegisterMatch:
    match_id: str
    match: MatchOut


@dataclass(frozen=True)
class CaseDestroyed:
    """To the case's own partition of vt.national.assessments.v1: radar's assessments agent drops the case there
    (a table write goes to the changelog partition of the record being handled, so a dossier's other meldingen
    cannot be dropped from its DossierDestroyed record's partition)."""

    tenant_id: str
    case_id: str


@dataclass(frozen=True)
class EpisodeJoined:
    join: EpisodeJoinOut
    joined_at: dt.datetime


@dataclass(frozen=True)
class DeadlineOverdue:
    tenant_id: str
    case_id: str
    kind: DeadlineKind
    due_at: dt.datetime
    detected_at: dt.datetime


@dataclass(frozen=True)
class AssessmentCompleted:
    """A decision; the texts for the melder, the household and the RvdK travel encrypted."""

    tenant_id: str
    case_id: str
    judgement: Judgement
    decision: Decision
    decided_at: dt.datetime
    responsible_for_safety: str
    overdracht_to: str = ""
    overdracht_receiver_id: str = ""
    melder_callback_required: bool = True
    household_letter_required: bool = True
    rvdk_request: bool = False
    municipality_notice: bool = False
    onderzoek_due: Deadline | None = None
    agreements: Ciphertext | None = None
    rvdk_reason: Ciphertext | None = None
    melder_feedback: Ciphertext | None = None
    household: Ciphertext | None = None
    episode_case_ids: tuple[str, ...] = ()  # the meldingen that joined this one's assessment
    episode_case_id: str = ""  # on a melding decided with its episode: the episode's case


@dataclass(frozen=True)
class OnderzoekStarted:
    tenant_id: str
    case_id: str
    started_at: dt.datetime
    within_norm: bool


@dataclass(frozen=True)
class OnderzoekCompleted:
    tenant_id: str
    outcome: DecisionInput
    completed_at: dt.datetime
    within_norm: bool
    monitor_until: dt.datetime | None
    agreements: Ciphertext | None = None
    rvdk_reason: Ciphertext | None = None


@dataclass(frozen=True)
class MonitoringChanged:
    tenant_id: str
    case_id: str
    ended: bool  # False: extended
    monitor_until: dt.datetime
    changed_at: dt.datetime
    reason: Ciphertext


Event = (AssessmentDue | PersonSignal | RegisterEntry | RegisterMatch | AssessmentInputOut | MonitoringAlertOut
         | EpisodeJoined | DeadlineOverdue | AssessmentCompleted | OnderzoekStarted | OnderzoekCompleted
         | MonitoringChanged | CaseDestroyed)


@dataclass(frozen=True)
class Out:
    """One record to publish: `event` on `topic` under `key`, its envelope's id, tenant and time (source radar).
    The id is derived from what caused it (radar.domain.ids): the same input gives the same id again."""

    topic: str
    key: str
    event: Event
    event_id: str
    tenant: str
    at: dt.datetime
