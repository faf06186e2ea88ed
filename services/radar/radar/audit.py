"""Access log for reads through RadarService (NEN 7513 fields, domain.md section 7).

Same shape as intake's log: JSON lines with ids, tenants and roles only, never the data read.
A hash-chained, tamper-evident log replaces it suite-wide later (design.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import pathlib
import threading


class JsonlAuditLog:
    def __init__(self, path: str | pathlib.Path, service: str = "radar"):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.service = service
        self._lock = threading.Lock()

    def append(self, *, what: str, subject: dict[str, str], tenant: str, role: str, purpose: str, outcome: str) -> None:
        line = json.dumps({"what": what, "when": dt.datetime.now(dt.UTC).isoformat(), "subject": subject,
                           "who": {"tenant": tenant, "role": role}, "purpose": purpose, "where": self.service,
                           "outcome": outcome}, sort_keys=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
            log.flush()
            os.fsync(log.fileno())  # an access that happened stays logged even after a crash

    async def record(self, **fields: object) -> None:
        await asyncio.to_thread(lambda: self.append(**fields))  # type: ignore[arg-type]
