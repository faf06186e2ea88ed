"""The notifier trusts a regional record by the topic it came from (only that region writes it): a record whose
envelope names another region is refused before anything is scheduled, whatever its body says."""

from __future__ import annotations

import pathlib

import pytest
from aiokafka.structs import ConsumerRecord
from notifier.consumer import EventHandler
from notifier.store import Store
from vt.intake.v1 import events_pb2 as intake_events
from vtkit import topics
from vtkit.envelope import Event, envelope_for
from vtkit.kafka import PermanentError


def on_topic(topic: str) -> ConsumerRecord:  # type: ignore[type-arg]
    return ConsumerRecord(topic, 0, 0, 0, 0, None, b"", None, 0, 0, [])


async def test_a_record_naming_another_region_on_a_regions_topic_is_refused(tmp_path: pathlib.Path) -> None:
    store = Store(tmp_path / "n.sqlite3")
    handler = EventHandler(store)
    destroyed = intake_events.DossierDestroyed(tenant_id="drenthe", dossier_id="d-1", contact_ids=["c-1"])
    forged = Event(envelope_for(destroyed, source="intake/groningen", tenant="drenthe"), destroyed)
    with pytest.raises(PermanentError, match="envelope tenant 'drenthe'"):
        await handler(forged, on_topic(topics.intake("groningen")))
    own = Event(envelope_for(destroyed, source="intake/drenthe", tenant="drenthe"), destroyed)
    await handler(own, on_topic(topics.intake("drenthe")))  # the region's own record on its own topic is taken
