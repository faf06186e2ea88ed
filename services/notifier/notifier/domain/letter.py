"""The household letter (docs/domain.md sections 3 and 4): its deadline and its text, as pure functions.

The text covers the subjects of the "Er is een melding over mij gedaan" page: what happened, that
Veilig Thuis assesses the safety, who may be contacted, that help can be organised locally, that
an onderzoek may follow, the rights of the people involved, and the agreements made. The melder
is named only when the disclosure rules allow it (`melder_may_be_named`, decided at intake:
a bystander only with consent, a professional unless a ground applies); otherwise the letter says
"iemand" and names nobody. Witnesses are never named.

One letter per adult directbetrokkene (`addressees`): a letter names only its addressee (and, for a
parent or carer, the children of the melding), never another adult and never anyone's role, so the
letter to the victim does not name the suspect and the other way round. A child gets no letter of
its own: the letters to the adults among the directbetrokkenen (the parents or carers) cover it. The
melding records no family relations, so every adult directbetrokkene counts as parent or carer.

A letter needs an address (`address_for`): for a person with a BSN the BRP's (an `AddressBook`), else the
postcode and house number the melder gave. Whoever has neither gets no letter; the caller makes that visible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from vtkit.errors import InvalidArgument

# Informing the people involved is due at the latest 4 weeks after recording; each postponement
# moves it by at most 2 weeks and needs a reason (docs/domain.md section 4).
LETTER_WEEKS = 4
MAX_POSTPONE_WEEKS = 2


class InvalidPostponement(InvalidArgument, ValueError):
    """A postponement that breaks the rule; `field` names the request field (the message is the rule)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(field, message, message=message)


def letter_due_date(received_on: dt.date, postponed_weeks: int = 0) -> dt.date:
    """Latest day to inform the household: 4 calendar weeks after recording, plus postponements."""
    return received_on + dt.timedelta(weeks=LETTER_WEEKS + postponed_weeks)


def check_postponement(weeks: int, reason: str) -> None:
    if not 1 <= weeks <= MAX_POSTPONE_WEEKS:
        raise InvalidPostponement(f"a postponement is 1 to {MAX_POSTPONE_WEEKS} weeks, not {weeks}", "weeks")
    if not reason.strip():
        raise InvalidPostponement("a postponement needs a reason", "reason")


# The national phone number of Veilig Thuis: free, day and night; it connects to the caller's own region.
VT_PHONE = "0800-2000"

# Plain Dutch (B1): short sentences, everyday words, "wij" and "u".
DECISION_TEXT = {
    "DECISION_ONDERZOEK": "Wij gaan de situatie onderzoeken. Wij laten u weten met wie wij praten en waarover.",
    "DECISION_VOORWAARDEN_EN_VERVOLG": "Wij hebben met u afspraken gemaakt over de veiligheid. De komende tijd "
                                       "kijken wij hoe het gaat.",
    "DECISION_OVERDRACHT": "Een hulpverlener bij u in de buurt gaat u verder helpen. Die neemt contact met u op.",
    "DECISION_NO_FURTHER_STEPS": "Wij doen verder niets. Heeft u toch hulp nodig? Bel ons dan.",
    "DECISION_REGIONAL_MAATWERK": "Wij spreken met u af welke hulp het beste bij u past.",
    "DECISION_RVDK_REQUEST": "Wij vragen de Raad voor de Kinderbescherming om onderzoek te doen.",
}


ADULT_AGE = 18
# Roles as intake records them (vt.common.v1.PersonRole without its prefix). The role decides only who is
# addressed; it never reaches the letter.
CHILD_ROLE = "CHILD"
NOT_ADDRESSED_ROLES = frozenset({"WITNESS", "UNSPECIFIED"})


@dataclass(frozen=True)
class Person:
    """A directbetrokkene of the melding as the letter needs it (decrypted just before sending)."""
    person_id: str
    name: str
    role: str
    bsn: str = ""
    date_of_birth: dt.date | None = None
    postcode: str = ""
    house_number: str = ""


@dataclass(frozen=True)
class Addressee:
    """Who one letter goes to: no role, so the text cannot name it."""
    person_id: str
    name: str
    # The children of the melding, named in a parent's or carer's letter.
    children: tuple[str, ...] = ()


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def is_child(person: Person, today: dt.date) -> bool:
    """Role CHILD, or younger than 18 by the date of birth intake recorded."""
    if person.role == CHILD_ROLE:
        return True
    return person.date_of_birth is not None and age_on(person.date_of_birth, today) < ADULT_AGE


