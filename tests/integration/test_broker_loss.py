"""The embedded broker keeps everything in memory. When it is lost and a new, empty one takes its place, the
intake notices by itself (the cluster id changed) and publishes its whole outbox again with the original
event ids: nothing acknowledged is missing from the new broker, no operator is needed, and consumers
dedupe what they had seen before."""

from __future__ import annotations

import asyncio
import pathlib
import subprocess
import sys
import uuid

from devstack.broker import EmbeddedBroker, free_port
from devstack.processes import ROOT
from devstack.scenario import melding_request, random_bsn
from ops.cli import read_all
from ops.observer import Observer
from vt.notifier.v1.events_pb2 import DeliveryRequested
from vtkit import topics
from vtkit.channels import Org
from vtkit.grpcserver import wait_healthy
from vtkit.kafka import KafkaSettings, Publisher, ensure_topics, start_producer
from vtkit.keystore import KeyStore
from vtkit.signing import Signers
from vttest.intake import call, contact_ids, intake_process, read_topic
from vttest.notifier import Notifier, assessment_due, publish_due
from vttest.radar import melding_received, publish_melding

TENANT = "drenthe"


async def submit(address: str, keys: KeyStore, count: int) -> list[str]:
    replies = await asyncio.gather(*(call(address, Org(keys, TENANT), "SubmitMelding", melding_request(random_bsn()))
                                     for _ in range(count)))
    return [reply.contact_id for reply in replies]


def event_ids(records: list, wanted: list[str]) -> dict[str, set[str]]:
    return {c: {e.envelope.id for _, e, _ in records if getattr(e.message, "contact_id", "") == c} for c in wanted}


async def test_intake_publishes_its_outbox_again_to_a_broker_that_lost_everything(
        tmp_path: pathlib.Path, keys: KeyStore, data_dir: pathlib.Path) -> None:
    port = free_port()
    broker = EmbeddedBroker(port).start()
    intake = intake_process(tmp_path, broker.bootstrap_servers, keys, TENANT, data_dir).start()
    try:
        await wait_healthy(intake.address, timeout=20, keys=keys)
        before = await submit(intake.address, keys, 5)
        first = await read_topic(broker.bootstrap_servers, topics.intake(TENANT),
                                 lambda r: set(before) <= set(contact_ids(r)))

        broker.stop()  # everything it held is gone
        after = await submit(intake.address, keys, 2)  # acknowledged into the outbox while there is no broker
        broker = EmbeddedBroker(port).start()
        everything = before + after
        second = await read_topic(broker.bootstrap_servers, topics.intake(TENANT),
                                  lambda r: set(everything) <= set(contact_ids(r)), timeout=60)
        # And once more, 30 s after the loss was found: tansu can acknowledge and lose a first batch written at the
        # same moment as another producer's (vtkit.outbox, _second_pass).
        await intake.wait_for_log("publishing the outbox a second time")
        again = await read_topic(broker.bootstrap_servers, topics.intake(TENANT),
                                 lambda r: all(contact_ids(r).count(c) >= 2 for c in everything), timeout=60)
    finally:
        code = intake.stop()
        broker.stop()
    assert code == 0, intake.log_text()[-3000:]
    assert "the broker lost its history" in intake.log_text()
    assert event_ids(again, everything) == event_ids(second, everything)  # the same events a second time
    # The same events, not new ones: consumers that saw them on the old broker dedupe them.
    assert event_ids(second, before) == event_ids(first, before)
    assert all(len(ids) == 1 for ids in event_ids(second, everything).values())



async def test_vt_ops_recover_makes_every_outbox_publish_again(
        tmp_path: pathlib.Path, kafka: str, keys: KeyStore, data_dir: pathlib.Path) -> None:
    """The same on demand, for an operator who knows better than the cluster id (a restored broker, say)."""
    tenant = "groningen"
    intake = intake_process(tmp_path, kafka, keys, tenant, data_dir).start()
    try:
        await wait_healthy(intake.address, timeout=20, keys=keys)
        replies = await asyncio.gather(*(call(intake.address, Org(keys, tenant), "SubmitMelding",
                                              melding_request(random_bsn())) for _ in range(3)))
        ours = [reply.contact_id for reply in replies]
        await read_topic(kafka, topics.intake(tenant), lambda r: set(ours) <= set(contact_ids(r)))
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "ops.cli", "recover", "--data-dir",
                                                        str(data_dir)], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0 and f"intake-{tenant}.sqlite3: publishes its outbox again" in done.stdout, done
        records = await read_topic(kafka, topics.intake(tenant), lambda r: all(contact_ids(r).count(c) == 2 for c in ours),
                                   timeout=30)
    finally:
        assert intake.stop() == 0, intake.log_text()[-3000:]
    assert "recovery requested by an operator" in intake.log_text()
    assert all(len(ids) == 1 for ids in event_ids(records, ours).values())  # the same events again


