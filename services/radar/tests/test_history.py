"""The per-person history: register, match decision, assessment input, deduplication."""

from __future__ import annotations

import datetime as dt

from radar.domain.history import (
    apply_case_closed,
    apply_case_destroyed,
    apply_melding,
    apply_rvdk,
    apply_verwijsindex_match,
    assessment_input,
    has_case,
    involvement_of,
)
from radar.domain.model import (
    MAX_PROCESSED_IDS,
    CaseClosedFact,
    CaseDestroyedFact,
    InvolvementView,
    MeldingFact,
    PersonHistory,
    RvdkFact,
    Trigger,
    VerwijsindexMatchFact,
)

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def melding(tenant: str, case: str, person: str = "p1", n: int = 0) -> MeldingFact:
    return MeldingFact(tenant, case, person, day(n))


def closed(tenant: str, case: str, person: str = "p1", n: int = 0, monitor_days: int | None = None) -> CaseClosedFact:
    until = day(n + monitor_days) if monitor_days is not None else None
    return CaseClosedFact(tenant, case, person, day(n), until)


def rvdk(signal: str, n: int = 0) -> RvdkFact:
    return RvdkFact(signal, 1, day(n), "Utrecht")


def test_first_melding_registers_without_match() -> None:
    out = apply_melding(PersonHistory(), melding("utrecht", "c1"), "e1", day(0))
    assert [(e.tenant_id, e.case_id, e.since) for e in out.register_entries] == [("utrecht", "c1", day(0))]
    assert out.matches == []
    [inp] = out.inputs
    assert (inp.case_id, inp.earlier_case_ids, inp.other_organisations, inp.rvdk) == ("c1", (), (), ())
    assert list(out.history.open_cases) == ["c1"]


def test_second_organisation_makes_a_match_for_both_without_case_content() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "cb", "pb", n=0), "e1", day(0)).history
    out = apply_melding(h, melding("amsterdam-amstelland", "ca", "pa", n=3), "e2", day(3))
    by_region = {m.addressed_to: m for m in out.matches}
    assert set(by_region) == {"utrecht", "amsterdam-amstelland"}
    to_a, to_b = by_region["amsterdam-amstelland"], by_region["utrecht"]
    assert (to_a.own_case_id, to_a.own_person_id) == ("ca", "pa")
    assert (to_b.own_case_id, to_b.own_person_id) == ("cb", "pb")
    assert to_a.own == InvolvementView("amsterdam-amstelland", day(3), ("ca",))
    assert to_a.other == InvolvementView("utrecht", day(0))  # no case ids of the other region
    assert to_b.other == InvolvementView("amsterdam-amstelland", day(3))
    assert to_a.match_key == to_b.match_key


def test_assessment_input_lists_other_organisations_and_rvdk_and_updates_their_open_cases() -> None:
    h = apply_rvdk(PersonHistory(), rvdk("s1"), "r1", day(0)).history
    h = apply_melding(h, melding("utrecht", "cb", n=1), "e1", day(1)).history
    out = apply_melding(h, melding("zeeland", "cz", n=2), "e2", day(2))
    by_case = {i.case_id: i for i in out.inputs}
    assert by_case["cz"].other_organisations == (InvolvementView("utrecht", day(1)),)
    assert [r.signal_id for r in by_case["cz"].rvdk] == ["s1"]
    # utrecht's still open assessment learns about zeeland's involvement
    assert by_case["cb"].other_organisations == (InvolvementView("zeeland", day(2)),)


def test_third_organisation_matches_each_involved_organisation() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1"), "e1", day(0)).history
    h = apply_melding(h, melding("zeeland", "c2", n=1), "e2", day(1)).history
    out = apply_melding(h, melding("twente", "c3", n=2), "e3", day(2))
    pairs = sorted((m.match_key, m.addressed_to) for m in out.matches)
    assert pairs == [("twente|utrecht", "twente"), ("twente|utrecht", "utrecht"),
                     ("twente|zeeland", "twente"), ("twente|zeeland", "zeeland")]


