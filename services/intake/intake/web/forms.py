"""Form fields <-> domain objects, and domain errors -> (form field, Dutch message).

Only translation: a value the form does not know becomes the domain's "unspecified", so the domain
rule refuses it exactly as it refuses the same gap over gRPC."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from intake.domain import rules
from intake.domain.errors import TooLarge, ValidationError
from intake.domain.model import (
    Advies,
    Afwegingskader,
    Asker,
    ConcernNature,
    Directbetrokkene,
    Disclosure,
    DisclosureGround,
    Identity,
    MelderType,
    Melding,
    PersonRole,
    Situation,
)


class FormData(Mapping[str, str]):
    """The posted fields: single values by name, repeated ones (checkbox groups) through getall."""

    def __init__(self, pairs: Sequence[tuple[str, str]]):
        self._pairs = [(k, v) for k, v in pairs]
        self._first: dict[str, str] = {}
        for key, value in self._pairs:
            self._first.setdefault(key, value)

    def __getitem__(self, key: str) -> str:
        return self._first[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._first)

    def __len__(self) -> int:
        return len(self._first)

    def text(self, key: str) -> str:
        return self._first.get(key, "").strip()

    def getall(self, key: str) -> list[str]:
        return [v for k, v in self._pairs if k == key]

    def checked(self, key: str) -> bool:
        return self._first.get(key, "") == "ja"

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(self._pairs)


# -- choices shown on the form (value, Dutch label) and their domain meaning -------------------------

MELDER_TYPES = [("professional", "Professional (ik meld vanuit mijn werk)"),
                ("omstander", "Omstander (bijvoorbeeld buur, familielid of kennis)")]
_MELDER_TYPE = {"professional": MelderType.PROFESSIONAL, "omstander": MelderType.BYSTANDER}

WITHHOLD_GROUNDS = [("", "Geen: mijn naam mag aan het gezin worden genoemd"),
                    ("gevaar_betrokkenen", "Noemen brengt de betrokkenen in gevaar"),
                    ("gevaar_melder", "Noemen brengt mij of mijn collega's in gevaar"),
                    ("vertrouwensrelatie", "Noemen schaadt de vertrouwensrelatie met de cliënt")]
_WITHHOLD = {"": DisclosureGround.NONE, "gevaar_betrokkenen": DisclosureGround.ENDANGERS_INVOLVED,
             "gevaar_melder": DisclosureGround.ENDANGERS_MELDER, "vertrouwensrelatie": DisclosureGround.HARMS_TRUST}

SITUATIONS = [("zelf", "1. Ik kan zelf hulp bieden of organiseren"),
              ("vt", "2. Ik vraag Veilig Thuis de zorg voor de veiligheid over te nemen")]
_SITUATION = {"zelf": Situation.CAN_HELP_MYSELF, "vt": Situation.VT_TAKES_OVER}

ROLES = [("", "Kies een rol"), ("slachtoffer", "(Vermoedelijk) slachtoffer"), ("kind", "Kind"),
         ("pleger", "(Vermoedelijke) pleger"), ("gezinslid", "Ander gezinslid"), ("getuige", "Getuige")]
_ROLE = {"slachtoffer": PersonRole.VICTIM, "kind": PersonRole.CHILD, "pleger": PersonRole.SUSPECT,
         "gezinslid": PersonRole.HOUSEHOLD_MEMBER, "getuige": PersonRole.WITNESS}

NATURES = [("kindermishandeling", "Kindermishandeling"), ("partnergeweld", "(Ex-)partnergeweld"),
           ("geweld_ouders", "Geweld tegen ouders"), ("ouderenmishandeling", "Ouderenmishandeling"),
           ("anders", "Anders")]
_NATURE = {"kindermishandeling": ConcernNature.CHILD_ABUSE, "partnergeweld": ConcernNature.PARTNER_VIOLENCE,
           "geweld_ouders": ConcernNature.VIOLENCE_AGAINST_PARENTS, "ouderenmishandeling": ConcernNature.ELDER_ABUSE,
           "anders": ConcernNature.OTHER}

AFWEGINGSKADER = [("ak_vermoeden", "Is er een vermoeden van huiselijk geweld of kindermishandeling?", "suspicion"),
                  ("ak_onveilig", "Is er sprake van acute onveiligheid of structurele onveiligheid?",
                   "acute_or_structural_unsafety"),
                  ("ak_hulp_bieden", "Kunt u voldoende hulp bieden of organiseren?", "can_offer_help"),
                  ("ak_hulp_aanvaard", "Aanvaarden de betrokkenen de hulp en zijn zij bereid zich in te zetten?",
                   "help_accepted"),
                  ("ak_hulp_veilig", "Leidt de hulp binnen de gewenste termijn tot de noodzakelijke veiligheid?",
                   "help_leads_to_safety")]

MELDCODE_STEPS = [("stap1", "Stap 1: signalen in kaart gebracht"),
                  ("stap2", "Stap 2: collegiale consultatie"),
                  ("stap3", "Stap 3: gesprek met de cliënt"),
                  ("stap4", "Stap 4: geweld of kindermishandeling gewogen"),
                  ("stap5", "Stap 5: beslist over hulp of melden")]

MAX_PERSONS = 10  # a household: the form offers up to ten directbetrokkenen (the domain takes more over gRPC)
PERSON_FIELDS = ("rol", "bsn", "achternaam", "voornamen", "geboortedatum", "postcode", "huisnummer")
_PERSON_FIELD = re.compile(r"p(\d+)_(\w+)")


def melder_type_of(form: Mapping[str, str]) -> str:
    """"professional", "omstander", or "" when the form does not say (or says something else)."""
    value = form.get("melder_type", "").strip()
    return value if value in _MELDER_TYPE else ""


def _afwegingskader(form: FormData) -> Afwegingskader:
    return Afwegingskader(**{attr: form.checked(name) for name, _, attr in AFWEGINGSKADER})


def _identity(form: FormData) -> Identity | None:
    identity = Identity(name=form.text("naam"), role=form.text("functie"), organisation=form.text("organisatie"),
                        phone=form.text("telefoon"), email=form.text("email"))
    return None if identity.is_empty else identity


def _date(raw: str, path: str, problems: list[ValidationError]) -> dt.date | None:
    """ISO (what <input type=date> sends) or dd-mm-jjjj as typed; a wrong date is a problem of `path`."""
    if not raw:
        return None
    match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", raw)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(raw)
    except ValueError:
        problems.append(ValidationError(path, "is not a valid calendar date"))
        return None


@dataclass(frozen=True)
class ParsedMelding:
    melding: Melding
    blocks: tuple[int, ...]  # the form block of each directbetrokkene, in domain order
    problems: tuple[ValidationError, ...] = ()  # what the form itself could not read (paths as the domain's)


def person_count(form: FormData) -> int:
    """How many person blocks the form shows: the hidden count, at least the highest block typed in, 1..10."""
    try:
        count = int(form.text("personen") or "1")
    except ValueError:
        count = 1
    typed = [int(m.group(1)) for key in form for m in [_PERSON_FIELD.fullmatch(key)] if m and form.text(key)]
    return max(1, min(MAX_PERSONS, max([count, *typed])))


def filled_blocks(form: FormData) -> tuple[int, ...]:
    """The person blocks the user filled in (an untouched block is no directbetrokkene)."""
    return tuple(b for b in range(1, person_count(form) + 1) if any(form.text(f"p{b}_{name}") for name in PERSON_FIELDS))


def with_person_added(form: FormData) -> FormData:
    count = min(MAX_PERSONS, person_count(form) + 1)
    return FormData([(k, v) for k, v in form.pairs if k != "personen"] + [("personen", str(count))])


def with_person_removed(form: FormData, block: int) -> FormData:
    """The form without person block `block`; the blocks after it move up one, with what was typed in them."""
    count = person_count(form)
    pairs: list[tuple[str, str]] = []
    for key, value in form.pairs:
        match = _PERSON_FIELD.fullmatch(key)
        if match and int(match.group(1)) == block:
            continue
        if match and int(match.group(1)) > block:
            key = f"p{int(match.group(1)) - 1}_{match.group(2)}"
        if key != "personen":
            pairs.append((key, value))
    return FormData([*pairs, ("personen", str(max(1, count - 1)))])


def melding_from_form(form: FormData) -> ParsedMelding:
    """The melding as typed. Fields the melder type does not show are not read: a bystander's form has no
    withhold ground or afwegingskader, a professional's no consent box."""
    problems: list[ValidationError] = []
    persons: list[Directbetrokkene] = []
    blocks = filled_blocks(form)
    for index, block in enumerate(blocks):
        values = {name: form.text(f"p{block}_{name}") for name in PERSON_FIELDS}
        persons.append(Directbetrokkene(
            role=_ROLE.get(values["rol"], PersonRole.UNSPECIFIED),
            bsn=re.sub(r"[\s.]", "", values["bsn"]), surname=values["achternaam"], first_names=values["voornamen"],
            date_of_birth=_date(values["geboortedatum"], f"melding.directbetrokkenen[{index}].date_of_birth", problems),
            postcode=values["postcode"], house_number=values["huisnummer"]))
    melder_type = _MELDER_TYPE.get(form.text("melder_type"), MelderType.UNSPECIFIED)
    professional = melder_type == MelderType.PROFESSIONAL
    ground = form.text("reden_niet_noemen") if professional else ""
    if ground not in _WITHHOLD:
        problems.append(ValidationError("melding.disclosure.withhold_ground", "unknown value"))
        ground = ""
    melding = Melding(
        melder_type=melder_type,
        melder=_identity(form),
        situation=_SITUATION.get(form.text("situatie"), Situation.UNSPECIFIED),
        directbetrokkenen=tuple(persons),
        nature=tuple(_NATURE.get(v, ConcernNature.UNSPECIFIED) for v in form.getall("aard")),
        disclosure=Disclosure(bystander_consents=melder_type == MelderType.BYSTANDER and form.checked("toestemming"),
                              withhold_ground=_WITHHOLD[ground]),
        household_label=form.text("huishouden"), acute=form.checked("acuut"),
        afwegingskader=_afwegingskader(form) if professional else Afwegingskader(), narrative=form.text("verhaal"))
    return ParsedMelding(melding, blocks, tuple(problems))


