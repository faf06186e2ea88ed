"""Folds the broker's state and the national event streams into one snapshot for operators.

- Topics: messages held and end offsets; rates are the change of end offsets between two samples.
- Consumer lag per group and partition (end offset minus the group's committed offset).
- Deadlines: assessments due and not completed, deliveries requested and not delivered; overdue when the
  due moment has passed (Europe/Amsterdam end of day, as radar and notifier compute it).
- Dead letters: count per source topic and every record's metadata (never the value), whatever it holds: a record
  with a bad header is a row saying so (ops.deadletters), and no record stops the reader.
- History: the headline figures every 10 s for 24 h (History), for the dashboard's chart.
No personal data is read: values are decoded only for the deadline events, which carry none in clear.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord, TopicPartition
from vt.notifier.v1 import events_pb2 as delivery_events
from vt.radar.v1 import events_pb2 as radar_events
from vtkit import topics
from vtkit.envelope import DecodeError, decode, header_value
from vtkit.kafka import KafkaSettings

from ops.deadletters import HandledStore, dead_letter_row

log = logging.getLogger("ops.observer")


FOLD_BATCH = 500  # records folded between two turns of the event loop
# The types fold reads; every other record of the watched topics is passed over by its ce_type, unread.
FOLDED_TYPES = frozenset(m.DESCRIPTOR.full_name for m in (
    radar_events.AssessmentDue, radar_events.AssessmentCompleted, delivery_events.DeliveryRequested,
    delivery_events.DeliveryDelivered, delivery_events.DeliveryFailed))


@dataclass
class Deadline:
    tenant: str
    case_id: str
    kind: str
    due_at: dt.datetime


@dataclass
class DeadlineBook:
    """Open deadlines by key; closed ones are dropped."""

    open: dict[str, Deadline] = field(default_factory=dict)
    failed: Counter[str] = field(default_factory=Counter)

    def per_tenant(self, now: dt.datetime) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for deadline in self.open.values():
            row = out.setdefault(deadline.tenant, {"pending": 0, "overdue": 0})
            row["pending"] += 1
            row["overdue"] += deadline.due_at < now
        for tenant, count in self.failed.items():
            out.setdefault(tenant, {"pending": 0, "overdue": 0})["failed"] = count
        return out

    def overdue(self, now: dt.datetime) -> list[dict[str, str]]:
        rows = [d for d in self.open.values() if d.due_at < now]
        return [{"tenant": d.tenant, "case_id": d.case_id, "kind": d.kind, "due_at": d.due_at.isoformat()}
                for d in sorted(rows, key=lambda d: d.due_at)]


def _ts(value: Any) -> dt.datetime:
    return value.ToDatetime(tzinfo=dt.UTC)


class Observer:
    """Reads the national streams in the background and samples offsets on request."""

    WATCHED = (topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_DELIVERIES, topics.DEAD_LETTERS)

    def __init__(self, kafka: str | KafkaSettings, recent_dead_letters: int = 5000, group_prefix: str = "vt-",
                 metrics_urls: dict[str, str] | None = None, marks: HandledStore | None = None):
        # A plain address is the embedded broker; KafkaSettings carries a production cluster's SASL/TLS.
        self.kafka = kafka if isinstance(kafka, KafkaSettings) else KafkaSettings(bootstrap_servers=kafka)
        self.group_prefix = group_prefix  # the services' groups; test and ad-hoc readers are left out
        self.assessments = DeadlineBook()
        self.deliveries = DeadlineBook()
        self.dead_letters: Counter[str] = Counter()
        self.recent_dead_letters: dict[str, dict[str, Any]] = {}  # by place on the dead-letter topic, newest last
        self.max_dead_letters = recent_dead_letters
        self.marks = marks  # the operator's handled / re-driven marks (ops service's SQLite)
        self.unreadable = 0  # records the reader could not fold (counted, logged, skipped)
        self._previous: tuple[float, dict[str, int]] | None = None
        # Made in start(): an Observer used only to sample (vt-ops topics / lag) must leave no client unclosed.
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._latest: tuple[float, dict[str, Any]] | None = None
        self._sampling = asyncio.Lock()
        self.broker = BrokerHistory()
        self.metrics_urls = metrics_urls or {}  # service -> its /metrics: the outboxes are the services' own

    async def latest(self, max_age: float = 1.0) -> dict[str, Any]:
        """A sample at most `max_age` seconds old: several viewers share one, and rates stay per interval."""
        async with self._sampling:
            if self._latest is None or time.monotonic() - self._latest[0] > max_age:
                self._latest = (time.monotonic(), await self.sample())
            return self._latest[1]

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(*self.WATCHED, **self.kafka.client_kwargs(), group_id=None,
                                          auto_offset_reset="earliest", enable_auto_commit=False)
        await self._consumer.start()
        self._task = asyncio.create_task(self._follow())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _follow(self) -> None:
        assert self._consumer is not None
        while True:
            # A bounded batch, then a turn for the rest of the loop: with the records already fetched, getmany returns
            # without waiting, and reading a long history in one go kept the page and a SIGTERM waiting (a CI run:
            # answers 25 s late, not stopped within 15 s).
            batches = await self._consumer.getmany(timeout_ms=500, max_records=FOLD_BATCH)
            await asyncio.sleep(0)
            for records in batches.values():
                for record in records:
                    try:
                        self.fold(record)
                    except Exception:  # one record must never stop the reader (it once showed 5 of 39 dead letters)
                        self.unreadable += 1
                        log.exception("record not folded", extra={"topic": record.topic, "offset": record.offset})

    def fold(self, record: ConsumerRecord) -> None:
        if record.topic == topics.DEAD_LETTERS:
            row = dead_letter_row(record)
            if row["id"] not in self.recent_dead_letters:
                self.dead_letters[row["topic"]] += 1
            self.recent_dead_letters[row["id"]] = row
            while len(self.recent_dead_letters) > self.max_dead_letters:
                self.recent_dead_letters.pop(next(iter(self.recent_dead_letters)))
            return
        if header_value(record.headers, "ce_type") not in FOLDED_TYPES:
            return  # AssessmentInput, MonitoringAlert, ...: nothing to fold, so not decoded (most of these topics)
        try:
            message = decode(record.value, record.headers).message
        except DecodeError:
            return
        if isinstance(message, radar_events.AssessmentDue):
            self.assessments.open[message.case_id] = Deadline(message.tenant_id, message.case_id, "assessment",
                                                              _ts(message.due_at))
        elif isinstance(message, radar_events.AssessmentCompleted):
            self.assessments.open.pop(message.case_id, None)
        elif isinstance(message, delivery_events.DeliveryRequested):
            self.deliveries.open[message.idempotency_key] = Deadline(
                message.tenant_id, message.case_id, delivery_events.DeliveryKind.Name(message.kind).lower(),
                _ts(message.due_at) if message.HasField("due_at") else dt.datetime.max.replace(tzinfo=dt.UTC))
        elif isinstance(message, delivery_events.DeliveryDelivered):
            self.deliveries.open.pop(message.idempotency_key, None)
        elif isinstance(message, delivery_events.DeliveryFailed) and message.permanent:
            if self.deliveries.open.pop(message.idempotency_key, None) is not None:
                self.deliveries.failed[message.tenant_id] += 1

    async def sample(self) -> dict[str, Any]:
        """Topics with sizes and rates, consumer lag, deadlines and dead letters, as one JSON-able dict."""
        admin = AIOKafkaAdminClient(**self.kafka.client_kwargs())
        probe = AIOKafkaConsumer(**self.kafka.client_kwargs(), enable_auto_commit=False)
        await admin.start()
        await probe.start()
        try:
            names = sorted(t for t in await admin.list_topics() if not t.startswith("__"))
            partitions = [TopicPartition(t, p) for t in names for p in (probe.partitions_for_topic(t) or ())]
            if len(partitions) < len(names):  # metadata not cached yet for some topics
                await probe._client.force_metadata_update()  # noqa: SLF001 (aiokafka has no public refresh)
                partitions = [TopicPartition(t, p) for t in names for p in (probe.partitions_for_topic(t) or ())]
            ends = await probe.end_offsets(partitions) if partitions else {}
            begins = await probe.beginning_offsets(partitions) if partitions else {}
            groups = sorted(g for g, _ in await admin.list_consumer_groups() if g.startswith(self.group_prefix))
            lag = await self._lag(groups, {tp: end for tp, end in ends.items() if end > 0})
            cluster = str((await admin.describe_cluster()).get("cluster_id") or "")
        finally:
            await probe.stop()
            await admin.close()
        now_mono, now = time.monotonic(), dt.datetime.now(dt.UTC)
        totals = {t: sum(end for tp, end in ends.items() if tp.topic == t) for t in names}
        rates = self._rates(now_mono, totals)
        if self.broker.cluster_id not in ("", cluster) and self._task is not None and self._consumer is not None:
            # A new, empty broker: the streams are read again from its beginning as the services republish
            # (positions kept from the old one would skip what the new one holds below them).
            await self._consumer.seek_to_beginning()  # a coroutine: unawaited it moved nothing
            self.dead_letters.clear()  # the old broker's dead letters went with it
            self.recent_dead_letters.clear()
        scraped = await scrape(self.metrics_urls)
        rows = self.dead_letter_rows()
        return {
            "time": now.isoformat(),
            "broker": self.broker.observe(cluster, totals, now),
            "outboxes": [outbox_row(row) for row in scraped],
            "inbox": inbox_per_region(scraped),
            "norms": {t: n for row in scraped for t, n in row["norms"].items()},
            "topics": [{"name": t, "tenant": topics.tenant_of(t), "partitions": sum(tp.topic == t for tp in ends),
                        "messages": sum(ends[tp] - begins[tp] for tp in ends if tp.topic == t), "end_offset": totals[t],
                        "rate": rates.get(t, 0.0)} for t in names],
            "lag": lag,
            "assessments": self.assessments.per_tenant(now),
            "deliveries": self.deliveries.per_tenant(now),
            "overdue": self.assessments.overdue(now) + self.deliveries.overdue(now),
            "services": [service_row(row) for row in scraped],
            "dead_letters": {"total": sum(self.dead_letters.values()), "by_topic": dict(self.dead_letters),
                             "handled": sum(1 for r in rows if r["handled"]), "unreadable": self.unreadable,
                             "recent": rows[:200]},
        }

    def dead_letter_rows(self) -> list[dict[str, Any]]:
        """Every dead letter read, newest first, with the operator's marks."""
        rows = list(reversed(self.recent_dead_letters.values()))
        return self.marks.annotate(rows) if self.marks is not None else rows

    def _rates(self, now: float, totals: dict[str, int]) -> dict[str, float]:
        previous, self._previous = self._previous, (now, totals)
        if previous is None or now <= previous[0]:
            return {}
        elapsed = now - previous[0]
        return {t: round((totals[t] - previous[1].get(t, 0)) / elapsed, 2) for t in totals}

    async def _lag(self, groups: list[str], ends: dict[TopicPartition, int]) -> list[dict[str, Any]]:
        # The admin OffsetFetch of aiokafka 0.14 cannot parse the embedded broker's answer; a group
        # consumer's committed() (no subscription, so it never joins the group) can.
        rows = []
        for group in groups:
            consumer = AIOKafkaConsumer(**self.kafka.client_kwargs(), group_id=group, enable_auto_commit=False)
            await consumer.start()
            try:
                for tp, end in sorted(ends.items()):
                    committed = await consumer.committed(tp)
                    if committed is not None:
                        rows.append({"group": group, "topic": tp.topic, "partition": tp.partition,
                                     "committed": committed, "end": end, "lag": max(end - committed, 0)})
            finally:
                await consumer.stop()
        return rows


