"""Every domain rule of intake (docs/domain.md sections 2-3), on pure domain objects."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from intake.domain import rules
from intake.domain.errors import ValidationError
from intake.domain.model import (
    Advies,
    AmbtshalveConditions,
    Asker,
    ConcernNature,
    ConversionCriteria,
    Directbetrokkene,
    Disclosure,
    DisclosureGround,
    Identity,
    MelderType,
    Melding,
    MultidisciplinaryConsultation,
    PersonRole,
    Situation,
)

VALID_BSN = "111222333"
TEACHER = Identity(name="Petra de Vries", role="leerkracht", organisation="De Regenboog", phone="0201234567",
                   email="p@example.nl")
CHILD = Directbetrokkene(role=PersonRole.CHILD, bsn=VALID_BSN)
CHILD_WITHOUT_BSN = Directbetrokkene(role=PersonRole.CHILD, surname=" Jansen ", first_names="Eva Maria",
                                     date_of_birth=dt.date(2015, 3, 9), postcode="1234 ab", house_number=" 12A ")


def melding(**changes: object) -> Melding:
    base = Melding(melder_type=MelderType.PROFESSIONAL, melder=TEACHER, situation=Situation.VT_TAKES_OVER,
                   directbetrokkenen=(CHILD,), nature=(ConcernNature.CHILD_ABUSE,))
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def advies(**changes: object) -> Advies:
    base = Advies(asker=Asker(type=MelderType.PROFESSIONAL, identity=TEACHER), question="Zorgen over een leerling")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def refused(check: object, field: str) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        check()  # type: ignore[operator]
    assert caught.value.field == field, str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")
    return caught.value


# -- advies ---------------------------------------------------------------------------------

def test_a_professional_advies_is_valid() -> None:
    rules.validate_advies(advies())


def test_an_advies_never_carries_household_data() -> None:
    error = refused(lambda: rules.validate_advies(advies(directbetrokkenen=(CHILD,))), "directbetrokkenen")
    assert "never records data of household members" in error.rule


@pytest.mark.parametrize(("identity", "field"), [
    (None, "asker.identity.name"),
    (dataclasses.replace(TEACHER, name=" "), "asker.identity.name"),
    (dataclasses.replace(TEACHER, organisation=""), "asker.identity.organisation"),
    (dataclasses.replace(TEACHER, phone="", email=""), "asker.identity.phone"),
])
def test_a_professional_asker_needs_name_organisation_and_contact(identity: Identity | None, field: str) -> None:
    refused(lambda: rules.validate_advies(advies(asker=Asker(MelderType.PROFESSIONAL, identity))), field)


def test_a_professional_asker_may_give_only_an_email() -> None:
    rules.validate_advies(advies(asker=Asker(MelderType.PROFESSIONAL, dataclasses.replace(TEACHER, phone=""))))


def test_a_bystander_may_stay_anonymous() -> None:
    rules.validate_advies(advies(asker=Asker(MelderType.BYSTANDER)))


def test_the_asker_type_is_required() -> None:
    refused(lambda: rules.validate_advies(advies(asker=Asker(MelderType.UNSPECIFIED, TEACHER))), "asker.type")


def test_a_bystanders_details_are_kept_only_with_consent() -> None:
    neighbour = Identity(name="Buurvrouw", phone="0612345678")
    assert advies(asker=Asker(MelderType.BYSTANDER, neighbour)).as_stored().asker.identity is None
    kept = advies(asker=Asker(MelderType.BYSTANDER, neighbour, consent_to_keep_details=True)).as_stored()
    assert kept.asker.identity == neighbour
    assert advies().as_stored().asker.identity == TEACHER


# -- melding --------------------------------------------------------------------------------

def test_a_complete_melding_is_valid() -> None:
    rules.validate_melding(melding())
    rules.validate_melding(melding(directbetrokkenen=(CHILD_WITHOUT_BSN,)))


def test_a_melding_needs_the_melders_name() -> None:
    error = refused(lambda: rules.validate_melding(melding(melder=None)), "melder.name")
    assert "advies" in error.rule


def test_a_melding_needs_phone_or_email_and_says_an_advies_needs_no_identity() -> None:
    error = refused(lambda: rules.validate_melding(melding(melder=dataclasses.replace(TEACHER, phone="", email=""))),
                    "melder.phone")
    assert "contact details (phone or e-mail)" in error.rule and "advies" in error.rule and "no identity" in error.rule
    rules.validate_melding(melding(melder=dataclasses.replace(TEACHER, phone="")))
    rules.validate_melding(melding(melder=dataclasses.replace(TEACHER, email="")))


def test_an_anonymous_bystander_cannot_make_a_melding() -> None:
    refused(lambda: rules.validate_melding(melding(melder_type=MelderType.BYSTANDER, melder=None)), "melder.name")


def test_the_melder_type_is_required() -> None:
    refused(lambda: rules.validate_melding(melding(melder_type=MelderType.UNSPECIFIED)), "melder_type")


def test_the_situation_is_required() -> None:
    refused(lambda: rules.validate_melding(melding(situation=Situation.UNSPECIFIED)), "situation")


def test_at_least_one_directbetrokkene() -> None:
    refused(lambda: rules.validate_melding(melding(directbetrokkenen=())), "directbetrokkenen")


def test_each_directbetrokkene_needs_a_role() -> None:
    person = dataclasses.replace(CHILD, role=PersonRole.UNSPECIFIED)
    refused(lambda: rules.validate_melding(melding(directbetrokkenen=(CHILD, person))), "directbetrokkenen[1].role")


@pytest.mark.parametrize("bsn", ["111222334", "12345678", "abcdefghi", "1112223330"])
def test_a_bsn_must_pass_the_eleven_proof(bsn: str) -> None:
    person = dataclasses.replace(CHILD, bsn=bsn)
    refused(lambda: rules.validate_melding(melding(directbetrokkenen=(person,))), "directbetrokkenen[0].bsn")


@pytest.mark.parametrize("missing", ["surname", "first_names", "date_of_birth", "postcode", "house_number"])
def test_without_bsn_the_full_fallback_is_required(missing: str) -> None:
    person = dataclasses.replace(CHILD_WITHOUT_BSN, **{missing: None if missing == "date_of_birth" else ""})
    error = refused(lambda: rules.validate_melding(melding(directbetrokkenen=(person,))),
                    f"directbetrokkenen[0].{missing}")
    assert "without a BSN" in error.rule


def test_the_nature_is_required_and_specified() -> None:
    refused(lambda: rules.validate_melding(melding(nature=())), "nature")
    refused(lambda: rules.validate_melding(melding(nature=(ConcernNature.OTHER, ConcernNature.UNSPECIFIED))), "nature[1]")


def test_an_acute_melding_is_handled_the_same_day() -> None:
    assert melding(acute=True).same_day
    assert not melding().same_day


@pytest.mark.parametrize(("melder_type", "disclosure", "named"), [
    (MelderType.BYSTANDER, Disclosure(), False),
    (MelderType.BYSTANDER, Disclosure(bystander_consents=True), True),
    (MelderType.PROFESSIONAL, Disclosure(), True),
    (MelderType.PROFESSIONAL, Disclosure(withhold_ground=DisclosureGround.ENDANGERS_INVOLVED), False),
    (MelderType.PROFESSIONAL, Disclosure(withhold_ground=DisclosureGround.ENDANGERS_MELDER), False),
    (MelderType.PROFESSIONAL, Disclosure(withhold_ground=DisclosureGround.HARMS_TRUST), False),
])
def test_disclosure_of_the_melder(melder_type: MelderType, disclosure: Disclosure, named: bool) -> None:
    assert melding(melder_type=melder_type, disclosure=disclosure).melder_may_be_named is named


# -- identity bytes (a contract with radar) --------------------------------------------------

def test_identity_bytes_of_a_bsn() -> None:
    assert CHILD.identity_bytes() == b"bsn:111222333"


def test_identity_bytes_of_the_fallback_are_normalised() -> None:
    assert CHILD_WITHOUT_BSN.identity_bytes() == b"fallback:jansen|eva maria|2015-03-09|1234AB|12a"


# -- conversion and ambtshalve --------------------------------------------------------------

def test_conversion_needs_both_criteria_and_an_advies() -> None:
    rules.validate_conversion("a1", ConversionCriteria("ernstig letsel", "school kan niet verder"))
    refused(lambda: rules.validate_conversion("", ConversionCriteria("x", "y")), "advies_id")
    refused(lambda: rules.validate_conversion("a1", ConversionCriteria("", "y")), "criteria.nature_and_severity")
    refused(lambda: rules.validate_conversion("a1", ConversionCriteria("x", " ")), "criteria.asker_inability")


ALL_CONDITIONS = AmbtshalveConditions(True, True, True, True)
MDO = MultidisciplinaryConsultation(date=dt.date(2026, 11, 20), participants=("gedragswetenschapper", "teamleider"))


def test_ambtshalve_with_all_conditions_and_an_mdo_is_valid() -> None:
    rules.validate_ambtshalve(ALL_CONDITIONS, MDO)


@pytest.mark.parametrize("condition", [f.name for f in dataclasses.fields(AmbtshalveConditions)])
def test_ambtshalve_needs_all_four_conditions(condition: str) -> None:
    conditions = dataclasses.replace(ALL_CONDITIONS, **{condition: False})
    error = refused(lambda: rules.validate_ambtshalve(conditions, MDO), f"conditions.{condition}")
    assert "all four" in error.rule


def test_ambtshalve_needs_an_mdo_with_a_date_and_two_participants() -> None:
    refused(lambda: rules.validate_ambtshalve(ALL_CONDITIONS, dataclasses.replace(MDO, date=None)), "mdo.date")
    refused(lambda: rules.validate_ambtshalve(ALL_CONDITIONS, dataclasses.replace(MDO, participants=("alleen ik",))),
            "mdo.participants")
    refused(lambda: rules.validate_ambtshalve(ALL_CONDITIONS, dataclasses.replace(MDO, participants=("a", " "))),
            "mdo.participants")


def test_the_idempotency_key_is_required() -> None:
    refused(lambda: rules.require_idempotency_key(" "), "idempotency_key")
    rules.require_idempotency_key("k1")


def test_an_error_nests_under_its_sub_message() -> None:
    error = ValidationError("melder.phone", "needed")
    nested = error.under("melding")
    assert isinstance(nested, ValidationError) and str(nested) == "melding.melder.phone: needed"


def test_text_limits_count_the_encoded_bytes_not_the_characters() -> None:
    # 6,000 control characters are 36,000 bytes once encoded: over the narrative's 32 KB, though few characters.
    with pytest.raises(ValidationError) as err:
        rules.validate_melding(melding(narrative="\x01" * 6000))
    assert err.value.field == "narrative" and "36,000 bytes once encoded" in err.value.rule
    rules.validate_melding(melding(narrative="Kind komt met blauwe plekken op school. " * 700))  # 28 KB of text: fine


def test_the_limit_is_exact_for_ascii_and_other_texts_alike() -> None:
    """At the limit and one byte past it, for texts that take six bytes (a control character), one, or two to four
    (accented letters, emoji) per character once encoded."""
    limit = rules.SHORT_TEXT_BYTES
    for unit in ("\x01", "J", "\u00eb", "\u20ac", "\U0001f600"):
        size = rules.encoded_size(unit)
        at_limit = unit * (limit // size)
        rules.validate_melding(melding(melder=Identity(name=at_limit + "J" * (limit % size), phone="0201234567")))
        with pytest.raises(ValidationError) as err:
            rules.validate_melding(melding(melder=Identity(name=at_limit + "J" * (limit % size + 1),
                                                           phone="0201234567")))
        assert err.value.field == "melder.name", unit


def test_short_fields_and_nested_fields_are_limited_too() -> None:
    with pytest.raises(ValidationError) as err:
        rules.validate_melding(melding(directbetrokkenen=(dataclasses.replace(CHILD_WITHOUT_BSN, surname="J" * 2000),)))
    assert err.value.field == "directbetrokkenen[0].surname"
    with pytest.raises(ValidationError) as err:
        rules.validate_conversion("advies-1", ConversionCriteria(nature_and_severity="\x00" * 10_000,
                                                                 asker_inability="kan niet"))
    assert err.value.field == "criteria.nature_and_severity"


def test_a_melding_names_at_most_fifty_directbetrokkenen() -> None:
    with pytest.raises(ValidationError) as err:
        rules.validate_melding(melding(directbetrokkenen=(CHILD,) * 51))
    assert err.value.field == "directbetrokkenen" and "at most 50" in err.value.rule


def test_every_broken_rule_is_listed_in_order_and_the_first_is_what_validate_raises() -> None:
    """The meldformulier shows every problem at once (melding_problems); gRPC answers the first (validate_melding)."""
    broken = melding(melder_type=MelderType.UNSPECIFIED, melder=None, situation=Situation.UNSPECIFIED,
                     directbetrokkenen=(Directbetrokkene(role=PersonRole.UNSPECIFIED, surname="Jansen"),),
                     nature=(), narrative="\x01" * 6000)
    fields = [p.field for p in rules.melding_problems(broken)]
    assert fields == ["narrative", "melder_type", "melder.name", "melder.phone", "situation",
                      "directbetrokkenen[0].role", "directbetrokkenen[0].first_names", "directbetrokkenen[0].postcode",
                      "directbetrokkenen[0].house_number", "directbetrokkenen[0].date_of_birth", "nature"]
    refused(lambda: rules.validate_melding(broken), "narrative")
    assert list(rules.melding_problems(melding())) == []
    lone = advies(asker=Asker(MelderType.PROFESSIONAL, Identity(email="p@example.nl")), directbetrokkenen=(CHILD,))
    assert [p.field for p in rules.advies_problems(lone)] == ["directbetrokkenen", "asker.identity.name",
                                                               "asker.identity.organisation"]
    assert rules.text_limit("narrative") == rules.LONG_TEXT_BYTES and rules.text_limit("name") == rules.SHORT_TEXT_BYTES
