"""The region inbox as a use case: scheduling an item (its push and its listing, with the acknowledgement
deadline), saying that an overdue deadline was met after all, and escalating items nobody acknowledged in
time. The rules are in notifier.domain.inbox; the consumer and the scheduler both schedule items here."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace

from vt.notifier.v1 import receivers_pb2
from vtkit import metrics
from vtkit.calendar import AMSTERDAM

from notifier.adapters import proto
from notifier.domain import Delivery, DeliveryKind, delivery_key
from notifier.domain.causes import AssessmentInputFacts, EmergencyAccessFacts, MonitoringAlertFacts
from notifier.domain.inbox import Change, Deadline, acknowledge_before
from notifier.store import Store

log = logging.getLogger("notifier.inbox")
Clock = Callable[[], dt.datetime]


def overdue_cause(tenant: str, case_id: str, deadline: Deadline) -> str:
    """The cause id of a deadline's overdue item: one per case and deadline, whatever event reported it."""
    return f"overdue/{tenant}/{case_id}/{deadline.value}"


class Inbox:
    def __init__(self, store: Store, clock: Clock, on_scheduled: Callable[[], None] = lambda: None):
        self.store = store
        self.clock = clock
        self.on_scheduled = on_scheduled
        self._reported: set[str] = set()  # regions with gauges, so an emptied inbox is reported as 0

    def item(self, kind: DeliveryKind, cause: str, tenant: str, case_id: str, item: receivers_pb2.InboxItem,
             occurred_at: dt.datetime | None) -> bool:
        """Schedules the item; False when it was scheduled before (the same cause)."""
        now = self.clock()
        return self.schedule(Delivery(key=delivery_key(cause, kind), kind=kind, tenant_id=tenant, case_id=case_id,
                               cause_event_id=cause, due_date=None, created_at=now, deliver_after=now,
                               body=item.SerializeToString()), occurred_at or now)

    def schedule(self, delivery: Delivery, occurred_at: dt.datetime) -> bool:
        """Push and keep for ListInbox, acknowledged within 1 working hour for an acute case, else 1 working day
        (counted from when the notifier learnt of it: an old signal read late still gets its full time)."""
        case = self.store.get_case(delivery.tenant_id, delivery.case_id)
        acute = case is not None and proto.melding_acute(case.melding)
        before = acknowledge_before(max(occurred_at, delivery.created_at), acute)
        if delivery.kind is not DeliveryKind.REGISTER_MATCH_NOTICE:
            delivery = replace(delivery, body=proto.with_acknowledgement(
                receivers_pb2.InboxItem.FromString(delivery.body), acute, before))
        fields = {"idempotency_key": delivery.key, "kind": delivery.kind.value, "tenant": delivery.tenant_id,
                  "case_id": delivery.case_id}
        if self.store.add_inbox(delivery, occurred_at, before):
            log.debug("inbox item scheduled", extra={**fields, "acknowledge_before": before})
            self.on_scheduled()
            return True
        log.debug("duplicate event ignored", extra=fields)
        return False

    def letter_not_sent(self, tenant: str, case_id: str, letter_key: str, person_id: str, reason: str) -> bool:
        """A directbetrokkene the household letter cannot reach: once per letter and person (durable: the key)."""
        now = self.clock()
        return self.item(DeliveryKind.INBOX_LETTER_NOT_SENT, f"{letter_key}/{person_id}/not-sent", tenant, case_id,
                         proto.letter_not_sent_item(person_id, reason, now), now)

    def assessment_input(self, event_id: str, facts: AssessmentInputFacts, changes: list[Change], first: bool) -> bool:
        return self.item(DeliveryKind.INBOX_ASSESSMENT_INPUT, event_id, facts.tenant_id, facts.case_id,
                         proto.assessment_input_item(facts, changes, first), facts.collected_at)

    def monitoring_alert(self, event_id: str, alert: MonitoringAlertFacts) -> bool:
        return self.item(DeliveryKind.INBOX_MONITORING_ALERT, event_id, alert.tenant_id, alert.case_id,
                         proto.monitoring_alert_item(alert), alert.detected_at)

    def emergency_access(self, event_id: str, access: EmergencyAccessFacts) -> bool:
        """A break-glass read of one of the region's contacts: once per event."""
        return self.item(DeliveryKind.INBOX_EMERGENCY_ACCESS, event_id, access.tenant_id, access.contact_id,
                         proto.emergency_access_item(access, event_id), access.at or self.clock())

    def overdue(self, tenant: str, case_id: str, deadline: Deadline, due_at: dt.datetime | None,
                detected_at: dt.datetime) -> None:
        self.item(DeliveryKind.INBOX_DEADLINE_OVERDUE, overdue_cause(tenant, case_id, deadline), tenant, case_id,
                  proto.deadline_item(deadline, due_at, detected_at), detected_at)

    def resolve_overdue(self, tenant: str, case_id: str, deadline: Deadline, at: dt.datetime) -> None:
        """An overdue deadline that is met after all: one more item saying so (nothing when it was never late)."""
        cause = overdue_cause(tenant, case_id, deadline)
        if self.store.get(delivery_key(cause, DeliveryKind.INBOX_DEADLINE_OVERDUE)) is None:
            return
        self.item(DeliveryKind.INBOX_DEADLINE_OVERDUE, f"{cause}/resolved", tenant, case_id,
                  proto.deadline_item(deadline, None, at, resolved=True), at)

    def escalate_late(self) -> int:
        """Each item past its acknowledgement deadline goes once to the region's team lead, the item itself
        with `escalated` set (the team lead acknowledges it by its own key)."""
        now = self.clock()
        count = 0
        for row in self.store.unacknowledged_late(now):
            item = proto.inbox_item(row.delivery)
            item.escalated = True
            item.acknowledge_before.FromDatetime(row.acknowledge_before)
            kind = DeliveryKind.INBOX_ESCALATION
            escalation = Delivery(key=delivery_key(row.delivery.key, kind), kind=kind, tenant_id=row.delivery.tenant_id,
                                  case_id=row.delivery.case_id, cause_event_id=row.delivery.key, due_date=None,
                                  created_at=now, deliver_after=now, body=item.SerializeToString())
            if self.store.escalate(row, escalation, now):
                count += 1
                metrics.INBOX_ESCALATIONS.labels(row.delivery.tenant_id).inc()
                log.warning("inbox item not acknowledged in time; escalated to the team lead",
                            extra={"idempotency_key": row.delivery.key, "tenant": row.delivery.tenant_id,
                                   "case_id": row.delivery.case_id, "acknowledge_before": row.acknowledge_before})
        if count:
            self.on_scheduled()
        return count

    def report_figures(self) -> None:
        """Gauges per region: items not acknowledged, and those past their deadline (the dashboard's figure)."""
        figures = self.store.inbox_figures(self.clock())
        for tenant in set(figures) | self._reported:
            open_, late = figures.get(tenant, (0, 0))
            metrics.INBOX_UNACKNOWLEDGED.labels(tenant, "open").set(open_)
            metrics.INBOX_UNACKNOWLEDGED.labels(tenant, "late").set(late)
        late_letters = self.store.households_informed_late(self.clock().astimezone(AMSTERDAM).date())
        for tenant in set(late_letters) | self._reported:
            metrics.HOUSEHOLD_NOT_INFORMED_LATE.labels(tenant).set(late_letters.get(tenant, 0))
        self._reported = set(figures) | set(late_letters) | self._reported
