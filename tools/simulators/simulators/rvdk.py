"""A small simulator of the Raad voor de Kinderbescherming: its feed, and its receiver of VT's requests.

The feed publishes vt.rvdk.v1.RvdkSignal records to vt.national.rvdk.v1 with the record
envelope; the child's BSN is sealed to radar (only radar can open it).

The receiver (`FakeRvdkReceiver`, `python -m simulators.rvdk_receiver`, env GRPC_PORT, RECORD_FILE,
VT_KEY_DIR) is a real gRPC server implementing vt.notifier.v1.ProfessionalNotificationService for recipient "rvdk":
the notifier (NOTIFIER_RVDK_ENDPOINT) delivers VT's requests to investigate there, sealed to the RvdK; it takes calls
from the notifier only and opens each request with the RvdK's private seal key (`requests()`).

    python -m simulators.rvdk --bsn 111222333 --kind INVESTIGATION_OPEN
    python -m simulators.rvdk --count 20          # random signals, valid BSNs
    python -m simulators.rvdk --count 20 --outbox var/data/rvdk-feed.sqlite3
                                    # durable: on disk first; a later run after a broker loss publishes all again
Broker and keys come from KAFKA_BOOTSTRAP_SERVERS and VT_KEY_DIR (or --bootstrap, --key-dir).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import pathlib
import random
import sys
import uuid

from stdnum.nl import bsn as stdnum_bsn
from vt.common.v1 import common_pb2
from vt.notifier.v1 import receivers_pb2
from vt.rvdk.v1 import events_pb2 as rvdk_events
from vtkit import topics
from vtkit.crypto import seal
from vtkit.envelope import encode, envelope_for
from vtkit.kafka import KafkaSettings
from vtkit.keystore import KeyStore
from vtkit.outbox import OutboxRecord, OutboxRelay, OwnProducer
from vtkit.outbox_store import SqliteOutbox
from vtkit.pki import RVDK_SIGNER
from vtkit.signing import RecordSigner, Signers

from simulators import publish_feed
from simulators.professional import FakeProfessionalEndpoint, open_notice

SOURCE = "rvdk-simulator"
# Locations of the Raad (no case content is ever sent, only the office holding the file).
OFFICES = ("Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Eindhoven", "Groningen", "Zwolle", "Arnhem", "Haarlem",
           "Breda", "'s-Hertogenbosch", "Maastricht", "Leeuwarden", "Almere", "Middelburg")
# Rough mix: most RvdK involvement around a VT melding is a protection investigation or measure.
KIND_WEIGHTS = {
    rvdk_events.RVDK_SIGNAL_KIND_INVESTIGATION_OPEN: 45,
    rvdk_events.RVDK_SIGNAL_KIND_CHILD_PROTECTION_MEASURE: 30,
    rvdk_events.RVDK_SIGNAL_KIND_CUSTODY_AND_ACCESS: 20,
    rvdk_events.RVDK_SIGNAL_KIND_CRIMINAL_CASE: 5,
}


def random_bsn(rng: random.Random | None = None) -> str:
    """A random 9-digit number that passes the 11-proof (as checked by python-stdnum)."""
    rng = rng or random.Random()
    while True:
        candidate = f"{rng.randrange(10_000_000, 100_000_000):08d}"
        total = sum(int(d) * w for d, w in zip(candidate, range(9, 1, -1), strict=True))
        check = total % 11
        if check < 10 and stdnum_bsn.is_valid(candidate + str(check)):
            return candidate + str(check)


def parse_kind(kind: int | str) -> int:
    if isinstance(kind, int):
        return kind
    name = kind.upper()
    if not name.startswith("RVDK_SIGNAL_KIND_"):
        name = "RVDK_SIGNAL_KIND_" + name
    return int(rvdk_events.RvdkSignalKind.Value(name))


def build_signal(keys: KeyStore, bsn: str, kind: int | str, office: str, *, signal_id: str | None = None,
                 observed_at: dt.datetime | None = None) -> rvdk_events.RvdkSignal:
    bsn = stdnum_bsn.validate(bsn)
    sealed = seal(f"bsn:{bsn}".encode(), "radar", keys.seal_public("radar"))
    signal = rvdk_events.RvdkSignal(
        signal_id=signal_id or str(uuid.uuid4()), kind=parse_kind(kind),  # type: ignore[arg-type]
        rvdk_office=office,
        child=common_pb2.SealedIdentifier(recipient=sealed.recipient, ephemeral_public_key=sealed.ephemeral_public_key,
                                          nonce=sealed.nonce, ciphertext=sealed.ciphertext))
    signal.observed_at.FromDatetime(observed_at or dt.datetime.now(dt.UTC))
    return signal


async def publish_signals(bootstrap: str, signals: list[rvdk_events.RvdkSignal], keys: KeyStore) -> list[str]:
    """Publish signals (key = signal id), signed as the RvdK (radar acts only on signed ones), and wait for the
    broker's ack; returns their event ids."""
    return await publish_feed(bootstrap, topics.NATIONAL_RVDK, SOURCE, [(s.signal_id, s) for s in signals],
                              Signers(keys.root).headers)


