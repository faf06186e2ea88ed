"""The broker lost under a running stack, the short version of `make chaos` with broker losses (docs/architecture.md,
"Broker loss"): 40 meldingen over 2 regions, half of them decided by the harness as the regions' case worker, RvdK
signals from the RvdK feed's outbox and two registrants registering youths at the verwijsindex, while the embedded
broker is SIGKILLed and an empty one started in its place. Nobody acts: every service notices the new cluster id and
publishes its outbox again. Every acknowledged melding is assessed once and called back once, every decision reaches
its melder and household once, every RvdK signal its child's assessment once, every youth's match both registrants
once; and the last broker holds every melding, assessment, decision and RvdK signal again."""

from __future__ import annotations

import pathlib

from devstack.broker import free_port, wait_for_broker
from devstack.processes import stop_all
from devstack.stack import Stack
from loadgen import run_chaos
from vttest import LosableBroker, notifier_deadlines

A, B = "amsterdam-amstelland", "twente"
N = 40


async def test_a_broker_lost_under_load_loses_nothing_and_delivers_nothing_twice(tmp_path: pathlib.Path) -> None:
    broker_port = free_port()
    broker = LosableBroker(f"127.0.0.1:{broker_port}", broker_port, tmp_path / "broker.log")  # restarts on this port
    stack = Stack(f"127.0.0.1:{broker_port}", tmp_path / "var", tenants=(A, B))
    stack.plan()
    try:
        await wait_for_broker(f"127.0.0.1:{broker_port}")
        await stack.start()
        report = await run_chaos(stack, N, seed=7, concurrency=4, settle_timeout=120, decide_fraction=0.5,
                                 broker=broker, broker_losses=[N // 2], rvdk_signals=3, verwijsindex_youths=2)
    finally:
        stop_all(stack.processes.values(), timeout=5)
        broker.stop()
    deadlines = notifier_deadlines(stack.var_dir / "data" / "notifier.sqlite3")
    print("broker loss under load:", report.line())
    assert report.broker_losses and len(report.recovery_seconds) == 1
    assert report.acknowledged == N and report.lost == 0, report.missing
    assert report.received == report.assessed == report.scheduled == report.delivered == N, report.missing
    assert report.assessment_reissued == 0 and report.second_distinct == 0
    assert deadlines == {"cases": N, "callback_deadlines": N, "without_deadline": 0, "more_than_one": 0}
    assert report.decided > 0 and report.undecided == 0, report.missing
    assert report.letters + report.episode_members == report.outcome_callbacks == report.decided, report.missing
    assert report.letters_lost == 0 and report.letter_second_distinct == 0 and report.outcome_second_distinct == 0
    assert not report.final_missing, report.final_missing
    signals = report.signals
    assert signals.rvdk_signals > 0 and signals.youths_registered == 2, signals
    assert signals.lost() == 0 and signals.rvdk_applied_twice == 0, report.missing
    assert signals.match_notices_second_distinct == 0, signals
