"""Validation rules of docs/domain.md sections 2 and 3.

Every check raises ValidationError(field, rule) with the field path as the caller sent it
(relative to the request; the service layer nests it under e.g. "melding.") and the rule in
words, so the refusal is self-explanatory.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable, Iterator

from stdnum.nl import bsn as bsn_number

from .errors import TooLarge, ValidationError
from .model import (
    Advies,
    AmbtshalveConditions,
    ConcernNature,
    ConversionCriteria,
    Directbetrokkene,
    Identity,
    MelderType,
    Melding,
    MultidisciplinaryConsultation,
    PersonRole,
    Situation,
)

MIN_MDO_PARTICIPANTS = 2
# Limits on what a text field takes once encoded (UTF-8 inside JSON, as it is stored and sent): a control
# character is six bytes there, so a character count lets a 100 KB form post grow past every Kafka record
# limit. Far below the consumers' record limit (vtkit.envelope.MAX_VALUE_BYTES, 512 KB), see docs/architecture.md.
LONG_TEXT_BYTES = 32 * 1024  # the narrative, the question, the conversion's descriptions
SHORT_TEXT_BYTES = 1024  # names, roles, contact details, labels
LONG_TEXTS = frozenset({"narrative", "question", "nature_and_severity", "asker_inability"})
MAX_DIRECTBETROKKENEN = 50
ADVIES_NEEDS_NO_IDENTITY = "a caller who wants to stay unknown can ask for an advies instead, which needs no identity"


def require_idempotency_key(key: str) -> None:
    if not key.strip():
        raise ValidationError("idempotency_key", "is required so that a retried request never creates a second contact")


def encoded_size(text: str) -> int:
    """Bytes the text takes as a JSON string body (what intake encrypts and publishes)."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


