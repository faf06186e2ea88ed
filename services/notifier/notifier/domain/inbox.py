"""The region inbox: what radar finds about a region's cases, pushed to its case system and kept until a worker
acknowledged it (docs/architecture.md, "Region inbox").

Delivered is not done: each item has an acknowledgement deadline on the office-hours clock (an acute case, or
an alert about one: 1 working hour; anything else: 1 working day). An item not acknowledged by then is escalated
once to the region's team lead.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from vtkit.calendar import add_working_hours

from notifier.domain.delivery import DeliveryKind

ACUTE_HOURS = 1
WORKING_DAY_HOURS = 8

# Everything listed by ListInbox; the register match keeps its own receiver call (DeliverRegisterMatch).
INBOX_KINDS = frozenset({DeliveryKind.REGISTER_MATCH_NOTICE, DeliveryKind.INBOX_ASSESSMENT_INPUT,
                         DeliveryKind.INBOX_MONITORING_ALERT, DeliveryKind.INBOX_DEADLINE_OVERDUE,
                         DeliveryKind.INBOX_LETTER_NOT_SENT, DeliveryKind.INBOX_EMERGENCY_ACCESS})


def acknowledge_before(occurred_at: dt.datetime, acute: bool) -> dt.datetime:
    return add_working_hours(occurred_at, ACUTE_HOURS if acute else WORKING_DAY_HOURS)


class Deadline(enum.Enum):
    ASSESSMENT = "ASSESSMENT"
    ONDERZOEK = "ONDERZOEK"
    HOUSEHOLD_LETTER = "HOUSEHOLD_LETTER"


class Source(enum.Enum):
    MELDING_SAME_ORGANISATION = "MELDING_SAME_ORGANISATION"
    OTHER_VT_ORGANISATION = "OTHER_VT_ORGANISATION"
    RVDK = "RVDK"
    VERWIJSINDEX = "VERWIJSINDEX"


@dataclass(frozen=True)
class Change:
    """One new piece of information about a person, with where it came from and when; never another region's
    case content."""
    source: Source
    at: dt.datetime | None
    organisation: str = ""  # OTHER_VT_ORGANISATION: the tenant (with `at` = involved since)
    case_id: str = ""  # MELDING_SAME_ORGANISATION: the region's own case
    rvdk_kind: str = ""
    rvdk_office: str = ""
    match_kind: str = ""  # VERWIJSINDEX: the kind of match


@dataclass(frozen=True)
class MatchView:
    match_id: str
    kind: str
    matched_at: dt.datetime | None


@dataclass(frozen=True)
class RvdkView:
    signal_id: str
    kind: str
    office: str
    observed_at: dt.datetime | None


@dataclass(frozen=True)
class InputView:
    """The parts of an assessment input a worker acts on, comparable between two versions."""
    other_organisations: tuple[tuple[str, dt.datetime | None], ...]
    rvdk: tuple[RvdkView, ...]
    earlier_case_ids: tuple[str, ...]
    joined_by_case_ids: tuple[str, ...]
    joins_case_id: str
    verwijsindex_matches: tuple[MatchView, ...] = ()


def changes_between(before: InputView | None, now: InputView) -> list[Change]:
    """What `now` adds to `before` (None: the first input, everything counts as new). Only additions: a record
    read again out of order must not announce that something went away."""
    known_orgs = {tenant for tenant, _ in before.other_organisations} if before else set()
    known_rvdk = {r.signal_id for r in before.rvdk} if before else set()
    known_matches = {m.match_id for m in before.verwijsindex_matches} if before else set()
    known_cases = set(before.earlier_case_ids + before.joined_by_case_ids) if before else set()
    if before and before.joins_case_id:
        known_cases.add(before.joins_case_id)
    out = [Change(Source.OTHER_VT_ORGANISATION, since, organisation=tenant)
           for tenant, since in now.other_organisations if tenant not in known_orgs]
    out += [Change(Source.RVDK, r.observed_at, rvdk_kind=r.kind, rvdk_office=r.office)
            for r in now.rvdk if r.signal_id not in known_rvdk]
    out += [Change(Source.VERWIJSINDEX, m.matched_at, match_kind=m.kind)
            for m in now.verwijsindex_matches if m.match_id not in known_matches]
    own = [*now.earlier_case_ids, *now.joined_by_case_ids, *([now.joins_case_id] if now.joins_case_id else [])]
    out += [Change(Source.MELDING_SAME_ORGANISATION, None, case_id=c) for c in own if c not in known_cases]
    return out
