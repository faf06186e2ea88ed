"""Match detection on pseudonyms (domain.md section 6).

Client match: active signals of two or more registrants on one youth. Every registrant
involved is a party; a registrant joining an existing match makes a new match (a new
registrant set), so everyone hears of the newcomer.
Archived match: a new registrant on a youth with archived signals of other registrants;
each archived signal yields such a notice once.
Family match (shared home address or parent) needs household data from the BRP, which
is not connected yet: `HouseholdDirectory` is the seam, `NoHouseholdDirectory` the
stand-in, and `family_match` the rule that will use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from verwijsindex.domain.model import Match, MatchKind, MatchParty, Signal, SignalStatus


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


class HouseholdDirectory(Protocol):
    """Pseudonyms of other youths at the same (non-institution) home address or with a
    shared parent. To be backed by the BRP simulator; until then nothing is related."""

    def related_youths(self, youth_pseudonym: str) -> Iterable[str]: ...


class NoHouseholdDirectory:
    def related_youths(self, youth_pseudonym: str) -> Iterable[str]:
        return ()


def family_match(new: Signal, on_related_youths: Sequence[Signal]) -> Match | None:
    """Active signals of other registrants on related youths make a family match."""
    others = [s for s in on_related_youths if s.status is SignalStatus.ACTIVE
              and s.youth_pseudonym != new.youth_pseudonym and s.registrant_id != new.registrant_id]
    if not others:
        return None
    return Match(MatchKind.FAMILY, new.youth_pseudonym, _parties([new, *others]), different_youths=True)
