"""The other producers in `make chaos`: the Raad voor de Kinderbescherming's feed and the verwijsindex's registrants,
sending while services are SIGKILLed and the broker is lost, so that their facts too are shown to arrive once.

- The RvdK feed runs as that feed should (simulators.rvdk): each signal is on disk in its outbox first
  (var/data/rvdk-feed.sqlite3) and a relay takes it to vt.national.rvdk.v1, publishing the whole outbox again
  when the broker lost its history. A signal is about the child of an acknowledged melding that is not decided
  in the run, so radar must add it to that child's assessment input (AssessmentInput.rvdk).
- Two registrant organisations (a school and a GP) each register a signal about the same new youth over gRPC, as
  their systems do, retrying the identical call while the verwijsindex is down (a second registration of an
  active signal answers the existing one). The verwijsindex must match them once and the notifier must notify each
  of the two exactly once about that match.
"""

from __future__ import annotations

import asyncio
import pathlib
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from simulators.rvdk import SOURCE, build_signal, random_bsn
from vt.common.v1 import common_pb2
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vi_service
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc as vi_grpc
from vtkit import topics
from vtkit.channels import client_channel
from vtkit.envelope import encode, envelope_for
from vtkit.kafka import KafkaSettings
from vtkit.keystore import KeyStore
from vtkit.outbox import OutboxRecord, OutboxRelay, OwnProducer
from vtkit.outbox_store import SqliteOutbox
from vtkit.pki import RVDK_SIGNER
from vtkit.registrants import example
from vtkit.signing import RecordSigner

RETRIED = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
MATCH_SUBJECT = "verwijsindex_match"


@dataclass
class SignalReport:
    rvdk_signals: int = 0  # published by the feed (on disk in its outbox first)
    rvdk_applied: int = 0  # signals found in their child's assessment input
    rvdk_applied_twice: int = 0  # signals listed twice in one assessment input
    rvdk_missing_on_last_broker: int = 0  # signals the feed did not publish again after the last loss
    youths_registered: int = 0  # youths both registrants registered (both calls acknowledged)
    registrations_failed: list[str] = field(default_factory=list)
    matched: int = 0  # those youths with a SignalMatch
    match_notices: int = 0  # (match, registrant) notices delivered: 2 per youth
    match_notice_duplicates: int = 0  # repeat deliveries of a key the endpoint already had (flagged)
    match_notices_second_distinct: int = 0  # notices beyond one key per registrant and match
    missing: dict[str, list[str]] = field(default_factory=dict)

    def line(self) -> str:
        return (f"RvdK signals {self.rvdk_signals} (in their child's assessment {self.rvdk_applied}, twice "
                f"{self.rvdk_applied_twice}, missing on the last broker {self.rvdk_missing_on_last_broker}); "
                f"verwijsindex youths {self.youths_registered} (matched {self.matched}, notices {self.match_notices}, "
                f"duplicates {self.match_notice_duplicates}, second distinct {self.match_notices_second_distinct})")

    def lost(self) -> int:
        """Signals, matches and notices that did not arrive, and registrations never acknowledged."""
        return (self.rvdk_signals - self.rvdk_applied + self.rvdk_missing_on_last_broker
                + self.youths_registered - self.matched + 2 * self.youths_registered - self.match_notices
                + len(self.registrations_failed))


