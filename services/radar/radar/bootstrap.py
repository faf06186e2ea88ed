"""Composition root: settings -> keys -> topics -> producer -> faust worker -> gRPC."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

from vt.radar.v1 import radar_peer_service_pb2_grpc, radar_service_pb2_grpc
from vtkit.audit import AuditForwarder, AuditLog
from vtkit.audit_query import serve_audit_log
from vtkit.config import ConfigError
from vtkit.faults import drops_here, hold_point
from vtkit.grpcserver import GrpcServer
from vtkit.kafka import Publisher, ensure_topics, start_producer, stop_producer, until_connected
from vtkit.keystore import KeyStore, refuse_ca_key
from vtkit.outbox import OutboxRelay, SharedProducer
from vtkit.outbox_store import SqliteOutbox
from vtkit.service import restart_after_stop
from vtkit.topics import all_topics
from yarl import URL

from radar.adapters import proto
from radar.app import PARTITIONS, RadarStreams
from radar.grpc_api import SERVICE_NAME, RadarApi
from radar.handlers import Radar
from radar.outputs import Out
from radar.peer_api import PEER_SERVICE_NAME, RadarPeerApi
from radar.settings import Settings
from radar.workers import PEER, Workers

log = logging.getLogger("radar")


APP_STOP_SECONDS = 15.0


async def _start_worker(app: Any) -> None:
    if drops_here("radar.start"):  # a test makes the worker's start fail here, as when its broker was lost (vtkit.faults)
        raise RuntimeError("the faust worker's start failed at the fault point radar.start")
    await app.start()


async def _stop_worker(app: Any) -> None:
    await hold_point("radar.stop")  # a test makes the worker's stop hang here (vtkit.faults)
    threading.excepthook = _thread_failed_while_stopping
    await app.stop()


def _thread_failed_while_stopping(args: threading.ExceptHookArgs) -> None:
    """From the worker's stop on, an exception that ends one of its threads is one log line, not a traceback on
    stderr: faust's consumer thread can fail while it stops (mode stops the thread's event loop while aiokafka's close
    still awaits a task: "await wasn't used with future", seen once in a make test run after a broker loss). The
    process is stopping, or starting again, anyway, and its offsets are its own (radar.offsets)."""
    log.warning("a thread of the faust worker failed while it stopped", extra={
        "thread_name": args.thread.name if args.thread is not None else "",
        "error": f"{args.exc_type.__name__}: {args.exc_value}"})


async def _first(*waits: asyncio.Future[object] | asyncio.Task[object]) -> None:
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)


def _failed(task: asyncio.Future[Any]) -> BaseException | None:
    return task.exception() if task.done() and not task.cancelled() else None


@dataclass
class RadarApp:
    """Radar with its keys and the use cases; the faust worker, the producer and the gRPC server are built in `run`,
    once the broker answers (health SERVING only when the worker's tables are recovered)."""

    settings: Settings
    keys: KeyStore
    radar: Radar

    async def run(self, stop: asyncio.Event) -> None:
        settings, keys, radar = self.settings, self.keys, self.radar
        # Started during a broker outage we wait for the broker (retrying with back-off) rather than exit; the
        # faust worker starts, and health turns SERVING, only after.
        # Each agent waits for the broker's ack of its outputs before it moves on (outputs before table
        # writes), so lingering for a fuller batch only adds latency to every event: linger 0.
        producer = await start_producer(settings.kafka, linger_ms=0, stop=stop)
        streams = RadarStreams(settings, settings.kafka, radar, producer)
        # Auto-creation is off: every topic, the tables' changelogs too, exists before the worker joins its group.
        await ensure_topics(settings.kafka, [*all_topics(), *streams.changelog_topics], stop=stop)
        # Which cluster the group's committed offsets belong to: another than the broker's means they may be a lost
        # broker's positions, and the worker reads its partitions from their start (radar.offsets).
        await until_connected("radar's cluster id", lambda: streams.app.group_cluster.settle(producer), stop=stop)
        # Decisions are facts radar produces itself: on disk in its outbox before RecordDecision answers.
        outbox = SqliteOutbox(settings.outbox_path)

        def broker_replaced() -> None:
            # faust keeps its positions and committed-offset bookkeeping of the lost broker: records the new broker
            # holds below them (meldingen acknowledged during the loss) would be skipped. A fresh start reads the
            # new broker from its beginning; the tables on disk stay, and replays are recognised.
            restart_after_stop("the broker lost its history: consumers start again from the new broker's beginning")
            stop.set()

        relay = OutboxRelay("radar", outbox, lambda row: [row.record], SharedProducer(producer, settings.kafka),
                            tenant="national", on_new_cluster=broker_replaced)
        relay_stop = asyncio.Event()
        relaying = asyncio.create_task(relay.run(relay_stop), name="outbox-relay")

        async def commit(outputs: list[Out]) -> None:
            await asyncio.to_thread(outbox.add, [proto.outbox_record(out) for out in outputs])
            relay.wake()

        app = streams.app
        app.in_worker = True  # started programmatically, not by the faust CLI
        # How the other workers reach this one, advertised in the group's assignment (radar.workers). The port is
        # bound only once the tables are recovered: a case system calling before then is refused at once
        # (UNAVAILABLE, tried again), not left waiting on a socket nobody serves.
        own_url = f"grpc://{settings.advertised_address}"
        app.conf.canonical_url = URL(own_url)
        workers = Workers(app.assignor, streams.cases.changelog_topic.get_topic_name(), PARTITIONS, own_url, keys)
        stopping = asyncio.ensure_future(stop.wait())
        crashed = asyncio.ensure_future(app.wait_until_stopped())  # returns on stop or crash
        starting = asyncio.ensure_future(_start_worker(app))
        ready = asyncio.ensure_future(streams.ready.wait())
        grpc_server: GrpcServer | None = None
        restarting = False  # the worker could not start: this process starts again, not a crash to exit on
        forwarder_stop = asyncio.Event()
        forwarding: asyncio.Task[None] | None = None
        try:
            await _first(ready, stopping, crashed, starting)
            if starting.done() and not ready.done() and _failed(starting) is None:
                await _first(ready, stopping, crashed)  # started; the tables are still being recovered
            if (failure := _failed(starting)) is not None and not ready.done():
                # faust does not crash when a part of it cannot start (its producer could not reach a broker that
                # was lost while radar started): it would wait for ever, never ready. Start again, afresh.
                log.error("the faust worker could not start; starting again", extra={"reason": repr(failure)})
                restart_after_stop(f"the faust worker could not start: {failure!r}")
                restarting = True
            elif ready.done() and not stop.is_set() and not app.crashed:
                # Health turns SERVING only now: the worker runs and its tables are recovered. Only radar's own
                # workers may forward a call for another organisation.
                grpc_server = GrpcServer(settings.grpc_port, keys, "radar", delegates=frozenset({PEER}))
                audit = AuditLog(settings.audit_path, "radar", signer=keys.audit_signer("radar"))
                grpc_server.audit_refusals(audit)
                api = RadarApi(streams, audit, radar, commit, workers)
                # The access log's copy on vt.national.audit.v1, from the file, never in the request path.
                forwarding = asyncio.create_task(AuditForwarder(settings.audit_path, Publisher(producer),
                                                                log=audit).run(forwarder_stop), name="audit-forwarder")
                grpc_server.add(radar_service_pb2_grpc.add_RadarServiceServicer_to_server, api, [SERVICE_NAME])
                grpc_server.add(radar_peer_service_pb2_grpc.add_RadarPeerServiceServicer_to_server,
                                RadarPeerApi(streams, audit, workers), [PEER_SERVICE_NAME])
                serve_audit_log(grpc_server, audit)
                await grpc_server.start()
                log.info("listening", extra={"address": grpc_server.address, "app_id": settings.app_id,
                                             "peer_url": own_url})
                await _first(stopping, crashed)
        finally:
            log.info("stopping")
            if grpc_server is not None:
                await grpc_server.stop(grace=2.0)
            await workers.close()
            if forwarding is not None:
                forwarder_stop.set()
                try:
                    await asyncio.wait_for(forwarding, 3)  # the last records of this run, if the broker answers
                except (TimeoutError, Exception):
                    forwarding.cancel()
            for task in (stopping, crashed, ready, starting):
                if not task.done():
                    task.cancel()
            relay_stop.set()
            try:
                await asyncio.wait_for(relaying, 3)  # unsent rows stay on disk for the next start
            except (TimeoutError, Exception):
                relaying.cancel()
            # Bounded: after a broker loss faust's consumer once waited in its group's rejoin for minutes, and radar,
            # stopping to start again (restart_after_stop), assessed nothing meanwhile. Its batch in flight is
            # uncommitted, so it is read again after the start.
            stopping_app = asyncio.ensure_future(_stop_worker(app))
            if not (await asyncio.wait({stopping_app}, timeout=APP_STOP_SECONDS))[0]:
                log.warning("the faust worker did not stop in time; going on without it",
                            extra={"seconds": APP_STOP_SECONDS})
            await stop_producer(producer)
            outbox.close()
        if not restarting and (app.crashed or (crashed.done() and not stop.is_set())):
            log.error("faust worker stopped unexpectedly", extra={"reason": repr(getattr(app, "crash_reason", None))})
            raise SystemExit(1)


def bootstrap(settings: Settings) -> RadarApp:
    refuse_ca_key(settings.key_dir, "radar")
    keys = KeyStore(settings.key_dir)
    try:
        # At start, not at the first melding: the seal and pseudonym keys, and a master key that loads.
        radar = Radar(keys.seal_opener("radar"), keys.pseudonymizer(), settings.monitoring_days,
                      keys.tenant_cipher, case_cipher=keys.case_cipher, encoding=proto,
                      tenant_reader=keys.tenant_reader)
        keys.data_keys  # noqa: B018 (loads and checks the master key)
    except (FileNotFoundError, ValueError) as exc:
        raise ConfigError(f"configuration error: radar's keys cannot be used: {exc}") from None
    return RadarApp(settings, keys, radar)
