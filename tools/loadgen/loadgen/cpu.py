"""CPU time of processes, read from /proc (Linux only), for the bench's CPU per melding.

psutil is not in requirements/dev.lock, and what is needed is small: utime + stime (+ cutime + cstime of reaped
children) of /proc/<pid>/stat in clock ticks, plus the live descendants, found through the ppid field of
/proc/*/stat. A service process (devstack.processes: `python -m <module>`) forks nothing today; its descendants are
counted anyway, so a worker process a service might start later is not silently left out."""

from __future__ import annotations

import os
import pathlib
from collections.abc import Mapping

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses): index 0 is
    field 3 (state) of proc(5), so ppid is [1], utime [11], stime [12], cutime [13], cstime [14]."""
    text = pathlib.Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def _children() -> dict[int, list[int]]:
    """ppid -> pids of every process visible now."""
    out: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                out.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                pass  # exited while we looked
    return out


def _ticks(pid: int, descendants: bool, tree: dict[int, list[int]]) -> int:
    fields = _stat_fields(pid)
    ticks = int(fields[11]) + int(fields[12])
    if descendants:
        ticks += int(fields[13]) + int(fields[14])  # children already waited for
        for child in tree.get(pid, []):
            try:
                ticks += _ticks(child, True, tree)  # live ones, with their own children
            except OSError:
                pass  # exited between the scan and the read: its time moves to our cutime once reaped
    return ticks


def cpu_seconds(pid: int, *, descendants: bool = True, children: dict[int, list[int]] | None = None) -> float:
    """CPU seconds (user + system, all threads) the process has used so far; with `descendants`, plus those of
    its children that were waited for (cutime + cstime) and of its live descendants. Raises OSError when the
    process no longer exists."""
    tree = (_children() if children is None else children) if descendants else {}
    return _ticks(pid, descendants, tree) / CLK_TCK


class CpuWindow:
    """CPU seconds per named process between start() and stop(). `own` names processes whose descendants are
    not theirs to count (the load generator: the stack and the broker are its children)."""

    def __init__(self, pids: Mapping[str, int], own: frozenset[str] = frozenset()):
        self.pids = dict(pids)
        self.own = own
        self._start: dict[str, float] = {}

    def _sample(self) -> dict[str, float]:
        tree = _children()
        return {name: cpu_seconds(pid, descendants=name not in self.own, children=tree)
                for name, pid in self.pids.items()}

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> dict[str, float]:
        end = self._sample()
        return {name: end[name] - self._start[name] for name in self.pids}
