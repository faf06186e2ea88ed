"""The region inbox through the notifier's event handler, its SQLite store and scheduler, and real fake case systems
(gRPC on loopback), on a clock the test moves: radar's findings reach the region's case system once, in order per
case, naming the region's own person ids; an item nobody acknowledged in time goes once to the team lead."""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from notifier.adapters.regional import RegionalClients
from notifier.consumer import EventHandler
from notifier.domain import AttemptOutcome, BackoffPolicy, Delivery, DeliveryKind, DeliveryState, judge_attempt
from notifier.domain.inbox import Change, InputView, RvdkView, Source, acknowledge_before, changes_between
from notifier.scheduler import PERSISTENT_MAX_ATTEMPTS, Scheduler
from notifier.store import Store
from simulators.regional_system import FakeRegionalSystem
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.radar.v1 import events_pb2 as radar_events
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vt.verwijsindex.v1 import events_pb2 as vi_events
from vtkit import metrics
from vtkit.calendar import AMSTERDAM
from vtkit.envelope import Event, envelope_for
from vtkit.keystore import KeyStore

TENANT, CASE = "utrecht", "case-7"
# Monday 7 December 2026, 10:00 in Amsterdam: office hours.
MONDAY = dt.datetime(2026, 12, 7, 10, 0, tzinfo=AMSTERDAM).astimezone(dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = MONDAY

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture()
def store(tmp_path: pathlib.Path) -> Store:
    return Store(tmp_path / "notifier.sqlite3")


@pytest.fixture()
def clock() -> Clock:
    return Clock()


async def _started(system: FakeRegionalSystem) -> FakeRegionalSystem:
    await system.start()
    return system


@pytest.fixture()
async def region(tmp_path: pathlib.Path, keys: KeyStore) -> AsyncIterator[FakeRegionalSystem]:
    system = await _started(FakeRegionalSystem(tenant=TENANT, keys=keys))
    yield system
    await system.stop()


@pytest.fixture()
async def team_lead(keys: KeyStore) -> AsyncIterator[FakeRegionalSystem]:
    system = await _started(FakeRegionalSystem(tenant=TENANT, keys=keys))
    yield system
    await system.stop()


def scheduler(store: Store, region: FakeRegionalSystem, clock: Clock, team_lead: FakeRegionalSystem | None = None
              ) -> Scheduler:
    assert region.keys is not None
    clients = RegionalClients({TENANT: region.address}, timeout_seconds=2, keys=region.keys,
                              teamlead_endpoints={TENANT: team_lead.address} if team_lead else {})
    return Scheduler(store, clients, BackoffPolicy(base_seconds=1, max_attempts=2), 60, clock=clock, rand=lambda: 0.0)


async def run_until_quiet(s: Scheduler, clock: Clock, step: dt.timedelta = dt.timedelta(minutes=11)) -> None:
    """Scan and wait for the attempts, moving the clock past any back-off, until nothing more is due."""
    for _ in range(40):
        started = s.scan_once()
        await s.drain()
        if not started and not s.store.due(clock.now + step, [TENANT], escalation_tenants=[TENANT]):
            return
        clock.now += step
    raise AssertionError("deliveries still due after 40 rounds")


def rvdk(signal_id: str) -> radar_events.RvdkInfo:
    info = radar_events.RvdkInfo(signal_id=signal_id, kind=rvdk_events.RVDK_SIGNAL_KIND_INVESTIGATION_OPEN,
                                 rvdk_office="RvdK Midden-Nederland")
    info.observed_at.FromDatetime(MONDAY)
    return info


def assessment_input(*, others: tuple[str, ...] = (), rvdk_ids: tuple[str, ...] = (), person: str = "p-1",
                     case_id: str = CASE, matches: tuple[str, ...] = ()) -> radar_events.AssessmentInput:
    msg = radar_events.AssessmentInput(tenant_id=TENANT, case_id=case_id, person_id=person,
                                       other_organisations=[common_pb2.Involvement(tenant_id=t) for t in others],
                                       rvdk=[rvdk(r) for r in rvdk_ids],
                                       verwijsindex_matches=[radar_events.VerwijsindexMatchInfo(
                                           match_id=m, kind=vi_events.MATCH_KIND_CLIENT) for m in matches])
    msg.collected_at.FromDatetime(MONDAY)
    return msg


async def handle(handler: EventHandler, msg: object) -> None:
    await handler(Event(envelope_for(msg, source=f"radar/{TENANT}", tenant=TENANT), msg))  # type: ignore[arg-type]


def record_melding(store: Store, case_id: str = CASE, acute: bool = False) -> None:
    melding = intake_events.MeldingReceived(tenant_id=TENANT, contact_id=case_id, acute=acute)
    store.put_case(TENANT, case_id, f"ev-{case_id}", MONDAY, melding.SerializeToString())


# -- the rules ------------------------------------------------------------------------------------


def test_changes_are_what_the_new_input_adds() -> None:
    at = MONDAY
    first = InputView((("drenthe", at),), (), (), (), "")
    assert changes_between(None, first) == [Change(Source.OTHER_VT_ORGANISATION, at, organisation="drenthe")]
    later = InputView((("drenthe", at),), (RvdkView("r1", "KIND", "office", at),), ("c-0",), (), "")
    assert changes_between(first, later) == [Change(Source.RVDK, at, rvdk_kind="KIND", rvdk_office="office"),
                                             Change(Source.MELDING_SAME_ORGANISATION, None, case_id="c-0")]
    # Read out of order, the older input adds nothing (nothing is said to have gone away).
    assert changes_between(later, first) == []


def test_acknowledgement_deadline_counts_office_hours() -> None:
    friday_late = dt.datetime(2026, 12, 4, 16, 30, tzinfo=AMSTERDAM)
    assert acknowledge_before(friday_late, acute=True) == dt.datetime(2026, 12, 7, 9, 30, tzinfo=AMSTERDAM)
    assert acknowledge_before(friday_late, acute=False) == dt.datetime(2026, 12, 7, 16, 30, tzinfo=AMSTERDAM)
    # Christmas Eve evening: 25 and 26 December are holidays, the 27th a Sunday.
    eve = dt.datetime(2026, 12, 24, 20, 0, tzinfo=AMSTERDAM)
    assert acknowledge_before(eve, acute=True) == dt.datetime(2026, 12, 28, 10, 0, tzinfo=AMSTERDAM)


# -- push -----------------------------------------------------------------------------------------


async def test_assessment_input_first_then_each_change_once(store: Store, region: FakeRegionalSystem,
                                                            clock: Clock) -> None:
    handler = EventHandler(store, clock=clock)
    record_melding(store)
    await handle(handler, assessment_input())
    await handle(handler, assessment_input())  # radar re-emitted it with nothing new: no item
    await handle(handler, assessment_input(rvdk_ids=("r1",)))  # an RvdK signal after the melding
    await handle(handler, assessment_input(others=("drenthe",), rvdk_ids=("r1",)))  # another VT got involved
    # A professional registered a signal about the youth in the verwijsindex.
    await handle(handler, assessment_input(others=("drenthe",), rvdk_ids=("r1",), matches=("m1",)))
    await run_until_quiet(scheduler(store, region, clock), clock)

    items = region.inbox(CASE)
    assert [(i["kind"], i["first"], i["changes"]) for i in items] == [
        ("ASSESSMENT_INPUT", True, []), ("ASSESSMENT_INPUT", False, ["RVDK"]),
        ("ASSESSMENT_INPUT", False, ["OTHER_VT_ORGANISATION"]), ("ASSESSMENT_INPUT", False, ["VERWIJSINDEX"])]
    assert all(i["person_ids"] == ["p-1"] and not i["duplicate"] for i in items)
    # Not acute: a working day to acknowledge.
    assert items[0]["acknowledge_before"] == (MONDAY + dt.timedelta(days=1)).isoformat()


async def test_monitoring_alert_names_the_person_and_the_other_organisation(
        store: Store, region: FakeRegionalSystem, clock: Clock) -> None:
    record_melding(store, acute=True)
    alert = radar_events.MonitoringAlert(tenant_id=TENANT, case_id=CASE, person_id="p-2",
                                         trigger=radar_events.MONITORING_TRIGGER_MELDING_OTHER_ORGANISATION,
                                         other=common_pb2.Involvement(tenant_id="drenthe", case_ids=[]))
    alert.detected_at.FromDatetime(MONDAY)
    await handle(EventHandler(store, clock=clock), alert)
    await run_until_quiet(scheduler(store, region, clock), clock)
    (item,) = region.inbox(CASE, "MONITORING_ALERT")
    assert item["person_ids"] == ["p-2"] and item["source"] == "OTHER_VT_ORGANISATION"
    assert item["organisation"] == "drenthe"
    # An acute case: one working hour.
    assert item["acute"] and item["acknowledge_before"] == (MONDAY + dt.timedelta(hours=1)).isoformat()


async def test_an_overdue_deadline_is_told_once_and_its_resolution_too(store: Store, region: FakeRegionalSystem,
                                                                        clock: Clock) -> None:
    handler = EventHandler(store, clock=clock)
    for _ in range(2):  # radar reported it twice (a restart): one item
        overdue = radar_events.DeadlineOverdue(tenant_id=TENANT, case_id=CASE, kind=radar_events.DEADLINE_KIND_ASSESSMENT)
        overdue.due_at.FromDatetime(MONDAY - dt.timedelta(hours=1))
        overdue.detected_at.FromDatetime(MONDAY)
        await handle(handler, overdue)
    decided = radar_events.AssessmentCompleted(tenant_id=TENANT, case_id=CASE, decision=radar_events.DECISION_ONDERZOEK)
    decided.decided_at.FromDatetime(MONDAY + dt.timedelta(hours=2))
    await handle(handler, decided)
    await run_until_quiet(scheduler(store, region, clock), clock)
    items = region.inbox(CASE, "DEADLINE_OVERDUE")
    assert [(i["deadline"], i["resolved"]) for i in items] == [("ASSESSMENT", False), ("ASSESSMENT", True)]


async def test_a_household_not_informed_in_four_weeks_is_overdue_even_before_any_decision(
        store: Store, region: FakeRegionalSystem, clock: Clock) -> None:
    """The 4 weeks run from recording: an undecided case is overdue for its household letter the day after; a
    postponed one not yet; a melding that joined its household's episode is informed by the episode's letter; a
    decided one has its letter delivery (reported by its own overdue check)."""
    handler = EventHandler(store, clock=clock)
    undecided, postponed, joined = "case-undecided", "case-postponed", "case-joined"
    for case_id in (undecided, postponed, joined):
        record_melding(store, case_id)  # recorded Monday 7 December 2026: due Monday 4 January 2027
    await handle(handler, radar_events.EpisodeJoined(tenant_id=TENANT, episode_case_id=undecided, case_id=joined))
    store.postpone(TENANT, postponed, 2, "het gesprek met moeder eerst", clock.now, dt.date(2027, 1, 4),
                   dt.date(2027, 1, 18), clock.now)
    s = scheduler(store, region, clock)
    clock.now = dt.datetime(2027, 1, 4, 23, 0, tzinfo=AMSTERDAM).astimezone(dt.UTC)  # the due day itself: on time
    assert s.report_undecided_letters() == 0
    clock.now = dt.datetime(2027, 1, 5, 9, 0, tzinfo=AMSTERDAM).astimezone(dt.UTC)
    assert s.report_undecided_letters() == 1
    assert s.report_undecided_letters() == 0  # once
    s.inbox.report_figures()  # the dashboard's figure: one household not informed in time, now
    assert metrics.HOUSEHOLD_NOT_INFORMED_LATE.labels(TENANT)._value.get() == 1
    await run_until_quiet(s, clock)
    [item] = region.inbox(undecided, "DEADLINE_OVERDUE")
    assert (item["deadline"], item["resolved"]) == ("HOUSEHOLD_LETTER", False)
    assert region.inbox(postponed) == [] and region.inbox(joined) == []
    clock.now = dt.datetime(2027, 1, 19, 9, 0, tzinfo=AMSTERDAM).astimezone(dt.UTC)  # the postponement ran out
    assert s.report_undecided_letters() == 1


class RejectsOne(FakeRegionalSystem):
    """A case system that refuses one item for good (INVALID_ARGUMENT) and is down for its first calls."""

    rejected_person = "p-bad"

    def refusal(self, method: str, request: Any) -> tuple[str, str] | None:
        if method == "DeliverInboxItem" and self.rejected_person in request.person_ids:
            return "INVALID_ARGUMENT", "person_ids: unknown person"
        return None


async def test_down_for_hours_then_everything_once_in_order_and_a_rejected_item_does_not_block(
        store: Store, clock: Clock, keys: KeyStore) -> None:
    down = await _started(RejectsOne(tenant=TENANT, keys=keys, fail_first=30))  # ~5 hours of 10-minute retries
    try:
        handler = EventHandler(store, clock=clock)
        for person in ("p-1", "p-bad", "p-3"):
            await handle(handler, assessment_input(person=person))
        await run_until_quiet(scheduler(store, down, clock), clock)
        assert [i["person_ids"] for i in down.inbox(CASE)] == [["p-1"], ["p-3"]]
        states = [(r.delivery.case_id, r.delivery.state) for r in store.inbox_page(TENANT)]
        assert states == [(CASE, DeliveryState.DELIVERED), (CASE, DeliveryState.FAILED), (CASE, DeliveryState.DELIVERED)]
        failed = store.inbox_page(TENANT)[1].delivery
        assert failed.last_error.startswith("INVALID_ARGUMENT") and failed.attempts == 1
        assert clock.now - MONDAY > dt.timedelta(hours=4)  # it was down for hours, and nothing was given up
        # Only after about three days of retries (at least two, however the jitter falls) is an item dead-lettered.
        policy = scheduler(store, down, clock).persistent_policy
        last = judge_attempt(AttemptOutcome.TRANSIENT, PERSISTENT_MAX_ATTEMPTS, policy, clock.now, 0.0, "UNAVAILABLE")
        assert last.state is DeliveryState.FAILED
        assert sum(policy.delay(n, 0.0) for n in range(1, PERSISTENT_MAX_ATTEMPTS)) > 2 * 24 * 3600
    finally:
        await down.stop()


async def test_an_item_nobody_acknowledged_goes_once_to_the_team_lead(
        store: Store, region: FakeRegionalSystem, team_lead: FakeRegionalSystem, clock: Clock) -> None:
    handler = EventHandler(store, clock=clock)
    record_melding(store, acute=True)
    await handle(handler, assessment_input(person="p-1"))
    await handle(handler, assessment_input(person="p-2"))
    s = scheduler(store, region, clock, team_lead)
    await run_until_quiet(s, clock, step=dt.timedelta(minutes=1))
    assert len(region.inbox(CASE)) == 2 and team_lead.inbox() == []
    first, second = store.inbox_page(TENANT)
    # All or nothing: an unknown key, or another region's, acknowledges nothing.
    assert store.acknowledge(TENANT, [first.delivery.key, "no-such-key"], clock.now) == ([], ["no-such-key"])
    assert store.acknowledge("drenthe", [second.delivery.key], clock.now) == ([], [second.delivery.key])
    acknowledged, _ = store.acknowledge(TENANT, [first.delivery.key], clock.now)
    assert [r.delivery.key for r in acknowledged] == [first.delivery.key]
    assert store.acknowledge(TENANT, [first.delivery.key], clock.now) == ([], [])  # the first time counts

    clock.now = second.acknowledge_before + dt.timedelta(seconds=1)  # the working hour is over
    await run_until_quiet(s, clock, step=dt.timedelta(minutes=1))
    await run_until_quiet(s, clock, step=dt.timedelta(hours=5))
    (escalated,) = team_lead.inbox(CASE)
    assert escalated["escalated"] and escalated["idempotency_key"] == second.delivery.key
    assert escalated["person_ids"] == ["p-2"]
    assert len(region.inbox(CASE)) == 2  # the region itself got nothing new
    assert store.unacknowledged_late(clock.now) == []
    assert [d.kind for d in store.list_for_tenant(TENANT)].count(DeliveryKind.INBOX_ESCALATION) == 1


def test_inbox_pages_and_regions(store: Store, clock: Clock) -> None:
    for n in range(5):
        d = Delivery(key=f"k{n}", kind=DeliveryKind.INBOX_ASSESSMENT_INPUT, tenant_id=TENANT if n != 2 else "drenthe",
                     case_id=f"c{n}", cause_event_id=f"e{n}", due_date=None, created_at=MONDAY, deliver_after=MONDAY,
                     body=b"")
        assert store.add_inbox(d, MONDAY + dt.timedelta(minutes=n), MONDAY + dt.timedelta(hours=8))
    page1 = store.inbox_page(TENANT, limit=2)
    page2 = store.inbox_page(TENANT, after_seq=page1[-1].seq, limit=2)
    assert [r.delivery.key for r in page1 + page2] == ["k0", "k1", "k3", "k4"]
    assert [r.delivery.key for r in store.inbox_page("drenthe")] == ["k2"]
    assert [r.delivery.key for r in store.inbox_page(TENANT, since=MONDAY + dt.timedelta(minutes=3))] == ["k3", "k4"]
