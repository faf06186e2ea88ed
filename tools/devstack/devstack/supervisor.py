"""`make run` starts a service again when it exits without being asked to, as deploy/k8s does (restartPolicy
Always, with back-off). Every service recovers at its start from what it keeps on disk and the broker holds
(docs/architecture.md, "Broker loss"), so starting it again is the recovery; a stack that stopped whole when one
service exited (radar after faust crashed following a broker loss) left a region without acute meldingen assessed.
The embedded broker too: a new, empty one on the same port is a broker loss, which the services recover from.

A service that keeps exiting is not hidden: each exit is said with its log, each start again waits twice as long
(1 s to 30 s), and more than `max_restarts` exits within `window` seconds stop the stack (CrashLoop)."""

from __future__ import annotations

import pathlib
import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

FIRST_DELAY, MAX_DELAY = 1.0, 30.0


class Supervised(Protocol):
    """A ServiceProcess, or the EmbeddedBroker."""

    log_path: pathlib.Path

    @property
    def proc(self) -> subprocess.Popen[bytes] | None: ...

    def start(self) -> object: ...


class CrashLoop(Exception):
    """A service exited more often than the supervisor starts it again."""


@dataclass
class Supervisor:
    processes: Mapping[str, Supervised]
    max_restarts: int = 5
    window: float = 600.0
    clock: Callable[[], float] = time.monotonic
    _exits: dict[str, deque[float]] = field(default_factory=dict)  # name -> when it exited, within the window
    _due: dict[str, float] = field(default_factory=dict)  # name -> when it is started again

    def tick(self) -> list[str]:
        """Notice exits and start again what is due; returns what happened, one line each."""
        now, said = self.clock(), []
        for name, process in self.processes.items():
            if name in self._due:
                if now < self._due[name]:
                    continue
                del self._due[name]
                try:
                    process.start()
                except Exception as exc:  # e.g. the broker's port not free yet: one more exit, started again later
                    said.append(self._exited(name, now, f"could not start ({exc})", process.log_path))
                    continue
                said.append(f"{name} started again")
            elif process.proc is not None and process.proc.poll() is not None:
                said.append(self._exited(name, now, f"exited with {process.proc.returncode}", process.log_path))
        return said

    def _exited(self, name: str, now: float, what: str, log_path: pathlib.Path) -> str:
        exits = self._exits.setdefault(name, deque())
        exits.append(now)
        while exits and exits[0] < now - self.window:
            exits.popleft()
        if len(exits) > self.max_restarts:
            raise CrashLoop(f"{name} exited {len(exits)} times within {self.window:.0f} s (the last time: {what}); "
                            f"see {log_path}")
        delay = min(FIRST_DELAY * 2 ** (len(exits) - 1), MAX_DELAY)
        self._due[name] = now + delay
        return f"{name} {what}; starting it again in {delay:.0f} s (see {log_path})"
