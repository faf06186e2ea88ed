"""Match detection on pseudonyms (docs/domain.md section 6).

Client match: active signals of two or more registrants on one youth. Every registrant
involved is a party; a registrant joining an existing match makes a new match (a new
registrant set), so everyone hears of the newcomer.
Archived match: a new registrant on a youth with archived signals of other registrants;
each archived signal yields such a notice once.
Family match: active signals on different youths at the same home address (never an
institution address) or with a shared parent, from at least two registrants. `related`
is the household rule on the BRP facts; `HouseholdDirectory` gives the related youths
(backed by the stored BRP facts in the service, `NoHouseholdDirectory` without them).
Relocation: a youth with active signals whose municipality changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from verwijsindex.domain.model import HouseholdFacts, Match, MatchKind, MatchParty, Relocation, Signal, SignalStatus


def _parties(signals: Iterable[Signal]) -> tuple[MatchParty, ...]:
    """One party per registrant (the earliest signal's contact), ordered by registrant id
    so the same set always produces the same notice."""
    first: dict[str, Signal] = {}
    for signal in sorted(signals, key=lambda s: s.registered_at):
        first.setdefault(signal.registrant_id, signal)
    return tuple(MatchParty(rid, first[rid].contact) for rid in sorted(first))


def client_match(new: Signal, on_same_youth: Sequence[Signal]) -> Match | None:
    """The client match that `new` completes, if any. `on_same_youth` may include `new`."""
    active = [s for s in on_same_youth if s.status is SignalStatus.ACTIVE and s.youth_pseudonym == new.youth_pseudonym]
    if all(s.signal_id != new.signal_id for s in active):
        active.append(new)
    registrants = {s.registrant_id for s in active}
    if len(registrants) < 2:
        return None
    return Match(MatchKind.CLIENT, new.youth_pseudonym, _parties(active))


def archived_match(new: Signal, on_same_youth: Sequence[Signal]) -> Match | None:
    """The one-time notice for archived signals of other registrants on the same youth.
    A registrant who has an active signal on the youth again is in the client match
    already, so their archived signal adds nothing."""
    same_youth = [s for s in on_same_youth if s.youth_pseudonym == new.youth_pseudonym]
    active = {s.registrant_id for s in same_youth if s.status is SignalStatus.ACTIVE}
    archived = [s for s in same_youth
                if s.status is SignalStatus.ARCHIVED and not s.archive_notice_sent
                and s.registrant_id != new.registrant_id and s.registrant_id not in active]
    if not archived:
        return None
    return Match(MatchKind.ARCHIVED, new.youth_pseudonym, _parties([new, *archived]),
                 archived_signal_ids=tuple(sorted(s.signal_id for s in archived)))


def related(a: HouseholdFacts, b: HouseholdFacts) -> bool:
    """Two different youths of one family: the same home address that is not an institution
    address, or a parent in common."""
    if a.youth_pseudonym == b.youth_pseudonym:
        return False
    same_home = (a.address_pseudonym == b.address_pseudonym and bool(a.address_pseudonym)
                 and not a.institution_address and not b.institution_address)
    return same_home or bool(a.parent_pseudonyms & b.parent_pseudonyms)


class HouseholdDirectory(Protocol):
    """Pseudonyms of other youths related to this one (see `related`)."""

    def related_youths(self, youth_pseudonym: str) -> Iterable[str]: ...


class NoHouseholdDirectory:
    def related_youths(self, youth_pseudonym: str) -> Iterable[str]:
        return ()


def family_match(new: Signal, on_related_youths: Sequence[Signal], on_same_youth: Sequence[Signal] = ()) -> Match | None:
    """The family match around `new`'s youth: its active signals (`new` and `on_same_youth`)
    and the active signals on related youths. At least one other youth and at least two
    registrants; the notice says it concerns different youths."""
    own = [s for s in on_same_youth if s.status is SignalStatus.ACTIVE and s.youth_pseudonym == new.youth_pseudonym]
    if all(s.signal_id != new.signal_id for s in own):
        own.append(new)
    others = [s for s in on_related_youths if s.status is SignalStatus.ACTIVE and s.youth_pseudonym != new.youth_pseudonym]
    if not others:
        return None
    everyone = [*own, *others]
    if len({s.registrant_id for s in everyone}) < 2:
        return None
    return Match(MatchKind.FAMILY, new.youth_pseudonym, _parties(everyone), different_youths=True,
                 youths=tuple(sorted({s.youth_pseudonym for s in everyone})))


def relocation(previous: HouseholdFacts | None, current: HouseholdFacts, on_youth: Sequence[Signal]) -> Relocation | None:
    """A move to another municipality, if the youth has active signals to tell about it."""
    if previous is None or not previous.municipality_code or not current.municipality_code:
        return None
    if previous.municipality_code == current.municipality_code:
        return None
    active = [s for s in on_youth if s.status is SignalStatus.ACTIVE and s.youth_pseudonym == current.youth_pseudonym]
    if not active:
        return None
    return Relocation(current.youth_pseudonym, previous.municipality_code, current.municipality_code, _parties(active))


def regievoerder_id(municipality_code: str) -> str:
    """The municipal regievoerder who is notified of matches in (and moves to) a municipality."""
    return f"regievoerder:{municipality_code}" if municipality_code else ""
