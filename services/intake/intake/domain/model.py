"""The intake domain: advies, vervolgadvies, melding, conversion and ambtshalve melding (docs/domain.md sections 2-3).

Pure Python. Enum values equal the protobuf enum numbers of the v1 contract so the adapter can
translate by value; 0 always means "not specified".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import Enum, IntEnum
from typing import Any


class MelderType(IntEnum):
    UNSPECIFIED = 0
    PROFESSIONAL = 1
    BYSTANDER = 2


class PersonRole(IntEnum):
    UNSPECIFIED = 0
    VICTIM = 1
    SUSPECT = 2
    CHILD = 3
    HOUSEHOLD_MEMBER = 4
    WITNESS = 5


class ConcernNature(IntEnum):
    UNSPECIFIED = 0
    CHILD_ABUSE = 1
    PARTNER_VIOLENCE = 2
    VIOLENCE_AGAINST_PARENTS = 3
    ELDER_ABUSE = 4
    OTHER = 5


class AdviesOutcome(IntEnum):
    UNSPECIFIED = 0
    END_OF_CONTACT = 1
    ADVICE_AND_SUPPORT = 2
    MELDING = 3


class DisclosureGround(IntEnum):
    """Why a professional melder is not named to the household (none = may be named)."""

    NONE = 0
    ENDANGERS_INVOLVED = 1
    ENDANGERS_MELDER = 2
    HARMS_TRUST = 3


class Situation(IntEnum):
    UNSPECIFIED = 0
    CAN_HELP_MYSELF = 1
    VT_TAKES_OVER = 2


class ContactKind(IntEnum):
    UNSPECIFIED = 0
    ADVIES = 1
    VERVOLGADVIES = 2
    MELDING = 3
    CONVERTED_MELDING = 4
    AMBTSHALVE_MELDING = 5

    @property
    def is_advies(self) -> bool:
        return self in (ContactKind.ADVIES, ContactKind.VERVOLGADVIES)


class MeldingOrigin(Enum):
    DIRECT = "direct"
    CONVERTED_ADVIES = "converted_advies"
    AMBTSHALVE = "ambtshalve"


@dataclass(frozen=True)
class Identity:
    """A melder's or professional asker's name and contact details."""

    name: str = ""
    role: str = ""
    organisation: str = ""
    phone: str = ""
    email: str = ""

    @property
    def is_empty(self) -> bool:
        return not any((self.name, self.role, self.organisation, self.phone, self.email))

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "organisation": self.organisation,
                "phone": self.phone, "email": self.email}


@dataclass(frozen=True)
class Asker:
    type: MelderType
    identity: Identity | None = None
    consent_to_keep_details: bool = False


@dataclass(frozen=True)
class Afwegingskader:
    """The five questions of the meldcode's afwegingskader."""

    suspicion: bool = False
    acute_or_structural_unsafety: bool = False
    can_offer_help: bool = False
    help_accepted: bool = False
    help_leads_to_safety: bool = False

    def as_json(self) -> dict[str, bool]:
        return dict(vars(self))


@dataclass(frozen=True)
class Directbetrokkene:
    """A person the concern is about. Identified by BSN, or else by the full fallback set."""

    role: PersonRole
    bsn: str = ""
    surname: str = ""
    first_names: str = ""
    date_of_birth: dt.date | None = None
    postcode: str = ""
    house_number: str = ""

    def identity_bytes(self) -> bytes:
        """The identifier radar derives the cross-region pseudonym from. The exact byte layout is a
        contract with radar and verwijsindex: change it and the same person gets a new pseudonym."""
        if self.bsn:
            return b"bsn:" + self.bsn.strip().encode()
        dob = self.date_of_birth.isoformat() if self.date_of_birth else ""
        parts = [self.surname.lower().strip(), self.first_names.lower().strip(), dob,
                 self.postcode.upper().replace(" ", ""), self.house_number.lower().strip()]
        return b"fallback:" + "|".join(parts).encode()

    def as_json(self) -> dict[str, Any]:
        return {"role": self.role.name.lower(), "bsn": self.bsn, "surname": self.surname,
                "first_names": self.first_names,
                "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else "",
                "postcode": self.postcode, "house_number": self.house_number}