def addressees(persons: list[Person], today: dt.date) -> tuple[list[Addressee], list[tuple[Person, str]]]:
    """One addressee per adult directbetrokkene with a name (witnesses never), each naming the children; and who
    cannot be written to, with the reason, for the region to see: an adult known without a name ("no_name"; the
    BRP look-up gives addresses only), the children when there is no adult to write to ("no_adult")."""
    household = [p for p in persons if p.role not in NOT_ADDRESSED_ROLES]
    children = [p for p in household if is_child(p, today)]
    adults = [p for p in household if not is_child(p, today)]
    names = tuple(c.name for c in children if c.name)
    to = [Addressee(a.person_id, a.name, names) for a in adults if a.name]
    missing = [(a, "no_name") for a in adults if not a.name]
    if not adults:
        missing += [(c, "no_adult") for c in children]
    return to, missing


@dataclass(frozen=True)
class Address:
    street: str
    house_number: str
    postcode: str
    city: str
    # Where it came from: "brp" or "melding" (what the melder said; no street or city).
    source: str = "brp"
    # The municipality (CBS code, e.g. GM0363) the BRP has the address in: where the municipality notice of an RvdK
    # request goes (notifier.domain.notices). Empty when the address did not come from the BRP.
    municipality_code: str = ""

    def lines(self) -> tuple[str, ...]:
        """The address block's lines under the name, Dutch style: "Dorpsstraat 12" / "8901 AB  LEEUWARDEN"."""
        street = f"{self.street} {self.house_number}".strip() if self.street else f"Huisnummer {self.house_number}"
        code = self.postcode.replace(" ", "").upper()
        code = f"{code[:4]} {code[4:]}" if len(code) == 6 else code
        return street, f"{code}  {self.city.upper()}".strip()


class AddressBook(Protocol):
    """Where a person lives, by BSN, and in which municipality (the BRP; notifier.adapters.brp has the simulator's)."""

    def address_of(self, bsn: str) -> Address | None: ...


class NoAddressBook:
    """No BRP configured: nobody's address is known by BSN."""

    def address_of(self, bsn: str) -> Address | None:
        return None


def address_for(person: Person, book: AddressBook) -> Address | None:
    """The BRP's address for a BSN (authoritative); else the postcode and house number from the melding."""
    if person.bsn and (known := book.address_of(person.bsn)) is not None:
        return known
    if person.postcode and person.house_number:
        return Address("", person.house_number, person.postcode, "", source="melding")
    return None


def letter_key(delivery_key: str, person_id: str) -> str:
    """The idempotency key of one addressee's letter: sha256 hex of "<delivery key>/<person id>". The household
    letter stays one delivery; each of its SendLetter calls carries its own key, the same on every attempt."""
    return hashlib.sha256(f"{delivery_key}/{person_id}".encode()).hexdigest()


@dataclass(frozen=True)
class LetterFacts:
    region_name: str
    reference: str
    letter_date: dt.date
    received_on: dt.date
    # The one person this letter is addressed to (never a witness or the melder), and where it goes.
    addressee: Addressee
    address: Address
    # The melder's name and role, only set when the disclosure rules allow naming them.
    melder_name: str | None
    melder_professional: bool
    decision: str
    # The decision's household text only (vt.common.v1.HouseholdNotice.agreements), never what was agreed with
    # the melder: a letter cannot carry the melder's words by construction.
    agreements: str
    # The case's contact person (HouseholdNotice.contact_person), else the region's (tenant `letter_contact`).
    contact: str = ""


# Left out in a household text where the melder who may not be named was mentioned.
WITHHELD = "(weggelaten)"
# Name words too common to identify anyone (Dutch particles, titles): never removed on their own.
_NAME_PARTICLES = frozenset({"van", "de", "der", "den", "het", "ten", "ter", "te", "la", "le", "du", "dr", "mr",
                             "mw", "dhr", "mevr", "heer", "mevrouw"})


def melder_terms(name: str, organisation: str = "", phone: str = "", email: str = "") -> list[str]:
    """What identifies a melder in free text: the full name and each name word of three letters or more (a worker
    may write only the surname), the organisation, the e-mail address and the phone number."""
    words = [w for w in re.split(r"[\s,.'’-]+", name) if len(w) >= 3 and w.lower() not in _NAME_PARTICLES]
    return [t for t in (name.strip(), organisation.strip(), email.strip(), *words) if t] + (
        [phone] if sum(c.isdigit() for c in phone) >= 6 else [])


