"""The rules after the decision (radar.domain.lifecycle): the onderzoek's norms, what may follow, monitoring's end
date, and the sector figures over a set of cases."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from radar.domain.cases import CaseRecord, Decision
from radar.domain.decisions import DecisionInput, InvalidDecision, Judgement
from radar.domain.lifecycle import (
    LifecycleConflict,
    check_outcome,
    check_start,
    extension_until,
    norms,
    started_within_norm,
    validate_outcome,
)
from vtkit.calendar import AMSTERDAM, end_of_day

T = "utrecht"


def at(day: int, month: int = 12, hour: int = 10) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=AMSTERDAM)


def decided(case_id: str, decision: Decision, received: dt.datetime, decided_at: dt.datetime) -> CaseRecord:
    record = CaseRecord(T, case_id, due_at=end_of_day((received + dt.timedelta(days=7)).date()))
    record.close(decided_at, decision)
    return record


def outcome(follow_up: Decision = Decision.NO_FURTHER_STEPS, overdracht_to: str = "") -> DecisionInput:
    return DecisionInput("c", Judgement.SAFE, follow_up, overdracht_to, "VT Utrecht", "")


def test_an_onderzoek_started_within_five_working_days_meets_the_norm() -> None:
    # Decided Thursday 24 December: Christmas, Boxing Day, New Year's Day and the weekends do not count, so the
    # fifth working day is Monday 4 January.
    assert started_within_norm(at(24), dt.datetime(2027, 1, 4, 16, tzinfo=AMSTERDAM))
    assert not started_within_norm(at(24), dt.datetime(2027, 1, 5, 9, tzinfo=AMSTERDAM))


def test_only_an_onderzoek_has_a_start_and_an_outcome_and_only_one() -> None:
    no_onderzoek = decided("c1", Decision.OVERDRACHT, at(1), at(2))
    with pytest.raises(LifecycleConflict, match="^case_id: this case has no onderzoek"):
        check_start(no_onderzoek)
    onderzoek = decided("c2", Decision.ONDERZOEK, at(1), at(2))
    assert check_outcome(onderzoek, outcome()) is False
    onderzoek.onderzoek_completed_at, onderzoek.outcome_fingerprint = at(20), outcome().fingerprint()
    assert check_outcome(onderzoek, outcome()) is True  # the same again: a retry
    with pytest.raises(LifecycleConflict):
        check_outcome(onderzoek, outcome(Decision.RVDK_REQUEST))
    with pytest.raises(LifecycleConflict, match="finished already"):
        check_start(onderzoek)


@pytest.mark.parametrize(("follow_up", "overdracht_to", "field"), [
    (Decision.ONDERZOEK, "", "follow_up"), (Decision.UNSPECIFIED, "", "follow_up"),
    (Decision.OVERDRACHT, "", "overdracht_to"), (Decision.NO_FURTHER_STEPS, "wijkteam", "overdracht_to")])
def test_an_outcome_is_validated_like_a_decision(follow_up: Decision, overdracht_to: str, field: str) -> None:
    with pytest.raises(InvalidDecision) as err:
        validate_outcome(outcome(follow_up, overdracht_to))
    assert err.value.field == field


def test_monitoring_is_extended_to_a_later_date_only() -> None:
    record = decided("c", Decision.VOORWAARDEN_EN_VERVOLG, at(1), at(2))
    now = at(3)
    assert record.monitor_until is not None
    end = record.monitor_until.astimezone(AMSTERDAM).date()
    for too_early in (end, now.date()):
        with pytest.raises(InvalidDecision, match="^until:"):
            extension_until(record, too_early, now)
    assert extension_until(record, end + dt.timedelta(days=1), now) == end_of_day(end + dt.timedelta(days=1))
    with pytest.raises(LifecycleConflict):  # after it ended
        extension_until(record, end + dt.timedelta(days=30), record.monitor_until + dt.timedelta(seconds=1))


def test_norm_figures_count_the_period_and_the_region_only() -> None:
    now = at(20)
    cases = [
        decided("on-time", Decision.NO_FURTHER_STEPS, at(1), at(3)),
        decided("late", Decision.ONDERZOEK, at(1), at(15)),
        decided("before-period", Decision.NO_FURTHER_STEPS, at(1, 10), at(2, 10)),
        CaseRecord(T, "open-late", due_at=end_of_day(dt.date(2026, 12, 10))),
        CaseRecord(T, "open", due_at=end_of_day(dt.date(2026, 12, 24))),
        decided("elsewhere", Decision.NO_FURTHER_STEPS, at(1), at(30, 11)),
    ]
    cases[-1].tenant_id = "drenthe"
    cases[1].onderzoek_completed_at = at(18)
    figures = norms(cases, T, dt.date(2026, 12, 1), dt.date(2026, 12, 31), now)
    assert (figures.assessments.total, figures.assessments.on_time) == (2, 1)
    assert figures.assessments.share == 0.5 and not figures.assessments.meets_norm
    assert (figures.onderzoeken.total, figures.onderzoeken.on_time, figures.onderzoeken.meets_norm) == (1, 1, True)
    assert (figures.open_assessments, figures.overdue_assessments, figures.open_onderzoeken) == (2, 1, 0)


def test_a_case_record_with_its_lifecycle_survives_the_table_round_trip() -> None:
    """Radar's tables hold to_dict(); a restart reads them back (older rows lack the later fields)."""
    record = decided("lead", Decision.ONDERZOEK, at(1), at(2))
    record.onderzoek_started_at, record.onderzoek_completed_at = at(3), at(20)
    record.onderzoek_follow_up, record.outcome_fingerprint = Decision.VOORWAARDEN_EN_VERVOLG, "f"
    record.episode_members, record.dossier_id, record.judgement = ["m1", "m2"], "d-1", "safe"
    assert CaseRecord.from_dict(record.to_dict()) == record
    old_row = {k: v for k, v in record.to_dict().items() if k in ("tenant_id", "case_id", "due_at", "decision")}
    assert CaseRecord.from_dict(old_row).episode_members == [] and CaseRecord.from_dict(old_row).dossier == "lead"


def test_an_outcome_that_asks_the_rvdk_or_hands_over_names_its_reason_or_receiver() -> None:
    with pytest.raises(InvalidDecision, match="^rvdk_reason: required for an RvdK request"):
        validate_outcome(outcome(Decision.RVDK_REQUEST))
    with pytest.raises(InvalidDecision, match="^overdracht_receiver_id: required for an overdracht"):
        validate_outcome(outcome(Decision.OVERDRACHT, "wijkteam Gouda"))
    validate_outcome(dataclasses.replace(outcome(Decision.OVERDRACHT, "wijkteam Gouda"),
                                         overdracht_receiver_id="wijkteam:gouda"))
