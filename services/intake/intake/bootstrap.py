"""Composition root: builds the object graph of one intake process from its settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from vt.intake.v1 import intake_service_pb2_grpc
from vtkit.audit import AuditForwarder, AuditLog
from vtkit.audit_query import serve_audit_log
from vtkit.config import ConfigError
from vtkit.grpcserver import GrpcServer
from vtkit.kafka import KafkaSettings, Publisher
from vtkit.keystore import usable_keys
from vtkit.outbox import HEALTH_NAME as OUTBOX_HEALTH
from vtkit.outbox import OutboxRelay, OwnProducer
from vtkit.signing import RecordSigner
from vtkit.tenants import UnknownTenant, get_tenant

from intake.adapters import proto
from intake.dossier_keys import region_keys
from intake.grpc_api import SERVICE_NAME, IntakeServicer
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.retention import run_retention
from intake.settings import Settings
from intake.store import ContactStore, PendingEvent
from intake.web.app import Meldformulier, WebServer
from intake.web.edge import EdgeLimits
from intake.web.friction import ProofOfWork

log = logging.getLogger("intake")


@dataclass
class IntakeApp:
    settings: Settings
    store: ContactStore
    relay: OutboxRelay[PendingEvent]
    server: GrpcServer
    web: WebServer
    handlers: IntakeHandlers
    audit: AuditLog

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until `stop` is set, then stop relay, server and database in that order."""
        # The blocking calls (asyncio.to_thread: lookups, dossier keys, group commits, the relay's store calls) share
        # a few threads; asyncio.run shuts them down after the last call.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(self.settings.blocking_threads, thread_name_prefix="intake-blocking"))
        relay_stop = asyncio.Event()
        relay_task = asyncio.create_task(self.relay.run(relay_stop), name="outbox-relay")
        sweep_task = asyncio.create_task(run_retention(self.handlers, self.audit,
                                                       self.settings.retention_sweep_seconds, relay_stop),
                                         name="retention-sweep")
        # gRPC starts regardless of the broker: contacts are accepted into the outbox while it is down.
        await self.server.start()
        await self.web.start()
        log.info("listening", extra={"grpc": self.server.address, "http": self.web.address,
                                     "tenant": self.settings.tenant})
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({stopped, relay_task}, return_when=asyncio.FIRST_COMPLETED)
        if relay_task.done() and not stopped.done():
            stopped.cancel()
            log.error("outbox relay ended unexpectedly", exc_info=relay_task.exception())
        relay_stop.set()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(sweep_task, 3)
        try:
            await asyncio.wait_for(relay_task, 3)  # an in-flight publish may finish; unsent rows stay
        except (TimeoutError, Exception):
            relay_task.cancel()
            with contextlib.suppress(BaseException):
                await relay_task
        await self.web.stop()
        await self.server.stop(grace=5)
        # The head as the service leaves it (the forwarder witnesses at most once per interval while it runs).
        await asyncio.to_thread(self.audit.witness)
        self.store.close()
        if relay_task.done() and not relay_task.cancelled() and relay_task.exception() is not None:
            raise SystemExit(1)


# A relay pass waits this long after the commit that woke it, so the meldingen of those moments share its read, send and
# mark (docs/measurements.md, "One intake's CPU per melding"); radar gets a MeldingReceived at most this much later.
RELAY_LINGER_SECONDS = 0.02


def outbox_relay(store: ContactStore, kafka: KafkaSettings, tenant: str, audit: AuditForwarder,
                 server: GrpcServer, signer: RecordSigner) -> OutboxRelay[PendingEvent]:
    """The outbox relay on a producer of its own; each record signed as the region (vtkit.signing: the national
    consumers act only on records their writer signed); after each drain it copies the access log to
    vt.national.audit.v1 on the same producer; a quarantined row turns health `vt.outbox` NOT_SERVING."""

    async def forward_audit(producer: AIOKafkaProducer) -> None:
        # The copy follows the file, which is the record: at most once per forwarder interval (the relay passes at
        # least every poll interval), and at the relay's last pass. After every pass, at a region's rate of a melding
        # per pass, each copied record paid for a pass of its own (a file read in a worker thread, a send, a cursor).
        if relay.stopping or audit.due():
            await audit.forward_pending(Publisher(producer))

    async def degraded(quarantined: int) -> None:
        await server.set_part(OUTBOX_HEALTH, quarantined == 0)

    relay = OutboxRelay("intake", store, lambda row: [signer.sign(row.record())], OwnProducer(kafka), tenant=tenant,
                        after_drain=forward_audit, on_quarantine=degraded, linger=RELAY_LINGER_SECONDS)
    return relay


def bootstrap(settings: Settings) -> IntakeApp:
    try:
        tenant = get_tenant(settings.tenant)
    except UnknownTenant as exc:
        raise ConfigError(f"configuration error: VT_TENANT: {exc}") from None
    if settings.blocking_threads < 1:
        raise ConfigError("configuration error: VT_BLOCKING_THREADS must be at least 1")
    usable_keys(settings.key_dir, "intake", tenant.id)  # checked at start: no CA key, the master key opens ours
    store = ContactStore(settings.database_path)
    # The region's dossier keys live in its database, committed with its contacts (intake.dossier_keys).
    keys = region_keys(settings.key_dir, store, tenant.id)
    protector = PersonalDataProtector(keys, tenant.id)
    # Contacts stored before person ids were kept get them from their MeldingReceived in the outbox, once.
    if filled := store.backfill_person_ids(proto.MELDING_RECEIVED_TYPE, proto.person_ids_of_melding_received):
        log.info("person ids backfilled", extra={"contacts": filled})
    server = GrpcServer(settings.grpc_port, keys, "intake")
    # NEN 7513 access log: hash-chained, checkpoints and witness heads signed with this intake's own audit key.
    audit = AuditLog(settings.audit_path, f"intake/{tenant.id}", signer=keys.audit_signer(f"intake/{tenant.id}"))
    server.audit_refusals(audit)  # UNAUTHENTICATED calls with a verified certificate (vtkit.auth)
    relay = outbox_relay(store, settings.kafka, tenant.id, AuditForwarder(settings.audit_path, log=audit), server,
                         RecordSigner.load(settings.key_dir, tenant.id))
    handlers = IntakeHandlers(tenant.id, tenant.region, store, protector, on_commit=relay.wake)
    server.add(intake_service_pb2_grpc.add_IntakeServiceServicer_to_server,
               IntakeServicer(handlers, audit), [SERVICE_NAME])
    serve_audit_log(server, audit)
    # The meldformulier is the region's own channel: it calls the same handlers, as this tenant.
    edge = EdgeLimits(settings.http_max_connections, settings.http_max_concurrent_requests,
                      settings.http_idle_timeout_seconds, settings.http_body_timeout_seconds,
                      settings.http_queue_seconds, settings.http_backlog)
    try:
        edge.check()
    except ValueError as exc:
        raise ConfigError(f"configuration error: {exc}") from None
    secret = secrets.token_bytes(32)  # per process: a restart makes open forms ask to be sent again
    form = Meldformulier(handlers, tenant, secret=secret, audit=audit,
                         friction=ProofOfWork(secret, bits=settings.form_pow_bits), edge=edge)
    web = WebServer(form, settings.http_host, settings.http_port)
    return IntakeApp(settings, store, relay, server, web, handlers, audit)
