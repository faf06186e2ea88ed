"""The service layer: each use case runs the domain rules and writes the signal, the
logbook and the outbox in one SQLite transaction, so an acknowledged change always
reaches Kafka (via the relay) and is never published without being stored."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from vtkit import topics
from vtkit.calendar import local_date
from vtkit.crypto import Pseudonymizer, TenantCipher

from verwijsindex.adapters import proto
from verwijsindex.domain import matching, rules
from verwijsindex.domain.errors import NotActive, NotFound
from verwijsindex.domain.model import (
    HouseholdFacts,
    Match,
    Registration,
    Relocation,
    Signal,
    SignalStatus,
    WithdrawReason,
)
from verwijsindex.store import LogEntry, Store

SOURCE = "verwijsindex"


@dataclass(frozen=True)
class Registered:
    signal: Signal
    created: bool


@dataclass(frozen=True)
class FactsApplied:
    """What household facts did: ignored as stale, ended signals on death, notices sent."""

    stale: bool = False
    ended: int = 0
    relocated: bool = False
    family_match: bool = False


class StoredHouseholds:
    """The household directory backed by the BRP facts in the store (`matching.related` decides)."""

    def __init__(self, store: Store):
        self.store = store

    def related_youths(self, youth_pseudonym: str) -> list[str]:
        facts = self.store.household_facts(youth_pseudonym)
        if facts is None:
            return []
        return sorted(c.youth_pseudonym for c in self.store.household_candidates(facts) if matching.related(facts, c))


def youth_pseudonym(pseudonymizer: Pseudonymizer, canonical_bsn: str) -> str:
    # Same derivation as radar, so both services key a person the same way.
    return pseudonymizer.pseudonym(b"bsn:" + canonical_bsn.encode())


class Verwijsindex:
    def __init__(self, store: Store, pseudonymizer: Pseudonymizer, cipher: TenantCipher,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
                 on_commit: Callable[[], None] = lambda: None,
                 households: matching.HouseholdDirectory | None = None):
        self.store = store
        self.pseudonymizer = pseudonymizer
        self.cipher = cipher
        self.clock = clock
        self.on_commit = on_commit
        self.households = households or StoredHouseholds(store)

    # -- use cases -----------------------------------------------------------------------

    def register(self, registrant_id: str, request: Registration) -> Registered:
        now = self.clock()
        valid = rules.validate_registration(request, local_date(now))
        youth = youth_pseudonym(self.pseudonymizer, valid.youth_bsn)
        with self.store.transaction():
            existing = self.store.active_signal(registrant_id, youth)
            if existing is not None:
                return Registered(existing, created=False)
            facts = self.store.household_facts(youth)
            if facts is not None and rules.deceased(facts):
                raise rules.RuleViolation("youth_bsn", "the BRP records this youth as deceased")
            signal = Signal(signal_id=str(uuid.uuid4()), youth_pseudonym=youth, registrant_id=registrant_id,
                            registered_at=now, planned_removal=valid.planned_removal,
                            age_limit_date=valid.age_limit_date, status=SignalStatus.ACTIVE, contact=valid.contact)
            on_youth = self.store.signals_on_youth(youth)
            self.store.insert_signal(signal)
            # Who and when, never why: a signal and its logbook hold no reason (docs/domain.md section 6).
            sector = valid.contact.sector.value if valid.contact.sector else ""
            self.store.log(now, "registered", registrant_id, signal_id=signal.signal_id, youth_pseudonym=youth,
                           registrant_id=registrant_id, detail=f"sector={sector}")
            self._publish(youth, proto.signal_registered(signal), now)
            for match in (matching.client_match(signal, on_youth), matching.archived_match(signal, on_youth),
                          self._family_match(signal, on_youth)):
                if match is not None:
                    self._notify(match, now)
        self.on_commit()
        return Registered(signal, created=True)

    def withdraw(self, registrant_id: str, signal_id: str, reason: WithdrawReason) -> None:
        now = self.clock()
        with self.store.transaction():
            signal = self.store.get_signal(signal_id)
            if signal is None or signal.registrant_id != registrant_id:
                raise NotFound(signal_id)
            if signal.status is not SignalStatus.ACTIVE:
                raise NotActive(signal_id)
            if reason is WithdrawReason.WRONG:
                # A wrong signal must not survive anywhere, not even in the archive.
                self.store.delete_signal(signal_id)
            else:
                today = local_date(now)
                self.store.archive_signal(signal_id, today, rules.archive_until(today))
            self.store.log(now, "withdrawn", registrant_id, signal_id=signal_id, youth_pseudonym=signal.youth_pseudonym,
                           registrant_id=registrant_id, detail=f"reason={reason.value}")
        self.on_commit()

    def list_mine(self, registrant_id: str) -> list[Signal]:
        return self.store.active_signals_of(registrant_id)

    def list_mine_page(self, registrant_id: str, after: tuple[str, str] | None, limit: int) -> list[Signal]:
        """The registrant's active signals in (registered_at, signal_id) order after that key (vtkit.paging)."""
        return self.store.active_signals_page(registrant_id, after, limit)

    def apply_household_facts(self, facts: HouseholdFacts) -> FactsApplied:
        """Store the BRP facts of a youth and act on them: death ends the youth's signals, a new
        municipality notifies the registrants and the new regievoerder, and a new household
        relation can complete a family match. Facts older than the stored ones are ignored, so
        a redelivered or reordered record changes nothing (idempotent)."""
        now = self.clock()
        youth = facts.youth_pseudonym
        with self.store.transaction():
            previous = self.store.household_facts(youth)
            if previous is not None and previous.observed_at >= facts.observed_at:
                return FactsApplied(stale=True)
            self.store.put_household_facts(facts)
            self.store.log(now, "household_facts", "brp", youth_pseudonym=youth,
                           detail=f"municipality={facts.municipality_code}")
            on_youth = self.store.signals_on_youth(youth)
            active = [s for s in on_youth if s.status is SignalStatus.ACTIVE]
            if rules.deceased(facts):
                for signal in active:  # deleted, not archived: see rules.deceased
                    self.store.delete_signal(signal.signal_id)
                    self.store.log(now, "ended", SOURCE, signal_id=signal.signal_id, youth_pseudonym=youth,
                                   registrant_id=signal.registrant_id, detail="reason=death")
                result = FactsApplied(ended=len(active))
            else:
                move = matching.relocation(previous, facts, on_youth)
                if move is not None:
                    self._notify_relocation(move, now)
                family = self._family_match(active[0], on_youth) if active else None
                notified = family is not None and self._notify(family, now)
                result = FactsApplied(relocated=move is not None, family_match=notified)
        self.on_commit()
        return result

    def logbook(self, inspector: str, *, signal_id: str | None = None, youth_pseudonym: str | None = None,
                registrant_id: str | None = None, limit: int = 1000, after_seq: int | None = None) -> list[LogEntry]:
        """The logbook for an inspector; the query itself is recorded in the same transaction (who,
        when, which filter) and shows up in the next query. With `after_seq` (paging) the oldest `limit` entries
        after that sequence number, else the newest `limit`."""
        now = self.clock()
        limit = max(1, min(limit or 1000, 1000))
        with self.store.transaction():
            entries = self.store.logbook(signal_id, youth_pseudonym=youth_pseudonym, registrant_id=registrant_id,
                                         limit=limit, after_seq=after_seq)
            paged = "" if after_seq is None else f" after_seq={after_seq}"
            self.store.log(now, "logbook_query", inspector, signal_id=signal_id, youth_pseudonym=youth_pseudonym,
                           registrant_id=registrant_id, detail=f"limit={limit}{paged} returned={len(entries)}")
        return entries

    def expire_due(self) -> int:
        """Archive signals past their planned removal or the youth's 23rd birthday, and drop
        archived signals after 5 years. Driven by a periodic scan, so a restart loses nothing."""
        now = self.clock()
        today = local_date(now)
        changed = 0
        with self.store.transaction():
            for signal in self.store.due_for_expiry(today):
                reason = rules.expiry_reason(signal, today)
                if reason is None:
                    continue
                self.store.archive_signal(signal.signal_id, today, rules.archive_until(today))
                self.store.log(now, "expired", SOURCE, signal_id=signal.signal_id, youth_pseudonym=signal.youth_pseudonym,
                               registrant_id=signal.registrant_id, detail=f"reason={reason.value}")
                changed += 1
            for signal in self.store.archive_past_retention(today):
                self.store.delete_signal(signal.signal_id)
                self.store.log(now, "archive_purged", SOURCE, signal_id=signal.signal_id,
                               youth_pseudonym=signal.youth_pseudonym, registrant_id=signal.registrant_id)
                changed += 1
        return changed

    # -- helpers (inside the caller's transaction) --------------------------------------------

    def _family_match(self, signal: Signal, on_youth: list[Signal]) -> Match | None:
        related = [s for youth in self.households.related_youths(signal.youth_pseudonym)
                   for s in self.store.signals_on_youth(youth)]
        return matching.family_match(signal, related, on_youth) if related else None

    def _municipality(self, youth: str) -> str:
        facts = self.store.household_facts(youth)
        return facts.municipality_code if facts is not None else ""

    def _notify(self, match: Match, now: dt.datetime) -> bool:
        match_id = str(uuid.uuid4())
        if not self.store.record_match(match_id, match.scope, match.registrant_set, now):
            return False  # this registrant set was notified before: once per match
        event_id = str(uuid.uuid4())
        municipality = self._municipality(match.youth_pseudonym)
        regievoerder = matching.regievoerder_id(municipality)
        self._publish(match.youth_pseudonym, proto.signal_match(match, match_id, event_id, now, self.cipher,
                                                                municipality, regievoerder), now, event_id)
        self.store.mark_archive_notice_sent(match.archived_signal_ids)
        recipients = [p.registrant_id for p in match.parties] + ([regievoerder] if regievoerder else [])
        for recipient in recipients:
            self.store.log(now, "match_notice", SOURCE, youth_pseudonym=match.youth_pseudonym,
                           registrant_id=recipient, detail=f"match_id={match_id} kind={match.kind.value}")
        return True

    def _notify_relocation(self, move: Relocation, now: dt.datetime) -> None:
        notice_id = event_id = str(uuid.uuid4())
        regievoerder = matching.regievoerder_id(move.to_municipality_code)
        self._publish(move.youth_pseudonym, proto.youth_relocated(move, notice_id, event_id, now, self.cipher,
                                                                  regievoerder), now, event_id)
        for recipient in [*(p.registrant_id for p in move.parties), regievoerder]:
            self.store.log(now, "relocation_notice", SOURCE, youth_pseudonym=move.youth_pseudonym,
                           registrant_id=recipient,
                           detail=f"from={move.from_municipality_code} to={move.to_municipality_code}")

    def _publish(self, key: str, message: proto.Event, now: dt.datetime, event_id: str | None = None) -> None:
        event_id, value, headers = proto.encoded(message, SOURCE, now, event_id)
        self.store.add_outbox(event_id, topics.NATIONAL_VERWIJSINDEX, key, value, headers, now)
