"""Access log for reads of personal data (NEN 7513 fields, domain.md 7).

A plain JSON-lines file for now; issue 7 replaces it with a hash-chained, tamper-evident log.
Records hold ids, tenants and roles only, never the personal data that was read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import pathlib
import threading


class JsonlAuditLog:
    def __init__(self, path: str | pathlib.Path, service: str):
        self.path = pathlib.Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.service = service
        self._lock = threading.Lock()

    def append(self, *, what: str, subject: str, tenant: str, role: str, purpose: str, outcome: str) -> None:
        line = json.dumps({
            "what": what,
            "when": dt.datetime.now(dt.UTC).isoformat(),
            "subject": {"contact_id": subject},
            "who": {"tenant": tenant, "role": role},
            "purpose": purpose,
            "where": self.service,
            "outcome": outcome,
        }, sort_keys=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as log:
            log.write(line + "\n")
            log.flush()
            # An access that happened must stay logged even if the machine crashes right after.
            os.fsync(log.fileno())

    async def record(self, **fields: str) -> None:
        await asyncio.to_thread(lambda: self.append(**fields))
