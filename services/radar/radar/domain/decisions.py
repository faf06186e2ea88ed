"""The decision of the veiligheidsbeoordeling as the regional worker records it (docs/domain.md section 4):
what is required, and what follows from it for the notifier and for radar's own deadlines."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum

from vtkit.errors import InvalidArgument

from radar.domain.cases import Decision
from radar.domain.deadlines import Deadline, onderzoek_deadline


class Judgement(StrEnum):
    UNSPECIFIED = "unspecified"
    SAFE = "safe"
    ACUTE_UNSAFETY = "acute_unsafety"
    STRUCTURAL_UNSAFETY = "structural_unsafety"


class RvdkGround(StrEnum):
    """On what ground VT asks the Raad voor de Kinderbescherming to investigate (vt.common.v1.RvdkRequestGround)."""
    UNSPECIFIED = "unspecified"
    DEVELOPMENT_SERIOUSLY_THREATENED = "development_seriously_threatened"
    VOLUNTARY_HELP_INSUFFICIENT = "voluntary_help_insufficient"
    URGENT = "urgent"
    CUSTODY_OR_ACCESS = "custody_or_access"


@dataclass(frozen=True)
class RvdkReason:
    """Why VT asks the RvdK to investigate: a ground and VT's account. Case content: radar encrypts it under the
    case's dossier key and only the RvdK receives it (docs/architecture.md "Outgoing notices")."""
    ground: RvdkGround
    explanation: str


class InvalidDecision(InvalidArgument, ValueError):
    """A decision that cannot be recorded; `field` names the offending request field (INVALID_ARGUMENT)."""

    def __init__(self, field: str, reason: str):
        super().__init__(field, reason)


@dataclass(frozen=True)
class MelderFeedback:
    """The four contents of the callback to the melder (docs/architecture.md, "What leaves Veilig Thuis")."""

    safety_judgement: str = ""
    shared_information: str = ""
    melder_can_do: str = ""
    agreements: str = ""

    def __bool__(self) -> bool:
        return any((self.safety_judgement, self.shared_information, self.melder_can_do, self.agreements))


@dataclass(frozen=True)
class HouseholdNotice:
    """The only decision text a household letter is rendered from: what is said to the melder stays apart."""

    agreements: str = ""
    contact_person: str = ""

    def __bool__(self) -> bool:
        return bool(self.agreements or self.contact_person)


@dataclass(frozen=True)
class DecisionInput:
    case_id: str
    judgement: Judgement
    decision: Decision
    overdracht_to: str
    responsible_for_safety: str
    # Older clients' one free text: agreements with the melder (the callback), never the household letter.
    agreements: str
    melder_feedback: MelderFeedback = MelderFeedback()
    household: HouseholdNotice = HouseholdNotice()

    def told_to_melder(self) -> MelderFeedback:
        """The callback's contents; an older client's one free text counts as the agreements with the melder."""
        if self.melder_feedback.agreements or not self.agreements:
            return self.melder_feedback
        return replace(self.melder_feedback, agreements=self.agreements)
    # Outgoing decisions with content (docs/architecture.md "Outgoing notices"): required for an RvdK request and
    # an overdracht respectively, absent otherwise.
    rvdk_reason: RvdkReason | None = None
    overdracht_receiver_id: str = ""

    def fingerprint(self) -> str:
        """Identifies the decision (not its free text) so a retried call can be told from a different one,
        without keeping names in the table. Not the RvdK reason: the recorded event carries it encrypted only."""
        text = "|".join((self.judgement.value, self.decision.value, self.overdracht_to.strip(),
                         self.responsible_for_safety.strip(), self.overdracht_receiver_id.strip()))
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Consequences:
    """What the notifier has to deliver after a decision."""

    melder_callback_required: bool
    household_letter_required: bool
    rvdk_request: bool
    municipality_notice: bool
    onderzoek: Deadline | None


MAX_TEXT = 200
MAX_AGREEMENTS = 20_000
MAX_FEEDBACK = 4_000
MAX_RVDK_EXPLANATION = 4_000
MAX_RECEIVER_ID = 100
# Recipient ids the notifier gives its own receivers (the RvdK, municipalities, regievoerders, the professional of
# an ambtshalve melding): a receiving party of an overdracht is none of them.
RESERVED_RECIPIENTS = ("rvdk", "municipality:", "regievoerder:", "professional:")


