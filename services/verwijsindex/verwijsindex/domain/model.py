"""Values the verwijsindex works with. A signal never holds the risk reason or case content (not even the
number of one of the twelve risks: docs/domain.md section 6), and the youth is known here only by a keyed
pseudonym of the BSN."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class Sector(enum.Enum):
    """The seven sectors whose officials may register (Jeugdwet 7.1.4.1)."""

    YOUTH_CARE = "youth_care"
    YOUTH_HEALTH_CARE = "youth_health_care"
    HEALTH_CARE = "health_care"
    EDUCATION = "education"
    SOCIAL_SUPPORT = "social_support"
    WORK_AND_INCOME = "work_and_income"
    POLICE_AND_JUSTICE = "police_and_justice"


class WithdrawReason(enum.Enum):
    WRONG = "wrong"          # deleted outright, never archived
    RISK_GONE = "risk_gone"  # archived for 5 years


class SignalStatus(enum.Enum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class MatchKind(enum.Enum):
    CLIENT = "client"
    FAMILY = "family"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class Contact:
    """How other registrants reach the registrant; the only thing a notice reveals."""

    name: str
    organisation: str
    phone: str
    email: str
    sector: Sector | None
    coordinator: str = ""


@dataclass(frozen=True)
class Registration:
    """A registration request after translation from the wire, before validation."""

    youth_bsn: str
    youth_date_of_birth: dt.date | None
    planned_removal: dt.date | None
    contact: Contact


@dataclass(frozen=True)
class ValidRegistration:
    """A validated registration: what may be stored (the BSN itself is not kept)."""

    youth_bsn: str  # canonical 9 digits; only used to derive the pseudonym
    registered_on: dt.date
    planned_removal: dt.date
    age_limit_date: dt.date  # the 23rd birthday: the signal expires then at the latest
    contact: Contact


@dataclass(frozen=True)
class Signal:
    signal_id: str
    youth_pseudonym: str
    registrant_id: str
    registered_at: dt.datetime
    planned_removal: dt.date
    age_limit_date: dt.date
    status: SignalStatus
    contact: Contact
    archived_on: dt.date | None = None
    archive_until: dt.date | None = None
    archive_notice_sent: bool = False


@dataclass(frozen=True)
class MatchParty:
    registrant_id: str
    contact: Contact


@dataclass(frozen=True)
class Match:
    """A notice to every party: each learns only the others' identity and contact details."""

    kind: MatchKind
    youth_pseudonym: str
    parties: tuple[MatchParty, ...]
    different_youths: bool = False
    # Signals whose one-time archive notice this match uses up.
    archived_signal_ids: tuple[str, ...] = ()
    # Family match: every youth whose signals are in it (sorted).
    youths: tuple[str, ...] = ()

    @property
    def registrant_set(self) -> str:
        """Identity of the match for 'once per match': the kind plus the sorted registrants."""
        return self.kind.value + "|" + ",".join(sorted(p.registrant_id for p in self.parties))

    @property
    def scope(self) -> str:
        """What 'once' is counted over: the youth, or for a family match the set of youths, so
        the same family and registrants are notified once whichever sibling came last."""
        return "family:" + ",".join(self.youths) if self.kind is MatchKind.FAMILY else self.youth_pseudonym


@dataclass(frozen=True)
class HouseholdFacts:
    """What the BRP says about a youth, on pseudonyms only: the home address (and whether it
    is an institution), the parents, the municipality and a date of death."""

    youth_pseudonym: str
    address_pseudonym: str
    institution_address: bool
    parent_pseudonyms: frozenset[str]
    municipality_code: str
    date_of_death: dt.date | None
    observed_at: dt.datetime


@dataclass(frozen=True)
class Relocation:
    """A youth with active signals moved: the registrants and the new regievoerder are told."""

    youth_pseudonym: str
    from_municipality_code: str
    to_municipality_code: str
    parties: tuple[MatchParty, ...]
