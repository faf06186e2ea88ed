"""The per-person history: register, match decision and the collection part of
the veiligheidsbeoordeling (docs/domain.md sections 4 and 5).

Every function takes the current history and returns an Outcome with a new
history; the input is never modified. An event id seen before changes nothing; it
only emits again the assessment inputs of the person's open cases (`replayed`).
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable

from radar.domain.model import (
    MAX_MATCHES,
    AssessmentInputOut,
    CaseClosedFact,
    CaseDestroyedFact,
    EpisodeJoinOut,
    Involvement,
    InvolvementView,
    MatchOut,
    MeldingFact,
    Monitored,
    MonitoringAlertOut,
    Notices,
    OpenCase,
    Outcome,
    PersonHistory,
    RegisterEntryOut,
    RvdkFact,
    Trigger,
    VerwijsindexMatchFact,
)


def replayed(current: PersonHistory, event_id: str, at: dt.datetime, cases: Iterable[str] | None = None) -> Outcome:
    """A signal seen before, read again: after a broker loss every producer publishes its history again
    (docs/architecture.md, "Broker loss"), and the assessment inputs radar derived from the signal may have gone with
    the lost broker before the notifier read them. So the inputs of the person's open cases are emitted again, under
    the signal's derived event ids: a consumer that had them dedupes, one that had not gets them now (with what is
    known today, which includes the signal). `cases`: the open cases the signal was about (a melding: its own case
    and the episode it joined); None: every open case (an RvdK signal or a match is news for all of them). The
    matches and monitoring alerts the signal gave are emitted again as they were (the history keeps them). The
    history does not change."""
    out = Outcome(current, duplicate=True)
    out.inputs.extend(assessment_input(current, case_id, at) for case_id in current.open_cases
                      if cases is None or case_id in cases)
    notices = current.notices.get(event_id)
    if notices is not None:
        out.matches.extend(notices.matches)
        out.alerts.extend(notices.alerts)
    return out


def _remember(out: Outcome, event_id: str) -> Outcome:
    """Keeps the matches and alerts a signal gave with its event id (replayed emits them again)."""
    if out.matches or out.alerts:
        out.history.notices[event_id] = Notices(tuple(out.matches), tuple(out.alerts))
    return out


def apply_melding(current: PersonHistory, melding: MeldingFact, event_id: str, at: dt.datetime) -> Outcome:
    """A person of a melding is registered; a second organisation makes a match."""
    if current.seen(event_id):
        return replayed(current, event_id, at, {melding.case_id, _joins(current, melding.tenant_id, melding.case_id)})
    history = copy.deepcopy(current)
    tenant = melding.tenant_id
    new_tenant = tenant not in history.involvements
    others = [inv for t, inv in history.involvements.items() if t != tenant]

    own = history.involvements.setdefault(tenant, Involvement(tenant, melding.received_at))
    own.since = min(own.since, melding.received_at)
    own.cases.setdefault(melding.case_id, melding.person_id)
    if melding.case_id not in history.closed_case_ids:
        history.open_cases.setdefault(melding.case_id, OpenCase(tenant, melding.case_id, melding.person_id))
    history.mark_processed(event_id)

    out = Outcome(history)
    out.register_entries.append(RegisterEntryOut(tenant, melding.case_id, melding.person_id, own.since))
    if new_tenant:
        for other in sorted(others, key=lambda i: (i.since, i.tenant_id)):
            out.matches.extend(match_copies(own, melding.case_id, melding.person_id, other, at))
    if melding.case_id in history.open_cases:
        out.inputs.append(assessment_input(history, melding.case_id, at))
    joined = _joins(history, tenant, melding.case_id)
    if joined:
        # A melding about a person with an open assessment at the same VT joins that assessment: one
        # veiligheidsbeoordeling for the household episode (the case record keeps the episode).
        out.inputs.append(assessment_input(history, joined, at))
        out.joins.append(EpisodeJoinOut(tenant, joined, melding.case_id, melding.due_at))
    if new_tenant:
        # Another organisation's involvement is new information for their open assessments.
        out.inputs.extend(assessment_input(history, c.case_id, at)
                          for c in history.open_cases.values() if c.tenant_id != tenant)
    for m in _monitored_at(history, melding.received_at):
        if m.case_id == melding.case_id:
            continue
        if m.tenant_id == tenant:
            out.alerts.append(MonitoringAlertOut(m.tenant_id, m.case_id, m.person_id,
                                                 Trigger.MELDING_SAME_ORGANISATION, None, None, at))
        else:
            out.alerts.append(MonitoringAlertOut(m.tenant_id, m.case_id, m.person_id, Trigger.MELDING_OTHER_ORGANISATION,
                                                 InvolvementView(tenant, own.since), None, at))
    return _remember(out, event_id)


def _monitored_at(history: PersonHistory, moment: dt.datetime) -> list[Monitored]:
    return [m for m in history.monitored.values() if m.until >= moment]


def match_copies(new: Involvement, case_id: str, person_id: str, existing: Involvement,
                 at: dt.datetime) -> list[MatchOut]:
    """The two copies of a match: each region gets its own reference, the other only as tenant + since."""
    key = "|".join(sorted((new.tenant_id, existing.tenant_id)))
    existing_case, existing_person = existing.latest_case()
    return [
        MatchOut(key, new.tenant_id, case_id, person_id,
                 own=InvolvementView(new.tenant_id, new.since, tuple(new.cases)),
                 other=InvolvementView(existing.tenant_id, existing.since), matched_at=at),
        MatchOut(key, existing.tenant_id, existing_case, existing_person,
                 own=InvolvementView(existing.tenant_id, existing.since, tuple(existing.cases)),
                 other=InvolvementView(new.tenant_id, new.since), matched_at=at),
    ]


def apply_rvdk(current: PersonHistory, info: RvdkFact, event_id: str, at: dt.datetime) -> Outcome:
    """RvdK information joins every open assessment of this person."""
    if current.seen(event_id):
        return replayed(current, event_id, at)
    history = copy.deepcopy(current)
    history.mark_processed(event_id)
    if any(r.signal_id == info.signal_id for r in history.rvdk):
        return Outcome(history)  # the same signal again under a new event id: nothing new
    history.rvdk.append(info)
    out = Outcome(history)
    out.inputs.extend(assessment_input(history, c, at) for c in history.open_cases)
    out.alerts.extend(MonitoringAlertOut(m.tenant_id, m.case_id, m.person_id, Trigger.RVDK, None, info, at)
                      for m in _monitored_at(history, at))
    return _remember(out, event_id)


def apply_verwijsindex_match(current: PersonHistory, match: VerwijsindexMatchFact, event_id: str,
                             at: dt.datetime) -> Outcome:
    """A verwijsindex match about the person joins every open assessment (that it happened, its kind and when; no
    registrant data) and alerts each monitored case's region."""
    if current.seen(event_id):
        return replayed(current, event_id, at)
    history = copy.deepcopy(current)
    history.mark_processed(event_id)
    if any(m.match_id == match.match_id for m in history.verwijsindex_matches):
        return Outcome(history)  # the same match again under a new event id: nothing new
    history.verwijsindex_matches.append(match)
    del history.verwijsindex_matches[:-MAX_MATCHES]
    out = Outcome(history)
    out.inputs.extend(assessment_input(history, c, at) for c in history.open_cases)
    out.alerts.extend(MonitoringAlertOut(m.tenant_id, m.case_id, m.person_id, Trigger.VERWIJSINDEX_MATCH, None, None,
                                         at, match)
                      for m in _monitored_at(history, at))
    return _remember(out, event_id)


