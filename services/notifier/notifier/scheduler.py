"""The durable delivery loop: finds deliveries due for an attempt in SQLite and sends them.

Nothing is scheduled in memory: every scan reads the table, so a restart resumes exactly where
the last process stopped. A row is marked in flight (with a lease) before the remote call and
settled after it; a process that dies mid-call leaves the row in flight until the lease expires,
and the next attempt reuses the same idempotency key, which the receiver dedupes on.

Each commit is an fsync (docs/architecture.md, "Durability"), so a scan claims the rows it starts in one
transaction, and attempts that finish close together settle in one (notifier.settle_queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vtkit import metrics, tracing
from vtkit.audit import AuditLog
from vtkit.calendar import AMSTERDAM, end_of_day, local_date

from notifier.adapters.regional import LETTER_KINDS, PROFESSIONAL_KINDS, RegionalClients
from notifier.domain import AttemptOutcome, BackoffPolicy, Delivery, DeliveryKind, DeliveryState, Verdict, judge_attempt
from notifier.domain.inbox import INBOX_KINDS, Deadline
from notifier.domain.letter import LETTER_WEEKS, letter_due_date
from notifier.inbox import Inbox
from notifier.settle_queue import SettleQueue
from notifier.store import Store

log = logging.getLogger("notifier.scheduler")
Clock = Callable[[], dt.datetime]

# Why each kind of delivery hands personal data to its receiver (the NEN 7513 "why" of the export).
EXPORT_PURPOSE = {
    DeliveryKind.MELDER_CALLBACK: "terugkoppeling aan de melder (Wmo 5.2.7)",
    DeliveryKind.HOUSEHOLD_LETTER: "informeren van het huishouden",
    DeliveryKind.REGISTER_MATCH_NOTICE: "samenloop in het VT-register",
    DeliveryKind.VERWIJSINDEX_MATCH_NOTICE: "match in de verwijsindex",
    DeliveryKind.AMBTSHALVE_NOTICE: "informeren van de professional over een ambtshalve melding",
    DeliveryKind.RVDK_REQUEST_NOTICE: "verzoek tot onderzoek door de Raad voor de Kinderbescherming",
    DeliveryKind.VERWIJSINDEX_RELOCATION_NOTICE: "verhuizing van een jeugdige in de verwijsindex",
    DeliveryKind.INBOX_ASSESSMENT_INPUT: "informatie voor de veiligheidsbeoordeling",
    DeliveryKind.INBOX_MONITORING_ALERT: "signaal over een huishouden in monitoring",
    DeliveryKind.INBOX_DEADLINE_OVERDUE: "bewaken van wettelijke termijnen",
    DeliveryKind.INBOX_ESCALATION: "escalatie van een niet bevestigd signaal naar de teamleider",
    DeliveryKind.INBOX_LETTER_NOT_SENT: "informeren van het huishouden: brief niet te bezorgen",
    DeliveryKind.INBOX_EMERGENCY_ACCESS: "melden van een noodtoegang (break-glass) aan de privacyfunctionaris",
    DeliveryKind.MUNICIPALITY_NOTICE: "informeren van de gemeente over een verzoek aan de Raad voor de Kinderbescherming",
    DeliveryKind.OVERDRACHT_NOTICE: "overdracht van de zorg aan de ontvangende partij",
    DeliveryKind.AMBTSHALVE_DECISION_NOTICE: "informeren van de professional over het besluit op een ambtshalve melding",
}
# A region's case system that is down for hours still gets every inbox item, in order, once it is back (and
# ListInbox has them meanwhile): these kinds are retried for about three days (the back-off tops out at 10
# minutes) before the last attempt dead-letters them.
PERSISTENT_KINDS = INBOX_KINDS | {DeliveryKind.INBOX_ESCALATION}
PERSISTENT_MAX_ATTEMPTS = 600


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Settlement:
    """The result of one attempt, as the settle queue writes it."""

    claimed: Delivery
    verdict: Verdict
    at: dt.datetime


class Scheduler:
    def __init__(self, store: Store, clients: RegionalClients, policy: BackoffPolicy, scan_seconds: float,
                 on_settled: Callable[[], None] = lambda: None, clock: Clock = utc_now,
                 rand: Callable[[], float] = random.random, max_concurrent: int = 32,
                 audit: AuditLog | None = None):
        self.store = store
        self.clients = clients
        self.policy = policy
        self.persistent_policy = dataclasses.replace(policy, max_attempts=max(policy.max_attempts, PERSISTENT_MAX_ATTEMPTS))
        self.scan_seconds = scan_seconds
        # Longer than any call can take (its deadline), so a live attempt is never started twice.
        self.lease = dt.timedelta(seconds=clients.timeout * 2 + 5)
        self.on_settled = on_settled
        self.clock = clock
        self.rand = rand
        self.wake = asyncio.Event()
        self.max_concurrent = max_concurrent
        self._running: dict[str, asyncio.Task[None]] = {}
        self._left_due = False  # the last scan found more due rows than it had room for
        self.settles: SettleQueue[Settlement, bool] = SettleQueue(store, self._record)
        self._unrouted_logged: set[str] = set()
        self.audit = audit  # every attempt hands personal data to a receiver: an "export" (NEN 7513)
        self.inbox = Inbox(store, clock, on_settled)
        self._figures_at = 0.0
        self._undecided_at = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                self.scan_once()
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, self.wake), self.scan_seconds)
        finally:
            # Let started calls finish (each has a deadline) so their outcome is recorded.
            await self.drain()

    async def drain(self) -> None:
        """Wait for the attempts already started."""
        if self._running:
            await asyncio.gather(*self._running.values(), return_exceptions=True)

    def scan_once(self) -> int:
        """Start an attempt for every due delivery not already being attempted, as many as there is room for;
        returns how many."""
        self._report_unrouted()
        self.report_overdue()
        self.inbox.escalate_late()
        self._report_inbox()
        waiting = [d for d in self._due() if d.key not in self._running]
        room = max(self.max_concurrent - len(self._running), 0)
        self._left_due = len(waiting) > room
        claimed = self._claim(waiting[:room])
        for delivery in claimed:
            self._start(delivery)
        return len(claimed)

    def _due(self) -> list[Delivery]:
        return self.store.due(self.clock(), self.clients.endpoints.keys(),
                              any_tenant_kinds=self.clients.any_tenant_kinds(),
                              escalation_tenants=self.clients.teamlead_endpoints.keys())

    def _claim(self, due: Sequence[Delivery]) -> list[Delivery]:
        """Marks the rows in flight, each with its lease, in one transaction; leaves out those changed since the
        scan read them, and those whose claim failed (still open: a later scan tries them again)."""
        now = self.clock()
        outcomes = self.store.each_apart([functools.partial(self.store.claim, d, now, self.lease) for d in due])
        claimed = []
        for delivery, outcome in zip(due, outcomes, strict=True):
            if isinstance(outcome, Exception):
                log.error("delivery not claimed", exc_info=outcome, extra={"idempotency_key": delivery.key})
            elif outcome is not None:
                claimed.append(outcome)
        return claimed

    def _start(self, claimed: Delivery) -> None:
        task = asyncio.create_task(self._attempt(claimed))
        self._running[claimed.key] = task
        task.add_done_callback(functools.partial(self._done, claimed.key))

    def report_overdue(self) -> int:
        """One DeliveryOverdue event per open delivery and due date once that Amsterdam day is over
        (a postponed letter can become overdue again for its new date)."""
        now = self.clock()
        count = 0
        for delivery in self.store.newly_overdue(now.astimezone(AMSTERDAM).date()):
            if self.store.mark_overdue(delivery, now):
                count += 1
                if delivery.kind is DeliveryKind.HOUSEHOLD_LETTER:  # the region must see it too
                    self.inbox.overdue(delivery.tenant_id, delivery.case_id, Deadline.HOUSEHOLD_LETTER,
                                       end_of_day(delivery.due_date) if delivery.due_date else None, now)
                log.warning("delivery overdue", extra={"idempotency_key": delivery.key, "kind": delivery.kind.value,
                                                       "tenant": delivery.tenant_id, "case_id": delivery.case_id,
                                                       "due_date": delivery.due_date})
        if count:
            self.on_settled()
        return count

    def _report_inbox(self) -> None:
        """The inbox gauges, at most every 5 s (a count over the inbox table); late letters of undecided cases
        at most every minute (a scan of the cases older than 4 weeks)."""
        if time.monotonic() - self._figures_at >= 5.0:
            self._figures_at = time.monotonic()
            self.inbox.report_figures()
        if time.monotonic() - self._undecided_at >= 60.0:
            self._undecided_at = time.monotonic()
            self.report_undecided_letters()

    def report_undecided_letters(self) -> int:
        """The 4 weeks to inform the household run from recording, not from the decision (docs/architecture.md,
        "What leaves Veilig Thuis"): a case still undecided after its letter's due date (postponements included)
        is reported to the region's inbox as an overdue household letter, once, like a letter delivery that is
        late. A melding that joined its household's episode is informed by the episode's letter."""
        now = self.clock()
        today = now.astimezone(AMSTERDAM).date()
        count = 0
        for case, weeks in self.store.undecided_letter_cases(now - dt.timedelta(weeks=LETTER_WEEKS)):
            due = letter_due_date(local_date(case.received_at), weeks)
            if due >= today:
                continue
            self.inbox.overdue(case.tenant_id, case.case_id, Deadline.HOUSEHOLD_LETTER, end_of_day(due), now)
            self.store.mark_undecided_letter_late(case.tenant_id, case.case_id, now)
            metrics.HOUSEHOLD_LETTER_LATE_UNDECIDED.labels(case.tenant_id).inc()
            log.warning("household not informed in time and the case is not decided yet",
                        extra={"tenant": case.tenant_id, "case_id": case.case_id, "due_date": due})
            count += 1
        return count

    def _done(self, key: str, task: asyncio.Task[None]) -> None:
        self._running.pop(key, None)
        if self._left_due:  # a place is free for a row the last scan had to leave
            self.wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery attempt crashed", exc_info=task.exception(), extra={"idempotency_key": key})

    async def _attempt(self, claimed: Delivery) -> None:
        """Send a claimed delivery, settle its result and, once that is durable, account for it."""
        outcome, reason = await self._send(claimed)
        now = self.clock()
        policy = self.persistent_policy if claimed.kind in PERSISTENT_KINDS else self.policy
        verdict = judge_attempt(outcome, claimed.attempts, policy, now, self.rand(), reason)
        if not await self.settles.settle(Settlement(claimed, verdict, now)):
            log.warning("delivery changed during attempt", extra={"idempotency_key": claimed.key})
            return
        await self._audit_export(claimed, verdict.state, reason)
        fields = {"idempotency_key": claimed.key, "kind": claimed.kind.value, "tenant": claimed.tenant_id,
                  "case_id": claimed.case_id, "attempts": claimed.attempts}
        outcome_label = "retry" if verdict.state not in (DeliveryState.DELIVERED, DeliveryState.FAILED) else verdict.state.value
        metrics.child(metrics.DELIVERIES, claimed.kind.value, claimed.tenant_id, outcome_label).inc()
        if verdict.state is DeliveryState.DELIVERED:
            log.debug("delivered", extra=fields)
        elif verdict.state is DeliveryState.FAILED:
            log.warning("delivery failed", extra={**fields, "reason": verdict.reason, "permanent": verdict.permanent})
        else:
            log.info("delivery retry scheduled", extra={**fields, "reason": reason,
                                                        "next_attempt_at": verdict.next_attempt_at})
        self.on_settled()

    async def _send(self, claimed: Delivery) -> tuple[AttemptOutcome, str]:
        # With tracing on, the attempt continues the trace of the event that scheduled it; the call to the
        # receiver is its child span and carries the context in its metadata (vtkit.grpcobs).
        parent = tracing.context_from_carrier(self.store.trace_context(claimed.key)) if tracing.enabled() else None
        with tracing.span(f"deliver {claimed.kind.value}", parent=parent, attributes={
                "vt.delivery.kind": claimed.kind.value, "vt.tenant": claimed.tenant_id,
                "vt.delivery.attempt": claimed.attempts}):
            return await self.clients.send(claimed)

    def _record(self, settlement: Settlement) -> bool:
        """One attempt's writes (run by the settle queue inside its transaction): the row's new state with its
        outbox row, and for a household letter delivered late the inbox item saying the deadline was met after
        all. False when the row changed during the attempt."""
        claimed, verdict, now = settlement.claimed, settlement.verdict, settlement.at
        if not self.store.settle(claimed, verdict, now):
            return False
        if verdict.state is DeliveryState.DELIVERED and claimed.kind is DeliveryKind.HOUSEHOLD_LETTER:
            self.inbox.resolve_overdue(claimed.tenant_id, claimed.case_id, Deadline.HOUSEHOLD_LETTER, now)
        return True

    async def _audit_export(self, delivery: Delivery, state: DeliveryState, reason: str) -> None:
        """One record per attempt, after it (its outcome known): the notifier, a national service, acted
        for the case's region. A retried attempt after a crash mid-call is recorded by the retry."""
        if self.audit is None:
            return
        outcome = {DeliveryState.DELIVERED: "success", DeliveryState.FAILED: "failed"}.get(state, "retry")
        await self.audit.record(
            action="export", what=f"deliver {delivery.kind.value}",
            subject={"case_id": delivery.case_id, "delivery": delivery.key}, tenant="national", role="notifier",
            user="notifier", on_behalf_of=delivery.tenant_id, purpose=EXPORT_PURPOSE.get(delivery.kind, "delivery"),
            outcome=outcome, peer=self.clients.destination(delivery),
            detail=f"attempt {delivery.attempts}" + (f"; {reason.split(':', 1)[0]}" if reason else ""))

    def _report_unrouted(self) -> None:
        """A tenant without an endpoint keeps its deliveries pending (not failed): the region may be
        connected later. Said once per tenant per process so the log is not flooded."""
        national = LETTER_KINDS | PROFESSIONAL_KINDS  # not sent to a regional system
        for tenant in self.store.open_tenants(national) - set(self.clients.endpoints) - self._unrouted_logged:
            self._unrouted_logged.add(tenant)
            log.warning("no regional endpoint configured; deliveries stay pending", extra={"tenant": tenant})


async def _first(*events: asyncio.Event) -> None:
    """Return as soon as any of the events is set."""
    waiters = [asyncio.create_task(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
