"""Deterministic event ids: a redelivered input yields the same output ids, so
downstream consumers (which dedupe on ce_id) see a replay as a duplicate."""

from __future__ import annotations

import uuid

NAMESPACE = uuid.UUID("5b0b6f3e-3c55-4f55-9a39-7f1c2a0e6d11")


def derived_event_id(input_event_id: str, kind: str, *parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "|".join((input_event_id, kind, *parts))))
