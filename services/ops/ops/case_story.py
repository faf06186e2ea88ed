"""`vt-ops case`: the story of one case in time order, from every topic that speaks of it (metadata only)."""

from __future__ import annotations

from typing import Any

from aiokafka.structs import ConsumerRecord
from rich.console import Console
from vtkit import topics
from vtkit.envelope import DecodeError, decode
from vtkit.kafka import KafkaSettings

from ops.deadletters import dead_letter_row, lenient_headers
from ops.reading import Reading, read_all, settings_of

# Fields that name a case (or a contact that is one) in the events of the suite; their values are ids, never
# personal data, so they may be matched and shown.
CASE_FIELDS = ("case_id", "contact_id", "episode_case_id", "melding_id", "advies_id", "linked_advies_id",
               "previous_advies_id", "dossier_id")
CASE_LISTS = ("contact_ids", "episode_case_ids")


def _case_ids(message: Any) -> set[str]:
    fields = message.DESCRIPTOR.fields_by_name
    ids = {str(getattr(message, f)) for f in CASE_FIELDS if f in fields and getattr(message, f)}
    for f in CASE_LISTS:
        if f in fields:
            ids |= {str(v) for v in getattr(message, f)}
    return ids


def _detail(message: Any) -> str:
    """What kind of step an event is, from its enums and flags only (never a text field)."""
    parts = []
    for field in message.DESCRIPTOR.fields:
        if getattr(field, "is_repeated", False) or getattr(field, "label", 0) == 3:  # 3: LABEL_REPEATED
            continue
        value = getattr(message, field.name)
        if field.enum_type is not None and value:
            parts.append(f"{field.name}={field.enum_type.values_by_number[value].name}")
        elif field.type == field.TYPE_BOOL and value:
            parts.append(field.name)
    return " ".join(parts)[:120]


async def case_story(kafka: str | KafkaSettings, ident: str, progress: Console | None = None) -> list[dict[str, Any]]:
    """Every record about one case (by its reference or case id), in time order, as metadata: intake, national
    assessments, register, deliveries (the notifier's Delivery* events), dead letters and audit records (action,
    service, role, outcome: never the user, purpose or detail)."""
    from aiokafka.admin import AIOKafkaAdminClient
    from vt.audit.v1 import events_pb2 as audit_events
    from vtkit.tenants import all_tenants

    admin = AIOKafkaAdminClient(**settings_of(kafka).client_kwargs())
    await admin.start()
    try:
        existing = set(await admin.list_topics())  # asking a missing topic's partitions would create it on tansu
    finally:
        await admin.close()
    regional = [name for t in sorted(all_tenants()) for name in (topics.intake(t), topics.register(t))]
    wanted = [t for t in [*regional, topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_DELIVERIES, topics.DEAD_LETTERS,
                          topics.NATIONAL_AUDIT] if t in existing]
    decoded: list[tuple[ConsumerRecord, Any]] = []
    reading = Reading(progress, "reading topics", len(wanted), "topics")
    for topic in wanted:
        records = await read_all(kafka, topic)
        reading.advance(1)
        for record in records:
            try:
                decoded.append((record, decode(record.value, record.headers).message))
            except DecodeError:
                decoded.append((record, None))
    reading.close()
    ids = {ident}
    for _, message in decoded:  # a reference names the melding's case; links bring their partners in
        if message is not None and getattr(message, "reference", None) == ident:
            ids |= _case_ids(message)
    for _ in range(2):
        for record, message in decoded:
            if message is not None and record.topic != topics.NATIONAL_AUDIT and _case_ids(message) & ids:
                ids |= {i for i in _case_ids(message) if i} - {getattr(message, "dossier_id", "")}
    rows = []
    for record, message in decoded:
        headers, _ = lenient_headers(record)
        base = {"topic": record.topic, "offset": f"{record.partition}:{record.offset}", "event_id": headers.get("ce_id", ""),
                "tenant": headers.get("ce_tenant", ""), "time": headers.get("ce_time", "")}
        if isinstance(message, audit_events.AuditRecords):  # a service's access records of one forwarding pass
            rows += [{**base, "time": copy.when, "type": f"audit {copy.action}",
                      "detail": f"{copy.what} by {copy.service} ({copy.role or '-'}): {copy.outcome}"}
                     for copy in message.records if ids & set(copy.subject.values())]
        elif record.topic == topics.DEAD_LETTERS:
            row = dead_letter_row(record)
            if (record.key or b"").decode(errors="replace") in ids or (message is not None and _case_ids(message) & ids):
                rows.append({**base, "type": f"dead letter ({row['type'] or '?'})",
                             "detail": f"{row['consumer']} on {row['origin']}: {row['reason'][:80]}"})
        elif message is not None and _case_ids(message) & ids:
            rows.append({**base, "type": type(message).__name__, "detail": _detail(message)})
    return sorted(rows, key=lambda r: r["time"])
