"""Event handling: turns AssessmentDue and RegisterMatch events into scheduled deliveries.

Idempotent by construction: the delivery key is derived from the event id, and the store inserts
a key only once, so a redelivered event (at-least-once Kafka) schedules nothing new.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from vt.radar.v1 import events_pb2 as radar_events
from vtkit import topics
from vtkit.envelope import Envelope, Event
from vtkit.kafka import KafkaSettings, PermanentError, consume
from vtkit.tenants import all_tenants

from notifier.adapters import proto
from notifier.domain import Delivery, DeliveryKind, delivery_key
from notifier.domain.causes import InvalidCause
from notifier.domain.deadlines import callback_due_date
from notifier.scheduler import Clock, utc_now
from notifier.store import Store

log = logging.getLogger("notifier.consumer")


def source_topics() -> list[str]:
    return [topics.NATIONAL_ASSESSMENTS, *(topics.register(t) for t in all_tenants())]


class EventHandler:
    def __init__(self, store: Store, on_scheduled: Callable[[], None] = lambda: None, clock: Clock = utc_now):
        self.store = store
        self.on_scheduled = on_scheduled
        self.clock = clock

    async def __call__(self, event: Event, record: ConsumerRecord | None = None) -> None:
        try:
            if isinstance(event.message, radar_events.AssessmentDue):
                self.on_assessment_due(event.envelope, event.message)
            elif isinstance(event.message, radar_events.RegisterMatch):
                self.on_register_match(event.envelope, event.message)
            # Other types on these topics (AssessmentInput, RegisterEntry, ...) are not ours to act on.
        except InvalidCause as exc:
            raise PermanentError(str(exc)) from exc

    def on_assessment_due(self, envelope: Envelope, msg: radar_events.AssessmentDue) -> None:
        facts = proto.assessment_due_facts(msg)
        due_date, disagrees = callback_due_date(facts.received_at, facts.due_date)
        if disagrees:
            log.warning("due date differs from 5 working days after receipt; keeping radar's",
                        extra={"case_id": facts.case_id, "tenant": facts.tenant_id, "due_date": due_date})
        key = delivery_key(envelope.id, DeliveryKind.MELDER_CALLBACK)
        now = self.clock()
        # deliver_after = now: the regional worker needs the callback task and its due date at once.
        self._schedule(Delivery(key=key, kind=DeliveryKind.MELDER_CALLBACK, tenant_id=facts.tenant_id,
                                case_id=facts.case_id, cause_event_id=envelope.id, due_date=due_date, created_at=now,
                                deliver_after=now, body=proto.callback_body(msg, key, due_date)))

    def on_register_match(self, envelope: Envelope, msg: radar_events.RegisterMatch) -> None:
        facts = proto.register_match_facts(msg)
        if facts.addressed_to not in all_tenants():
            raise InvalidCause(f"RegisterMatch addressed to unknown tenant {facts.addressed_to!r}")
        key = delivery_key(envelope.id, DeliveryKind.REGISTER_MATCH_NOTICE)
        now = self.clock()
        self._schedule(Delivery(key=key, kind=DeliveryKind.REGISTER_MATCH_NOTICE, tenant_id=facts.addressed_to,
                                case_id=facts.case_id, cause_event_id=envelope.id, due_date=None, created_at=now,
                                deliver_after=now, body=proto.register_match_body(msg, key)))

    def _schedule(self, delivery: Delivery) -> None:
        fields = {"idempotency_key": delivery.key, "kind": delivery.kind.value, "tenant": delivery.tenant_id,
                  "case_id": delivery.case_id, "cause_event_id": delivery.cause_event_id}
        if self.store.add(delivery):
            log.info("delivery scheduled", extra={**fields, "due_date": delivery.due_date})
            self.on_scheduled()
        else:
            log.info("duplicate event ignored", extra=fields)


async def run_consumer(settings: KafkaSettings, group_id: str, handler: EventHandler, producer: AIOKafkaProducer,
                       stop: asyncio.Event, source: Sequence[str] | None = None) -> None:
    await consume(settings, list(source or source_topics()), group_id, handler, producer, stop)
