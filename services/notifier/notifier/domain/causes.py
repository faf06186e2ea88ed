"""The facts of an incoming event that the notifier acts on, free of any wire format."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from vtkit.errors import InvalidArgument


@dataclass(frozen=True)
class AssessmentDueFacts:
    tenant_id: str
    case_id: str
    received_at: dt.datetime | None
    acute: bool
    due_date: dt.date | None


@dataclass(frozen=True)
class RegisterMatchFacts:
    match_id: str
    # The region this copy of the match is addressed to: the one to notify.
    addressed_to: str
    case_id: str
    person_id: str
    other_tenant_id: str


class InvalidCause(InvalidArgument, ValueError):
    """An event the notifier can never act on (missing tenant or case): dead-lettered. The message is the rule."""

    def __init__(self, message: str):
        super().__init__(rule=message)
