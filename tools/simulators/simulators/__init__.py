"""Stand-ins for the systems outside the exchange (regional case systems, letter gateway, professionals'
endpoints, the RvdK and BRP feeds): real gRPC servers or real Kafka producers, for the tests and `make run`."""

from __future__ import annotations

from collections.abc import Iterable

from google.protobuf import message as pb_message
from vtkit.envelope import envelope_for
from vtkit.kafka import KafkaSettings, Publisher, Sign, make_producer


async def publish_feed(bootstrap: str, topic: str, source: str,
                       keyed: Iterable[tuple[str, pb_message.Message]], sign: Sign | None = None) -> list[str]:
    """Publish (key, message) pairs in order as a feed `source`, each acknowledged (and signed with `sign`, for a
    feed that crosses an organisation boundary: vtkit.signing); returns the event ids."""
    producer = make_producer(KafkaSettings(bootstrap_servers=bootstrap))
    await producer.start()
    try:
        publisher = Publisher(producer, sign)
        event_ids = []
        for key, item in keyed:
            envelope = envelope_for(item, source=source)
            await publisher.publish(topic, key, item, envelope)
            event_ids.append(envelope.id)
        return event_ids
    finally:
        await producer.stop()
