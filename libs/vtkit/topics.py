"""Topic names, declared in code (auto-creation is off)."""

from __future__ import annotations

from dataclasses import dataclass

from vtkit.tenants import all_tenants

NATIONAL_RVDK = "vt.national.rvdk.v1"
NATIONAL_ASSESSMENTS = "vt.national.assessments.v1"
NATIONAL_RADAR_PERSON = "vt.national.radar-person.v1"
NATIONAL_VERWIJSINDEX = "vt.national.verwijsindex.v1"
NATIONAL_BRP = "vt.national.brp.v1"
NATIONAL_DELIVERIES = "vt.national.deliveries.v1"
NATIONAL_AUDIT = "vt.national.audit.v1"
DEAD_LETTERS = "vt.national.deadletter.v1"


def intake(tenant: str) -> str:
    return f"vt.{tenant}.intake.v1"


def register(tenant: str) -> str:
    return f"vt.{tenant}.register.v1"


def tenant_of(topic: str) -> str:
    """The region a regional topic belongs to (`vt.<tenant>.<kind>.v1`); "" for a national topic."""
    parts = topic.split(".")
    return parts[1] if len(parts) >= 4 and parts[0] == "vt" and parts[1] != "national" else ""


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    compacted: bool = False  # cleanup.policy=compact: a table's changelog keeps each key's last value

    @property
    def configs(self) -> dict[str, str]:
        return {"cleanup.policy": "compact"} if self.compacted else {}


def all_topics(partitions: int = 4) -> list[TopicSpec]:
    names = [NATIONAL_RVDK, NATIONAL_ASSESSMENTS, NATIONAL_RADAR_PERSON, NATIONAL_VERWIJSINDEX,
             NATIONAL_DELIVERIES, NATIONAL_AUDIT, DEAD_LETTERS, NATIONAL_BRP]
    for tenant in all_tenants():
        names += [intake(tenant), register(tenant)]
    return [TopicSpec(n, partitions) for n in names]