@dataclass(frozen=True)
class Advies:
    asker: Asker
    question: str = ""
    meldcode_steps_taken: tuple[str, ...] = ()
    afwegingskader: Afwegingskader = field(default_factory=Afwegingskader)
    outcome: AdviesOutcome = AdviesOutcome.UNSPECIFIED
    support_agreed: tuple[str, ...] = ()
    follow_up_at: dt.datetime | None = None
    # Only so a request that carries household data can be refused; a valid advies has none.
    directbetrokkenen: tuple[Directbetrokkene, ...] = ()

    def as_stored(self) -> "Advies":
        """What may be kept: a bystander's details only with consent (docs/domain.md section 2)."""
        keep = self.asker.type == MelderType.PROFESSIONAL or self.asker.consent_to_keep_details
        if keep or self.asker.identity is None:
            return self
        return replace(self, asker=replace(self.asker, identity=None))

    def content_json(self) -> dict[str, Any]:
        return {"question": self.question, "meldcode_steps_taken": list(self.meldcode_steps_taken),
                "afwegingskader": self.afwegingskader.as_json(), "support_agreed": list(self.support_agreed),
                "follow_up_at": self.follow_up_at.isoformat() if self.follow_up_at else ""}


@dataclass(frozen=True)
class Disclosure:
    bystander_consents: bool = False
    withhold_ground: DisclosureGround = DisclosureGround.NONE


@dataclass(frozen=True)
class Melding:
    melder_type: MelderType
    melder: Identity | None
    situation: Situation
    directbetrokkenen: tuple[Directbetrokkene, ...]
    nature: tuple[ConcernNature, ...]
    disclosure: Disclosure = field(default_factory=Disclosure)
    household_label: str = ""
    acute: bool = False
    afwegingskader: Afwegingskader = field(default_factory=Afwegingskader)
    narrative: str = ""

    @property
    def melder_may_be_named(self) -> bool:
        """Disclosure to the household (docs/domain.md section 3): a bystander only with explicit consent,
        a professional unless a withhold ground is recorded."""
        if self.melder_type == MelderType.BYSTANDER:
            return self.disclosure.bystander_consents
        return self.disclosure.withhold_ground == DisclosureGround.NONE

    @property
    def same_day(self) -> bool:
        """An acute melding is handled the same day."""
        return self.acute

    def content_json(self) -> dict[str, Any]:
        return {"narrative": self.narrative, "household_label": self.household_label,
                "afwegingskader": self.afwegingskader.as_json()}


@dataclass(frozen=True)
class ConversionCriteria:
    """Why an advies became a melding (docs/domain.md section 2). Free text that may name people: personal data."""

    nature_and_severity: str = ""
    asker_inability: str = ""

    def as_json(self) -> dict[str, str]:
        return {"nature_and_severity": self.nature_and_severity, "asker_inability": self.asker_inability}


@dataclass(frozen=True)
class AmbtshalveConditions:
    high_acute_risk: bool = False
    professional_cannot_increase_safety: bool = False
    no_agreement_on_melding: bool = False
    vt_has_personal_data: bool = False


@dataclass(frozen=True)
class MultidisciplinaryConsultation:
    """The MDO an ambtshalve melding was decided in. The participants may be names: personal data."""

    date: dt.date | None = None
    participants: tuple[str, ...] = ()

    @property
    def participant_count(self) -> int:
        return len([p for p in self.participants if p.strip()])


@dataclass(frozen=True)
class Justification:
    """The legal justification a melding was made on, kept with its contact: the conversion criteria of a
    converted advies, or the conditions and the MDO of an ambtshalve melding; nothing for a direct melding
    (nor for a melding stored before intake kept it)."""

    conversion_criteria: ConversionCriteria | None = None
    ambtshalve_conditions: AmbtshalveConditions | None = None
    mdo: MultidisciplinaryConsultation | None = None
