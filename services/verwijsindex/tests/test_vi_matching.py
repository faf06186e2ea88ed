"""Match detection: who is a party, when there is no match, archived notices, family relations, relocation."""

from __future__ import annotations

import datetime as dt

from verwijsindex.domain import matching
from verwijsindex.domain.model import Contact, HouseholdFacts, MatchKind, Sector, Signal, SignalStatus


def sig(sid: str, registrant: str, youth: str = "youth-1", status: SignalStatus = SignalStatus.ACTIVE,
        minute: int = 0, notice_sent: bool = False) -> Signal:
    return Signal(sid, youth, registrant, dt.datetime(2026, 1, 1, 12, minute, tzinfo=dt.UTC), dt.date(2028, 1, 1),
                  dt.date(2030, 1, 1), status, Contact(f"name {registrant}", registrant, "06", "", Sector.HEALTH_CARE),
                  archive_notice_sent=notice_sent)


def test_single_registrant_is_no_match() -> None:
    assert matching.client_match(sig("a", "school"), []) is None


def test_second_signal_of_the_same_registrant_is_no_match() -> None:
    assert matching.client_match(sig("b", "school", minute=1), [sig("a", "school")]) is None


def test_two_registrants_on_one_youth_is_a_client_match_with_both() -> None:
    match = matching.client_match(sig("b", "gp", minute=1), [sig("a", "school")])
    assert match is not None and match.kind is MatchKind.CLIENT
    assert [p.registrant_id for p in match.parties] == ["gp", "school"]
    assert match.registrant_set == "client|gp,school"


def test_a_third_registrant_makes_a_new_match_with_everyone() -> None:
    match = matching.client_match(sig("c", "police", minute=2), [sig("a", "school"), sig("b", "gp", minute=1)])
    assert match is not None and {p.registrant_id for p in match.parties} == {"school", "gp", "police"}
    assert match.registrant_set == "client|gp,police,school"


def test_other_youths_and_archived_signals_do_not_make_a_client_match() -> None:
    existing = [sig("a", "school", youth="youth-2"), sig("b", "gp", status=SignalStatus.ARCHIVED)]
    assert matching.client_match(sig("c", "police"), existing) is None


def test_archived_signal_of_another_registrant_gives_a_one_time_notice() -> None:
    archived = sig("a", "school", status=SignalStatus.ARCHIVED)
    match = matching.archived_match(sig("b", "gp", minute=1), [archived])
    assert match is not None and match.kind is MatchKind.ARCHIVED and match.archived_signal_ids == ("a",)
    assert {p.registrant_id for p in match.parties} == {"school", "gp"}
    used = sig("a", "school", status=SignalStatus.ARCHIVED, notice_sent=True)
    assert matching.archived_match(sig("c", "police", minute=2), [used]) is None


def test_own_archived_signal_gives_no_notice() -> None:
    assert matching.archived_match(sig("b", "school", minute=1), [sig("a", "school", status=SignalStatus.ARCHIVED)]) is None


def test_family_match_concerns_different_youths() -> None:
    assert matching.NoHouseholdDirectory().related_youths("youth-1") == ()
    match = matching.family_match(sig("b", "gp"), [sig("a", "school", youth="sibling")])
    assert match is not None and match.kind is MatchKind.FAMILY and match.different_youths


def test_archived_signal_of_a_registrant_who_is_active_again_adds_no_notice() -> None:
    history = [sig("a", "school", status=SignalStatus.ARCHIVED), sig("b", "school", minute=1)]
    assert matching.archived_match(sig("c", "gp", minute=2), history) is None
    assert matching.client_match(sig("c", "gp", minute=2), history) is not None


def facts(youth: str, address: str = "addr-1", parents: frozenset[str] = frozenset(), institution: bool = False,
          municipality: str = "GM0344") -> HouseholdFacts:
    return HouseholdFacts(youth, address, institution, parents, municipality, None, dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def test_same_home_address_relates_youths_but_an_institution_address_does_not() -> None:
    assert matching.related(facts("a"), facts("b"))
    assert not matching.related(facts("a", institution=True), facts("b", institution=True))
    assert not matching.related(facts("a"), facts("b", institution=True))
    assert not matching.related(facts("a"), facts("a"))
    assert not matching.related(facts("a", address=""), facts("b", address=""))


def test_a_shared_parent_relates_youths_anywhere_even_in_an_institution() -> None:
    a = facts("a", address="addr-1", parents=frozenset({"mother", "father"}))
    b = facts("b", address="addr-2", parents=frozenset({"mother"}), institution=True)
    assert matching.related(a, b)
    assert not matching.related(a, facts("c", address="addr-3", parents=frozenset({"someone else"})))


def test_family_match_needs_two_registrants_and_lists_everyone_once() -> None:
    # One registrant with two siblings learns nothing new.
    assert matching.family_match(sig("a", "school"), [sig("b", "school", youth="sibling")]) is None
    assert matching.family_match(sig("a", "school"), []) is None
    assert matching.family_match(sig("a", "school"), [sig("b", "gp", youth="sibling", status=SignalStatus.ARCHIVED)]) is None
    match = matching.family_match(sig("c", "police", minute=2), [sig("b", "school", youth="sibling")],
                                  [sig("a", "gp"), sig("c", "police", minute=2)])
    assert match is not None and match.different_youths
    assert [p.registrant_id for p in match.parties] == ["gp", "police", "school"]
    assert match.youths == ("sibling", "youth-1") and match.scope == "family:sibling,youth-1"


def test_the_same_family_match_has_the_same_scope_whichever_sibling_came_last() -> None:
    one = matching.family_match(sig("b", "gp", youth="y2"), [sig("a", "school", youth="y1")])
    other = matching.family_match(sig("a", "school", youth="y1"), [sig("b", "gp", youth="y2")])
    assert one is not None and other is not None
    assert (one.scope, one.registrant_set) == (other.scope, other.registrant_set)


def test_relocation_only_for_a_youth_with_active_signals_that_changes_municipality() -> None:
    before, after = facts("youth-1"), facts("youth-1", municipality="GM0363")
    signals = [sig("a", "school"), sig("b", "gp", status=SignalStatus.ARCHIVED)]
    move = matching.relocation(before, after, signals)
    assert move is not None and (move.from_municipality_code, move.to_municipality_code) == ("GM0344", "GM0363")
    assert [p.registrant_id for p in move.parties] == ["school"]
    assert matching.relocation(None, after, signals) is None  # first facts: no move
    assert matching.relocation(before, facts("youth-1"), signals) is None  # same municipality
    assert matching.relocation(before, after, signals[1:]) is None  # nobody to tell
    assert matching.regievoerder_id("GM0363") == "regievoerder:GM0363" and matching.regievoerder_id("") == ""