def text_limit(name: str) -> int:
    """The encoded-size limit of a text field by its name (e.g. "narrative"), for forms to show."""
    return LONG_TEXT_BYTES if name in LONG_TEXTS else SHORT_TEXT_BYTES


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def text_size_problems(value: object, path: str = "") -> Iterator[TooLarge]:
    """Every text field of a request (dataclasses, nested, tuples of them) over its encoded-size limit."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name in _field_names(type(value)):
            yield from text_size_problems(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, tuple):
        for index, item in enumerate(value):
            yield from text_size_problems(item, f"{path}[{index}]")
    elif isinstance(value, str):
        limit = text_limit(path.rsplit(".", 1)[-1].split("[", 1)[0])
        # An ASCII character takes at most six bytes encoded (a control character as \u00XX): such a text this short
        # is within its limit without encoding it (any other text is encoded and measured, as always).
        if value.isascii() and 6 * len(value) <= limit:
            return
        if encoded_size(value) > limit:
            yield TooLarge(path, f"is {encoded_size(value):,} bytes once encoded (control characters count six "
                                 f"each); at most {limit:,} bytes are taken")


def _first(problems: Iterable[ValidationError]) -> None:
    """The single-error contract of the validate_* functions: raise the first problem, if any."""
    for problem in problems:
        raise problem


def validate_text_sizes(value: object, path: str = "") -> None:
    _first(text_size_problems(value, path))


# Each *_problems function yields every broken rule in a fixed order; validate_* raises the first of them
# (what gRPC answers), the meldformulier shows all of them at once. One set of rules, two ways to report.


def advies_problems(advies: Advies) -> Iterator[ValidationError]:
    yield from text_size_problems(advies)
    if advies.directbetrokkenen:
        yield ValidationError("directbetrokkenen", "an advies never records data of household members; "
                              "send it without directbetrokkenen, or convert the advies into a melding")
    asker = advies.asker
    if asker.type == MelderType.UNSPECIFIED:
        yield ValidationError("asker.type", "say whether the asker is a professional or a bystander")
    if asker.type == MelderType.PROFESSIONAL:
        who = asker.identity or Identity()
        if not who.name.strip():
            yield ValidationError("asker.identity.name", "an advies is registered on a professional asker's name")
        if not who.organisation.strip():
            yield ValidationError("asker.identity.organisation", "a professional asker's organisation is required")
        if not (who.phone.strip() or who.email.strip()):
            yield ValidationError("asker.identity.phone", "a professional asker needs a phone number or e-mail address "
                                  "so VT can reach them")
    # A bystander may stay anonymous: nothing further is required.


def validate_advies(advies: Advies) -> None:
    _first(advies_problems(advies))


def melder_problems(melding: Melding) -> Iterator[ValidationError]:
    if melding.melder_type == MelderType.UNSPECIFIED:
        yield ValidationError("melder_type", "say whether the melder is a professional or a bystander")
    melder = melding.melder or Identity()
    if not melder.name.strip():
        yield ValidationError("melder.name", "a melding needs the melder's identity (name); " + ADVIES_NEEDS_NO_IDENTITY)
    if not (melder.phone.strip() or melder.email.strip()):
        yield ValidationError("melder.phone", "a melding needs the melder's contact details (phone or e-mail); "
                              + ADVIES_NEEDS_NO_IDENTITY)


def validate_melder(melding: Melding) -> None:
    _first(melder_problems(melding))


def directbetrokkene_problems(person: Directbetrokkene, path: str) -> Iterator[ValidationError]:
    if person.role == PersonRole.UNSPECIFIED:
        yield ValidationError(f"{path}.role", "each directbetrokkene needs a role (victim, suspect, child, ...)")
    if person.bsn.strip():
        if not bsn_number.is_valid(person.bsn.strip()):
            yield ValidationError(f"{path}.bsn", "is not a valid BSN (9 digits passing the 11-proof)")
        elif len(person.bsn.strip()) != 9:
            yield ValidationError(f"{path}.bsn", "write the BSN as exactly 9 digits")
        return
    fallback = {"surname": person.surname, "first_names": person.first_names, "postcode": person.postcode,
                "house_number": person.house_number}
    for name, value in fallback.items():
        if not value.strip():
            yield ValidationError(f"{path}.{name}", "without a BSN a directbetrokkene must be identified by surname, "
                                  "first names, date of birth, postcode and house number")
    if person.date_of_birth is None:
        yield ValidationError(f"{path}.date_of_birth", "without a BSN a directbetrokkene must be identified by surname, "
                              "first names, date of birth, postcode and house number (valid date required)")


def validate_directbetrokkene(person: Directbetrokkene, path: str) -> None:
    _first(directbetrokkene_problems(person, path))


def melding_problems(melding: Melding) -> Iterator[ValidationError]:
    yield from text_size_problems(melding)
    if len(melding.directbetrokkenen) > MAX_DIRECTBETROKKENEN:
        yield ValidationError("directbetrokkenen", f"at most {MAX_DIRECTBETROKKENEN} directbetrokkenen in one melding; "
                              "report further households in their own melding")
    yield from melder_problems(melding)
    if melding.situation == Situation.UNSPECIFIED:
        yield ValidationError("situation", "the melder states whether they can give or organise help themselves "
                              "or ask VT to take over")
    if not melding.directbetrokkenen:
        yield ValidationError("directbetrokkenen", "a melding is about at least one directbetrokkene")
    for index, person in enumerate(melding.directbetrokkenen):
        yield from directbetrokkene_problems(person, f"directbetrokkenen[{index}]")
    if not melding.nature:
        yield ValidationError("nature", "state the nature of the concern (child abuse, partner violence, ...)")
    for index, nature in enumerate(melding.nature):
        if nature == ConcernNature.UNSPECIFIED:
            yield ValidationError(f"nature[{index}]", "an unspecified nature of concern is not allowed")


def validate_melding(melding: Melding) -> None:
    _first(melding_problems(melding))


def validate_conversion(advies_id: str, criteria: ConversionCriteria) -> None:
    """Conversion needs both grounds of docs/domain.md section 2: nature/severity AND the asker's inability."""
    validate_text_sizes(criteria, "criteria")
    if not advies_id.strip():
        raise ValidationError("advies_id", "name the advies to convert")
    if not criteria.nature_and_severity.strip():
        raise ValidationError("criteria.nature_and_severity", "conversion requires the nature and severity of the "
                              "signals to be described")
    if not criteria.asker_inability.strip():
        raise ValidationError("criteria.asker_inability", "conversion requires a description of why the asker cannot "
                              "handle the signals adequately")


def validate_ambtshalve(conditions: AmbtshalveConditions, mdo: MultidisciplinaryConsultation) -> None:
    """An ambtshalve melding needs all four conditions and a preceding MDO (docs/domain.md section 2)."""
    validate_text_sizes(mdo, "mdo")
    checks = {
        "high_acute_risk": "the safety risk must be high and acute",
        "professional_cannot_increase_safety": "the professional, even with VT's support, cannot or will not "
                                               "increase safety enough",
        "no_agreement_on_melding": "the professional and VT did not agree on making a melding",
        "vt_has_personal_data": "VT has the personal data of the directbetrokkenen",
    }
    for name, meaning in checks.items():
        if not getattr(conditions, name):
            raise ValidationError(f"conditions.{name}", f"an ambtshalve melding is allowed only when all four "
                                  f"conditions hold; this one does not: {meaning}")
    if mdo.date is None:
        raise ValidationError("mdo.date", "an ambtshalve melding is always preceded by a multidisciplinary "
                              "consultation (MDO); give its date")
    participants = [p for p in mdo.participants if p.strip()]
    if len(participants) < MIN_MDO_PARTICIPANTS:
        raise ValidationError("mdo.participants", f"an MDO is never one worker alone: at least "
                              f"{MIN_MDO_PARTICIPANTS} participants are required")
