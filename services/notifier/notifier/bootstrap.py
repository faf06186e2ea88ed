"""Composition root: builds the notifier from its settings and runs it until asked to stop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from vt.notifier.v1 import notifier_service_pb2_grpc
from vtkit.audit import AuditForwarder, AuditLog
from vtkit.audit_query import serve_audit_log
from vtkit.group_cluster import GroupCluster
from vtkit.grpcserver import GrpcServer
from vtkit.kafka import Publisher, ensure_topics, start_producer, stop_producer
from vtkit.keystore import KeyStore, usable_keys
from vtkit.outbox import HEALTH_NAME as OUTBOX_HEALTH
from vtkit.outbox import OutboxRelay, SharedProducer
from vtkit.signing import RecordVerifier

from notifier.adapters.brp import BrpAddressBook
from notifier.adapters.regional import RegionalClients
from notifier.consumer import EventHandler, run_consumer
from notifier.domain import BackoffPolicy
from notifier.domain.letter import AddressBook, NoAddressBook
from notifier.grpc_api import SERVICE_NAME, NotifierApi
from notifier.letters import LetterBuilder
from notifier.notices import NoticeBuilder
from notifier.outbox import outbox_records
from notifier.scheduler import Scheduler
from notifier.settings import Settings
from notifier.store import Store

log = logging.getLogger("notifier")


def address_book(brp_register: str) -> AddressBook:
    return BrpAddressBook(brp_register) if brp_register else NoAddressBook()


@dataclass
class NotifierApp:
    """The notifier with its keys and store; the parts that need the broker are built in `run`, once it answers."""

    settings: Settings
    keys: KeyStore
    store: Store

    async def run(self, stop: asyncio.Event) -> None:
        settings, keys, store = self.settings, self.keys, self.store
        kafka = settings.kafka
        endpoints = settings.endpoints()
        # Started during a broker outage we wait for the broker (retrying with back-off) rather than exit; the
        # gRPC server, and with it health SERVING, comes only after.
        await ensure_topics(kafka, stop=stop)
        producer = await start_producer(kafka, stop=stop)
        addresses = address_book(settings.brp_register)
        clients = RegionalClients(endpoints, settings.call_timeout_seconds, letter_gateway=settings.letter_gateway,
                                  professional_endpoint=settings.professional_endpoint,
                                  letters=LetterBuilder(store, keys, addresses), keys=keys,
                                  teamlead_endpoints=settings.teamlead_endpoints(),
                                  notices=NoticeBuilder(store, keys, addresses), rvdk_endpoint=settings.rvdk_endpoint)
        server = GrpcServer(settings.grpc_port, keys, "notifier")

        async def degraded(quarantined: int) -> None:
            await server.set_part(OUTBOX_HEALTH, quarantined == 0)

        # The store's connection belongs to the event loop (threaded=False), as for the scheduler and the RPCs.
        relay = OutboxRelay("notifier", store, outbox_records(store), SharedProducer(producer, kafka), tenant="national",
                            poll_interval=settings.scan_seconds, threaded=False, on_quarantine=degraded)
        audit = AuditLog(settings.audit_path, "notifier", signer=keys.audit_signer("notifier"))  # NEN 7513 access log
        server.audit_refusals(audit)
        scheduler = Scheduler(store, clients, BackoffPolicy(settings.retry_base_seconds, settings.max_attempts),
                              settings.scan_seconds, on_settled=relay.wake, audit=audit)

        def scheduled() -> None:
            scheduler.wake.set()
            relay.wake()

        handler = EventHandler(store, on_scheduled=scheduled, keys=keys)
        server.add(notifier_service_pb2_grpc.add_NotifierServiceServicer_to_server,
                   NotifierApi(store, on_change=scheduled, audit=audit), [SERVICE_NAME])
        serve_audit_log(server, audit)
        await server.start()
        log.info("listening", extra={"address": server.address, "regions": sorted(endpoints), "db": str(settings.db_path),
                                     "letter_gateway": settings.letter_gateway,
                                     "professional_endpoint": settings.professional_endpoint,
                                     "rvdk_endpoint": settings.rvdk_endpoint})

        tasks = [asyncio.create_task(run_consumer(kafka, settings.group_id, handler, producer, stop,
                                                   verify=RecordVerifier.load(settings.key_dir).check,
                                                   group_cluster=GroupCluster(settings.db_path.parent, settings.group_id)),
                                     name="consumer"),
                 asyncio.create_task(scheduler.run(stop), name="scheduler"),
                 asyncio.create_task(relay.run(stop), name="outbox"),
                 # The access log's copy on vt.national.audit.v1, from the file, never in the request path.
                 asyncio.create_task(AuditForwarder(settings.audit_path, Publisher(producer), log=audit).run(stop),
                                     name="audit-forwarder")]
        crashed: BaseException | None = None
        try:
            done, _ = await asyncio.wait([*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task in tasks and task.exception() is not None:
                    crashed = task.exception()
                    log.error("component crashed; stopping", exc_info=crashed, extra={"component": task.get_name()})
        finally:
            stop.set()
            # The scheduler lets started calls finish (each within the call timeout) and the outbox
            # flushes; a consumer still joining its group is cancelled rather than waited for: its
            # uncommitted records are redelivered and deduplicated by idempotency key.
            consumer, others = tasks[0], tasks[1:]
            _, lingering = await asyncio.wait([consumer], timeout=3)
            _, more = await asyncio.wait(others, timeout=settings.call_timeout_seconds + 3)
            for task in [*lingering, *more]:
                log.warning("component did not stop in time; cancelled", extra={"component": task.get_name()})
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await server.stop(grace=2)
            await clients.close()
            await stop_producer(producer)
            store.close()
        if crashed is not None:
            # Exit non-zero so the supervisor restarts us; the uncommitted batch is redelivered.
            raise SystemExit(1)


def bootstrap(settings: Settings) -> NotifierApp:
    # Before anything else: letters and notices need the data keys (the verwijsindex field key is one of them; the
    # notifier's own field key and the RvdK's public seal key are read when a notice is sent).
    keys = usable_keys(settings.key_dir, "notifier", "verwijsindex")
    return NotifierApp(settings, keys, Store(settings.db_path))
