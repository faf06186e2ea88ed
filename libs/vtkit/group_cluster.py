"""The cluster a consumer group's committed offsets belong to, so that a consumer whose broker was replaced reads the
new broker from its start instead of from its positions on the lost one (docs/architecture.md, "Broker loss").

The embedded broker (tansu) keeps everything in memory and starts as a new, empty cluster. aiokafka does not notice:
a consumer whose broker was replaced commits its positions on the lost broker to the new one (tansu takes the commit
of a member it never saw) and, after its rejoin, fetches from that commit. What the new broker holds below it (the
outboxes published again, and what was published during the loss) was never read, which fits a decision that once
never reached the notifier in tests/integration/test_broker_loss_under_load.py. tansu keeps no commit metadata, so
the cluster cannot travel with the commit; the group remembers it in a file next to the consumer's own data. The file
is written only once the group's offsets are known to be the cluster's own, so a consumer killed in between resets
them again at its start. A plain aiokafka consumer (vtkit.kafka.consume) calls `reset` before each fetch; radar's
faust worker seeks and commits in its own consumer once its partitions are assigned (radar.offsets) and calls
`reset_done` (docs/architecture.md, "Broker loss")."""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError

from vtkit import metrics
from vtkit.kafka import cluster_id

log = logging.getLogger(__name__)


class GroupCluster:
    """`<data_dir>/<group_id>.cluster` holds the cluster id the group's committed offsets belong to. The consumer
    calls `settle` at its start, `check` after each fetch (it asks the broker at most every `check_seconds`) and
    `reset` before each fetch: while a reset is pending, its partitions are sought to their start and the group's
    commits set to it."""

    def __init__(self, data_dir: pathlib.Path, group_id: str, check_seconds: float = 5.0):
        self.path, self.group_id, self.check_seconds = data_dir / f"{group_id}.cluster", group_id, check_seconds
        self.cluster = ""
        self.pending = False  # the group's positions may be a lost cluster's: read from the start
        self._checked = -float("inf")

    async def settle(self, producer: AIOKafkaProducer) -> None:
        """At the consumer's start: the remembered cluster is not the broker's, so the group's commits on it are the
        lost broker's positions (committed by a consumer that did not notice the loss) or none."""
        current = await cluster_id(producer)
        remembered = _remembered(self.path)
        self.cluster, self._checked = current, time.monotonic()
        if not remembered:
            _remember(self.path, current)  # a first start (or one before this file existed): its commits are its own
        elif remembered != current:
            self._replaced(remembered, current)

    async def check(self, producer: AIOKafkaProducer) -> None:
        if time.monotonic() - self._checked < self.check_seconds:
            return
        try:
            current = await asyncio.wait_for(cluster_id(producer), self.check_seconds)
        except (KafkaError, OSError, TimeoutError):
            return  # the broker is away: asked again next time
        self._checked = time.monotonic()
        if current and current != self.cluster:
            self._replaced(self.cluster, current)
            self.cluster = current

    async def reset(self, consumer: AIOKafkaConsumer) -> None:
        """Seek every assigned partition to its start and commit that start for the group, then remember the
        cluster. Without an assignment yet (the group is joining) or a commit refused (it rebalanced), it stays
        pending and is done again before the next fetch."""
        if not self.pending or not (partitions := consumer.assignment()):
            return
        await consumer.seek_to_beginning(*partitions)
        try:
            starts = await consumer.beginning_offsets(list(partitions))
            await consumer.commit(dict(starts))
        except KafkaError as exc:
            log.warning("group offsets not reset yet; trying again", extra={"group": self.group_id,
                                                                            "error": str(exc)[:200]})
            return
        self.reset_done(len(partitions))

    def reset_done(self, partitions: int) -> None:
        """The consumer sought its `partitions` to their start and committed that start: the group's offsets are the
        cluster's own from now on."""
        self.pending = False
        _remember(self.path, self.cluster)
        log.info("group offsets reset to the start of its partitions",
                 extra={"group": self.group_id, "cluster": self.cluster, "partitions": partitions})

    def _replaced(self, previous: str, current: str) -> None:
        self.pending = True
        metrics.CONSUMER_REREADS.labels(self.group_id).inc()
        log.warning("the broker lost its history (new cluster id): reading the topics again from their start",
                    extra={"group": self.group_id, "previous_cluster": previous, "cluster": current})


def _remembered(path: pathlib.Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""


def _remember(path: pathlib.Path, cluster: str) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as file:
        file.write(cluster + "\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(tmp, path)
