"""Only records radar handled may move its committed offsets (a melding was once lost in make chaos:
docs/measurements.md, "Chaos").

faust (faust-streaming 0.15) acknowledges records it never handed to an agent: a stream that pulls a
record while the flow is suspended (a rebalance has begun) or whose generation is stale "skips" it
and acks it, and the consumer counts that ack toward the next commit. During a rebalance the consumer
has forgotten the committed offset (popped on revocation, read again only after the assignment), so
`_new_offset` commits any acked run without checking it starts there; even when it is known, its check
lets a hole at exactly the committed offset through (off by one); and offsets it takes for "gaps" in
a fetch count as acked. A skipped record then ends up below the committed offset, is never read again,
and nothing logs it.

The agents call `mark_handled` for each record once its outputs are acknowledged and its table writes
done, then ack it. Before faust computes a partition's commit, acks of records that were not handled
are dropped (faust's Cython stream writes them straight into `_acked`, so overriding `ack` would not
see them), gaps are ignored, and nothing is committed unless the handled run starts at the committed
offset (for a group without one, faust's case after a broker loss: at the first offset fetched).
An unhandled record stays above the committed offset. faust does not deliver it again by itself (its
read position has passed it), so when a record at or after the next commit's start was handed to faust
and that start has not moved for REREAD_AFTER seconds, the consumer seeks the partition back to it
before its next fetch: the lost record and those after it are read again (outputs carry derived event
ids, so a second handling is harmless).
After a broker loss this was how acknowledged meldingen waited for radar's next restart
(docs/measurements.md, "Broker loss under load").

An offset can also hold no record at all (a hole in the partition's offsets). The first record a read from
an offset returns is then above it, and nothing below it can ever be handled: the next commit starts at
that first record, as after an assignment. Without this a commit held at a hole was read again every
REREAD_AFTER seconds for ever (CI60: vt.national.verwijsindex.v1 partition 0, offset 2).

After a broker loss the group's commits on the new broker may be the lost broker's positions (a faust commit under
way at the loss reaches the new broker, which takes it from a group it never saw). Radar starts again when it finds
the broker replaced, and then knows it from its data directory (vtkit.group_cluster): once its partitions are
assigned, before its streams resume, it seeks them to their start and commits that start as a member of the group
(tansu refuses a commit from outside a group that had members, docs/architecture.md, "Broker loss")."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP, Message
from vtkit.group_cluster import GroupCluster

log = logging.getLogger(__name__)
REREAD_AFTER = 10.0  # seconds; a batch being handled is acked well within this, a lost record never is


class ReadPositions:
    """Per partition: where reading (again) began, what was last handed to faust, and since when the next commit
    has waited at its start. Pure bookkeeping; the consumer below feeds it and acts on `stale`."""

    def __init__(self, reread_after: float = REREAD_AFTER) -> None:
        self.reread_after = reread_after
        # The first offset fetched since the partition was assigned (or read again): where reading began (the
        # committed offset, or where the reset policy put a group that has none). faust keeps no committed
        # offset for a new group (nor for offset 0), and then committed whatever run was acked first.
        self.first_fetched: dict[TP, int] = {}
        self.delivered: dict[TP, int] = {}  # the last offset handed to faust per partition
        self._waiting: dict[TP, tuple[int, float]] = {}  # partition -> (offset its next commit starts at, since)
        self._reading_from: dict[TP, int] = {}  # partition -> the offset a re-read sought to, until a record came

    def fetched(self, tp: TP, offset: int) -> None:
        sought = self._reading_from.pop(tp, None)
        if sought is not None and offset > sought:
            log.warning("no record at these offsets: the next commit starts after them",
                        extra={"topic": tp.topic, "partition": tp.partition, "offset": sought, "next": offset})
            self.first_fetched[tp] = max(self.first_fetched.get(tp, offset), offset)
        self.first_fetched.setdefault(tp, offset)
        self.delivered[tp] = offset

    def next_to_commit(self, tp: TP, committed: int | None) -> int | None:
        """The offset the next committed run must start at; None while no record was fetched since the assignment."""
        first = self.first_fetched.get(tp)
        if first is None:
            return None
        return first if committed is None else max(committed, first)

    def stale(self, now: float, committed: Callable[[TP], int | None]) -> list[tuple[TP, int]]:
        """Partitions to read again: a record at or after where the next commit starts was handed to faust, and
        that start has not moved for reread_after seconds. A batch is handled and committed well within it; a
        record faust skipped never is, also when it was the last of its partition (no commit is held for it)."""
        stale = []
        for tp, delivered in self.delivered.items():
            start = self.next_to_commit(tp, committed(tp))
            if start is None or delivered < start:
                self._waiting.pop(tp, None)
                continue
            waiting = self._waiting.get(tp)
            if waiting is None or waiting[0] != start:
                self._waiting[tp] = (start, now)
            elif now - waiting[1] >= self.reread_after:
                self._waiting[tp] = (start, now)
                stale.append((tp, start))
        return stale

    def reading_again(self, tp: TP, offset: int) -> None:
        # Only what is handed over from here counts: an offset delivered before (perhaps by a broker that was
        # lost meanwhile, above the new broker's end) would make every later check read the partition again.
        self.delivered[tp] = offset - 1
        self._reading_from[tp] = offset

    def forget(self, tp: TP) -> None:
        for book in (self.first_fetched, self.delivered, self._waiting, self._reading_from):
            book.pop(tp, None)


class HandledOnlyConsumer(Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handled: defaultdict[TP, set[int]] = defaultdict(set)
        self.released = 0  # acks dropped because radar never handled the record (tests, the log)
        self.rereads = 0  # partitions read again from their committed offset (tests, the log)
        self.positions = ReadPositions()
        self._held: dict[TP, int] = {}  # partition -> the offset its held commit was logged for
        # Corrects the ends the broker reports (vtkit.kafka.true_end_offsets); set by radar.app.
        self.true_ends: Callable[[Mapping[TP, int]], Awaitable[Mapping[TP, int]]] | None = None
        # The cluster the group's commits belong to; set by radar.app, settled by radar.bootstrap before the worker starts.
        self.group_cluster: GroupCluster | None = None

    def mark_handled(self, message: Message) -> None:
        self._handled[message.tp].add(message.offset)

    def _next_to_commit(self, tp: TP) -> int | None:
        return self.positions.next_to_commit(tp, self._committed_offset[tp])

    def _new_offset(self, tp: TP) -> int | None:
        acked, handled = self._acked[tp], self._handled[tp]
        start = self._next_to_commit(tp)
        unhandled = [offset for offset in acked if offset not in handled]
        self.released += len(unhandled)
        # Already committed (acked in an earlier generation, before the committed offset was read again):
        # nothing to do for them, and they must not hide the hole check below.
        stale = [offset for offset in acked if start is not None and offset < start]
        if unhandled or stale:
            # Forgotten, so the ack of the same offset re-read and handled later counts.
            self._acked_index[tp].difference_update(unhandled + stale)
            acked[:] = [offset for offset in acked if offset in handled and (start is None or offset >= start)]
        self._gap.pop(tp, None)
        if not acked or start is None:
            return None
        if min(acked) != start:
            self._hold(tp, start, min(acked))
            return None
        self._held.pop(tp, None)
        new_offset: int | None = super()._new_offset(tp)
        if new_offset is not None:
            handled.difference_update([offset for offset in handled if offset < new_offset])
        return new_offset

    def _hold(self, tp: TP, start: int, first_handled: int) -> None:
        """The record at `start` is not handled yet: still on its way, or faust lost it (then `_stale` finds it)."""
        if self._held.get(tp) != start:
            self._held[tp] = start
            log.warning("commit held back: record at the committed offset not handled",
                        extra={"topic": tp.topic, "partition": tp.partition, "offset": start,
                               "first_handled": first_handled})

    async def on_partitions_assigned(self, assigned: set[TP], generation_id: int = 0) -> None:
        # Radar's input topics and tables are co-partitioned: the partition numbers of its source topics are the
        # keys (cases, persons) this worker owns; the changelogs of the others it keeps as standby copies.
        owned = sorted({tp.partition for tp in assigned if not self._is_changelog_tp(tp)})
        log.info("partitions assigned", extra={"partitions": owned, "generation": generation_id})
        await super().on_partitions_assigned(assigned, generation_id)

    async def perform_seek(self) -> None:
        # faust seeks the assigned partitions to their committed offsets here, after each assignment and before the
        # streams resume: where a commit of the lost broker's positions would be read from.
        await super().perform_seek()
        if self.group_cluster is not None and self.group_cluster.pending:
            await self._read_from_start(self.group_cluster)

    async def _read_from_start(self, cluster: GroupCluster) -> None:
        """Every source partition assigned to this worker from its start, and that start committed for the group.
        A commit refused (the group rebalanced meanwhile) leaves the reset pending for the next assignment."""
        partitions = sorted(tp for tp in self.assignment() if not self._is_changelog_tp(tp))
        if not partitions:
            return
        starts = await self.earliest_offsets(*partitions)
        for tp in partitions:
            await self.seek(tp, starts[tp])
            self.positions.forget(tp)
            self._committed_offset[tp] = starts[tp] or None  # faust's bookkeeping: None for "from the start"
        if await self._commit({tp: starts[tp] for tp in partitions}):
            cluster.reset_done(len(partitions))

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for tp in revoked:
            self.positions.forget(tp)
            self._held.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        # Seek between two fetches, never inside one: the rest of a fetched run would move faust's read
        # position past the offset again and the re-read records would be dropped as already read.
        for tp, offset in self.positions.stale(time.monotonic(), self._committed_offset.get):
            if tp not in self.assignment():
                continue  # revoked meanwhile: its new owner starts at the committed offset anyway
            self.rereads += 1
            log.warning("reading a partition again from its committed offset: a record there was never handled",
                        extra={"topic": tp.topic, "partition": tp.partition, "offset": offset})
            await self.seek(tp, offset)
            self.positions.reading_again(tp, offset)
        fetched, changelog = self.positions.fetched, self._is_changelog_tp
        async for tp, message in super().getmany(timeout):
            # A table's changelog (read at recovery, and all along for a standby partition of another worker) is
            # applied by faust's table manager, never handled by an agent and never committed: not ours to watch.
            if not changelog(tp):
                fetched(tp, message.offset)
            yield tp, message

    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
        # faust's table recovery reads each changelog partition up to these ends: with the embedded broker's
        # (the last batch's first record + 1) it stopped short and the last table writes were lost at a restart.
        ends: Mapping[TP, int] = await super().highwaters(*partitions)
        return await self.true_ends(ends) if self.true_ends is not None else ends
