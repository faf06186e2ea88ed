"""What radar remembers per case (keyed by case id): whose it is, which persons
(by pseudonym) it concerns, and its assessment deadline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CaseRecord:
    tenant_id: str
    case_id: str
    due_at: dt.datetime
    # person id within the case -> pseudonym
    persons: dict[str, str] = field(default_factory=dict)
    # The AssessmentDue as emitted, opaque to the domain (adapter-encoded).
    due: str = ""
    closed: bool = False

    def belongs_to(self, tenant: str) -> bool:
        return self.tenant_id == tenant

    def to_dict(self) -> dict[str, Any]:
        return {"tenant_id": self.tenant_id, "case_id": self.case_id, "due_at": self.due_at.isoformat(),
                "persons": dict(self.persons), "due": self.due, "closed": self.closed}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CaseRecord":
        return cls(data["tenant_id"], data["case_id"], dt.datetime.fromisoformat(data["due_at"]),
                   dict(data.get("persons", {})), data.get("due", ""), bool(data.get("closed", False)))