def advies_from_form(form: FormData) -> Advies:
    steps = dict(MELDCODE_STEPS)
    asker_type = _MELDER_TYPE.get(form.text("melder_type"), MelderType.UNSPECIFIED)
    professional = asker_type == MelderType.PROFESSIONAL
    return Advies(
        asker=Asker(type=asker_type, identity=_identity(form),
                    consent_to_keep_details=asker_type == MelderType.BYSTANDER and form.checked("toestemming")),
        question=form.text("vraag"),
        meldcode_steps_taken=tuple(steps[v] for v in form.getall("stappen") if v in steps) if professional else (),
        afwegingskader=_afwegingskader(form) if professional else Afwegingskader())


def sent_fields(form: FormData, kind: str) -> list[str]:
    """The fields that make a form "the same form" when it is sent again: who sends it and, for a melding,
    about whom (the persons as typed), for an advies the question."""
    fields = ["melder_type", "naam", "telefoon", "email"]
    if kind == "advies":
        return [*fields, "vraag"]
    return fields + [f"p{b}_{name}" for b in filled_blocks(form) for name in PERSON_FIELDS]


def melding_problems(parsed: ParsedMelding) -> list[ValidationError]:
    """Everything wrong with a typed melding: what the form could not read, then every domain rule it breaks."""
    return [*parsed.problems, *(type(p)(f"melding.{p.field}", p.rule) for p in rules.melding_problems(parsed.melding))]


