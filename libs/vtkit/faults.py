"""Fault points: named places where a test makes a situation happen instead of racing for it.

A test that needs "radar is in the middle of publishing a batch" must not hope the machine is slow
enough (docs/testing.md). It starts the process with `VT_FAULT_HOLD=<point>@<n>`: the n-th time the
code reaches `await hold_point("<point>")`, it logs `fault point held` and waits there until the task
is cancelled (a SIGTERM, a stop). `VT_FAULT_DROP=<point>@<n>` makes `drops_here("<point>")` true on
the n-th visit: the code then loses what it holds, as a faulty library once did (radar.offsets).
Unset (production), a point costs one dict lookup.
"""

from __future__ import annotations

import asyncio
import logging
import os

log = logging.getLogger("vtkit.faults")
ENV = "VT_FAULT_HOLD"
DROP_ENV = "VT_FAULT_DROP"
HELD_MESSAGE = "fault point held"
DROPPED_MESSAGE = "fault point dropped"


def _parse(raw: str) -> dict[str, int]:
    """`name@n,other@m` -> {name: n, other: m}; `name` alone holds the first time."""
    holds: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, nth = item.partition("@")
        try:
            holds[name] = int(nth or 1)
        except ValueError:
            raise ValueError(f"{ENV}: {item!r} is not <point>@<n>") from None
    return holds


_holds = _parse(os.environ.get(ENV, ""))
_drops = _parse(os.environ.get(DROP_ENV, ""))
_reached: dict[str, int] = {}


def _armed_now(points: dict[str, int], name: str) -> bool:
    if name not in points:
        return False
    _reached[name] = _reached.get(name, 0) + 1
    return _reached[name] == points[name]


async def hold_point(name: str) -> None:
    """Return at once unless a test armed this point for this visit; then wait until cancelled."""
    if _armed_now(_holds, name):
        log.warning(HELD_MESSAGE, extra={"point": name, "visit": _reached[name]})
        await asyncio.Event().wait()


def drops_here(name: str) -> bool:
    """False unless a test armed this point (VT_FAULT_DROP) for this visit."""
    if _armed_now(_drops, name):
        log.warning(DROPPED_MESSAGE, extra={"point": name, "visit": _reached[name]})
        return True
    return False

