"""Form fields <-> domain objects, and domain errors -> (form field, Dutch message).

Only translation: a value the form does not know becomes the domain's "unspecified", so the domain
rule refuses it exactly as it refuses the same gap over gRPC."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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

PERSON_BLOCKS = (1, 2)  # the form offers two directbetrokkenen; an untouched block is left out
PERSON_FIELDS = ("rol", "bsn", "achternaam", "voornamen", "geboortedatum", "postcode", "huisnummer")


def _afwegingskader(form: FormData) -> Afwegingskader:
    return Afwegingskader(**{attr: form.checked(name) for name, _, attr in AFWEGINGSKADER})


def _identity(form: FormData) -> Identity | None:
    identity = Identity(name=form.text("naam"), role=form.text("functie"), organisation=form.text("organisatie"),
                        phone=form.text("telefoon"), email=form.text("email"))
    return None if identity.is_empty else identity


def _date(raw: str, path: str) -> dt.date | None:
    """ISO (what <input type=date> sends) or dd-mm-jjjj as typed."""
    if not raw:
        return None
    match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})", raw)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(path, "is not a valid calendar date") from None


@dataclass(frozen=True)
class ParsedMelding:
    melding: Melding
    blocks: tuple[int, ...]  # the form block of each directbetrokkene, in domain order


def filled_blocks(form: FormData) -> tuple[int, ...]:
    """The person blocks the user filled in (an untouched block is no directbetrokkene)."""
    return tuple(b for b in PERSON_BLOCKS if any(form.text(f"p{b}_{name}") for name in PERSON_FIELDS))


def melding_from_form(form: FormData) -> ParsedMelding:
    persons: list[Directbetrokkene] = []
    blocks = filled_blocks(form)
    for index, block in enumerate(blocks):
        values = {name: form.text(f"p{block}_{name}") for name in PERSON_FIELDS}
        persons.append(Directbetrokkene(
            role=_ROLE.get(values["rol"], PersonRole.UNSPECIFIED),
            bsn=re.sub(r"[\s.]", "", values["bsn"]), surname=values["achternaam"], first_names=values["voornamen"],
            date_of_birth=_date(values["geboortedatum"], f"melding.directbetrokkenen[{index}].date_of_birth"),
            postcode=values["postcode"], house_number=values["huisnummer"]))
    ground = form.text("reden_niet_noemen")
    if ground not in _WITHHOLD:
        raise ValidationError("melding.disclosure.withhold_ground", "unknown value")
    melding = Melding(
        melder_type=_MELDER_TYPE.get(form.text("melder_type"), MelderType.UNSPECIFIED),
        melder=_identity(form),
        situation=_SITUATION.get(form.text("situatie"), Situation.UNSPECIFIED),
        directbetrokkenen=tuple(persons),
        nature=tuple(_NATURE.get(v, ConcernNature.UNSPECIFIED) for v in form.getall("aard")),
        disclosure=Disclosure(bystander_consents=form.checked("toestemming"), withhold_ground=_WITHHOLD[ground]),
        household_label=form.text("huishouden"), acute=form.checked("acuut"),
        afwegingskader=_afwegingskader(form), narrative=form.text("verhaal"))
    return ParsedMelding(melding, blocks)


def advies_from_form(form: FormData) -> Advies:
    steps = dict(MELDCODE_STEPS)
    return Advies(
        asker=Asker(type=_MELDER_TYPE.get(form.text("melder_type"), MelderType.UNSPECIFIED), identity=_identity(form),
                    consent_to_keep_details=form.checked("toestemming")),
        question=form.text("vraag"),
        meldcode_steps_taken=tuple(steps[v] for v in form.getall("stappen") if v in steps),
        afwegingskader=_afwegingskader(form))


# -- domain error -> form field + Dutch message --------------------------------------------------------

FORM_LEVEL = ""  # an error that belongs to no single field (shown above the form)

_FALLBACK = "zonder BSN zijn achternaam, voornamen, geboortedatum, postcode en huisnummer nodig."
NO_IDENTITY_HINT = "Wilt u onbekend blijven? Vraag dan advies: dat kan zonder uw naam."

# One Dutch message per rule, keyed by the domain field path with list indices as "[]".
MESSAGES: dict[str, tuple[str, str]] = {
    # melding (domain.md 3)
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
    "melding.directbetrokkenen[].surname": ("achternaam", "Vul de achternaam in; " + _FALLBACK),
    "melding.directbetrokkenen[].first_names": ("voornamen", "Vul de voornamen in; " + _FALLBACK),
    "melding.directbetrokkenen[].date_of_birth": ("geboortedatum", "Vul een geldige geboortedatum in "
                                                                   "(dd-mm-jjjj); " + _FALLBACK),
    "melding.directbetrokkenen[].postcode": ("postcode", "Vul de postcode in; " + _FALLBACK),
    "melding.directbetrokkenen[].house_number": ("huisnummer", "Vul het huisnummer in; " + _FALLBACK),
    "melding.nature": ("aard", "Kies de aard van uw zorg."),
    "melding.nature[]": ("aard", "Kies de aard van uw zorg uit de lijst."),
    # advies (domain.md 2)
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


def field_error(error: ValidationError, blocks: Sequence[int] = ()) -> tuple[str, str]:
    """(form field name, Dutch message) for a domain error; the form field of a directbetrokkene's
    property is that of the block the person was entered in."""
    key = re.sub(r"\[\d+\]", "[]", error.field)
    field, message = MESSAGES.get(key, (FORM_LEVEL, GENERIC))
    if isinstance(error, TooLarge):  # the same field, another rule: say what is wrong with it
        field, message = TEXT_FIELDS.get(key, field), TOO_LONG
    person = re.match(r"melding\.directbetrokkenen\[(\d+)\]\.", error.field)
    if person:
        index = int(person.group(1))
        block = blocks[index] if index < len(blocks) else PERSON_BLOCKS[0]
        field = f"p{block}_{field}"
    return field, message