def advies_problems(advies: Advies) -> list[ValidationError]:
    return list(rules.advies_problems(advies))


def reachable(form: FormData) -> bool:
    """Whether VT can contact the person who sent this form: a professional or a melder always gives a phone
    number or e-mail; a bystander asking advice only when they did and let VT keep it."""
    if not (form.text("telefoon") or form.text("email")):
        return False
    return melder_type_of(form) == "professional" or form.checked("toestemming")


# -- domain error -> form field + Dutch message --------------------------------------------------------

FORM_LEVEL = ""  # an error that belongs to no single field (shown above the form)

_FALLBACK = "of het BSN."  # the person block's hint says the whole rule once
NO_IDENTITY_HINT = "Wilt u onbekend blijven? Vraag dan advies: dat kan zonder uw naam."

# One Dutch message per rule, keyed by the domain field path with list indices as "[]".
MESSAGES: dict[str, tuple[str, str]] = {
    # melding (docs/domain.md section 3)
    "melding.melder_type": ("melder_type", "Kies of u meldt als professional of als omstander."),
    "melding.melder.name": ("naam", "Vul uw naam in. Veilig Thuis neemt een melding alleen aan als u uw naam en "
                                    "contactgegevens geeft. " + NO_IDENTITY_HINT),
    "melding.melder.phone": ("telefoon", "Vul uw telefoonnummer of e-mailadres in, zodat Veilig Thuis u kan bereiken. "
                                         + NO_IDENTITY_HINT),
    "melding.disclosure.withhold_ground": ("reden_niet_noemen", "Kies een van de genoemde redenen."),
    "melding.situation": ("situatie", "Kies of u zelf hulp kunt bieden of organiseren, of Veilig Thuis vraagt "
                                      "het over te nemen."),
    "melding.directbetrokkenen": ("p1_rol", "Vul ten minste één betrokkene in."),
    "melding.directbetrokkenen[].role": ("rol", "Kies de rol van deze betrokkene."),
    "melding.directbetrokkenen[].bsn": ("bsn", "Dit is geen geldig BSN: een BSN heeft 9 cijfers en moet de elfproef "
                                               "doorstaan. Weet u het BSN niet, laat het dan leeg."),
    "melding.directbetrokkenen[].surname": ("achternaam", "Vul de achternaam in, " + _FALLBACK),
    "melding.directbetrokkenen[].first_names": ("voornamen", "Vul de voornamen in, " + _FALLBACK),
    "melding.directbetrokkenen[].date_of_birth": ("geboortedatum", "Vul een geldige geboortedatum in, bijvoorbeeld "
                                                                   "31-12-2015, " + _FALLBACK),
    "melding.directbetrokkenen[].postcode": ("postcode", "Vul de postcode in, " + _FALLBACK),
    "melding.directbetrokkenen[].house_number": ("huisnummer", "Vul het huisnummer in, " + _FALLBACK),
    "melding.nature": ("aard", "Kies de aard van uw zorg."),
    "melding.nature[]": ("aard", "Kies de aard van uw zorg uit de lijst."),
    # advies (docs/domain.md section 2)
    "asker.type": ("melder_type", "Kies of u advies vraagt als professional of als omstander."),
    "asker.identity.name": ("naam", "Vul uw naam in: een advies aan een professional wordt op uw naam geregistreerd."),
    "asker.identity.organisation": ("organisatie", "Vul de naam van uw organisatie in."),
    "asker.identity.phone": ("telefoon", "Vul uw telefoonnummer of e-mailadres in, zodat Veilig Thuis u kan bereiken."),
    "directbetrokkenen": (FORM_LEVEL, "Bij een advies legt Veilig Thuis geen gegevens van gezinsleden vast."),
    # both
    "idempotency_key": (FORM_LEVEL, "Het formulier is verlopen. Controleer uw gegevens en verstuur het opnieuw."),
}
GENERIC = "Dit is niet goed ingevuld."
# Texts that are too long (their encoded size, intake.domain.rules): the form field each is typed in.
TEXT_FIELDS = {"melding.narrative": "verhaal", "question": "vraag", "melding.household_label": "huishouden",
               "melding.melder.name": "naam", "melding.melder.role": "functie",
               "melding.melder.organisation": "organisatie", "melding.melder.phone": "telefoon",
               "melding.melder.email": "email", "asker.identity.name": "naam", "asker.identity.role": "functie",
               "asker.identity.organisation": "organisatie", "asker.identity.phone": "telefoon",
               "asker.identity.email": "email"}
