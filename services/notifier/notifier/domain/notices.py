"""What the outgoing notices of a decision say, and to whom they go (docs/architecture.md "Outgoing notices").

Pure rules, no protobuf: the RvdK request (the children, the reason, the requesting region), the municipality
notice (which region asked the RvdK about which child living there: nothing more, docs/domain.md section 1), the
hand-over to the receiving party of an overdracht, and what the professional of an ambtshalve melding is told
(docs/domain.md section 2: the decision and its consequences). The texts are plain Dutch for the professionals who read
them; `notifier.notices` puts them into the receivers' messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from vtkit.errors import FailedPrecondition

from notifier.domain.delivery import DeliveryKind
from notifier.domain.letter import AddressBook, Person, is_child

# The deliveries notifier.notices builds from the case when they are sent.
NOTICE_KINDS = frozenset({DeliveryKind.RVDK_REQUEST_NOTICE, DeliveryKind.MUNICIPALITY_NOTICE,
                          DeliveryKind.OVERDRACHT_NOTICE, DeliveryKind.AMBTSHALVE_NOTICE,
                          DeliveryKind.AMBTSHALVE_DECISION_NOTICE})

# Recipient ids of the notices the notifier addresses itself (NotifyRequest.recipient_id).
RVDK_RECIPIENT = "rvdk"


def municipality_recipient(code: str) -> str:
    return f"municipality:{code}"


def professional_recipient(tenant_id: str, melding_id: str) -> str:
    """The professional of an ambtshalve melding: the endpoint resolves it with the region (no name in the id)."""
    return f"professional:{tenant_id}:{melding_id}"


class NoticeUndeliverable(FailedPrecondition, ValueError):
    """The notice cannot be made from what the case holds (no child for an RvdK request, no municipality known for
    any child): sending it again cannot change that, so the delivery fails with the reason (visible in
    ListDeliveries and on the dashboard) instead of retrying. The message is the reason."""

    def __init__(self, message: str):
        super().__init__(rule=message)


def children(persons: Sequence[Person], today: dt.date) -> list[Person]:
    """The children of the melding: an RvdK request and the municipality notice are about them only."""
    return [p for p in persons if is_child(p, today)]


def by_municipality(kids: Sequence[Person], book: AddressBook) -> tuple[dict[str, list[Person]], list[Person]]:
    """The children per municipality the BRP has them living in (CBS code), and those it does not place (no BSN,
    unknown to the BRP, or an address without a municipality)."""
    found: dict[str, list[Person]] = {}
    unknown: list[Person] = []
    for child in kids:
        address = book.address_of(child.bsn) if child.bsn else None
        code = address.municipality_code if address is not None else ""
        if code:
            found.setdefault(code, []).append(child)
        else:
            unknown.append(child)
    return found, unknown


# The one thing the municipality is told (docs/domain.md section 1: VT must inform the municipality when it asks the
# RvdK to investigate): who asked, about which child, when. Never the reason, the concern or the melder.
MUNICIPALITY_TEXT = ("{region} heeft op {date} de Raad voor de Kinderbescherming gevraagd een onderzoek te doen naar "
                     "{children}, wonend in uw gemeente. Wij informeren u hierover omdat de wet dat vraagt. Vragen? "
                     "Bel {region} via {phone}.")


def municipality_text(region: str, phone: str, requested_on: dt.date, kids: Sequence[Person]) -> str:
    names = [k.name for k in kids if k.name] or ["een kind"]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " en " + names[-1]
    return MUNICIPALITY_TEXT.format(region=region, date=_dutch_date(requested_on), children=listed, phone=phone)


JUDGEMENT_TEXT = {
    "SAFETY_JUDGEMENT_SAFE": "Veilig Thuis beoordeelt de situatie als veilig.",
    "SAFETY_JUDGEMENT_ACUTE_UNSAFETY": "Veilig Thuis beoordeelt de situatie als acuut onveilig.",
    "SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY": "Veilig Thuis beoordeelt de situatie als structureel onveilig.",
}

DECISION_TEXT = {
    "DECISION_ONDERZOEK": "Veilig Thuis doet onderzoek naar de situatie.",
    "DECISION_VOORWAARDEN_EN_VERVOLG": "Veilig Thuis maakt met het gezin afspraken over veiligheid en volgt of die "
                                       "worden nagekomen.",
    "DECISION_OVERDRACHT": "Veilig Thuis draagt de zorg over aan {receiver}.",
    "DECISION_NO_FURTHER_STEPS": "Veilig Thuis zet geen verdere stappen.",
    "DECISION_REGIONAL_MAATWERK": "Veilig Thuis biedt regionaal maatwerk.",
    "DECISION_RVDK_REQUEST": "Veilig Thuis vraagt de Raad voor de Kinderbescherming om onderzoek te doen.",
}

# What a decision means for the professional whose client VT reported ambtshalve (docs/domain.md section 2).
DECISION_CONSEQUENCES = {
    "DECISION_ONDERZOEK": ("Veilig Thuis blijft verantwoordelijk voor het zicht op veiligheid tijdens het onderzoek "
                           "(uiterlijk 10 weken).",
                           "Veilig Thuis kan u vragen om informatie voor het onderzoek."),
    "DECISION_VOORWAARDEN_EN_VERVOLG": ("Veilig Thuis blijft betrokken en volgt het gezin tot de situatie stabiel "
                                        "veilig is.",
                                        "Ziet u nieuwe signalen, meld die dan bij Veilig Thuis."),
    "DECISION_OVERDRACHT": ("De verantwoordelijkheid voor het zicht op veiligheid gaat over naar {receiver}.",
                            "Overleg over uw eigen hulp met {receiver}."),
    "DECISION_NO_FURTHER_STEPS": ("Veilig Thuis sluit de melding af; uw eigen hulp gaat door.",
                                  "Ziet u nieuwe signalen, meld die dan opnieuw bij Veilig Thuis."),
    "DECISION_REGIONAL_MAATWERK": ("Veilig Thuis spreekt met u af wie welke hulp biedt.",),
    "DECISION_RVDK_REQUEST": ("De Raad voor de Kinderbescherming onderzoekt of een kinderbeschermingsmaatregel nodig "
                              "is; de Raad kan u om informatie vragen.",
                              "De gemeente van het kind wordt geïnformeerd dat de Raad is gevraagd."),
}

# The four conditions an ambtshalve melding was made on (docs/domain.md section 2), as the professional reads them.
CONDITION_TEXT = {
    "high_acute_risk": "Het veiligheidsrisico voor de betrokkenen of anderen is hoog en acuut.",
    "professional_cannot_increase_safety": "U kunt of wilt de veiligheid, ook met steun van Veilig Thuis, niet "
                                           "voldoende vergroten.",
    "no_agreement_on_melding": "U en Veilig Thuis zijn het niet eens geworden over het doen van een melding.",
    "vt_has_personal_data": "Veilig Thuis heeft de gegevens van de betrokkenen.",
}

AMBTSHALVE_MELDING_CONSEQUENCES = (
    "Veilig Thuis heeft na een multidisciplinair overleg zelf een melding gedaan, zonder uw instemming.",
    "De verantwoordelijkheid voor het zicht op veiligheid ligt nu bij Veilig Thuis.",
    "Veilig Thuis beoordeelt de veiligheid binnen 5 werkdagen en laat u het besluit weten.",
    "Veilig Thuis informeert het gezin over de melding.",
)


def decision_text(decision: str, receiver: str = "") -> str:
    return DECISION_TEXT.get(decision, "Veilig Thuis heeft een besluit genomen.").format(
        receiver=receiver or "een andere partij")


def decision_consequences(decision: str, receiver: str = "") -> list[str]:
    return [line.format(receiver=receiver or "de ontvangende partij")
            for line in DECISION_CONSEQUENCES.get(decision, ())]


def handed_over_text(receiver: str, responsible: str) -> str:
    return (f"Veilig Thuis draagt de zorg voor de veiligheid van dit huishouden over aan {receiver or 'u'}. "
            f"Verantwoordelijk voor het zicht op veiligheid: {responsible or receiver or 'u'}. Neem binnen 5 "
            "werkdagen contact op met het gezin en laat Veilig Thuis weten als het contact niet lukt.")


@dataclass(frozen=True)
class Sender:
    """The VT organisation on whose behalf a notice goes out, and how to reach it."""
    tenant_id: str
    name: str
    phone: str
    contact: str = ""


_MONTHS = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december")


def _dutch_date(day: dt.date) -> str:
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
