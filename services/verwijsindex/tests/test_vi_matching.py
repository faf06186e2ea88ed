"""Match detection: who is a party, when there is no match, archived notices, the family seam."""

from __future__ import annotations

import datetime as dt

from verwijsindex.domain import matching
from verwijsindex.domain.model import Contact, MatchKind, Sector, Signal, SignalStatus


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