def _phone_pattern(term: str) -> str:
    """A Dutch phone number however written: 06-12345678, 06 1234 5678, +31 6 12345678, 0031612345678."""
    digits = "".join(c for c in term if c.isdigit())
    if term.strip().startswith("+31") or digits.startswith("0031"):
        digits = digits[2:] if term.strip().startswith("+") else digits[4:]
    else:
        digits = digits.removeprefix("0")
    return r"(?<![\d+])(?:(?:\+|00)31[\s().-]*(?:\(0\))?[\s-]*|0)?" + r"[\s().-]*".join(digits) + r"(?!\d)"


def _term_pattern(term: str) -> str:
    digits = [c for c in term if c.isdigit()]
    if len(digits) >= 6 and len(digits) >= len(term.replace(" ", "")) - 3:
        return _phone_pattern(term)
    return r"(?<!\w)" + r"\s+".join(re.escape(part) for part in term.split()) + r"(?!\w)"


def without_terms(text: str, terms: Iterable[str]) -> tuple[str, bool]:
    """`text` with every occurrence of the terms (case-insensitive, whole words) replaced by WITHHELD, longest term
    first; and whether anything was removed. The household letter passes its household text through this when the
    melder may not be named, so a worker's slip in the household fields cannot reach the household."""
    patterns = [_term_pattern(t) for t in sorted(set(terms), key=len, reverse=True) if t.strip()]
    if not patterns or not text:
        return text, False
    cleaned, count = re.subn("|".join(patterns), WITHHELD, text, flags=re.IGNORECASE)
    return cleaned, count > 0


def salutation(facts: LetterFacts) -> str:
    return f"Beste {facts.addressee.name},"


def about_children(children: tuple[str, ...]) -> str:
    if not children:
        return ""
    if len(children) == 1:
        return f" De melding gaat ook over uw kind {children[0]}."
    return f" De melding gaat ook over uw kinderen {', '.join(children[:-1])} en {children[-1]}."


def letter_paragraphs(facts: LetterFacts) -> list[tuple[str, str]]:
    """(heading, text) of the letter itself, in order; the PDF renderer only lays these out. One page."""
    if facts.melder_name:
        who = (f"{facts.melder_name} kent u of uw gezin via het werk en maakt"
               if facts.melder_professional else f"{facts.melder_name} maakt")
    else:
        who = "Iemand maakt"
    happened = (f"{who} zich zorgen over de veiligheid bij u thuis. Daarom is op "
                f"{facts.received_on.strftime('%d-%m-%Y')} een melding gedaan bij {facts.region_name}. "
                "Dat kan een schok zijn. Wij willen samen met u zorgen dat het thuis veilig is.")
    happened += about_children(facts.addressee.children)
    if not facts.melder_name:
        happened += " Wie de melding deed, mogen wij u niet vertellen."
    agreements = facts.agreements.strip() or "Uw contactpersoon bespreekt de afspraken met u."
    contact = (f"Uw contactpersoon is {facts.contact}." if facts.contact
               else "Uw contactpersoon belt u binnenkort.")
    return [
        ("Wat is er gebeurd?", happened),
        ("Wat doet Veilig Thuis?",
         "Wij kijken of het thuis veilig is en of u hulp nodig heeft. Daarvoor vragen wij informatie aan "
         "bijvoorbeeld de politie, de gemeente en de Raad voor de Kinderbescherming. Dat mag volgens de wet. "
         "Wij nemen contact op met u en met anderen die bij de melding horen. Soms praten wij ook met de huisarts, "
         "de school of een hulpverlener. Hulp regelen wij meestal bij u in de buurt."),
        ("Wat hebben wij besloten?", DECISION_TEXT.get(facts.decision, "Uw contactpersoon vertelt u wat de "
                                                                          "volgende stappen zijn.")),
        ("Welke afspraken zijn er?", agreements),
        ("Vragen?",
         f"Bel ons gratis: {VT_PHONE}. Dat kan dag en nacht. Noem dan het kenmerk {facts.reference}. {contact}"),
    ]


def rights_paragraphs(facts: LetterFacts) -> list[str]:
    """The short rights section under the letter."""
    return [
        "U mag zien wat wij over u hebben opgeschreven (inzage).",
        "Klopt er iets niet? Dan kunt u vragen om het te verbeteren of aan te vullen (correctie).",
        "Wilt u niet dat wij iets met uw gegevens doen? Dan kunt u bezwaar maken.",
        "Bent u niet tevreden over ons? Dan kunt u een klacht indienen.",
        f"Noem altijd het kenmerk {facts.reference}. Meer weten? Bel {VT_PHONE}.",
    ]