class SignalFeeds:
    """The RvdK feed (its outbox and relay run for the whole chaos run) and the registrants' callers."""

    REGISTRANTS = {example("education", 0).id: vi_service.SECTOR_EDUCATION,
                   example("health_care", 0).id: vi_service.SECTOR_HEALTH_CARE}

    def __init__(self, stack: Any, keys: KeyStore, *, retry_for: float = 300.0):
        self.stack, self.keys, self.retry_for = stack, keys, retry_for
        self.outbox = SqliteOutbox(pathlib.Path(stack.var_dir) / "data" / "rvdk-feed.sqlite3")
        self.rvdk: dict[str, str] = {}  # signal id -> the child's BSN
        self.youths: dict[str, str] = {}  # youth pseudonym -> BSN, once both registrations are acknowledged
        self.failed: list[str] = []
        self._registrations: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    async def __aenter__(self) -> "SignalFeeds":
        signer = RecordSigner.load(self.keys.root, RVDK_SIGNER)
        relay = OutboxRelay("rvdk-feed", self.outbox, lambda row: [signer.sign(row.record)],
                            OwnProducer(KafkaSettings(bootstrap_servers=self.stack.bootstrap)), tenant="national")
        self._relay, self._relaying = relay, asyncio.create_task(relay.run(self._stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        self._relay.wake()
        await asyncio.gather(self._relaying, *self._registrations, return_exceptions=True)
        self.outbox.close()

    async def rvdk_signal(self, bsn: str) -> None:
        """One RvdK signal about the child with this BSN, durable in the feed's outbox when this returns."""
        signal = build_signal(self.keys, bsn, "INVESTIGATION_OPEN", "Utrecht")
        value, headers = encode(signal, envelope := envelope_for(signal, source=SOURCE))
        await asyncio.to_thread(self.outbox.add, [OutboxRecord(topics.NATIONAL_RVDK, signal.signal_id.encode(), value,
                                                               headers, envelope.id)])
        self.rvdk[signal.signal_id] = bsn
        self._relay.wake()

    def register_youth(self) -> None:
        """Both registrants register a signal about a new youth (in the background, retried while refused)."""
        self._registrations.append(asyncio.create_task(self._register(random_bsn())))

    async def registered(self) -> None:
        """Waits until every registration started is acknowledged or given up."""
        await asyncio.gather(*self._registrations, return_exceptions=True)

    async def _register(self, bsn: str) -> None:
        address = self.stack.processes["verwijsindex"].address
        request = vi_service.RegisterSignalRequest(youth_bsn=bsn, youth_date_of_birth=common_pb2.Date(year=2014, month=3, day=9))
        for registrant, sector in self.REGISTRANTS.items():
            request.registrant.CopyFrom(vi_service.Registrant(name="Chaos", organisation=registrant, phone="0301234567",
                                                              email="chaos@example.nl", sector=sector))
            deadline, attempt = time.monotonic() + self.retry_for, 0
            while True:
                attempt += 1
                try:
                    async with client_channel(address, self.keys, registrant, "registrant") as channel:
                        await vi_grpc.VerwijsindexServiceStub(channel).RegisterSignal(request, timeout=10)
                    break
                except grpc.aio.AioRpcError as exc:
                    if exc.code() in RETRIED and time.monotonic() < deadline:
                        await asyncio.sleep(min(0.2 * attempt, 2.0))
                        continue
                    self.failed.append(f"{registrant}: {exc.code().name}: {exc.details()}")
                    return
        self.youths[self.keys.pseudonymizer().pseudonym(b"bsn:" + bsn.encode())] = bsn

    def expected(self, open_children: set[str]) -> set[str]:
        """The signals that must reach an assessment: those about a child whose case stays open (a decided case
        may close before its signal arrives, and a closed case gets no assessment input)."""
        return {signal for signal, bsn in self.rvdk.items() if bsn in open_children}

    def arrived(self, events: Any, open_children: set[str], endpoint_rows: list[dict[str, Any]]) -> bool:
        report = self.report(events, None, endpoint_rows, open_children)
        return (report.rvdk_applied == report.rvdk_signals and report.matched == report.youths_registered
                and report.match_notices == 2 * report.youths_registered)

    def report(self, events: Any, last: Any, endpoint_rows: list[dict[str, Any]], open_children: set[str]
               ) -> SignalReport:
        """Counts what arrived: `events` read every broker of the run, `last` (when given) only the last one.
        `rvdk_signals` counts the signals that must reach their child's assessment (see `expected`)."""
        expected = self.expected(open_children)
        report = SignalReport(rvdk_signals=len(expected), youths_registered=len(self.youths),
                              registrations_failed=self.failed[:10])
        report.rvdk_applied = len(expected & set(events.rvdk_in_inputs))
        report.rvdk_applied_twice = sum(1 for s in self.rvdk if events.rvdk_in_inputs.get(s, 0) > 1)
        if last is not None:
            report.rvdk_missing_on_last_broker = len(set(self.rvdk) - set(last.messages["RvdkSignal"]))
        matched = {m.youth_pseudonym for m in events.messages["SignalMatch"].values()} & set(self.youths)
        report.matched = len(matched)
        keys: dict[str, set[str]] = {}
        for row in endpoint_rows:
            if row.get("method") == "Notify" and row.get("subject") == MATCH_SUBJECT and row.get("status") == "OK":
                keys.setdefault(row["recipient_id"], set()).add(row["idempotency_key"])
                report.match_notice_duplicates += bool(row.get("duplicate"))
        # One notice per registrant per match; every match of this run's youths is between these two registrants.
        per_registrant = [len(keys.get(r, set())) for r in self.REGISTRANTS]
        report.match_notices = sum(min(n, len(matched)) for n in per_registrant)
        report.match_notices_second_distinct = sum(max(0, n - len(matched)) for n in per_registrant)
        report.missing = {k: v for k, v in {
            "RvdK signal not in its child's assessment": sorted(expected - set(events.rvdk_in_inputs))[:10],
            "youth without a match": sorted(set(self.youths) - matched)[:10]}.items() if v}
        return report
