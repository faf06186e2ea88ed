"""The content of the melder callback the region's case system gets (docs/domain.md section 4): the task with its
due date when the assessment is due, and the decision's content for the melder once decided. adapters/proto.py
encodes it into the delivery's body."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from notifier.domain.causes import Opaque


@dataclass(frozen=True)
class Callback:
    key: str
    tenant_id: str
    case_id: str
    due_date: dt.date | None = None
    received_at: dt.datetime | None = None
    acute: bool = False
    # Passed through unopened, under the region's own key.
    melder: Opaque | None = None
    agreements: Opaque | None = None
    feedback: Opaque | None = None
    feedback_event_id: str = ""  # the event the feedback is bound to (the decision)