def test_same_organisation_again_is_no_match_but_lists_earlier_case() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1"), "e1", day(0)).history
    out = apply_melding(h, melding("utrecht", "c2", n=5), "e2", day(5))
    assert out.matches == []
    [inp] = [i for i in out.inputs if i.case_id == "c2"]
    assert inp.earlier_case_ids == ("c1",) and not inp.repeat_melding
    assert out.history.involvements["utrecht"].since == day(0)


def test_redelivered_event_changes_nothing_and_emits_the_open_cases_inputs_again() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1"), "e1", day(0)).history
    first = apply_melding(h, melding("zeeland", "c2"), "e2", day(0))
    h = first.history
    again = apply_melding(h, melding("zeeland", "c2"), "e2", day(0))
    # The match the melding made is emitted again as it was (the same copies: the handler derives the same ids).
    assert again.duplicate and again.matches == first.matches and len(first.matches) == 2 and again.history is h
    # What a broker loss may have taken before the notifier read it: the melding's own input, as it is now (the other
    # region's case got its input from its own melding).
    assert [i.case_id for i in again.inputs] == ["c2"]
    assert again.inputs == [i for i in first.inputs if i.case_id == "c2"]
    with_rvdk = apply_rvdk(h, rvdk("s"), "r1", day(1))
    replayed = apply_rvdk(with_rvdk.history, rvdk("s"), "r1", day(1))
    assert replayed.duplicate and replayed.history is with_rvdk.history and replayed.inputs == with_rvdk.inputs
    closed_all = apply_case_closed(apply_case_closed(h, closed("utrecht", "c1"), "x1").history,
                                   closed("zeeland", "c2"), "x2").history
    assert apply_rvdk(closed_all, rvdk("s"), "e1", day(1)).inputs == []  # no open case: nothing to emit


def test_rvdk_after_the_melding_joins_open_assessments_only() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1"), "e1", day(0)).history
    h = apply_melding(h, melding("zeeland", "c2"), "e2", day(0)).history
    h = apply_case_closed(h, closed("utrecht", "c1"), "closed-1").history
    out = apply_rvdk(h, rvdk("s1", n=1), "r1", day(1))
    assert [(i.case_id, [r.signal_id for r in i.rvdk]) for i in out.inputs] == [("c2", ["s1"])]
    # the same RvdK signal under a new event id adds nothing
    assert apply_rvdk(out.history, rvdk("s1", n=1), "r2", day(2)).inputs == []


def test_repeat_melding_after_a_closed_case() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1"), "e1", day(0)).history
    h = apply_case_closed(h, closed("utrecht", "c1"), "x").history
    out = apply_melding(h, melding("utrecht", "c2", n=30), "e2", day(30))
    [inp] = out.inputs
    assert inp.repeat_melding and inp.earlier_case_ids == ("c1",)


def test_lookup_only_for_an_involved_organisation() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1"), "e1", day(0)).history
    h = apply_melding(h, melding("zeeland", "c2", n=1), "e2", day(1)).history
    assert involvement_of(h, "twente") is None
    assert involvement_of(h, "zeeland") == [InvolvementView("zeeland", day(1), ("c2",)),
                                            InvolvementView("utrecht", day(0))]
    assert has_case(h, "zeeland", "c2") and not has_case(h, "zeeland", "c1")


def test_history_round_trips_through_json_dicts() -> None:
    import json

    h = apply_rvdk(PersonHistory(), rvdk("s1"), "r1", day(0)).history
    h = apply_melding(h, melding("utrecht", "c1"), "e1", day(0)).history
    h = apply_melding(h, melding("zeeland", "c2"), "e2", day(1)).history
    h = apply_case_closed(h, closed("utrecht", "c1"), "x").history
    restored = PersonHistory.from_dict(json.loads(json.dumps(h.to_dict())))
    assert restored == h
    assert assessment_input(restored, "c2", day(2)) == assessment_input(h, "c2", day(2))


