"""The short version of `make chaos` (issue 9): 60 meldingen of the synthetic load while intake, radar and
notifier are each SIGKILLed once and started again on the same ports and data. Every acknowledged melding
is received, assessed and called back exactly once: no loss, no second distinct delivery."""

from __future__ import annotations

import pathlib

from vtkit.loadgen import run_chaos
from vtkit.stack import Stack

A, B = "amsterdam-amstelland", "twente"


async def test_sigkills_under_load_lose_nothing_and_deliver_nothing_twice(kafka: str, tmp_path: pathlib.Path) -> None:
    stack = Stack(kafka, tmp_path / "var", tenants=(A, B))
    stack.plan()
    try:
        await stack.start()
        report = await run_chaos(stack, 60, seed=5, kills=[(15, f"intake-{A}"), (30, "radar"), (45, "notifier")],
                                 concurrency=4, settle_timeout=90)
    finally:
        stack.stop()
    print("chaos smoke:", report.line())
    assert len(report.kills) == 3, report.kills
    assert report.acknowledged == 60, report.missing
    assert report.lost == 0, report.missing
    assert report.received == report.assessed == report.delivered == 60
    assert report.second_distinct == 0