TOO_LONG = "Deze tekst is te lang. Maak hem korter; wat u schreef staat er nog."


def dutch_number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def limit_of(field: str) -> int:
    """The size limit of a text field of the form, from the domain rule (e.g. "verhaal" -> 32.768)."""
    domain = {form_field: path for path, form_field in TEXT_FIELDS.items()}.get(field, field)
    return rules.text_limit(domain.rsplit(".", 1)[-1])


def too_long_message(field: str, text: str) -> str:
    return (f"Deze tekst is te lang: maximaal {dutch_number(limit_of(field))} tekens, u heeft er "
            f"{dutch_number(rules.encoded_size(text))}. Maak hem korter; wat u schreef staat er nog.")


def field_error(error: ValidationError, blocks: Sequence[int] = (), form: FormData | None = None) -> tuple[str, str]:
    """(form field name, Dutch message) for a domain error; the form field of a directbetrokkene's
    property is that of the block the person was entered in."""
    key = re.sub(r"\[\d+\]", "[]", error.field)
    field, message = MESSAGES.get(key, (FORM_LEVEL, GENERIC))
    too_large = isinstance(error, TooLarge)
    if too_large:  # the same field, another rule: say what is wrong with it
        field, message = TEXT_FIELDS.get(key, field), TOO_LONG
    person = re.match(r"melding\.directbetrokkenen\[(\d+)\]\.", error.field)
    if person:
        index = int(person.group(1))
        block = blocks[index] if index < len(blocks) else 1
        field = f"p{block}_{field}"
    if too_large and form is not None and field in TEXT_FIELDS.values():
        message = too_long_message(field, form.text(field))
    return field, message


def field_errors(problems: Sequence[ValidationError], order: Sequence[str], blocks: Sequence[int] = (),
                 form: FormData | None = None) -> dict[str, str]:
    """Every problem on its form field (the first message per field), in the order the fields are on the
    page; an error of the form as a whole first."""
    errors: dict[str, str] = {}
    for problem in problems:
        field, message = field_error(problem, blocks, form)
        errors.setdefault(field, message)
    rank = {name: index for index, name in enumerate([FORM_LEVEL, *order])}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], len(rank))))


IDENTITY_ORDER = ["naam", "functie", "organisatie", "telefoon", "email"]


def melding_field_order(count: int) -> list[str]:
    persons = [f"p{b}_{name}" for b in range(1, count + 1) for name in PERSON_FIELDS]
    return ["melder_type", *IDENTITY_ORDER, "toestemming", "reden_niet_noemen", "situatie", *persons, "huishouden",
            "aard", "acuut", *(name for name, _, _ in AFWEGINGSKADER), "verhaal"]


ADVIES_ORDER = ["melder_type", *IDENTITY_ORDER, "toestemming", "vraag", "stappen", *(name for name, _, _ in AFWEGINGSKADER)]
