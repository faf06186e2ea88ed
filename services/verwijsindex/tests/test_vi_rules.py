"""Registration and expiry rules: the age limit, the removal date; no reason in a signal."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from verwijsindex.domain import rules
from verwijsindex.domain.model import Contact, Registration, Sector, Signal, SignalStatus

D = dt.date
CONTACT = Contact("J. de Vries", "Basisschool De Linde", "0301234567", "jdv@example.nl", Sector.EDUCATION)


def registration(dob: dt.date | None = D(2010, 5, 1), removal: dt.date | None = None,
                 bsn: str = "111222333", contact: Contact = CONTACT) -> Registration:
    return Registration(bsn, dob, removal, contact)


def test_age_limit_is_the_23rd_birthday_exactly() -> None:
    dob = D(2003, 6, 15)
    assert rules.is_under_age_limit(dob, D(2026, 6, 14))
    assert not rules.is_under_age_limit(dob, D(2026, 6, 15))
    assert rules.validate_registration(registration(dob), D(2026, 6, 14)).age_limit_date == D(2026, 6, 15)
    with pytest.raises(rules.RuleViolation) as err:
        rules.validate_registration(registration(dob), D(2026, 6, 15))
    assert err.value.field == "youth_date_of_birth" and "under 23" in str(err.value)


def test_leap_day_birth_turns_23_on_first_of_march() -> None:
    assert rules.age_limit_date(D(2004, 2, 29)) == D(2027, 3, 1)
    assert rules.is_under_age_limit(D(2004, 2, 29), D(2027, 2, 28))


def test_missing_or_future_date_of_birth_is_rejected() -> None:
    for dob in (None, D(2030, 1, 1)):
        with pytest.raises(rules.RuleViolation) as err:
            rules.validate_registration(registration(dob), D(2026, 1, 1))
        assert err.value.field == "youth_date_of_birth"


def test_default_removal_is_two_years_and_that_is_also_the_maximum() -> None:
    today = D(2026, 11, 22)
    assert rules.validate_registration(registration(), today).planned_removal == D(2028, 11, 22)
    assert rules.validate_registration(registration(removal=D(2028, 11, 22)), today).planned_removal == D(2028, 11, 22)
    assert rules.validate_registration(registration(removal=D(2027, 1, 1)), today).planned_removal == D(2027, 1, 1)
    for bad in (D(2028, 11, 23), today, D(2026, 1, 1)):
        with pytest.raises(rules.RuleViolation) as err:
            rules.validate_registration(registration(removal=bad), today)
        assert err.value.field == "planned_removal"


def test_two_years_from_leap_day_never_exceeds_two_years() -> None:
    assert rules.max_removal_date(D(2028, 2, 29)) == D(2030, 2, 28)


def test_a_registration_carries_no_reason() -> None:
    # docs/domain.md section 6: a signal holds the youth, the registrant, when and until when; never which of the
    # twelve risks it is about (the request's deprecated risk_code is not even read: adapters.proto).
    fields = {f.name for f in dataclasses.fields(rules.validate_registration(registration(), D(2026, 1, 1)))}
    assert fields == {"youth_bsn", "registered_on", "planned_removal", "age_limit_date", "contact"}
    assert not {f.name for f in dataclasses.fields(Signal)} & {"risk_code", "risk", "reason"}


@pytest.mark.parametrize("bsn", ["", "123456789", "11122233x", "1112223334"])
def test_bsn_must_pass_the_eleven_test(bsn: str) -> None:
    with pytest.raises(rules.RuleViolation) as err:
        rules.validate_registration(registration(bsn=bsn), D(2026, 1, 1))
    assert err.value.field == "youth_bsn"


def test_bsn_is_canonicalised() -> None:
    assert rules.validate_registration(registration(bsn="1112.22.333"), D(2026, 1, 1)).youth_bsn == "111222333"


def test_sector_is_required() -> None:
    no_sector = Contact("x", "y", "1", "", None)
    with pytest.raises(rules.RuleViolation) as err:
        rules.validate_registration(registration(contact=no_sector), D(2026, 1, 1))
    assert err.value.field == "registrant.sector"


@pytest.mark.parametrize("field", ["name", "organisation", "phone", "email", "coordinator"])
def test_contact_details_longer_than_200_characters_are_refused_naming_the_field(field: str) -> None:
    long = dataclasses.replace(CONTACT, **{field: "x" * (rules.MAX_CONTACT_FIELD + 1)})
    with pytest.raises(rules.RuleViolation) as err:
        rules.validate_registration(registration(contact=long), D(2026, 1, 1))
    assert err.value.field == f"registrant.{field}"
    rules.validate_registration(registration(contact=dataclasses.replace(CONTACT, **{field: "x" * 200})),
                                D(2026, 1, 1))


def _signal(planned: dt.date, age_limit: dt.date) -> Signal:
    return Signal("s", "p", "r", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), planned, age_limit, SignalStatus.ACTIVE, CONTACT)


def test_expiry_on_planned_removal_or_23rd_birthday() -> None:
    signal = _signal(D(2027, 1, 1), D(2027, 6, 1))
    assert rules.expiry_reason(signal, D(2026, 12, 31)) is None
    assert rules.expiry_reason(signal, D(2027, 1, 1)) is rules.ExpiryReason.PLANNED_REMOVAL
    young = _signal(D(2027, 1, 1), D(2026, 12, 1))
    assert rules.expiry_reason(young, D(2026, 11, 30)) is None
    assert rules.expiry_reason(young, D(2026, 12, 1)) is rules.ExpiryReason.AGE_LIMIT


def test_archive_keeps_five_years() -> None:
    assert rules.archive_until(D(2026, 11, 22)) == D(2031, 11, 22)


def test_address_normalisation_ignores_case_spaces_and_punctuation() -> None:
    assert rules.normalised_address("3511 ab 12-a") == rules.normalised_address("3511AB 12A") == "3511AB12A"
    assert rules.normalised_address(" , ") == ""
