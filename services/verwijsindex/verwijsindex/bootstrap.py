"""Composition root: builds the store, keys, Kafka producer, relay, expiry scanner and gRPC
server from settings, and runs them until stop is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from aiokafka.structs import ConsumerRecord
from vt.verwijsindex.v1 import events_pb2
from vtkit import topics
from vtkit.audit import AuditForwarder, AuditLog
from vtkit.audit_query import serve_audit_log
from vtkit.config import ConfigError
from vtkit.crypto import Pseudonymizer, SealOpener
from vtkit.envelope import Event
from vtkit.group_cluster import GroupCluster
from vtkit.grpcserver import GrpcServer
from vtkit.kafka import Handler, PermanentError, Publisher, consume, ensure_topics, start_producer, stop_producer
from vtkit.keystore import KeyStore, usable_keys
from vtkit.outbox import HEALTH_NAME as OUTBOX_HEALTH
from vtkit.outbox import OutboxRelay, SharedProducer
from vtkit.signing import RecordVerifier

from verwijsindex import grpc_api
from verwijsindex.adapters.brp import InvalidFacts, facts_from_proto
from verwijsindex.handlers import SOURCE, Verwijsindex
from verwijsindex.settings import Settings
from verwijsindex.store import Store

log = logging.getLogger("verwijsindex")


# The consumer group the verwijsindex KafkaUser may use (deploy/k8s/kafka/access.yaml: groups).
BRP_GROUP = "vt-verwijsindex-brp"


def brp_handler(app: Verwijsindex, opener: SealOpener, pseudonymizer: Pseudonymizer) -> Handler:
    """Household facts from the BRP topic; unusable facts are dead-lettered (PermanentError)."""

    async def handle(event: Event, record: ConsumerRecord) -> None:
        try:
            facts = facts_from_proto(event.message, opener, pseudonymizer)
        except InvalidFacts as exc:
            raise PermanentError(str(exc)) from None
        result = app.apply_household_facts(facts)
        log.info("household facts", extra={"event_id": event.envelope.id, "stale": result.stale, "ended": result.ended,
                                           "relocated": result.relocated, "family_match": result.family_match})

    return handle


async def expiry_loop(app: Verwijsindex, interval: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            changed = app.expire_due()
            if changed:
                log.info("expiry scan", extra={"changed": changed})
        except Exception:
            log.exception("expiry scan failed, will retry")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


@dataclass
class VerwijsindexApp:
    """The verwijsindex with its store, keys and access log; what needs the broker is built in `run`, once it
    answers."""

    settings: Settings
    keys: KeyStore
    verwijsindex: Verwijsindex  # the use cases (handlers.py)
    opener: SealOpener
    audit: AuditLog

    async def run(self, stop: asyncio.Event) -> None:
        settings = self.settings
        keys, app, audit, opener = self.keys, self.verwijsindex, self.audit, self.opener
        # Started during a broker outage we wait for the broker (retrying with back-off) rather than exit; the
        # gRPC server, and with it health SERVING, comes only after.
        await ensure_topics(settings.kafka, stop=stop)
        producer = await start_producer(settings.kafka, stop=stop)
        server = GrpcServer(settings.grpc_port, keys, "verwijsindex")
        server.audit_refusals(audit)

        async def degraded(quarantined: int) -> None:
            await server.set_part(OUTBOX_HEALTH, quarantined == 0)

        # The store's connection belongs to the event loop (threaded=False), as for the RPCs.
        relay = OutboxRelay("verwijsindex", app.store, lambda row: [row.record()], SharedProducer(producer, settings.kafka),
                            tenant="national", poll_interval=1.0, threaded=False, on_quarantine=degraded)
        app.on_commit = relay.wake
        grpc_api.add_to(server, app, audit)
        serve_audit_log(server, audit)
        await server.start()
        log.info("listening", extra={"grpc": server.address, "database": str(settings.database)})
        tasks = [asyncio.create_task(relay.run(stop), name="relay"),
                 asyncio.create_task(expiry_loop(app, settings.expiry_scan_seconds, stop), name="expiry"),
                 asyncio.create_task(consume(settings.kafka, [topics.NATIONAL_BRP], BRP_GROUP,
                                             brp_handler(app, opener, app.pseudonymizer), producer, stop,
                                             expected=[events_pb2.HouseholdFacts],
                                             # only the BRP writes these facts, signed (vtkit.signing)
                                             verify=RecordVerifier.load(settings.key_dir).check,
                                             group_cluster=GroupCluster(settings.database.parent, BRP_GROUP)),
                                     name="brp"),
                 # The access log's copy on vt.national.audit.v1, from the file, never in the request path.
                 asyncio.create_task(AuditForwarder(settings.audit_path, Publisher(producer), log=audit).run(stop),
                                     name="audit-forwarder")]
        try:
            done, _ = await asyncio.wait([*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task in tasks and task.exception():
                    raise task.exception()  # type: ignore[misc]
        finally:
            stop.set()
            await server.stop(grace=5)
            await asyncio.gather(*tasks, return_exceptions=True)
            # Last chance to flush what was committed during the grace period.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(relay.publish_pending(), 5)
            await stop_producer(producer)
            app.store.close()


def bootstrap(settings: Settings) -> VerwijsindexApp:
    keys = usable_keys(settings.key_dir, "verwijsindex", "verwijsindex")  # registrants' contacts are sealed
    try:
        store = Store(settings.database, keys.field_cipher(SOURCE))
        app = Verwijsindex(store, keys.pseudonymizer(), keys.field_cipher(SOURCE))
        opener = keys.seal_opener(SOURCE)
        # NEN 7513 access log of refusals (the logbook keeps the accepted changes and inspector queries).
        audit = AuditLog(settings.audit_path, "verwijsindex", signer=keys.audit_signer("verwijsindex"))
    except FileNotFoundError as exc:  # a missing key file is a configuration problem: say which
        raise ConfigError(f"configuration error: {exc}") from None
    return VerwijsindexApp(settings, keys, app, opener, audit)
