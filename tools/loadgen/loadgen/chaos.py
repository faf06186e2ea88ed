"""Chaos: the synthetic load while services are SIGKILLed and the broker link is cut (make chaos)."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from loadgen.drive import EventCollector, Submission, submit_all
from loadgen.generate import generate
from loadgen.signals import SignalReport


@dataclass
class ChaosReport:
    acknowledged: int = 0
    received: int = 0  # acknowledged contacts with a MeldingReceived on their intake topic
    assessed: int = 0  # acknowledged contacts with an AssessmentDue
    assessment_redeliveries: int = 0  # the same AssessmentDue event (same event id) read again
    assessment_reissued: int = 0  # cases with a second AssessmentDue under another event id
    scheduled: int = 0  # acknowledged contacts whose melder callback the notifier requested
    delivered: int = 0  # acknowledged contacts whose (due) callback reached their region's fake case system
    duplicates: int = 0  # repeat deliveries of an idempotency key the receiver already had (acknowledged, flagged)
    second_distinct: int = 0  # cases that got a callback under two different idempotency keys
    lost: int = 0  # acknowledged but not received, assessed or delivered
    # The decision the harness records as the region's case worker (radar RecordDecision) and what follows it:
    decided: int = 0  # cases decided (AssessmentCompleted published by radar)
    undecided: int = 0  # cases chosen for a decision that radar never accepted (the worker gave up)
    decision_retries: int = 0  # RecordDecision calls sent again, identical (radar down, reply lost)
    outcome_callbacks: int = 0  # decided cases whose outcome callback (no due date) reached the region
    outcome_second_distinct: int = 0  # decided cases with an outcome callback under two different keys
    letters: int = 0  # decided cases whose household letter reached the letter gateway fake
    episode_members: int = 0  # decided meldingen that joined their household's episode: its letter is theirs
    letter_duplicates: int = 0  # repeat letters under a key the gateway already had (acknowledged, flagged)
    letter_second_distinct: int = 0  # decided cases that got letters under two different idempotency keys
    letters_lost: int = 0  # decided cases without a letter (or without an outcome callback) at the end
    letters_undecided: int = 0  # letters for acknowledged cases the harness never decided (must be 0)
    letters_in_flight_at_kill: list[int] = field(default_factory=list)  # decided, letter not yet delivered
    kills: list[str] = field(default_factory=list)
    broker_losses: list[int] = field(default_factory=list)  # acknowledgements when the broker was lost
    recovery_seconds: list[float] = field(default_factory=list)  # loss -> every intake's outbox published again
    # On the broker at the end (after every loss): acknowledged meldingen without MeldingReceived or AssessmentDue
    # there, and decided cases without their AssessmentCompleted there.
    final_missing: dict[str, int] = field(default_factory=dict)
    outage_seconds: float = 0.0
    restarted_after_outage: list[str] = field(default_factory=list)  # exits not caused by a SIGKILL, started again
    seconds: float = 0.0
    missing: dict[str, list[str]] = field(default_factory=dict)
    signals: SignalReport = field(default_factory=SignalReport)  # the RvdK feed and the verwijsindex's registrants

    def line(self) -> str:
        return (f"acknowledged {self.acknowledged}, received {self.received}, assessed {self.assessed} "
                f"(redelivered {self.assessment_redeliveries}, reissued {self.assessment_reissued}), scheduled "
                f"{self.scheduled}, delivered {self.delivered}, duplicates {self.duplicates}, second distinct "
                f"deliveries {self.second_distinct}, lost {self.lost}; decided {self.decided} (undecided "
                f"{self.undecided}, {self.decision_retries} calls retried), outcome callbacks {self.outcome_callbacks}, "
                f"letters delivered {self.letters} (+{self.episode_members} meldingen covered by their episode's), "
                f"letter duplicates {self.letter_duplicates}, second distinct "
                f"letters {self.letter_second_distinct}, letters lost {self.letters_lost}; {len(self.kills)} SIGKILLs "
                f"({', '.join(self.kills)}), broker link cut {self.outage_seconds:.0f} s, {len(self.broker_losses)} "
                f"broker losses (time to recover {', '.join(f'{s:.1f} s' for s in self.recovery_seconds) or '-'}; "
                f"missing on the last broker {self.final_missing or 'none'}); {self.signals.line()}; "
                f"{self.seconds:.0f} s in all")


async def recovered_from_broker_loss(stack: Any, timeout: float = 600.0) -> bool:
    """Waits until every intake published its whole outbox to the broker the stack now has: its outbox names the
    broker's cluster id (the relay notes it in the transaction that marks the rows unsent again) and holds no unsent
    row. Read from the intakes' SQLite files, not their metrics: an intake SIGKILLed around a loss starts with its
    counters at zero (vt_broker_recoveries_total once kept a chaos run waiting for a recovery it had done)."""
    import asyncio
    import sqlite3
    import time

    from vtkit.kafka import KafkaSettings, cluster_id, start_producer, stop_producer
    from vtkit.outbox_store import last_cluster

    producer = await start_producer(KafkaSettings(bootstrap_servers=stack.bootstrap))
    try:
        current = await cluster_id(producer)
    finally:
        await stop_producer(producer)

    def published_to_current(tenant: str) -> bool:
        path = stack.var_dir / "data" / f"intake-{tenant}.sqlite3"
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
                return last_cluster(db) == current and not db.execute(
                    "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
        except sqlite3.Error:
            return False  # being created or migrated: the next sample reads it

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(published_to_current(t) for t in stack.tenants):
            return True
        await asyncio.sleep(0.5)
    return False


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
                    stall_timeout: float = 180.0, progress: bool = False, decide_fraction: float = 1.0,
                    decision_kills: Sequence[tuple[int, str]] = (), decision_concurrency: int = 8,
                    broker: Any = None, broker_losses: Sequence[int] = (), rvdk_signals: int = 0,
                    verwijsindex_youths: int = 0) -> ChaosReport:
    """Drives `meldingen` meldingen (the synthetic load, over the stack's tenants) into a started Stack and meanwhile:
    - `kills`: (after this many acknowledgements, process name) — SIGKILL it and start it again on the same ports
      and data directories;
    - `random_kills`: that many more SIGKILLs of random `victims` at random acknowledgement counts (seeded);
    - `link` (a vttest.CuttableLink every client of the broker goes through): cut at `outage_at`
      acknowledgements for `outage_seconds`, then restored; processes that died of it are started again.
    Submissions are retried with the same idempotency key while intake is down, as a case system does.
    Meanwhile the harness is the regions' case worker: once a melding's AssessmentDue is seen it records a decision
    through radar's RecordDecision (for `decide_fraction` of the cases, chosen by case id), retrying while radar is
    down, so the notifier sends an outcome callback and then the household letter;
    - `decision_kills`: (after this many decisions, process name) — killed and started again like `kills`, so
      letters are in flight when it dies;
    - `broker_losses`: after this many acknowledgements the `broker` (a vttest.LosableBroker) is SIGKILLed
      and a new, empty one takes its place; the time until every intake published its outbox again is the
      "time to recover", and at the end everything is checked on the last broker too;
    - `rvdk_signals` RvdK signals about children of the load and `verwijsindex_youths` youths registered by two
      registrants, spread over the run (loadgen.signals): each signal in its child's assessment once, each
      youth matched and each registrant notified once (report.signals).
    Then waits (settle_timeout, or until nothing moved for stall_timeout) until every acknowledged melding is
    assessed and its callback delivered and every decided case has its outcome callback and letter, and counts."""
    import asyncio
    import collections
    import time

    from vt.notifier.v1 import events_pb2 as notifier_events
    from vtkit import topics
    from vtkit.grpcserver import wait_healthy
    from vtkit.keystore import KeyStore

    from loadgen.decisions import CaseWorkers, chosen
    from loadgen.signals import SignalFeeds

    rng = random.Random(seed)
    report = ChaosReport()
    tenants = list(stack.tenants)
    items = [i for i in generate(meldingen, seed=seed, tenants=tenants, meldingen_only=True) if i.kind == "melding"]
    schedule = sorted([*kills, *((rng.randrange(1, max(len(items), 2)), rng.choice(list(victims)))
                                 for _ in range(random_kills))])
    keys = KeyStore(stack.key_dir)
    addresses = {t: stack.processes[f"intake-{t}"].address for t in tenants}
    acked = 0
    acked_tenant: dict[str, str] = {}
    progressed = asyncio.Event()
    one_at_a_time: dict[str, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
    workers = CaseWorkers(stack.processes["radar"].address, keys, concurrency=decision_concurrency)
    settling_done = asyncio.Event()

    child_count = collections.Counter(i.bsn for i in items)
    open_children_acked: list[str] = []  # children met once in the load whose melding is acknowledged, not decided

    def on_ack(submission: Submission) -> None:
        nonlocal acked
        acked += 1
        acked_tenant[submission.contact_id] = submission.tenant
        child = items[submission.index].bsn if submission.index >= 0 else ""
        if child and child_count[child] == 1 and not chosen(submission.contact_id, decide_fraction):
            open_children_acked.append(child)
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

    async def kill(name: str, when: str) -> None:
        async with one_at_a_time[name]:  # both killers may pick the same process: never kill it while it restarts
            stack.processes[name].kill()
            report.kills.append(f"{name}@{when}")
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            await restart(name)

    async def killer() -> None:
        for count, name in schedule:
            await at(count)
            await kill(name, str(acked))

    async def decision_killer() -> None:
        for count, name in sorted(decision_kills):
            reached, stop = asyncio.ensure_future(workers.reached(count)), asyncio.ensure_future(settling_done.wait())
            await asyncio.wait({reached, stop}, return_when=asyncio.FIRST_COMPLETED)
            reached.cancel()
            stop.cancel()
            if len(workers.decided) < count:
                return
            sent = {r["case_id"] for r in _fake_receiver_rows(stack.var_dir / "data" / "letter-gateway.jsonl")
                    if r.get("method") == "SendLetter" and r.get("status") == "OK"}
            report.letters_in_flight_at_kill.append(len(set(workers.decided) - sent))
            await kill(name, f"decision {len(workers.decided)}")

    async def feed_decisions() -> None:
        """Hands every acknowledged, assessed case chosen for a decision to the case workers."""
        while True:
            for case_id in list(events.messages["AssessmentDue"]):
                if (case_id in acked_tenant and case_id not in workers.submitted
                        and chosen(case_id, decide_fraction)):
                    workers.submit(case_id, acked_tenant[case_id])
            await asyncio.sleep(0.25)

    async def feed_signals() -> None:
        """RvdK signals about children met once in the load (so no household episode or repeat folds their case
        into another) whose melding is acknowledged and not chosen for a decision (so the signal must reach an open
        assessment), and new youths for the registrants, at evenly spaced acknowledgement counts."""
        plan = sorted([(len(items) * (k + 1) // (rvdk_signals + 1), "rvdk") for k in range(rvdk_signals)]
                      + [(len(items) * (k + 1) // (verwijsindex_youths + 1), "youth") for k in range(verwijsindex_youths)])
        for count, what in plan:
            await at(count)
            if what == "rvdk" and open_children_acked:
                await feeds.rvdk_signal(open_children_acked.pop(rng.randrange(len(open_children_acked))))
            elif what == "youth":
                feeds.register_youth()

    async def broker_loss() -> None:
        for count in sorted(broker_losses):
            await at(count)
            lost_at = time.monotonic()
            report.broker_losses.append(acked)
            await broker.lose()
            await events.read_again()
            recovered = asyncio.ensure_future(recovered_from_broker_loss(stack))
            while not recovered.done():
                for name in stack.processes:  # anything that died of the loss comes back, or it never recovers
                    await revive(name)
                await asyncio.wait({recovered}, timeout=1.0)
            if not recovered.result():
                raise RuntimeError("the intakes did not publish their outboxes again within 600 s")
            report.recovery_seconds.append(time.monotonic() - lost_at)

    async def outage() -> None:
        await at(outage_at)
        link.cut()
        start = time.monotonic()
        await asyncio.sleep(outage_seconds)
        link.restore()
        report.outage_seconds = time.monotonic() - start
        for name in stack.processes:  # what the outage took down comes back now, not at the end
            await revive(name)

    async def revive(name: str) -> None:
        """Starts again a process that exited without a kill of ours. Under the process's lock: a killer holds it
        from its SIGKILL to the end of its restart, so this never starts a second copy of a process a killer is
        restarting (which once left an orphaned notifier on the port)."""
        async with one_at_a_time[name]:
            process = stack.processes[name]
            if process.proc is not None and process.proc.poll() is not None:
                report.restarted_after_outage.append(f"{name} (exit {process.proc.returncode})")
                await restart(name)

    finished = asyncio.Event()
    started = time.perf_counter()
    watched = [topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_DELIVERIES, topics.NATIONAL_RVDK,
               topics.NATIONAL_VERWIJSINDEX] + [topics.intake(t) for t in tenants]
    async with EventCollector(stack.bootstrap, watched) as events, workers, SignalFeeds(stack, keys) as feeds:
        feeder = asyncio.create_task(feed_decisions())
        chaos_signals = asyncio.create_task(feed_signals())
        decision_chaos = asyncio.create_task(decision_killer())
        chaos = [asyncio.create_task(killer())]
        if link is not None:
            chaos.append(asyncio.create_task(outage()))
        if broker_losses:
            chaos.append(asyncio.create_task(broker_loss()))
        submissions = await submit_all(addresses, keys, items, concurrency=concurrency, retry_for=180,
                                       progress=progress, on_ack=on_ack)
        finished.set()
        await asyncio.gather(*chaos, chaos_signals)
        await feeds.registered()
        for name in stack.processes:  # anything the outage took down comes back
            await revive(name)
        ack = {s.contact_id: s.tenant for s in submissions if s.contact_id}
        report.acknowledged = len(ack)
        cases = set(ack)
        # Children whose case is never decided in the run: their RvdK signals must reach their assessment.
        open_children = {item.bsn for item, s in zip(items, submissions, strict=True)
                         if s.contact_id and not chosen(s.contact_id, decide_fraction)}
        endpoint_file = stack.var_dir / "data" / "professional-endpoint.jsonl"
        callback = notifier_events.DELIVERY_KIND_MELDER_CALLBACK
        files = {t: stack.var_dir / "data" / f"regional-system-{t}.jsonl" for t in tenants}
        letter_file = stack.var_dir / "data" / "letter-gateway.jsonl"
        targets = {c for c in cases if chosen(c, decide_fraction)}

        def scheduled_in(collector: EventCollector) -> set[str]:
            """Cases whose melder callback the notifier announced (DeliveryRequested). Its relay may publish that
            after the callback itself was delivered: the run waits for it (CI: 9 of 10,000 were still in the
            notifier's outbox when the counts were taken)."""
            return {m.case_id for m in collector.messages["DeliveryRequested"].values()
                    if m.kind == callback and m.case_id in cases}

        def delivered() -> tuple[dict[str, list[dict[str, Any]]], ...]:
            """Accepted calls per case at the fakes: due callbacks (AssessmentDue's, with a due date), outcome
            callbacks (AssessmentCompleted's, without) and household letters."""
            due: dict[str, list[dict[str, Any]]] = {}
            outcome: dict[str, list[dict[str, Any]]] = {}
            letters: dict[str, list[dict[str, Any]]] = {}
            for path in files.values():
                for row in _fake_receiver_rows(path):
                    if row.get("method") == "DeliverCallback" and row.get("status") == "OK" and row["case_id"] in cases:
                        (due if row.get("due_date") else outcome).setdefault(row["case_id"], []).append(row)
            for row in _fake_receiver_rows(letter_file):
                if row.get("method") == "SendLetter" and row.get("status") == "OK" and row["case_id"] in cases:
                    letters.setdefault(row["case_id"], []).append(row)
            return due, outcome, letters

        state: dict[str, Any] = {"rows": ({}, {}, {}), "at": 0.0, "progress": None, "progress_at": time.monotonic()}

        def settled() -> bool:
            # Gives up early once nothing moved for stall_timeout: what is missing then stays missing (counted lost).
            if time.monotonic() - state["at"] > 1.0:
                state["rows"], state["at"] = delivered(), time.monotonic()
            due_rows, outcome_rows, letter_rows = state["rows"]
            progress = (len(events.messages["MeldingReceived"]), len(events.messages["AssessmentDue"]),
                        len(due_rows), workers.done, workers.retries, len(outcome_rows), len(letter_rows))
            if progress != state["progress"]:
                state["progress"], state["progress_at"] = progress, time.monotonic()
            elif time.monotonic() - state["progress_at"] > stall_timeout:
                return True
            if not cases <= set(events.messages["AssessmentDue"]) or not cases <= set(events.messages["MeldingReceived"]):
                return False
            if not cases <= set(due_rows) or not targets <= set(workers.decided) | set(workers.failed) | set(workers.joined):
                return False
            if not cases <= scheduled_in(events):
                return False
            if not set(workers.joined) <= set(episodes()):
                return False  # a melding refused as joined: its episode's decision has not reached it yet
            letters_due, outcomes_due = expected_after_decisions()
            if not feeds.arrived(events, open_children, _fake_receiver_rows(endpoint_file)):
                return False
            return outcomes_due <= set(outcome_rows) and letters_due <= set(letter_rows)

        def episodes() -> dict[str, str]:
            """Meldingen decided with their household's episode (their first AssessmentCompleted says which)."""
            return {c: m.episode_case_id for c, m in events.messages["AssessmentCompleted"].items()
                    if c in cases and m.episode_case_id}

        def expected_after_decisions() -> tuple[set[str], set[str]]:
            """Cases that must get a household letter, and cases that must get an outcome callback: every decided
            case and every melding its episode's decision covers gets a callback; the letter is the episode's."""
            covered = episodes()
            decided_all = set(workers.decided)
            while more := {c for c, lead in covered.items() if lead in decided_all} - decided_all:
                decided_all |= more  # a joined melding may have joined one that joined another: follow the chain
            return decided_all - set(covered), decided_all

        await events.wait_until(settled, settle_timeout)
        settling_done.set()
        await asyncio.sleep(2.0)  # let late redeliveries show up in the counts
        feeder.cancel()
        await asyncio.gather(feeder, decision_chaos, return_exceptions=True)
        rows, outcomes, letters = delivered()
        report.seconds = time.perf_counter() - started
        received = set(events.messages["MeldingReceived"]) & cases
        due: dict[str, set[str]] = {}
        for case_id, event_id, _ in events.seen["AssessmentDue"]:
            if case_id in cases:
                due.setdefault(case_id, set()).add(event_id)
        report.assessment_redeliveries = sum(1 for c, _, _ in events.seen["AssessmentDue"] if c in cases) - sum(
            len(ids) for ids in due.values())
        report.assessment_reissued = sum(1 for ids in due.values() if len(ids) > 1)
        report.received, report.assessed, report.scheduled = len(received), len(due), len(scheduled_in(events))
        report.delivered = len(rows)
        report.duplicates = sum(1 for case_rows in rows.values() for r in case_rows if r["duplicate"])
        report.second_distinct = sum(1 for case_rows in rows.values()
                                     if len({r["idempotency_key"] for r in case_rows}) > 1)
        missing = {"received": sorted(cases - received), "assessed": sorted(cases - set(due)),
                   "scheduled": sorted(cases - scheduled_in(events)), "delivered": sorted(cases - set(rows))}
        report.missing = {k: v[:10] for k, v in missing.items() if v}
        report.lost = len(set().union(*map(set, missing.values())))
        letters_due, decided = expected_after_decisions()
        report.decided, report.decision_retries = len(decided), workers.retries
        report.undecided = len(targets - decided)
        report.outcome_callbacks = len(decided & set(outcomes))
        report.outcome_second_distinct = sum(1 for c in decided & set(outcomes)
                                             if len({r["idempotency_key"] for r in outcomes[c]}) > 1)
        report.letters = len(letters_due & set(letters))
        report.episode_members = len(decided - letters_due)
        report.letter_duplicates = sum(1 for c in decided & set(letters) for r in letters[c] if r["duplicate"])
        report.letter_second_distinct = sum(1 for c in decided & set(letters)
                                            if len({r["idempotency_key"] for r in letters[c]}) > 1)
        report.letters_undecided = len((set(letters) | set(outcomes)) - decided)
        letter_missing = {"decided (worker gave up)": sorted(targets - decided)[:10],
                          "letter": sorted(letters_due - set(letters))[:10],
                          "outcome callback": sorted(decided - set(outcomes))[:10],
                          "decision errors": sorted(set(workers.failed.values()))[:5]}
        report.missing.update({k: v for k, v in letter_missing.items() if v})
        report.letters_lost = len((letters_due - set(letters)) | (decided - set(outcomes)))
        if broker_losses:
            # The collector above read both brokers; this one reads only the last: nothing may be missing there.
            async with EventCollector(stack.bootstrap, watched) as last:
                def complete() -> bool:
                    return (cases <= set(last.messages["MeldingReceived"]) and cases <= set(last.messages["AssessmentDue"])
                            and decided <= set(last.messages["AssessmentCompleted"])
                            and set(feeds.rvdk) <= set(last.messages["RvdkSignal"]) and cases <= scheduled_in(last))

                await last.wait_until(complete, 120)
                report.final_missing = {k: v for k, v in {
                    "MeldingReceived": len(cases - set(last.messages["MeldingReceived"])),
                    "AssessmentDue": len(cases - set(last.messages["AssessmentDue"])),
                    "AssessmentCompleted": len(decided - set(last.messages["AssessmentCompleted"])),
                    "DeliveryRequested": len(cases - scheduled_in(last))}.items() if v}
            report.signals = feeds.report(events, last, _fake_receiver_rows(endpoint_file), open_children)
        else:
            report.signals = feeds.report(events, None, _fake_receiver_rows(endpoint_file), open_children)
        if report.signals.missing:
            report.missing.update(report.signals.missing)
        failed = [s.error for s in submissions if not s.contact_id]
        if failed:
            report.missing["not acknowledged (client gave up)"] = failed[:10]
    return report