def validate(decision: DecisionInput) -> None:
    if not decision.case_id.strip():
        raise InvalidDecision("case_id", "required")
    if decision.judgement is Judgement.UNSPECIFIED:
        raise InvalidDecision("judgement", "required: acute unsafety, structural unsafety or safe")
    if decision.decision is Decision.UNSPECIFIED:
        raise InvalidDecision("decision", "required")
    if decision.decision is Decision.OVERDRACHT and not decision.overdracht_to.strip():
        raise InvalidDecision("overdracht_to", "required for an overdracht: to whom the case is handed over")
    if decision.decision is not Decision.OVERDRACHT and decision.overdracht_to.strip():
        raise InvalidDecision("overdracht_to", "only for an overdracht")
    if len(decision.overdracht_to) > MAX_TEXT:
        raise InvalidDecision("overdracht_to", f"at most {MAX_TEXT} characters")
    if not decision.responsible_for_safety.strip():
        raise InvalidDecision("responsible_for_safety", "required: who carries responsibility for zicht op veiligheid")
    if len(decision.responsible_for_safety) > MAX_TEXT:
        raise InvalidDecision("responsible_for_safety", f"at most {MAX_TEXT} characters")
    if len(decision.agreements) > MAX_AGREEMENTS:
        raise InvalidDecision("agreements", f"at most {MAX_AGREEMENTS} characters")
    texts = [(f"melder_feedback.{name}", value) for name, value in vars(decision.melder_feedback).items()]
    texts += [(f"household.{name}", value) for name, value in vars(decision.household).items()]
    for field, value in texts:
        if len(value) > MAX_FEEDBACK:
            raise InvalidDecision(field, f"at most {MAX_FEEDBACK} characters")
    if len(decision.household.contact_person) > MAX_TEXT:
        raise InvalidDecision("household.contact_person", f"at most {MAX_TEXT} characters")
    validate_rvdk_reason(decision)
    validate_receiver(decision)


def validate_rvdk_reason(decision: DecisionInput) -> None:
    """The RvdK is asked with a reason (docs/domain.md section 4): a ground and VT's account; no reason on other
    decisions, so case content never travels where nothing needs it."""
    reason = decision.rvdk_reason
    if decision.decision is not Decision.RVDK_REQUEST:
        if reason is not None and (reason.ground is not RvdkGround.UNSPECIFIED or reason.explanation.strip()):
            raise InvalidDecision("rvdk_reason", "only for an RvdK request")
        return
    if reason is None or (reason.ground is RvdkGround.UNSPECIFIED and not reason.explanation.strip()):
        raise InvalidDecision("rvdk_reason", "required for an RvdK request: the ground and why VT asks the Raad to "
                                             "investigate")
    if reason.ground is RvdkGround.UNSPECIFIED:
        raise InvalidDecision("rvdk_reason.ground", "required for an RvdK request")
    if not reason.explanation.strip():
        raise InvalidDecision("rvdk_reason.explanation", "required for an RvdK request: why VT asks the Raad to "
                                                         "investigate")
    if len(reason.explanation) > MAX_RVDK_EXPLANATION:
        raise InvalidDecision("rvdk_reason.explanation", f"at most {MAX_RVDK_EXPLANATION} characters")


def validate_receiver(decision: DecisionInput) -> None:
    """An overdracht names its receiving party by id, so the hand-over reaches it (the free text overdracht_to
    cannot be delivered to)."""
    receiver = decision.overdracht_receiver_id
    if decision.decision is not Decision.OVERDRACHT:
        if receiver.strip():
            raise InvalidDecision("overdracht_receiver_id", "only for an overdracht")
        return
    if not receiver.strip():
        raise InvalidDecision("overdracht_receiver_id", "required for an overdracht: the id of the receiving party "
                                                        "(local team, care provider) the hand-over is sent to")
    if len(receiver) > MAX_RECEIVER_ID or not receiver.isascii() or not receiver.isprintable() or " " in receiver:
        raise InvalidDecision("overdracht_receiver_id", f"an id: at most {MAX_RECEIVER_ID} printable ASCII "
                                                        "characters without spaces")
    if receiver.startswith(RESERVED_RECIPIENTS):
        raise InvalidDecision("overdracht_receiver_id", "names a receiver of another notice (the RvdK, a "
                                                        "municipality, a regievoerder or a professional)")


def consequences(decision: Decision, decided_at: dt.datetime) -> Consequences:
    """Every melding has a known melder (docs/domain.md section 3), who is called back first; then the household
    is informed. An RvdK request goes to the Raad, and the municipality is told about it."""
    rvdk = decision is Decision.RVDK_REQUEST
    return Consequences(melder_callback_required=True, household_letter_required=True, rvdk_request=rvdk,
                        municipality_notice=rvdk,
                        onderzoek=onderzoek_deadline(decided_at) if decision is Decision.ONDERZOEK else None)
