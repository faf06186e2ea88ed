"""The facts of an incoming event that the notifier acts on, free of any wire format: adapters/events.py reads
them from the consumed events, one kind of facts per event type, and the use cases (notifier.consumer) act on them.

What the notifier passes on without reading it (an encrypted field, another region's involvement, the decision
from which a notice is built when it is sent) is `Opaque`: encoded and decoded only by the adapters, so it reaches
its receiver byte for byte.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vtkit.errors import InvalidArgument

from notifier.domain.inbox import Change, Deadline, InputView

Opaque = bytes


@dataclass(frozen=True)
class AssessmentDueFacts:
    tenant_id: str
    case_id: str
    received_at: dt.datetime | None
    acute: bool
    due_date: dt.date | None
    melder: Opaque | None = None  # the melder's identity and contact, under the region's key


@dataclass(frozen=True)
class RegisterMatchFacts:
    match_id: str
    # The region this copy of the match is addressed to: the one to notify.
    addressed_to: str
    case_id: str
    person_id: str
    other_tenant_id: str
    other: Opaque | None = None  # the other region's involvement, told to the region as it is


@dataclass(frozen=True)
class Decision:
    """A decision (or an onderzoek's follow-up) as the notices that follow it need it (docs/architecture.md
    "Outgoing notices"); `as_received` is the decision, still encrypted, from which notifier.notices and the household
    letter are built when they are sent."""
    tenant_id: str
    case_id: str
    rvdk_request: bool
    overdracht: bool
    overdracht_receiver_id: str
    as_received: Opaque


@dataclass(frozen=True)
class AssessmentCompletedFacts:
    tenant_id: str
    case_id: str
    decided_at: dt.datetime | None
    agreements: Opaque | None  # for the callback, under the region's key
    melder_feedback: Opaque | None  # the callback's four contents, under the region's key
    episode_case_id: str
    decision: Decision


@dataclass(frozen=True)
class OnderzoekCompletedFacts:
    tenant_id: str
    case_id: str
    completed_at: dt.datetime | None
    follow_up: Decision


@dataclass(frozen=True)
class AssessmentInputFacts:
    tenant_id: str
    case_id: str
    person_id: str
    collected_at: dt.datetime | None
    view: InputView
    as_received: Opaque  # kept to compare the next input with; the inbox item is built from it


@dataclass(frozen=True)
class MonitoringAlertFacts:
    tenant_id: str
    case_id: str
    person_id: str
    detected_at: dt.datetime | None
    signal: Change


@dataclass(frozen=True)
class DeadlineOverdueFacts:
    tenant_id: str
    case_id: str
    deadline: Deadline
    due_at: dt.datetime | None
    detected_at: dt.datetime | None


@dataclass(frozen=True)
class EpisodeJoinedFacts:
    tenant_id: str
    case_id: str
    episode_case_id: str


@dataclass(frozen=True)
class MeldingReceivedFacts:
    tenant_id: str
    contact_id: str
    received_at: dt.datetime | None
    as_received: Opaque  # kept, still encrypted, for the household letter and the notices


@dataclass(frozen=True)
class EmergencyAccessFacts:
    tenant_id: str
    contact_id: str
    by_tenant_id: str
    by_user: str
    at: dt.datetime | None
    reason: Opaque  # why, still sealed (empty when the event has none)


@dataclass(frozen=True)
class DossierDestroyedFacts:
    tenant_id: str
    dossier_id: str
    contact_ids: tuple[str, ...]
    reason: str  # "request", "retention", ...


@dataclass(frozen=True)
class AmbtshalveMeldingFacts:
    tenant_id: str
    melding_id: str
    professional_to_be_informed: bool
    as_received: Opaque  # notifier.notices builds the professional's notice from it when it is sent


@dataclass(frozen=True)
class SealedContact:
    """A registrant's contact details in a verwijsindex event, under the verwijsindex field key."""
    registrant_id: str
    contact: Opaque


@dataclass(frozen=True)
class SignalMatchFacts:
    match_id: str
    match_kind: str  # MATCH_KIND_* name
    different_youths: bool
    municipality_code: str
    registrants: tuple[SealedContact, ...]


@dataclass(frozen=True)
class YouthRelocatedFacts:
    notice_id: str
    from_municipality_code: str
    to_municipality_code: str
    regievoerder_id: str
    registrants: tuple[SealedContact, ...]


Facts = (AssessmentDueFacts | RegisterMatchFacts | AssessmentCompletedFacts | OnderzoekCompletedFacts
         | AssessmentInputFacts | MonitoringAlertFacts | DeadlineOverdueFacts | EpisodeJoinedFacts | MeldingReceivedFacts
         | EmergencyAccessFacts | DossierDestroyedFacts | AmbtshalveMeldingFacts | SignalMatchFacts | YouthRelocatedFacts)


class InvalidCause(InvalidArgument, ValueError):
    """An event the notifier can never act on (missing tenant or case): dead-lettered. The message is the rule."""

    def __init__(self, message: str):
        super().__init__(rule=message)