async def publish_rvdk_signal(bootstrap: str, keys: KeyStore, bsn: str, kind: int | str = "INVESTIGATION_OPEN",
                              office: str = "Utrecht", *, observed_at: dt.datetime | None = None) -> str:
    """Publish one RvdK signal about the child with this BSN; returns its signal id."""
    signal = build_signal(keys, bsn, kind, office, observed_at=observed_at)
    await publish_signals(bootstrap, [signal], keys)
    return signal.signal_id


async def publish_durably(bootstrap: str, outbox_path: pathlib.Path, signals: list[rvdk_events.RvdkSignal],
                          keys: KeyStore) -> int:
    """The feed as a producer of facts should run: the signals go to an outbox on disk first, then to Kafka
    through vtkit.outbox's relay, which also publishes again everything the outbox holds when the broker lost
    it (new cluster id). Returns how many records were published (new and republished)."""
    outbox = SqliteOutbox(outbox_path)
    try:
        records = []
        for signal in signals:
            envelope = envelope_for(signal, source=SOURCE)
            value, headers = encode(signal, envelope)
            records.append(OutboxRecord(topics.NATIONAL_RVDK, signal.signal_id.encode(), value, headers, envelope.id))
        await asyncio.to_thread(outbox.add, records)
        signer = RecordSigner.load(keys.root, RVDK_SIGNER)
        relay = OutboxRelay("rvdk-feed", outbox, lambda row: [signer.sign(row.record)],
                            OwnProducer(KafkaSettings(bootstrap_servers=bootstrap)), tenant="national")
        try:
            return await relay.publish_pending()
        finally:
            await relay.producer.close()
    finally:
        outbox.close()


def random_signals(keys: KeyStore, count: int, rng: random.Random) -> list[rvdk_events.RvdkSignal]:
    kinds, weights = zip(*KIND_WEIGHTS.items(), strict=True)
    now = dt.datetime.now(dt.UTC)
    return [build_signal(keys, random_bsn(rng), rng.choices(kinds, weights)[0], rng.choice(OFFICES),
                         observed_at=now - dt.timedelta(days=rng.randrange(0, 365), minutes=rng.randrange(0, 1440)))
            for _ in range(count)]


class FakeRvdkReceiver(FakeProfessionalEndpoint):
    """The RvdK's end of VT's requests to investigate: a ProfessionalNotificationService under the RvdK's own server
    certificate that records every call (the request still sealed) and opens what it received as the Raad would."""

    server_name = "rvdk"

    def requests(self) -> list[receivers_pb2.RvdkRequest]:
        """The RvdK requests accepted (first deliveries), opened with the RvdK's private seal key."""
        keys = self.keys or KeyStore(os.environ["VT_KEY_DIR"])
        first = {c["idempotency_key"] for c in self.distinct(method="Notify")}
        out: list[receivers_pb2.RvdkRequest] = []
        for request in self.notices:
            if request.subject == "rvdk_request" and request.idempotency_key in first:
                first.discard(request.idempotency_key)
                opened = open_notice(keys, request)
                assert isinstance(opened, receivers_pb2.RvdkRequest)
                out.append(opened)
        return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.rvdk", description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--key-dir", default=os.environ.get("VT_KEY_DIR"))
    parser.add_argument("--bsn", action="append", default=[], help="child's BSN (repeatable)")
    parser.add_argument("--kind", default="INVESTIGATION_OPEN", help="e.g. INVESTIGATION_OPEN, CRIMINAL_CASE")
    parser.add_argument("--office", default="Utrecht")
    parser.add_argument("--count", type=int, default=0, help="number of random signals with valid BSNs")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--outbox", default=None, help="publish through this durable outbox (SQLite file): the "
                        "signals are on disk first, and a run after a broker loss publishes them all again")
    args = parser.parse_args(argv)
    if not args.bootstrap or not args.key_dir:
        parser.error("set KAFKA_BOOTSTRAP_SERVERS and VT_KEY_DIR (or --bootstrap and --key-dir)")
    if not args.bsn and not args.count and not args.outbox:
        parser.error("give --bsn and/or --count (or --outbox alone: publish what it holds)")
    keys = KeyStore(args.key_dir)
    signals = [build_signal(keys, b, args.kind, args.office) for b in args.bsn]
    signals += random_signals(keys, args.count, random.Random(args.seed))
    if args.outbox:
        published = asyncio.run(publish_durably(args.bootstrap, pathlib.Path(args.outbox), signals, keys))
        print(f"{published} records published from {args.outbox}", file=sys.stderr)
    else:
        asyncio.run(publish_signals(args.bootstrap, signals, keys))
    for signal in signals:
        print(signal.signal_id, rvdk_events.RvdkSignalKind.Name(signal.kind), signal.rvdk_office)


if __name__ == "__main__":
    main()