OUTBOX_FAMILIES = {"vt_outbox_backlog": "backlog", "vt_outbox_quarantined": "quarantined",
                   "vt_broker_recoveries": "recoveries"}


# The region inbox figures the notifier exports per region (notifier.inbox): (sample name, state/in_time) -> column.
INBOX_SAMPLES = {("vt_inbox_unacknowledged", "open"): "open", ("vt_inbox_unacknowledged", "late"): "late",
                 ("vt_inbox_acknowledged_total", "true"): "in_time", ("vt_inbox_acknowledged_total", "false"): "too_late",
                 ("vt_inbox_escalations_total", ""): "escalated",
                 ("vt_household_not_informed_late", ""): "letters_late"}


def inbox_per_region(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per region: items not acknowledged (open), of those past their deadline (late), acknowledged in time or too
    late, escalated, the share acknowledged in time (None before the first acknowledgement), and households not
    informed by their letter's due date (letters_late; the 4 weeks run from recording, decided or not)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        for tenant, figures in row.get("inbox", {}).items():
            merged = out.setdefault(tenant, {"open": 0, "late": 0, "in_time": 0, "too_late": 0, "escalated": 0,
                                             "letters_late": 0})
            for column, value in figures.items():
                merged[column] += value
    for figures in out.values():
        done = figures["in_time"] + figures["too_late"]
        figures["share_in_time"] = round(figures["in_time"] / done, 3) if done else None
    return out


async def outboxes(metrics_urls: dict[str, str], timeout: float = 1.0) -> list[dict[str, Any]]:
    """Every service's outbox from its /metrics: rows waiting for the broker, rows quarantined, broker losses it
    recovered from (vtkit.outbox); a service that does not answer within `timeout` is listed as down."""
    return [outbox_row(row) for row in await scrape(metrics_urls, timeout)]


def outbox_row(scraped: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in scraped.items() if k not in ("inbox", "norms", "version")}


def service_row(scraped: dict[str, Any]) -> dict[str, Any]:
    """Up or down and the version a service reports (vt_build_info on its /metrics)."""
    return {"service": scraped["service"], "up": scraped["up"], "version": scraped.get("version", "")}


async def scrape(metrics_urls: dict[str, str], timeout: float = 1.0) -> list[dict[str, Any]]:
    """What the dashboard reads of every service's /metrics (all asked at once): its outbox, and the region inbox
    and sector norm figures per region of the services that export them."""
    import aiohttp
    from prometheus_client.parser import text_string_to_metric_families

    async def one(session: aiohttp.ClientSession, name: str, url: str) -> dict[str, Any]:
        row: dict[str, Any] = {"service": name, "up": False, "inbox": {}, "norms": {}, "version": "",
                               **dict.fromkeys(OUTBOX_FAMILIES.values(), 0)}
        try:
            async with session.get(url) as reply:
                text = await reply.text()
                row["up"] = reply.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return row
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "vt_build_info" and sample.value:
                    row["version"] = sample.labels.get("version", "")
                if sample.name == "vt_norm_share" and sample.labels.get("tenant"):  # radar's sector norms
                    row["norms"].setdefault(sample.labels["tenant"], {})[sample.labels.get("norm", "")] = sample.value
                column = INBOX_SAMPLES.get((sample.name, sample.labels.get("state") or sample.labels.get("in_time", "")))
                if column and sample.labels.get("tenant"):
                    row["inbox"].setdefault(sample.labels["tenant"], {})[column] = int(sample.value)
            if family.name in OUTBOX_FAMILIES:
                row[OUTBOX_FAMILIES[family.name]] = int(sum(s.value for s in family.samples
                                                            if not s.name.endswith("_created")))
        return row

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        return list(await asyncio.gather(*(one(session, n, u) for n, u in sorted(metrics_urls.items()))))


@dataclass
class BrokerHistory:
    """Notices a broker that lost its history (the embedded one keeps it in memory; each start has a new
    cluster id) and follows the services publishing their outboxes again: how many of the intake records
    the old broker held are back (docs/architecture.md, Broker loss)."""

    cluster_id: str = ""
    replaced_at: dt.datetime | None = None
    before: int = 0  # intake records on the broker that was lost
    _seen: int = 0  # intake records on the current broker at the last sample

    def observe(self, cluster_id: str, totals: dict[str, int], now: dt.datetime) -> dict[str, Any]:
        intake = sum(n for topic, n in totals.items() if topic.endswith(".intake.v1"))
        if self.cluster_id and cluster_id != self.cluster_id:
            self.replaced_at, self.before = now, self._seen
        self.cluster_id, self._seen = cluster_id, intake
        state: dict[str, Any] = {"cluster_id": cluster_id}
        if self.replaced_at is not None:
            state.update(replaced_at=self.replaced_at.isoformat(), intake_before=self.before, intake_now=intake,
                         recovered_percent=min(100, round(100 * intake / self.before)) if self.before else 100)
        return state



# The figures the dashboard's chart can show, with their unit (Dutch, as on the page).
SERIES = {"rate": "berichten/s", "lag": "berichten achter", "dead_letters": "dead letters", "overdue": "termijnen verlopen",
          "backlog": "outbox-rijen wachtend", "quarantined": "outbox-rijen in quarantaine"}


def headline(summary: dict[str, Any]) -> dict[str, float]:
    """The chart's figures of one sample."""
    outboxes = summary.get("outboxes", [])
    return {"rate": round(sum(t["rate"] for t in summary["topics"]), 2), "lag": sum(r["lag"] for r in summary["lag"]),
            "dead_letters": summary["dead_letters"]["total"], "overdue": len(summary["overdue"]),
            "backlog": sum(o["backlog"] for o in outboxes), "quarantined": sum(o["quarantined"] for o in outboxes)}


class History:
    """The headline figures every `interval` seconds for `span` seconds (default 10 s for 24 h: 8640 samples a
    series), kept by the ops service so the chart shows more than one browser's visit; in memory, lost when the
    service restarts (the figures themselves are all on the broker or the services' /metrics)."""

    def __init__(self, interval: float = 10.0, span: float = 24 * 3600.0):
        self.interval = interval
        self.samples: deque[tuple[float, dict[str, float]]] = deque(maxlen=max(1, int(span // interval)))

    def add(self, summary: dict[str, Any], at: float | None = None) -> None:
        self.samples.append((time.time() if at is None else at, headline(summary)))

    def view(self, span: float, points: int = 360) -> dict[str, Any]:
        """The last `span` seconds, at most `points` per series (each point the largest value of the samples it
        stands for, so a peak is never averaged away)."""
        cutoff = time.time() - span
        chosen = [s for s in self.samples if s[0] >= cutoff]
        step = max(1, -(-len(chosen) // max(points, 1)))
        times: list[float] = []
        series: dict[str, list[float]] = {name: [] for name in SERIES}
        for i in range(0, len(chosen), step):
            group = chosen[i:i + step]
            times.append(group[-1][0])
            for name in SERIES:
                series[name].append(max(values.get(name, 0) for _, values in group))
        return {"interval": self.interval, "capacity": self.samples.maxlen, "held": len(self.samples), "span": span,
                "units": SERIES, "times": times, "series": series}

    async def run(self, observer: Observer) -> None:
        """Sample for ever (the ops service runs it as a task and cancels it at stop)."""
        while True:
            started = time.monotonic()
            try:
                self.add(await observer.latest(max_age=self.interval / 2))
            except Exception:  # a broker that does not answer is a gap in the chart, not the end of the history
                log.warning("history sample failed", exc_info=True)
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))
