"""The faust app: topics, tables and agents.

Flow (faust has no working joins, so everything is re-keyed onto the person):
  vt.<tenant>.intake.v1 (key case id) --intake agent--> AssessmentDue (assessments topic)
                                                   \\-> PersonSignal(melding) (radar-person topic, key pseudonym)
  vt.national.rvdk.v1               --rvdk agent----> PersonSignal(rvdk)     (radar-person topic, key pseudonym)
  vt.national.verwijsindex.v1       --verwijsindex--> PersonSignal(verwijsindex_match) on SignalMatch (key: its pseudonym)
  vt.national.assessments.v1        --assessments---> PersonSignal(case_closed) on AssessmentCompleted
  vt.national.radar-person.v1       --person agent--> RegisterEntry / RegisterMatch / AssessmentInput / MonitoringAlert
  deadline timer (scans the open cases)            -> DeadlineOverdue (its own copy marks the case reported)
The person table is keyed by pseudonym and co-partitioned with the radar-person
topic; the case table is keyed by case id and co-partitioned with the intake and
assessments topics (same key, same partition count, same partitioner), and so is
the index of its open cases (radar.open_work), written with each case record.

Outputs are published and acknowledged by the broker BEFORE the table is updated:
a crash in between replays the input, which yields the same records with the same
(derived) event ids, and consumers dedupe on those.

Each agent handles its records in batches (faust noack_take, up to BATCH records or
BATCH_WINDOW seconds): the records are handled one after the other against a staged view
of the tables (a later record of the same key sees the earlier one's result), all their
outputs are sent at once and awaited together, then the table values are written and
the agent acks the batch (faust commits it later). Waiting for the broker's acknowledgement
of each record one at a time was what limited radar (docs/perf/profile.md).
Only records acked that way move the committed offsets (radar.offsets): a batch
interrupted by a SIGTERM, a crash or a rebalance is read again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import itertools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any, cast

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from vtkit import metrics, topics, tracing
from vtkit.calendar import local_date
from vtkit.envelope import DecodeError, Event, decode, header_value
from vtkit.faults import drops_here, hold_point
from vtkit.group_cluster import GroupCluster
from vtkit.kafka import (
    KafkaSettings,
    Outgoing,
    PermanentError,
    dead_letter,
    redriven_for_another,
    send_batched,
    true_end_offsets,
)
from vtkit.signing import RecordVerifier
from vtkit.tenants import all_tenants

from radar import inputs, open_work
from radar.adapters import proto
from radar.domain.cases import CaseRecord
from radar.domain.lifecycle import NORM_DAYS, RECENT_DAYS, Decided
from radar.domain.model import PersonHistory
from radar.gauges import record_deadline_gauges, record_norm_gauges
from radar.handlers import Radar
from radar.offsets import HandledOnlyConsumer
from radar.outputs import Out
from radar.settings import RadarSettings
from radar.staging import DELETED, Staged

log = logging.getLogger(__name__)
Work = Callable[[Event, Any, Staged], Awaitable[None]]

# Partition count of the topics radar reads and of its tables' changelogs: the
# tables must be co-partitioned with their source topics (vtkit.topics default).
PARTITIONS = {spec.name: spec.partitions for spec in topics.all_topics()}[topics.NATIONAL_RADAR_PERSON]
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0)
BATCH = 500
BATCH_WINDOW = 0.05  # seconds take_events waits for a full batch: the latency a batch adds per hop
STOP_DRAIN_SECONDS = 5.0  # how long a stopping worker lets its in-flight batches finish
# The norm gauges count the decisions of the last 365 days, which only the whole case table holds: computed at most
# this often, not at every deadline scan (docs/architecture.md, "Case lifecycle").
NORM_GAUGES_SECONDS = 600.0
# A whole-table read hands the event loop back after this many records (agents and heartbeats go on meanwhile).
SCAN_CHUNK = 2_000


class RadarApp(faust.App):
    kafka: KafkaSettings  # set by faust_app: the KAFKA_* settings of every client radar makes
    # Set by faust_app: the cluster the group's committed offsets belong to (vtkit.group_cluster, radar.offsets).
    group_cluster: GroupCluster

    def _new_consumer(self) -> HandledOnlyConsumer:
        # As faust.App's, with the consumer that commits only handled records (radar.offsets).
        consumer = HandledOnlyConsumer(self.transport, callback=self.topics.on_message, loop=self.transport.loop,
                                       on_partitions_revoked=self._on_partitions_revoked,
                                       on_partitions_assigned=self._on_partitions_assigned, beacon=self.beacon)
        consumer.true_ends = functools.partial(true_end_offsets, self.kafka)
        consumer.group_cluster = self.group_cluster
        return consumer

    async def _consumer_wait_empty(self, consumer: Any, logger: Any) -> None:
        # On stop, faust waits without limit until every record it handed out is acked: a batch that cannot
        # finish (its publish retries against a lost broker) kept the worker from stopping until it was
        # killed. Bounded on stop only (a rebalance still waits): what is not handled by then is not
        # committed (radar.offsets) and is read again after the restart.
        if not self.should_stop:
            await super()._consumer_wait_empty(consumer, logger)
            return
        # Not asyncio.wait_for: faust's wait loop does not end when cancelled, so wait_for would wait on.
        waiting = asyncio.ensure_future(super()._consumer_wait_empty(consumer, logger))
        if not (await asyncio.wait({waiting}, timeout=STOP_DRAIN_SECONDS))[0]:
            waiting.cancel()
            log.warning("stopping with a batch in flight; it is read again after the restart")


def faust_app(settings: RadarSettings, kafka: KafkaSettings) -> RadarApp:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    app = RadarApp(
        settings.app_id,
        broker=[f"kafka://{server.strip()}" for server in kafka.bootstrap_servers.split(",") if server.strip()],
        # SASL/TLS of a production cluster, from the same KAFKA_* settings as every aiokafka client.
        broker_credentials=kafka.faust_credentials(),
        store=settings.store_url,
        datadir=str(settings.state_dir),
        autodiscover=False,
        web_enabled=False,
        topic_partitions=PARTITIONS,
        topic_disable_leader=True,
        # radar declares its changelog topics itself, with the other topics, before the worker joins its group
        # (RadarStreams.changelog_topics): faust's own declaration ran beside the join, and a join that came first
        # (seen in make chaos after a broker loss: "Ignoring missing topic") assigned no changelog partitions and
        # crashed the worker at its first table write (PartitionsMismatch, "... has 0 partitions").
        topic_allow_declare=False,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        # tansu completes a group join only after about half the session timeout;
        # faust's default (60 s) would keep every (re)start waiting 30 s.
        broker_session_timeout=settings.session_timeout,
        broker_heartbeat_interval=min(3.0, settings.session_timeout / 3),
        # tansu (0.6) reports a partition's end as its last record batch's base offset + 1: after a batch of
        # several changelog records the table's persisted offset is above it, and faust's check refused every
        # restart (ConsistencyError, seen in make chaos after a link cut). radar.offsets now corrects the ends
        # recovery reads (vtkit.kafka.true_end_offsets); the check stays off, as a probe that gets no answer in
        # time keeps the reported end.
        recovery_consistency_check=False,
    )
    app.kafka = kafka
    app.group_cluster = GroupCluster(settings.outbox_path.parent, settings.app_id)
    return app


def _json_schema() -> faust.Schema:
    return faust.Schema(key_type=str, value_type=None, key_serializer="json", value_serializer="json")


class RadarStreams:
    def __init__(self, settings: RadarSettings, kafka: KafkaSettings, radar: Radar, producer: AIOKafkaProducer):
        self.radar = radar
        self.producer = producer
        self._memory_store = settings.table_store == "memory"  # faust's memory store: a dict per table
        # Records of the intake topics and the RvdK feed act only when their writer signed them (vtkit.signing).
        self.verifier = RecordVerifier.load(settings.key_dir)
        self.app = app = faust_app(settings, kafka)
        self.ready = asyncio.Event()
        app.on_startup_finished = self._on_startup_finished

        def topic(*names: str) -> Any:
            return app.topic(*names, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw",
                             partitions=PARTITIONS)

        self.intake_topic = topic(*(topics.intake(t) for t in all_tenants()))
        self.rvdk_topic = topic(topics.NATIONAL_RVDK)
        self.verwijsindex_topic = topic(topics.NATIONAL_VERWIJSINDEX)
        self.person_topic = topic(topics.NATIONAL_RADAR_PERSON)
        self.assessments_topic = topic(topics.NATIONAL_ASSESSMENTS)
        # Keys are strings and values plain dicts, both as JSON in the changelog. With two workers each keeps a
        # standby copy of the other's partitions, from which it answers reads of any case (docs/architecture.md,
        # "Radar with two workers"); faust applies standby writes only per full buffer (1,000 by default, no
        # time limit), so a standby copy is written record by record to stay seconds behind, not hours.
        def table(name: str) -> Any:
            return app.Table(name, schema=_json_schema(), partitions=PARTITIONS, standby_buffer_size=1)

        self.persons = table("persons")
        self.cases = table("cases")
        # The ids of the cases with open work (radar.open_work): what the deadline scan, the gauges and ListOverdue
        # read, instead of every case radar ever had.
        self.open_index = table("open_cases")
        # Case id -> the last day the norms count it by, for the cases decided or ended lately (radar.open_work): what
        # the norm gauges and GetNorms read with the open cases, instead of every case.
        self.recent_index = table("recent_cases")
        self._cases_changelog = self.cases.changelog_topic.get_topic_name()
        # faust names and configures a table's changelog; radar creates it (faust_app: topic_allow_declare off).
        self.changelog_topics = [topics.TopicSpec(table.changelog_topic.get_topic_name(), PARTITIONS, compacted=True)
                                 for table in app.tables.values()]
        self.cases.on_recover(self._index_cases_once)
        self._norm_gauges_due = 0.0  # time.monotonic() of the next norm gauges

        app.agent(self.intake_topic, name="radar.intake")(self._agent("intake", self._on_intake))
        app.agent(self.rvdk_topic, name="radar.rvdk")(self._agent("rvdk", self._on_rvdk))
        app.agent(self.verwijsindex_topic, name="radar.verwijsindex")(
            self._agent("verwijsindex", self._on_verwijsindex))
        app.agent(self.person_topic, name="radar.person")(self._agent("person", self._on_person))
        app.agent(self.assessments_topic, name="radar.assessments")(self._agent("assessments", self._on_assessment))
        # consumer -> the ce_types it passes over before any work (radar's own outputs it never acts on).
        self._passes_over = {"radar.assessments": proto.PASSED_OVER_TYPES}
        app.timer(settings.deadline_scan_seconds, name="radar.deadlines")(self.scan_deadlines)

    async def _on_startup_finished(self) -> None:
        self.ready.set()
        log.info("worker ready", extra={"app_id": self.app.conf.id})

    # ---- reads (gRPC) ------------------------------------------------------------------------------------------

    def case(self, case_id: str, staged: Staged | None = None) -> CaseRecord | None:
        data = staged.get(self.cases, case_id) if staged else self.cases.get(case_id)
        return CaseRecord.from_dict(data) if data else None

    def person(self, pseudonym: str, staged: Staged | None = None) -> PersonHistory | None:
        data = staged.get(self.persons, pseudonym) if staged else self.persons.get(pseudonym)
        return PersonHistory.from_dict(data) if data else None

    def all_cases(self) -> list[CaseRecord]:
        """Every case radar has (it grows with the years), at once: benches only (tests/perf)."""
        return [CaseRecord.from_dict(value) for value in list(self.cases.values()) if value]

    async def case_chunks(self, may_count: Callable[[dict[str, Any]], bool]) -> AsyncIterator[list[CaseRecord]]:
        """Every case whose stored row passes `may_count` (radar.domain.lifecycle.may_count_for_norms: only those
        are decoded), SCAN_CHUNK rows at a time: the norms. Ten years are about 1.3 million cases, more than radar's
        memory holds decoded at once (deploy/k8s: 1 GiB); between two chunks the event loop goes on."""
        async for chunk in self._case_rows_in_chunks():
            yield [CaseRecord.from_dict(data) for _, data in chunk if data and may_count(data)]

    def open_cases(self) -> list[CaseRecord]:
        """The cases with open work (undecided, or an onderzoek without outcome): read through the index."""
        return open_work.open_records(self.cases, self.open_index)

    async def recent_decided(self, first: dt.date) -> list[Decided]:
        """What the cases decided or ended on or after `first` (not before RECENT_DAYS ago) count for the norms, from
        the index of recent decisions (no case record is read), SCAN_CHUNK entries at a time."""
        values, found = list(self.recent_index.values()), []
        for start in range(0, len(values), SCAN_CHUNK):
            found += open_work.decided_since(values[start:start + SCAN_CHUNK], first)
            await asyncio.sleep(0)
        return found

    def _stage_case(self, staged: Staged, case_id: str, record: CaseRecord | None) -> None:
        open_work.stage_case(staged, self.cases, self.open_index, case_id, record, self.recent_index)

    def _owned_partitions(self) -> set[int]:
        return {tp.partition for tp in self.app.assignor.assigned_actives() if tp.topic == self._cases_changelog}

    def _prune_recent(self, today: dt.date) -> int:
        """Entries of the index of recent decisions that no period read from it counts any more leave it (the owner
        of a partition prunes it; a standby copy follows its changelog)."""
        owned = self._owned_partitions()
        stale = [case_id for case_id in open_work.stale_entries(self.recent_index, today - dt.timedelta(days=RECENT_DAYS))
                 if open_work.partition_of(case_id, PARTITIONS) in owned]
        for case_id in stale:
            open_work.write_in_partition(self.recent_index, case_id, DELETED, topics.NATIONAL_ASSESSMENTS,
                                         open_work.partition_of(case_id, PARTITIONS))
        return len(stale)

    async def _index_cases_once(self, now: dt.datetime | None = None) -> None:
        """An installation from before an index has cases and not that index: build it once, after its tables are
        recovered and before the agents resume, for the partitions this worker owns (each entry into its case's
        changelog partition). An installation whose cases were all decided more than RECENT_DAYS ago has an empty
        index of recent decisions, and reads its cases once at each start here."""
        open_missing, recent_missing = not open_work.has_any(self.open_index), not open_work.has_any(self.recent_index)
        if not (open_missing or recent_missing) or not open_work.has_any(self.cases):
            return
        owned = self._owned_partitions()

        def mine(case_id: str) -> bool:
            return open_work.partition_of(case_id, PARTITIONS) in owned

        since = local_date(now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=RECENT_DAYS)
        counts = {"open_cases": 0, "recent_cases": 0}
        async for chunk in self._case_rows_in_chunks():
            entries: list[tuple[Any, str, Iterator[tuple[str, Any]]]] = []
            if open_missing:
                entries.append((self.open_index, "open_cases", open_work.entries_to_index(chunk, mine)))
            if recent_missing:
                entries.append((self.recent_index, "recent_cases", open_work.recent_to_index(chunk, mine, since)))
            for index, name, pairs in entries:
                for case_id, value in pairs:
                    open_work.write_in_partition(index, case_id, value, topics.NATIONAL_ASSESSMENTS,
                                                 open_work.partition_of(case_id, PARTITIONS))
                    counts[name] += 1
        log.info("indexes built from the case table", extra=counts)

    async def _case_rows_in_chunks(self) -> AsyncIterator[list[tuple[str, Any]]]:
        """Every (case id, row) of the case table, SCAN_CHUNK at a time; between two chunks the event loop goes on
        (heartbeats, agents, gRPC): a whole-table read at 10 years of history takes seconds. One pass over each
        partition's store (a RocksDB iterator sees the store as it was when it began, whatever the agents write
        meanwhile): a get per key outside an event tries every partition's store in turn, which made a read of 10
        years' cases three times as long (docs/measurements.md, "CPU per melding with a long history")."""
        rows: Any = self.cases.items()
        if self._memory_store:  # a dict may not change while it is iterated: take it at once
            rows = list(rows)
        remaining = iter(rows)
        while chunk := list(itertools.islice(remaining, SCAN_CHUNK)):
            yield chunk
            await asyncio.sleep(0)

    # ---- agents ------------------------------------------------------------------------------------------------

    def _agent(self, name: str, work: Work) -> Callable[[Any], Awaitable[None]]:
        consumer = f"radar.{name}"

        async def agent(stream: Any) -> None:
            # Not take_events: it acks every buffered event in a `finally:`, also when the batch was
            # cancelled (SIGTERM, stop) or raised, and faust then commits records whose outputs were
            # never sent. noack_take leaves acking to us: only after the batch is done.
            async for taken in stream.noack_take(BATCH, within=BATCH_WINDOW):
                events = await self._lose_first_for_tests(consumer, taken, stream)
                try:
                    await self.handle_batch(consumer, events, work)
                except Exception as exc:
                    # Nothing is acked: stop the worker (exit 1) so the batch is read again after the
                    # restart; a restarted actor would read on and leave these records unacked.
                    log.exception("batch failed, stopping", extra={"consumer": consumer})
                    await self.app.crash(exc)
                    raise
                app_consumer = cast(HandledOnlyConsumer, self.app.consumer)
                for event in events:
                    app_consumer.mark_handled(event.message)
                    await stream.ack(event)

        agent.__name__ = f"{name}_agent"
        agent.__qualname__ = agent.__name__
        return agent

    @staticmethod
    async def _lose_first_for_tests(consumer: str, events: list[Any], stream: Any) -> list[Any]:
        """The fault point `<consumer>.lose/<topic>` acks a batch's first record of that topic unhandled, as
        faust does with a record it skips (radar.offsets); unarmed, it returns the batch as it is."""
        for topic in sorted({event.message.topic for event in events}):
            if drops_here(f"{consumer}.lose/{topic}"):
                lost = next(event for event in events if event.message.topic == topic)
                await stream.ack(lost)
                events = [event for event in events if event is not lost]
        return list(events)

    async def handle_batch(self, consumer: str, events: list[Any], work: Work) -> None:
        """Handle records in order against staged tables, publish all outputs (acknowledged), then write the tables."""
        staged = Staged()
        for event in events:
            staged.event = event
            await self._process(consumer, event.message, work, staged)
        # Tests stop radar here, between handling and publishing. The point is named per topic: a test on a
        # broker shared with other tests counts only the batches that hold records of its own region.
        for topic in sorted({event.message.topic for event in events}):
            await hold_point(f"{consumer}.publish/{topic}")
        await self.publish(staged.outputs, staged.traces)
        staged.apply()

    async def _process(self, consumer: str, message: Any, work: Work, staged: Staged) -> None:
        """Decode and handle one record; whatever cannot be processed is dead-lettered, never fatal."""
        if redriven_for_another(message, consumer):
            return  # re-driven for another consumer of this topic (vtkit.kafka.REDRIVE_FOR): ours was handled
        if header_value(message.headers, "ce_type") in self._passes_over.get(consumer, ()):
            metrics.child(metrics.EVENTS_CONSUMED, message.topic, "", "passed_over").inc()
            return
        try:
            with tracing.consumer_span(message.topic, message.headers, consumer, message.partition, message.offset), \
                    metrics.child(metrics.PROCESSING_SECONDS, message.topic).time():
                self.verifier.check(message.topic, message.key, message.value, message.headers)
                event = decode(message.value, message.headers)
                await work(event, message, staged)
            metrics.child(metrics.EVENTS_CONSUMED, message.topic, event.envelope.tenant, "handled").inc()
        except (DecodeError, PermanentError) as exc:
            metrics.EVENTS_CONSUMED.labels(message.topic, "", "dead_lettered").inc()
            await self._dead_letter(message, consumer, f"{type(exc).__name__}: {exc}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not stall the partition: park the record with the reason
            log.exception("record failed", extra={"topic": message.topic, "offset": message.offset})
            await self._dead_letter(message, consumer, f"unexpected {type(exc).__name__}: {exc}")

    async def _dead_letter(self, message: Any, consumer: str, reason: str) -> None:
        await self._retrying(lambda: dead_letter(self.producer, cast(Any, message), consumer, reason,
                                                 group=str(self.app.conf.id), service="radar"))

    async def _on_intake(self, event: Event, message: Any, staged: Staged) -> None:
        # A region's producer may write only its own topic, so the topic is who wrote the record: a record that
        # names another region (envelope or body) is not acted on, whatever it says (docs/architecture.md).
        region = topics.tenant_of(message.topic)
        named = {event.envelope.tenant, getattr(event.message, "tenant_id", "")} - {""}
        if named != {region}:
            raise PermanentError(f"record on {message.topic} names tenant(s) {sorted(named)}: a region's topic "
                                 f"carries only {region!r}'s records")
        received = proto.read_intake(event.message)
        if isinstance(received, inputs.DossierDestroyed):
            staged.publish(self.radar.on_dossier_destroyed(received, event.envelope))
            return
        if received is None:
            return
        result = self.radar.on_intake(received, event.envelope, self.case(received.contact_id, staged))
        staged.publish(result.outputs)
        if result.case is not None:
            self._stage_case(staged, result.case.case_id, result.case)

    async def _on_assessment(self, event: Event, message: Any, staged: Staged) -> None:
        received = proto.read_assessments(event.message)
        if received is None:
            return  # radar's own AssessmentDue / AssessmentInput / MonitoringAlert
        # Keyed by the case the record changes (an episode's case for EpisodeJoined).
        case_id = received.episode_case_id if isinstance(received, inputs.EpisodeJoined) else received.case_id
        if message.key != case_id.encode():
            raise PermanentError("record key is not the case id")
        if isinstance(received, inputs.CaseDestroyed):
            signals, drop = self.radar.on_case_destroyed(received, event.envelope, self.case(case_id, staged))
            staged.publish(signals)
            if drop:
                self._stage_case(staged, case_id, None)
            return
        outputs, record = self.radar.on_assessment(received, event.envelope, self.case(case_id, staged),
                                                   lambda c: self.case(c, staged))
        staged.publish(outputs)
        if record is not None:
            self._stage_case(staged, case_id, record)

    async def scan_deadlines(self) -> None:
        """Pending deadlines are table rows: a restart never forgets one (the scan is stateless). It reads the open
        cases only (radar.open_work): every deadline it can find is on one of them."""
        try:
            now = dt.datetime.now(dt.UTC)
            cases = self.open_cases()
            record_deadline_gauges(cases, now)
            outputs = self.radar.overdue(cases, now)
            if outputs:
                log.info("deadlines overdue", extra={"count": len(outputs)})
                await self.publish(outputs)
            await self._record_norm_gauges_when_due(now)
        except asyncio.CancelledError:
            raise
        except Exception:  # the next scan tries again; a timer that dies would forget every deadline
            log.exception("deadline scan failed")

    async def _record_norm_gauges_when_due(self, now: dt.datetime) -> None:
        if time.monotonic() < self._norm_gauges_due:
            return
        self._norm_gauges_due = time.monotonic() + NORM_GAUGES_SECONDS
        today = local_date(now)
        if pruned := self._prune_recent(today):
            log.info("index of recent decisions pruned", extra={"entries": pruned})
        # The last 365 days: the open cases and what the index of recent decisions holds of them.
        decided = await self.recent_decided(today - dt.timedelta(days=NORM_DAYS - 1))
        record_norm_gauges(self.open_cases(), decided, now)

    async def _on_rvdk(self, event: Event, message: Any, staged: Staged) -> None:
        staged.publish(self.radar.on_rvdk(proto.read_rvdk(event.message), event.envelope))

    async def _on_verwijsindex(self, event: Event, message: Any, staged: Staged) -> None:
        received = proto.read_verwijsindex(event.message)
        if received is not None:
            staged.publish(self.radar.on_verwijsindex(received, event.envelope, message.key))

    async def _on_person(self, event: Event, message: Any, staged: Staged) -> None:
        pseudonym = getattr(event.message, "pseudonym", "")
        if message.key != pseudonym.encode():
            raise PermanentError("record key is not the pseudonym of the PersonSignal")
        outputs, outcome = self.radar.on_person_signal(proto.read_person_signal(event.message), event.envelope,
                                                       self.person(pseudonym, staged) or PersonHistory())
        if outcome.duplicate:
            # Read again: the history stays; the open cases' inputs go out again (radar.domain.history.replayed).
            log.debug("duplicate person signal: inputs emitted again", extra={"ce_id": event.envelope.id})
            staged.publish(outputs)
            return
        staged.publish(outputs)
        staged.put(self.persons, pseudonym, outcome.history.to_dict())
        if outcome.alerts:
            log.info("monitoring alert", extra={"cases": [a.case_id for a in outcome.alerts], "ce_id": event.envelope.id})
        if outcome.matches:
            log.info("register match", extra={"tenants": sorted({m.addressed_to for m in outcome.matches}),
                                              "ce_id": event.envelope.id})

    # ---- output ------------------------------------------------------------------------------------------------

    async def publish(self, outputs: list[Out], traces: list[Any] | None = None) -> None:
        """Send all records and wait until the broker acknowledged every one (order per partition is kept). With
        tracing on, each is sent in a producer span continuing `traces[i]`, the context of the record it came from."""
        if not outputs:
            return

        async def send_all() -> None:
            outgoing: list[Outgoing] = []
            spans = []
            for i, out in enumerate(outputs):
                value, headers = proto.record(out)
                span, headers = tracing.start_producer_span(out.topic, headers, parent=traces[i] if traces else None)
                spans.append(span)
                outgoing.append((out.topic, out.key.encode(), value, headers))
            futures = await send_batched(self.producer, outgoing)  # record batches: less CPU per record (vtkit.kafka)
            for span, future in zip(spans, futures, strict=True):
                tracing.end_when_done(span, future)
            await asyncio.gather(*futures)

        await self._retrying(send_all)
        for out in outputs:
            metrics.child(metrics.EVENTS_PUBLISHED, out.topic, out.tenant).inc()

    async def _retrying(self, action: Callable[[], Awaitable[None]]) -> None:
        """Broker trouble is transient: retry (re-sending is safe, event ids are deterministic)."""
        attempt = 0
        while True:
            try:
                await action()
                return
            except KafkaError as exc:
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                attempt += 1
                log.warning("publish failed, retrying", extra={"error": str(exc), "attempt": attempt})
                await asyncio.sleep(delay)
