"""Chaos: the synthetic load while services are SIGKILLed and the broker link is cut (make chaos)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from vtkit.loadgen.drive import EventCollector, Submission, submit_all
from vtkit.loadgen.generate import generate


@dataclass
class ChaosReport:
    acknowledged: int = 0
    received: int = 0  # acknowledged contacts with a MeldingReceived on their intake topic
    assessed: int = 0  # acknowledged contacts with an AssessmentDue
    assessment_redeliveries: int = 0  # the same AssessmentDue event (same event id) read again
    assessment_reissued: int = 0  # cases with a second AssessmentDue under another event id
    scheduled: int = 0  # acknowledged contacts whose melder callback the notifier requested
    delivered: int = 0  # acknowledged contacts whose callback reached their region's fake case system
    duplicates: int = 0  # repeat deliveries of an idempotency key the receiver already had (acknowledged, flagged)
    second_distinct: int = 0  # cases that got a callback under two different idempotency keys
    lost: int = 0  # acknowledged but not received, assessed or delivered
    kills: list[str] = field(default_factory=list)
    outage_seconds: float = 0.0
    restarted_after_outage: list[str] = field(default_factory=list)  # exits not caused by a SIGKILL, started again
    seconds: float = 0.0
    missing: dict[str, list[str]] = field(default_factory=dict)

    def line(self) -> str:
        return (f"acknowledged {self.acknowledged}, received {self.received}, assessed {self.assessed} "
                f"(redelivered {self.assessment_redeliveries}, reissued {self.assessment_reissued}), scheduled "
                f"{self.scheduled}, delivered {self.delivered}, duplicates {self.duplicates}, second distinct "
                f"deliveries {self.second_distinct}, lost {self.lost}; {len(self.kills)} SIGKILLs "
                f"({', '.join(self.kills)}), broker link cut {self.outage_seconds:.0f} s, {self.seconds:.0f} s in all")


def _fake_receiver_rows(path: Any) -> list[dict[str, Any]]:
    import json
    import pathlib

    file = pathlib.Path(path)
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]


async def run_chaos(stack: Any, meldingen: int, *, seed: int = 0, kills: Sequence[tuple[int, str]] = (),
                    random_kills: int = 0, victims: Sequence[str] = (), link: Any = None, outage_at: int = 0,
                    outage_seconds: float = 5.0, concurrency: int = 16, settle_timeout: float = 300.0,
                    stall_timeout: float = 180.0, progress: bool = False) -> ChaosReport:
    """Drives `meldingen` meldingen (the synthetic load, over the stack's tenants) into a started Stack and meanwhile:
    - `kills`: (after this many acknowledgements, process name) — SIGKILL it and start it again on the same ports
      and data directories;
    - `random_kills`: that many more SIGKILLs of random `victims` at random acknowledgement counts (seeded);
    - `link` (a vtkit.testing.CuttableLink every client of the broker goes through): cut at `outage_at`
      acknowledgements for `outage_seconds`, then restored; processes that died of it are started again.
    Submissions are retried with the same idempotency key while intake is down, as a case system does.
    Then waits (settle_timeout, or until nothing moved for stall_timeout) until every acknowledged melding is
    assessed and its callback delivered, and counts."""
    import asyncio
    import time

    from vt.notifier.v1 import events_pb2 as notifier_events

    from vtkit import topics
    from vtkit.grpcserver import wait_healthy
    from vtkit.keystore import KeyStore

    rng = random.Random(seed)
    report = ChaosReport()
    tenants = list(stack.tenants)
    items = [i for i in generate(meldingen, seed=seed, tenants=tenants, meldingen_only=True) if i.kind == "melding"]
    schedule = sorted([*kills, *((rng.randrange(1, max(len(items), 2)), rng.choice(list(victims)))
                                 for _ in range(random_kills))])
    keys = KeyStore(stack.key_dir)
    addresses = {t: stack.processes[f"intake-{t}"].address for t in tenants}
    acked = 0
    progressed = asyncio.Event()
    killed: set[str] = set()

    def on_ack(_: Submission) -> None:
        nonlocal acked
        acked += 1
        progressed.set()

    async def at(count: int) -> None:
        while acked < count and not finished.is_set():
            progressed.clear()
            await progressed.wait()

    async def restart(name: str) -> None:
        """Start again and wait until healthy; like a supervisor, start once more whenever it exits first
        (services wait for an unreachable broker at startup, so this should not happen; it is counted)."""
        process = stack.processes[name]
        process.start()
        deadline = time.monotonic() + 180
        while True:
            try:
                await wait_healthy(process.address, 2, keys=keys)
                return
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not healthy again within 180 s:\n{process.log_text()[-2000:]}") from None
                if process.proc is not None and process.proc.poll() is not None:
                    report.restarted_after_outage.append(f"{name} exited at startup ({process.proc.returncode})")
                    await asyncio.sleep(1.0)
                    process.start()

    async def killer() -> None:
        for count, name in schedule:
            await at(count)
            killed.add(name)  # the killer restarts it, not the outage's check
            stack.processes[name].kill()
            report.kills.append(f"{name}@{acked}")
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            await restart(name)
            killed.discard(name)

    async def outage() -> None:
        await at(outage_at)
        link.cut()
        start = time.monotonic()
        await asyncio.sleep(outage_seconds)
        link.restore()
        report.outage_seconds = time.monotonic() - start
        for name, process in stack.processes.items():  # what the outage took down comes back now, not at the end
            if process.proc is not None and process.proc.poll() is not None and name not in killed:
                report.restarted_after_outage.append(f"{name} (exit {process.proc.returncode})")
                await restart(name)

    finished = asyncio.Event()
    started = time.perf_counter()
    watched = [topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_DELIVERIES] + [topics.intake(t) for t in tenants]
    async with EventCollector(stack.bootstrap, watched) as events:
        chaos = [asyncio.create_task(killer())]
        if link is not None:
            chaos.append(asyncio.create_task(outage()))
        submissions = await submit_all(addresses, keys, items, concurrency=concurrency, retry_for=180,
                                       progress=progress, on_ack=on_ack)
        finished.set()
        await asyncio.gather(*chaos)
        for name, process in stack.processes.items():  # anything the outage took down comes back
            if process.proc is not None and process.proc.poll() is not None:
                report.restarted_after_outage.append(f"{name} (exit {process.proc.returncode})")
                await restart(name)
        ack = {s.contact_id: s.tenant for s in submissions if s.contact_id}
        report.acknowledged = len(ack)
        cases = set(ack)
        callback = notifier_events.DELIVERY_KIND_MELDER_CALLBACK
        files = {t: stack.var_dir / "data" / f"regional-system-{t}.jsonl" for t in tenants}

        def delivered() -> dict[str, list[dict[str, Any]]]:
            rows: dict[str, list[dict[str, Any]]] = {}
            for path in files.values():
                for row in _fake_receiver_rows(path):
                    if row.get("method") == "DeliverCallback" and row.get("status") == "OK" and row["case_id"] in cases:
                        rows.setdefault(row["case_id"], []).append(row)
            return rows

        state: dict[str, Any] = {"rows": {}, "at": 0.0, "progress": None, "progress_at": time.monotonic()}

        def settled() -> bool:
            # Gives up early once nothing moved for stall_timeout: what is missing then stays missing (counted lost).
            if time.monotonic() - state["at"] > 1.0:
                state["rows"], state["at"] = delivered(), time.monotonic()
            progress = (len(events.messages["MeldingReceived"]), len(events.messages["AssessmentDue"]),
                        len(state["rows"]))
            if progress != state["progress"]:
                state["progress"], state["progress_at"] = progress, time.monotonic()
            elif time.monotonic() - state["progress_at"] > stall_timeout:
                return True
            if not cases <= set(events.messages["AssessmentDue"]) or not cases <= set(events.messages["MeldingReceived"]):
                return False
            return cases <= set(state["rows"])

        await events.wait_until(settled, settle_timeout)
        await asyncio.sleep(2.0)  # let late redeliveries show up in the counts
        rows = delivered()
        report.seconds = time.perf_counter() - started
        received = set(events.messages["MeldingReceived"]) & cases
        due: dict[str, set[str]] = {}
        for case_id, event_id, _ in events.seen["AssessmentDue"]:
            if case_id in cases:
                due.setdefault(case_id, set()).add(event_id)
        report.assessment_redeliveries = sum(1 for c, _, _ in events.seen["AssessmentDue"] if c in cases) - sum(
            len(ids) for ids in due.values())
        report.assessment_reissued = sum(1 for ids in due.values() if len(ids) > 1)
        scheduled = {m.case_id for m in events.messages["DeliveryRequested"].values()
                     if m.kind == callback and m.case_id in cases}
        report.received, report.assessed, report.scheduled = len(received), len(due), len(scheduled)
        report.delivered = len(rows)
        report.duplicates = sum(1 for case_rows in rows.values() for r in case_rows if r["duplicate"])
        report.second_distinct = sum(1 for case_rows in rows.values()
                                     if len({r["idempotency_key"] for r in case_rows}) > 1)
        missing = {"received": sorted(cases - received), "assessed": sorted(cases - set(due)),
                   "delivered": sorted(cases - set(rows))}
        report.missing = {k: v[:10] for k, v in missing.items() if v}
        report.lost = len(set().union(*map(set, missing.values())))
        failed = [s.error for s in submissions if not s.contact_id]
        if failed:
            report.missing["not acknowledged (client gave up)"] = failed[:10]
    return report
