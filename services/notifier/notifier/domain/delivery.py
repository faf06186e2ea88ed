"""A delivery and its life cycle.

    pending --claim--> in_flight --ok--> delivered
                           |--transient error--> pending (next_attempt_at = now + backoff)
                           |--permanent error or attempts exhausted--> failed

`in_flight` is written before the remote call. If the process dies during the call, the row
stays in_flight until its lease (next_attempt_at) expires and is then attempted again with the
SAME idempotency key: the receiver may see a repeat of a key, never a second distinct delivery.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, replace

from notifier.domain.backoff import BackoffPolicy


class DeliveryKind(enum.Enum):
    MELDER_CALLBACK = "MELDER_CALLBACK"
    HOUSEHOLD_LETTER = "HOUSEHOLD_LETTER"
    REGISTER_MATCH_NOTICE = "REGISTER_MATCH_NOTICE"
    VERWIJSINDEX_MATCH_NOTICE = "VERWIJSINDEX_MATCH_NOTICE"
    AMBTSHALVE_NOTICE = "AMBTSHALVE_NOTICE"
    RVDK_REQUEST_NOTICE = "RVDK_REQUEST_NOTICE"
    VERWIJSINDEX_RELOCATION_NOTICE = "VERWIJSINDEX_RELOCATION_NOTICE"
    # Region inbox items (notifier.domain.inbox), pushed with RegionalCallbackService.DeliverInboxItem.
    INBOX_ASSESSMENT_INPUT = "INBOX_ASSESSMENT_INPUT"
    INBOX_MONITORING_ALERT = "INBOX_MONITORING_ALERT"
    INBOX_DEADLINE_OVERDUE = "INBOX_DEADLINE_OVERDUE"
    INBOX_LETTER_NOT_SENT = "INBOX_LETTER_NOT_SENT"
    INBOX_EMERGENCY_ACCESS = "INBOX_EMERGENCY_ACCESS"
    # An inbox item nobody acknowledged in time, sent to the region's team-lead address.
    INBOX_ESCALATION = "INBOX_ESCALATION"
    # Outgoing decisions with content (docs/architecture.md "Outgoing notices"), besides RVDK_REQUEST_NOTICE and
    # AMBTSHALVE_NOTICE (the melding made): the municipality told of an RvdK request, the hand-over to the receiving
    # party of an overdracht, the ambtshalve professional told the decision.
    MUNICIPALITY_NOTICE = "MUNICIPALITY_NOTICE"
    OVERDRACHT_NOTICE = "OVERDRACHT_NOTICE"
    AMBTSHALVE_DECISION_NOTICE = "AMBTSHALVE_DECISION_NOTICE"


# Deliveries built from the case's MeldingReceived when they are sent (the household letter, notifier.notices): they
# wait, without using attempts, until it has arrived.
CASE_KINDS = frozenset({DeliveryKind.HOUSEHOLD_LETTER, DeliveryKind.RVDK_REQUEST_NOTICE, DeliveryKind.MUNICIPALITY_NOTICE,
                        DeliveryKind.OVERDRACHT_NOTICE, DeliveryKind.AMBTSHALVE_NOTICE,
                        DeliveryKind.AMBTSHALVE_DECISION_NOTICE})


class DeliveryState(enum.Enum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"
    DELIVERED = "delivered"
    FAILED = "failed"

    @property
    def is_open(self) -> bool:
        return self in (DeliveryState.PENDING, DeliveryState.IN_FLIGHT)


@dataclass(frozen=True)
class Delivery:
    key: str
    kind: DeliveryKind
    tenant_id: str
    case_id: str
    cause_event_id: str
    due_date: dt.date | None
    created_at: dt.datetime
    # Earliest moment to send. A callback task goes out at once (the regional worker needs the task
    # and its due date now); later kinds (letters after the callback) will set a later moment.
    deliver_after: dt.datetime
    # The receiver-specific request, opaque to the domain: encoded and decoded only by the
    # protobuf adapter, so encrypted fields pass through byte for byte.
    body: bytes
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    last_error: str = ""
    # Key of the delivery that must be delivered first (the callback before the household letter).
    after_key: str | None = None

    def overdue(self, today: dt.date) -> bool:
        """Still not delivered after its due date (the due date itself is still on time)."""
        return self.state.is_open and self.due_date is not None and today > self.due_date

    def claimed(self, now: dt.datetime, lease: dt.timedelta) -> "Delivery":
        if not self.state.is_open:
            raise ValueError(f"delivery {self.key} is {self.state.value}, not open")
        return replace(self, state=DeliveryState.IN_FLIGHT, attempts=self.attempts + 1,
                       next_attempt_at=now + lease, updated_at=now)


class AttemptOutcome(enum.Enum):
    OK = "ok"
    # The receiver could not take it now (down, overloaded, too slow): try again later.
    TRANSIENT = "transient"
    # The receiver will never accept this request as it is: retrying cannot help.
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Verdict:
    state: DeliveryState
    next_attempt_at: dt.datetime | None = None
    reason: str = ""
    permanent: bool = False


def judge_attempt(outcome: AttemptOutcome, attempts: int, policy: BackoffPolicy, now: dt.datetime,
                  rand: float, reason: str = "") -> Verdict:
    """What one attempt means for the delivery after `attempts` attempts in total."""
    if outcome is AttemptOutcome.OK:
        return Verdict(DeliveryState.DELIVERED)
    if outcome is AttemptOutcome.PERMANENT:
        return Verdict(DeliveryState.FAILED, reason=reason, permanent=True)
    if policy.exhausted(attempts):
        return Verdict(DeliveryState.FAILED, reason=f"gave up after {attempts} attempts: {reason}", permanent=False)
    retry_at = now + dt.timedelta(seconds=policy.delay(attempts, rand))
    return Verdict(DeliveryState.PENDING, next_attempt_at=retry_at, reason=reason)
