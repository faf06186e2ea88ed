"""Registration, removal and expiry rules (docs/domain.md section 6). Refusals are RuleViolation (domain.errors)."""

from __future__ import annotations

import datetime as dt
import enum

from stdnum.nl import bsn as nl_bsn

from verwijsindex.domain.errors import RuleViolation
from verwijsindex.domain.model import HouseholdFacts, Registration, Signal, ValidRegistration

AGE_LIMIT_YEARS = 23
MAX_SIGNAL_YEARS = 2
# Contact details are read by people and copied into every match notice and logbook page: keep them short.
MAX_CONTACT_FIELD = 200
ARCHIVE_YEARS = 5


class ExpiryReason(enum.Enum):
    PLANNED_REMOVAL = "planned_removal"
    AGE_LIMIT = "age_limit"


def add_years_birthday(day: dt.date, years: int) -> dt.date:
    """Anniversary for ages: someone born on 29 February turns a year older on 1 March in
    other years, so the age limit is never reached a day early."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def add_years_ceiling(day: dt.date, years: int) -> dt.date:
    """Anniversary for maximum terms: 29 February maps to 28 February, so 'at most
    two years' is never exceeded by a day."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 2, 28)


def age_limit_date(date_of_birth: dt.date) -> dt.date:
    """The 23rd birthday: from that day on the youth is out of scope."""
    return add_years_birthday(date_of_birth, AGE_LIMIT_YEARS)


def is_under_age_limit(date_of_birth: dt.date, on: dt.date) -> bool:
    return on < age_limit_date(date_of_birth)


def max_removal_date(registered_on: dt.date) -> dt.date:
    return add_years_ceiling(registered_on, MAX_SIGNAL_YEARS)


def archive_until(archived_on: dt.date) -> dt.date:
    return add_years_ceiling(archived_on, ARCHIVE_YEARS)


def canonical_bsn(raw: str) -> str:
    """The 9-digit form the pseudonym is derived from, so '1112.22.333' and '111222333' match."""
    if not raw or not nl_bsn.is_valid(raw):
        raise RuleViolation("youth_bsn", "must be a valid BSN (9 digits, 11-proof)")
    return str(nl_bsn.compact(raw))


def validate_registration(request: Registration, today: dt.date) -> ValidRegistration:
    """Check a registration against the rules; `today` is the registration date in Europe/Amsterdam."""
    bsn = canonical_bsn(request.youth_bsn)
    dob = request.youth_date_of_birth
    if dob is None:
        raise RuleViolation("youth_date_of_birth", "is required (the verwijsindex is for youths under 23)")
    if dob > today:
        raise RuleViolation("youth_date_of_birth", "lies in the future")
    if not is_under_age_limit(dob, today):
        raise RuleViolation("youth_date_of_birth", f"the youth must be under {AGE_LIMIT_YEARS} on the registration date")
    if request.contact.sector is None:
        raise RuleViolation("registrant.sector", "must be one of the seven registrant sectors")
    if not request.contact.name.strip():
        raise RuleViolation("registrant.name", "is required so other registrants can make contact")
    for field in ("name", "organisation", "phone", "email", "coordinator"):
        if len(getattr(request.contact, field)) > MAX_CONTACT_FIELD:
            raise RuleViolation(f"registrant.{field}", f"may be at most {MAX_CONTACT_FIELD} characters")
    if not (request.contact.phone.strip() or request.contact.email.strip()):
        raise RuleViolation("registrant.phone", "a phone number or e-mail address is required")
    latest = max_removal_date(today)
    removal = request.planned_removal or latest
    if removal <= today:
        raise RuleViolation("planned_removal", "must lie after the registration date")
    if removal > latest:
        raise RuleViolation("planned_removal", f"may be at most {MAX_SIGNAL_YEARS} years after registration ({latest})")
    return ValidRegistration(youth_bsn=bsn, registered_on=today, planned_removal=removal,
                             age_limit_date=age_limit_date(dob), contact=request.contact)


def expiry_reason(signal: Signal, today: dt.date) -> ExpiryReason | None:
    """Why an active signal must go to the archive today, if it must."""
    if today >= signal.age_limit_date:
        return ExpiryReason.AGE_LIMIT
    if today >= signal.planned_removal:
        return ExpiryReason.PLANNED_REMOVAL
    return None


def normalised_address(raw: str) -> str:
    """The form an address pseudonym is derived from: letters and digits only, upper case, so
    "3511 ab 12-a" and "3511AB 12A" are one address. Empty for an unusable address."""
    return "".join(ch for ch in raw.upper() if ch.isascii() and ch.isalnum())


def deceased(facts: HouseholdFacts) -> bool:
    """Death ends every signal on the youth at once. They are deleted, not archived: the
    archive exists only to tell a new registrant of the same youth about an earlier signal
    (docs/domain.md section 6), which cannot happen for a youth who has died; keeping them would only keep
    data about a closed file. The logbook keeps who registered and when, and why it ended."""
    return facts.date_of_death is not None