def test_processed_ids_are_bounded() -> None:
    h = PersonHistory()
    for i in range(1500):
        h.mark_processed(f"e{i}")
    assert len(h.processed) == 1000 and h.seen("e1499") and not h.seen("e0")


def test_monitored_household_alerts_on_new_signals_until_monitoring_ends() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1", "p1"), "e1", day(0)).history
    h = apply_case_closed(h, closed("utrecht", "c1", "p1", n=5, monitor_days=100), "x").history
    assert h.open_cases == {} and "c1" in h.monitored

    out = apply_rvdk(h, rvdk("s1", n=10), "r1", day(10))
    [alert] = out.alerts
    assert (alert.case_id, alert.person_id, alert.trigger, alert.rvdk) == ("c1", "p1", Trigger.RVDK, rvdk("s1", n=10))
    assert out.inputs == []  # the closed case's assessment is decided: no new input

    out = apply_melding(out.history, melding("zeeland", "c2", "p9", n=20), "e2", day(20))
    [alert] = out.alerts
    assert alert.trigger == Trigger.MELDING_OTHER_ORGANISATION and alert.other == InvolvementView("zeeland", day(20))
    out = apply_melding(out.history, melding("utrecht", "c3", "p7", n=30), "e3", day(30))
    assert [a.trigger for a in out.alerts] == [Trigger.MELDING_SAME_ORGANISATION]

    later = apply_melding(out.history, melding("twente", "c4", n=200), "e4", day(200))
    assert later.alerts == []  # monitoring ended after 100 days


def test_verwijsindex_match_alerts_monitored_cases_only_and_is_deduplicated() -> None:
    match = VerwijsindexMatchFact("m1", 1, day(10))
    # not monitored, an open assessment: the match joins its input (that it happened, its kind, when), no alert
    h = apply_melding(PersonHistory(), melding("utrecht", "c1", "p1"), "e1", day(0)).history
    out = apply_verwijsindex_match(h, match, "v0", day(10))
    [joined] = out.inputs
    assert (joined.case_id, joined.person_id, joined.verwijsindex_matches) == ("c1", "p1", (match,))
    assert (out.alerts, out.register_entries) == ([], [])
    assert out.history.seen("v0") and out.history.open_cases == h.open_cases and out.history.rvdk == []
    assert apply_verwijsindex_match(out.history, match, "v0-again", day(11)).inputs == []  # the same match: nothing new
    assert PersonHistory.from_dict(out.history.to_dict()) == out.history  # kept in radar's table
    assert apply_verwijsindex_match(PersonHistory(), match, "v0", day(10)).alerts == []

    h = apply_case_closed(h, closed("utrecht", "c1", "p1", n=5, monitor_days=100), "x").history
    h = apply_melding(h, melding("zeeland", "z1", "p9", n=6), "e2", day(6)).history
    h = apply_case_closed(h, closed("zeeland", "z1", "p9", n=7), "x2").history  # overdracht: not monitored
    out = apply_verwijsindex_match(h, match, "v1", day(10))
    [alert] = out.alerts  # to the responsible (monitoring) region only
    assert (alert.tenant_id, alert.case_id, alert.person_id, alert.trigger) == ("utrecht", "c1", "p1",
                                                                                  Trigger.VERWIJSINDEX_MATCH)
    assert alert.verwijsindex_match == match and alert.other is None and alert.rvdk is None
    assert out.inputs == [] and out.history.involvements == h.involvements
    again = apply_verwijsindex_match(out.history, match, "v1", day(10))
    assert again.duplicate and again.alerts == out.alerts and again.inputs == []  # no open case left
    assert apply_verwijsindex_match(out.history, VerwijsindexMatchFact("m2", 2, day(200)), "v2", day(200)).alerts == []


