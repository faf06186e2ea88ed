"""The short version of `make chaos` (docs/measurements.md, "Chaos"), same assertions on a small load: 60 meldingen of
the synthetic load over 2 regions while intake, radar, verwijsindex and notifier are each SIGKILLed once and started
again on the same ports and data, and the broker link (a TCP proxy every client goes through) is cut for 3 s. Every
acknowledged melding is received, assessed exactly once, has its deadline in the notifier and is called back exactly
once; the intakes' outboxes held meldingen during the cut and are empty at the end.

The harness also records a decision for every melding (radar RecordDecision, as the region's case worker, retried
while radar is down) and the notifier is killed once after 20 decisions, with letters in flight: every decided case
gets exactly one outcome callback and exactly one household letter at the letter gateway fake."""

from __future__ import annotations

import contextlib
import pathlib

from devstack.broker import free_port, wait_for_broker
from devstack.processes import stop_all
from devstack.stack import Stack
from loadgen import run_chaos
from vttest import CuttableLink, OutboxWatch, broker_advertised_at, notifier_deadlines, outbox_drained

A, B = "amsterdam-amstelland", "twente"
N = 60


async def test_sigkills_and_a_link_cut_under_load_lose_nothing_and_deliver_nothing_twice(tmp_path: pathlib.Path) -> None:
    broker_port, link_port = free_port(), free_port()
    broker = broker_advertised_at(f"127.0.0.1:{link_port}", broker_port, tmp_path / "broker.log")
    link = CuttableLink(link_port, broker_port)
    await link.start()
    stack = Stack(f"127.0.0.1:{link_port}", tmp_path / "var", tenants=(A, B))
    stack.plan()
    try:
        await wait_for_broker(f"127.0.0.1:{broker_port}")
        await stack.start()
        async with contextlib.AsyncExitStack() as scope:
            watch = await scope.enter_async_context(OutboxWatch(stack, link, interval=0.2))
            report = await run_chaos(stack, N, seed=5, kills=[(10, f"intake-{A}"), (20, "radar"), (35, "verwijsindex")],
                                     decision_kills=[(20, "notifier")],
                                     link=link, outage_at=25, outage_seconds=3, concurrency=4, settle_timeout=90)
        backlogs = await outbox_drained(stack)
    finally:
        stop_all(stack.processes.values(), timeout=5)
        await link.stop()
        broker.terminate()
        broker.wait(10)
    deadlines = notifier_deadlines(stack.var_dir / "data" / "notifier.sqlite3")
    print("chaos smoke:", report.line())
    print(f"  outbox peak during the cut {watch.peak}, at the end {backlogs}; notifier deadlines {deadlines}")
    assert len(report.kills) == 4, report.kills
    assert report.acknowledged == N, report.missing
    assert report.lost == 0, report.missing
    assert report.received == report.assessed == report.scheduled == report.delivered == N, report.missing
    assert report.assessment_reissued == 0
    assert report.second_distinct == 0
    assert deadlines == {"cases": N, "callback_deadlines": N, "without_deadline": 0, "more_than_one": 0}
    assert report.outage_seconds >= 3
    assert any(watch.peak.values()), "no intake took a melding into its outbox during the cut"
    assert not any(backlogs.values()) and len(backlogs) == 2, backlogs
    # Letters: every melding decided, each decided case one outcome callback and one letter, none twice.
    assert report.decided == N and report.undecided == 0, report.missing
    assert report.letters_in_flight_at_kill and report.letters_in_flight_at_kill[0] > 0, report.letters_in_flight_at_kill
    # One household letter per episode: a melding that joined its household's open assessment has none of its own.
    assert report.letters + report.episode_members == report.outcome_callbacks == N and report.letters_lost == 0, (
        report.missing)
    assert report.letter_second_distinct == 0 and report.outcome_second_distinct == 0
    assert report.letters_undecided == 0