def apply_case_closed(current: PersonHistory, closed: CaseClosedFact, event_id: str) -> Outcome:
    """The decision on a case was taken: later information no longer joins its assessment,
    and a household under safety conditions is monitored: new signals alert its worker."""
    if current.seen(event_id):
        return Outcome(current, duplicate=True)
    history = copy.deepcopy(current)
    history.mark_processed(event_id)
    history.open_cases.pop(closed.case_id, None)
    if closed.onderzoek_open:
        history.open_onderzoeken[closed.case_id] = OpenCase(closed.tenant_id, closed.case_id, closed.person_id)
    else:
        history.open_onderzoeken.pop(closed.case_id, None)
    if closed.case_id not in history.closed_case_ids:
        history.closed_case_ids.append(closed.case_id)
    if closed.monitor_until is not None:
        history.monitored[closed.case_id] = Monitored(closed.tenant_id, closed.case_id, closed.person_id,
                                                      closed.monitor_until)
    # Monitoring that ended long ago is forgotten (keeps the record small).
    for case_id in [c for c, m in history.monitored.items() if m.until < closed.closed_at]:
        del history.monitored[case_id]
    return Outcome(history)


def apply_case_destroyed(current: PersonHistory, destroyed: CaseDestroyedFact, event_id: str) -> Outcome:
    """The case's dossier was destroyed: nothing of it may stay, so later signals about the person neither
    match on it nor show it as an involvement (an organisation without cases left is no longer involved)."""
    if current.seen(event_id):
        return Outcome(current, duplicate=True)
    history = copy.deepcopy(current)
    history.mark_processed(event_id)
    case_id = destroyed.case_id
    for tenant, involvement in list(history.involvements.items()):
        involvement.cases.pop(case_id, None)
        if not involvement.cases:
            del history.involvements[tenant]
    history.open_cases.pop(case_id, None)
    history.open_onderzoeken.pop(case_id, None)
    history.monitored.pop(case_id, None)
    history.closed_case_ids = [c for c in history.closed_case_ids if c != case_id]
    history.notices = {e: n for e, n in history.notices.items() if not n.about_case(case_id)}
    return Outcome(history)