def test_the_matches_and_alerts_a_signal_gave_are_kept_while_its_id_is_and_forgotten_with_the_dossier() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1", "p1"), "e1", day(0)).history
    h = apply_case_closed(h, closed("utrecht", "c1", "p1", n=5, monitor_days=100), "x").history
    out = apply_melding(h, melding("zeeland", "z1", "p9", n=6), "e2", day(6))
    assert len(out.matches) == 2 and [a.trigger for a in out.alerts] == [Trigger.MELDING_OTHER_ORGANISATION]
    kept = PersonHistory.from_dict(out.history.to_dict())  # radar's table holds them
    assert kept == out.history and kept.notices["e2"].alerts == tuple(out.alerts)
    again = apply_melding(kept, melding("zeeland", "z1", "p9", n=6), "e2", day(6))
    assert (again.matches, again.alerts) == (out.matches, out.alerts)
    # A destroyed dossier: nothing about its case is emitted again.
    destroyed = apply_case_destroyed(out.history, CaseDestroyedFact("utrecht", "c1"), "d1").history
    assert "e2" not in destroyed.notices
    # An id that fell out of the processed ids takes its notices with it.
    h = out.history
    for n in range(MAX_PROCESSED_IDS):
        h.mark_processed(f"later-{n}")
    assert not h.seen("e2") and "e2" not in h.notices


def test_closing_without_safety_conditions_does_not_monitor() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1"), "e1", day(0)).history
    h = apply_case_closed(h, closed("utrecht", "c1"), "x").history
    assert h.monitored == {} and apply_rvdk(h, rvdk("s"), "r", day(1)).alerts == []


def test_hermelding_references_the_most_recent_closed_case_of_the_same_vt() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1"), "e1", day(0)).history
    h = apply_case_closed(h, closed("utrecht", "c1"), "x1").history
    h = apply_melding(h, melding("utrecht", "c2", n=10), "e2", day(10)).history
    h = apply_case_closed(h, closed("utrecht", "c2", n=12), "x2").history
    h = apply_melding(h, melding("zeeland", "z1", n=20), "e3", day(20)).history  # another VT: no repeat for utrecht
    out = apply_melding(h, melding("utrecht", "c3", n=30), "e4", day(30))
    [inp] = [i for i in out.inputs if i.case_id == "c3"]
    assert inp.repeat_melding and inp.repeat_of_case_id == "c2" and inp.earlier_case_ids == ("c1", "c2")
    assert inp.joins_case_id == ""
    # zeeland's case (open) is no hermelding: its earlier involvement is another organisation's
    assert not assessment_input(out.history, "z1", day(30)).repeat_melding


def test_melding_with_an_open_assessment_at_the_same_vt_joins_it() -> None:
    h = apply_melding(PersonHistory(), melding("utrecht", "c1", "p1"), "e1", day(0)).history
    out = apply_melding(h, melding("utrecht", "c2", "p2", n=2), "e2", day(2))
    by_case = {i.case_id: i for i in out.inputs}
    assert by_case["c2"].joins_case_id == "c1" and not by_case["c2"].repeat_melding
    # the open assessment is told who joined it (its input is re-emitted)
    assert by_case["c1"].joined_by_case_ids == ("c2",) and by_case["c1"].joins_case_id == ""
    # a third melding joins the earliest open one as well
    out = apply_melding(out.history, melding("utrecht", "c3", "p3", n=3), "e3", day(3))
    by_case = {i.case_id: i for i in out.inputs}
    assert by_case["c3"].joins_case_id == "c1" and by_case["c1"].joined_by_case_ids == ("c2", "c3")
    # once c1 is decided, c2 is the open assessment and c3 becomes a hermelding of c1 joining c2
    h = apply_case_closed(out.history, closed("utrecht", "c1", "p1", n=4), "x").history
    later = assessment_input(h, "c3", day(5))
    assert (later.joins_case_id, later.repeat_of_case_id, later.repeat_melding) == ("c2", "c1", True)
    # another VT's open case is no join (that is a register match)
    other = apply_melding(h, melding("zeeland", "z1", n=6), "e4", day(6))
    assert {i.case_id: i for i in other.inputs}["z1"].joins_case_id == ""
