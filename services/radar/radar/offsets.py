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
offset. An unhandled record stays above the committed offset and is read again after the rebalance or
restart (outputs carry derived event ids, so a second handling is harmless)."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

from faust.transport.drivers.aiokafka import Consumer
from faust.types import TP, Message

log = logging.getLogger(__name__)


class HandledOnlyConsumer(Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handled: defaultdict[TP, set[int]] = defaultdict(set)
        self.released = 0  # acks dropped because radar never handled the record (tests, the log)
        self._held: dict[TP, int] = {}  # partitions whose commit waits for the record at this offset

    def mark_handled(self, message: Message) -> None:
        self._handled[message.tp].add(message.offset)

    def _new_offset(self, tp: TP) -> int | None:
        acked, handled = self._acked[tp], self._handled[tp]
        committed = self._committed_offset[tp]
        unhandled = [offset for offset in acked if offset not in handled]
        self.released += len(unhandled)
        # Already committed (acked in an earlier generation, before the committed offset was read again):
        # nothing to do for them, and they must not hide the hole check below.
        stale = [offset for offset in acked if committed is not None and offset < committed]
        if unhandled or stale:
            # Forgotten, so the ack of the same offset re-read and handled later counts.
            self._acked_index[tp].difference_update(unhandled + stale)
            acked[:] = [offset for offset in acked if offset in handled and (committed is None or offset >= committed)]
        self._gap.pop(tp, None)
        if acked and committed is not None and min(acked) != committed:
            # The record at the committed offset is not handled yet: faust lost it on the way (the next
            # rebalance or restart reads it again) or it is still on its way. Say so once per offset.
            if self._held.get(tp) != committed:
                self._held[tp] = committed
                log.warning("commit held back: record at the committed offset not handled",
                            extra={"topic": tp.topic, "partition": tp.partition, "offset": committed,
                                   "first_handled": min(acked)})
            return None
        new_offset: int | None = super()._new_offset(tp)
        if new_offset is not None:
            handled.difference_update([offset for offset in handled if offset < new_offset])
        return new_offset