def assessment_input(history: PersonHistory, case_id: str, at: dt.datetime) -> AssessmentInputOut:
    """What is known about this person for the assessment of one case."""
    tenant, person_id = _case_owner(history, case_id)
    own_cases = list(history.involvements[tenant].cases)
    position = own_cases.index(case_id)
    earlier = tuple(own_cases[:position])
    closed_earlier = [c for c in earlier if c in history.closed_case_ids]
    joins = _joins(history, tenant, case_id)
    joined_by: tuple[str, ...] = ()
    if case_id in history.open_cases and not joins:
        joined_by = tuple(c for c in own_cases[position + 1:] if c in history.open_cases)
    others = tuple(InvolvementView(i.tenant_id, i.since)
                   for i in sorted(history.involvements.values(), key=lambda i: (i.since, i.tenant_id))
                   if i.tenant_id != tenant)
    rvdk = tuple(sorted(history.rvdk, key=lambda r: (r.observed_at, r.signal_id)))
    matches = tuple(sorted(history.verwijsindex_matches, key=lambda m: (m.matched_at, m.match_id)))
    return AssessmentInputOut(tenant, case_id, person_id, earlier, others, rvdk, at, bool(closed_earlier),
                              closed_earlier[-1] if closed_earlier else "", joins, joined_by, matches)


def _joins(history: PersonHistory, tenant: str, case_id: str) -> str:
    """The household episode of the same VT that a case joins: the earliest open assessment before it, else the
    earliest running onderzoek before it ("" if none)."""
    inv = history.involvements.get(tenant)
    if inv is None or case_id not in inv.cases:
        return ""
    own_cases = list(inv.cases)
    earlier = own_cases[: own_cases.index(case_id)]
    for open_cases in (history.open_cases, history.open_onderzoeken):
        for candidate in earlier:
            if candidate in open_cases:
                return candidate
    return ""


def _case_owner(history: PersonHistory, case_id: str) -> tuple[str, str]:
    for inv in history.involvements.values():
        if case_id in inv.cases:
            return inv.tenant_id, inv.cases[case_id]
    raise KeyError(f"case {case_id} is not known for this person")


def involvement_of(history: PersonHistory, reader_tenant: str) -> list[InvolvementView] | None:
    """The register as a reader may see it: None when the reader's organisation is not involved
    (nobody can search for a person their own organisation is not involved with)."""
    own = history.involvements.get(reader_tenant)
    if own is None:
        return None
    views = [InvolvementView(own.tenant_id, own.since, tuple(own.cases))]
    views += [InvolvementView(i.tenant_id, i.since)
              for i in sorted(history.involvements.values(), key=lambda i: (i.since, i.tenant_id))
              if i.tenant_id != reader_tenant]
    return views


def cases_in_region(history: PersonHistory, tenant: str) -> list[str]:
    """The person's cases in one region, oldest first: the only cases a melding about the person can join as its
    household episode (a melding joins an open assessment through a shared person)."""
    inv = history.involvements.get(tenant)
    return list(inv.cases) if inv is not None else []


def has_case(history: PersonHistory, tenant: str, case_id: str) -> bool:
    inv = history.involvements.get(tenant)
    return inv is not None and case_id in inv.cases
