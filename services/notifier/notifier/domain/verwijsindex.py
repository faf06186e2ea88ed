"""The verwijsindex notices: a match, or a youth's relocation, told to every registrant with only the other
registrants' contact details, and to the municipality's regievoerder with all of them. Never the risk code, a BSN,
the pseudonym or an address. adapters/proto.py encodes and seals each notice for its recipient."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The tenant_id of verwijsindex notices: national, not listed to any region.
VERWIJSINDEX = "verwijsindex"


@dataclass(frozen=True)
class NoticeContact:
    registrant_id: str
    name: str
    organisation: str
    phone: str
    email: str
    coordinator: str


@dataclass(frozen=True)
class ProfessionalNotice:
    match_id: str  # the match id, or the relocation notice's id
    others: tuple[NoticeContact, ...]
    match_kind: str = ""  # MATCH_KIND_* name
    different_youths: bool = False  # a family match of signals about different youths
    from_municipality_code: str = ""  # a relocation: where the youth moved from and to
    to_municipality_code: str = ""


def recipients(contacts: Sequence[NoticeContact], regievoerder: str) -> list[tuple[str, tuple[NoticeContact, ...]]]:
    """Who is told, with whose contacts: each registrant the others', the regievoerder (when known) everyone's."""
    told = [(c.registrant_id, tuple(o for o in contacts if o.registrant_id != c.registrant_id)) for c in contacts]
    if regievoerder:
        told.append((regievoerder, tuple(contacts)))
    return told