async def test_the_dashboard_tells_the_operator_the_broker_was_replaced_and_how_far_recovery_is(
        keys: KeyStore) -> None:
    port = free_port()
    broker = EmbeddedBroker(port).start()
    try:
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)
        observer = Observer(settings)

        async def publish(count: int) -> None:
            await ensure_topics(settings)
            producer = await start_producer(settings)
            try:
                for i in range(count):  # one at a time: tansu's end offsets count a batch of several as one
                    await publish_melding(Publisher(producer, Signers(keys.root).headers), melding_received(
                        keys, TENANT, [random_bsn()], event_id=f"evt-{i}"), f"evt-{i}")
            finally:
                await producer.stop()

        await publish(4)
        assert "replaced_at" not in (await observer.sample())["broker"]
        broker.stop()
        broker = EmbeddedBroker(port).start()
        await ensure_topics(settings)
        lost = (await observer.sample())["broker"]
        assert lost["replaced_at"] and (lost["intake_before"], lost["intake_now"], lost["recovered_percent"]) == (4, 0, 0)
        await publish(4)  # what the intakes' outboxes do by themselves
        back = (await observer.sample())["broker"]
        assert (back["intake_now"], back["recovered_percent"]) == (4, 100)
    finally:
        broker.stop()


async def test_the_rvdk_feed_publishes_from_its_outbox_and_again_after_a_broker_loss(
        tmp_path: pathlib.Path, keys: KeyStore) -> None:
    port = free_port()
    outbox = tmp_path / "rvdk-feed.sqlite3"

    async def feed(broker: EmbeddedBroker, *extra: str) -> None:
        done = await asyncio.to_thread(subprocess.run, [
            sys.executable, "-m", "simulators.rvdk", "--bootstrap", broker.bootstrap_servers, "--key-dir",
            str(keys.root), "--outbox", str(outbox), *extra], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr[-2000:]

    async def signals_on(broker: EmbeddedBroker) -> dict[str, str]:
        return {r.key.decode(): dict(r.headers)["ce_id"].decode()
                for r in await read_all(broker.bootstrap_servers, topics.NATIONAL_RVDK)}

    broker = EmbeddedBroker(port).start()
    try:
        await ensure_topics(KafkaSettings(bootstrap_servers=broker.bootstrap_servers))
        await feed(broker, "--count", "3", "--seed", "1")
        first = await signals_on(broker)
        broker.stop()
        broker = EmbeddedBroker(port).start()
        await feed(broker)  # nothing new: what the outbox holds goes to the new broker
        again = await signals_on(broker)
    finally:
        broker.stop()
    assert len(first) == 3 and again == first  # the same signals, the same event ids


async def test_the_notifier_publishes_its_delivery_events_again_to_a_broker_that_lost_everything(
        tmp_path: pathlib.Path, keys: KeyStore, data_dir: pathlib.Path) -> None:
    """The deliveries are durable in the notifier's store; their Delivery* events, once on the broker, were gone
    with it. Kept in the outbox after sending, they are published again with the same event ids."""
    port = free_port()
    broker = EmbeddedBroker(port).start()
    notifier = Notifier(broker.bootstrap_servers, keys, data_dir, tmp_path / "logs", {})
    case_id = f"case-{uuid.uuid4()}"

    def requested(records: list) -> list:  # type: ignore[type-arg]
        return [e for _, e, _ in records if isinstance(e.message, DeliveryRequested) and e.message.case_id == case_id]

    try:
        await ensure_topics(KafkaSettings(bootstrap_servers=broker.bootstrap_servers))
        await notifier.start()
        producer = await start_producer(KafkaSettings(bootstrap_servers=broker.bootstrap_servers))
        try:
            await publish_due(Publisher(producer), assessment_due(TENANT, case_id))
        finally:
            await producer.stop()
        first = requested(await read_topic(broker.bootstrap_servers, topics.NATIONAL_DELIVERIES,
                                           lambda r: bool(requested(r))))

        broker.stop()  # everything it held is gone
        broker = EmbeddedBroker(port).start()
        again = requested(await read_topic(broker.bootstrap_servers, topics.NATIONAL_DELIVERIES,
                                           lambda r: bool(requested(r)), timeout=60))
    finally:
        code = notifier.stop()
        broker.stop()
    assert code == 0, notifier.proc.log_text()[-3000:] if notifier.proc else ""
    assert [e.envelope.id for e in again] == [e.envelope.id for e in first]  # the same event: consumers dedupe
    assert notifier.proc is not None and "the broker lost its history" in notifier.proc.log_text()
