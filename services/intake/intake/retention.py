"""The retention sweep (Wmo 5.3.4): every `interval` seconds intake destroys the dossiers of its region
whose last change is more than 20 years ago, through the same path as a destruction request (key
destroyed, contacts blanked, DossierDestroyed published), and writes a delete record per dossier."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from vtkit.audit import AuditLog

from intake.handlers import IntakeHandlers

log = logging.getLogger("intake.retention")
PURPOSE = "retention Wmo 5.3.4"


async def sweep_once(handlers: IntakeHandlers, audit: AuditLog) -> int:
    destroyed = await handlers.sweep_retention()
    for dossier_id, contact_ids in destroyed:
        # No caller: intake itself acts, for its own organisation.
        await audit.record(action="delete", what="retention sweep", tenant=handlers.tenant, role="intake",
                           subject={"dossier_id": dossier_id, "contact_ids": ",".join(contact_ids)},
                           purpose=PURPOSE, outcome="success")
    if destroyed:
        log.info("dossiers destroyed after retention", extra={"count": len(destroyed), "tenant": handlers.tenant})
    return len(destroyed)


async def run_retention(handlers: IntakeHandlers, audit: AuditLog, interval: float, stop: asyncio.Event) -> None:
    """Sweep at start and then every `interval` seconds until `stop`; a failed sweep is retried next time."""
    while not stop.is_set():
        try:
            await sweep_once(handlers, audit)
        except Exception:
            log.exception("retention sweep failed; retried at the next interval")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
