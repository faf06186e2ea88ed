"""The household letter (domain.md sections 3 and 4): its deadline and its text, as pure functions.

The text covers the subjects of the "Er is een melding over mij gedaan" page: what happened, that
Veilig Thuis assesses the safety, who may be contacted, that help can be organised locally, that
an onderzoek may follow, the rights of the people involved, and the agreements made. The melder
is named only when the disclosure rules allow it (`melder_may_be_named`, decided at intake:
a bystander only with consent, a professional unless a ground applies); otherwise the letter says
"iemand" and names nobody. Witnesses are never named.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Informing the people involved is due at the latest 4 weeks after recording; each postponement
# moves it by at most 2 weeks and needs a reason (domain.md section 4).
LETTER_WEEKS = 4
MAX_POSTPONE_WEEKS = 2


class InvalidPostponement(ValueError):
    pass


def letter_due_date(received_on: dt.date, postponed_weeks: int = 0) -> dt.date:
    """Latest day to inform the household: 4 calendar weeks after recording, plus postponements."""
    return received_on + dt.timedelta(weeks=LETTER_WEEKS + postponed_weeks)


def check_postponement(weeks: int, reason: str) -> None:
    if not 1 <= weeks <= MAX_POSTPONE_WEEKS:
        raise InvalidPostponement(f"a postponement is 1 to {MAX_POSTPONE_WEEKS} weeks, not {weeks}")
    if not reason.strip():
        raise InvalidPostponement("a postponement needs a reason")


DECISION_TEXT = {
    "DECISION_ONDERZOEK": "Veilig Thuis doet een onderzoek naar de situatie. We laten u weten met wie we praten "
                          "en waarover.",
    "DECISION_VOORWAARDEN_EN_VERVOLG": "Veilig Thuis heeft met u voorwaarden afgesproken voor de veiligheid en "
                                       "blijft de komende tijd volgen hoe het gaat.",
    "DECISION_OVERDRACHT": "Veilig Thuis draagt de zorg over aan een hulpverlener bij u in de buurt, die contact "
                           "met u opneemt.",
    "DECISION_NO_FURTHER_STEPS": "Veilig Thuis onderneemt geen verdere stappen.",
    "DECISION_REGIONAL_MAATWERK": "Veilig Thuis spreekt met u af welke hulp in uw regio het beste past.",
    "DECISION_RVDK_REQUEST": "Veilig Thuis vraagt de Raad voor de Kinderbescherming om onderzoek te doen.",
}


@dataclass(frozen=True)
class LetterFacts:
    region_name: str
    reference: str
    letter_date: dt.date
    received_on: dt.date
    # Names of the household members addressed (witnesses and the melder are never listed here).
    addressees: tuple[str, ...]
    # The melder's name and role, only set when the disclosure rules allow naming them.
    melder_name: str | None
    melder_professional: bool
    decision: str
    agreements: str


def salutation(facts: LetterFacts) -> str:
    return "Beste " + (", ".join(facts.addressees) if facts.addressees else "bewoner(s)") + ","


def letter_paragraphs(facts: LetterFacts) -> list[tuple[str, str]]:
    """(heading, text) in order; the PDF renderer only lays these out."""
    if facts.melder_name:
        who = (f"{facts.melder_name}, die vanuit zijn of haar beroep met u of uw gezin te maken heeft,"
               if facts.melder_professional else facts.melder_name)
    else:
        who = "Iemand"
    happened = (f"{who} maakt zich zorgen over de veiligheid bij u thuis en heeft op "
                f"{facts.received_on.strftime('%d-%m-%Y')} een melding gedaan bij {facts.region_name}. "
                "Dat is natuurlijk best even schrikken. Als de zorgen terecht zijn, biedt deze melding de kans "
                "om de situatie thuis te verbeteren.")
    if not facts.melder_name:
        happened += " Wie de melding deed, mogen wij u niet vertellen."
    agreements = facts.agreements.strip() or "Over de afspraken neemt uw contactpersoon contact met u op."
    return [
        ("Wat is er gebeurd?", happened),
        ("Veilig Thuis kijkt naar de veiligheid",
         "Veilig Thuis gaat na wat er aan de hand is en of u hulp nodig heeft. Daarvoor verzamelen wij "
         "informatie over uw situatie, in onze eigen systemen en bij de politie, de gemeente en de Raad voor de "
         "Kinderbescherming. Dat mag volgens de wet."),
        ("Met wie nemen wij contact op?",
         "Wij nemen contact op met u en met andere directbetrokkenen. Soms spreken wij ook met mensen die uw "
         "gezin kennen, zoals de huisarts, de school of een hulpverlener. Wij laten u weten met wie wij praten "
         "en waarover."),
        ("Hulp bij u in de buurt",
         "Vaak is advies genoeg. Soms is professionele hulp nodig: die organiseren wij meestal met een "
         "hulpverlener uit uw eigen gemeente. Het kan dus zijn dat u verder vooral met die hulpverlener "
         "contact heeft."),
        ("Misschien volgt een onderzoek",
         "Soms is een onderzoek nodig om meer te weten. Dan praten wij met u, uw gezin en vaak ook met anderen "
         "in uw omgeving. Ook als niet iedereen wil meewerken, kan een onderzoek doorgaan."),
        ("Wat wij hebben besloten", DECISION_TEXT.get(facts.decision, "Uw contactpersoon bespreekt met u wat de "
                                                                       "volgende stappen zijn.")),
        ("De afspraken", agreements),
        ("Uw rechten",
         "U mag de gegevens inzien die wij over u hebben vastgelegd (inzage). Kloppen ze niet, dan kunt u vragen "
         "ze te verbeteren of aan te vullen (correctie). U kunt bezwaar maken tegen wat wij met uw gegevens doen "
         "(bezwaar), en als u niet tevreden bent over hoe wij met u zijn omgegaan, kunt u een klacht indienen "
         "(klacht). Vermeld daarbij het kenmerk van deze brief."),
    ]
