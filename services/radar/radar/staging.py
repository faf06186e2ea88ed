"""What one batch of records will publish and write to radar's tables, before it is done.

The handlers read through it (a staged value hides the table's), so the records of one batch
see each other's results exactly as if each had been written at once; the agent publishes
`outputs`, waits for the broker's acknowledgement, and only then calls `apply`.

faust writes a table key to the store and changelog partition of the event being processed
(co-partitioning), which it finds in a context variable that is only set while a stream iterates.
A batch is written after that, so `apply` sets each key's own event again around its write."""

from __future__ import annotations

import weakref
from collections.abc import MutableMapping
from typing import Any

from faust.streams import _current_event
from vtkit import tracing

from radar.outputs import Out

# A staged value that removes its key from the table (a tombstone in its changelog) rather than storing a value.
DELETED: Any = object()


class Staged:
    def __init__(self) -> None:
        self.outputs: list[Out] = []
        # Per output, the trace context of the record it came from (None with tracing off): published later, in
        # a producer span of that trace (vtkit.tracing).
        self.traces: list[Any] = []
        self._writes: dict[int, tuple[MutableMapping[str, Any], dict[str, tuple[Any, Any]]]] = {}
        self.event: Any = None  # the faust event of the record being handled

    def publish(self, outputs: list[Out]) -> None:
        self.outputs.extend(outputs)
        self.traces.extend([tracing.current_context()] * len(outputs))

    def put(self, table: MutableMapping[str, Any], key: str, value: Any) -> None:
        self._writes.setdefault(id(table), (table, {}))[1][key] = (value, self.event)

    def delete(self, table: MutableMapping[str, Any], key: str) -> None:
        """The key leaves the table when the batch is applied (nothing is written when it is not there)."""
        self.put(table, key, DELETED)

    def get(self, table: MutableMapping[str, Any], key: str) -> Any:
        staged = self._writes.get(id(table))
        if staged is not None and key in staged[1]:
            value = staged[1][key][0]
            return None if value is DELETED else value
        return table.get(key)

    def apply(self) -> None:
        """Writes the last staged value of every key (faust sends each to the table's changelog)."""
        for table, values in self._writes.values():
            for key, (value, event) in values.items():
                # Whether a key to delete is there is asked before the event is set: with it, faust's rocksdb store
                # looks only in that event's partition.
                if value is DELETED and key not in table:
                    continue
                token = _current_event.set(weakref.ref(event) if event is not None else None)
                try:
                    if value is DELETED:
                        del table[key]
                    else:
                        table[key] = value
                finally:
                    _current_event.reset(token)
        self._writes.clear()
