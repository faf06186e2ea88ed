"""The decision of the veiligheidsbeoordeling as the regional worker records it (domain.md section 4):
what is required, and what follows from it for the notifier and for radar's own deadlines."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, replace
from enum import StrEnum

from radar.domain.cases import Decision
from radar.domain.deadlines import Deadline, onderzoek_deadline


class Judgement(StrEnum):
    UNSPECIFIED = "unspecified"
    SAFE = "safe"
    ACUTE_UNSAFETY = "acute_unsafety"
    STRUCTURAL_UNSAFETY = "structural_unsafety"


class InvalidDecision(ValueError):
    """A decision that cannot be recorded; `field` names the offending request field."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field


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

    def fingerprint(self) -> str:
        """Identifies the decision (not its free text) so a retried call can be told from a different one,
        without keeping names in the table."""
        text = "|".join((self.judgement.value, self.decision.value, self.overdracht_to.strip(),
                         self.responsible_for_safety.strip()))
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


def consequences(decision: Decision, decided_at: dt.datetime) -> Consequences:
    """Every melding has a known melder (domain.md section 3), who is called back first; then the household
    is informed. An RvdK request goes to the Raad, and the municipality is told about it."""
    rvdk = decision is Decision.RVDK_REQUEST
    return Consequences(melder_callback_required=True, household_letter_required=True, rvdk_request=rvdk,
                        municipality_notice=rvdk,
                        onderzoek=onderzoek_deadline(decided_at) if decision is Decision.ONDERZOEK else None)
