"""Scanner under a realistic load (docs/security.md): the whole suite (three regions, radar, verwijsindex, notifier with
its receivers) takes a few hundred contacts from loadgen (adviezen and meldingen whose melders each have
their own name, phone and e-mail, and a second person known by name and address, the street address also in the
narrative), RvdK signals, verwijsindex registrations and a set of invalid requests. Afterwards every personal
value used (BSNs, names, street addresses, postcodes, phone numbers, e-mail addresses) is searched for in clear
in every record of this run on every topic (key, value, headers), in every service log, in every gRPC error
message returned and in every audit log; none may be found."""

from __future__ import annotations

import asyncio
import bisect
import dataclasses
import pathlib
import random
import re
import time
from collections.abc import Iterable

import grpc
from devstack.stack import Stack
from loadgen.drive import submit_all
from loadgen.generate import FIRST_NAMES, SURNAMES, LoadItem, generate, personal_values
from ops.cli import read_all
from simulators.rvdk import build_signal, publish_signals
from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2 as ipb
from vt.intake.v1 import intake_service_pb2_grpc
from vt.radar.v1 import radar_service_pb2 as rpb
from vt.radar.v1 import radar_service_pb2_grpc
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vpb
from vt.verwijsindex.v1 import verwijsindex_service_pb2_grpc
from vtkit import audit, topics
from vtkit.channels import client_channel
from vtkit.keystore import KeyStore

TENANTS = ("amsterdam-amstelland", "rotterdam-rijnmond", "utrecht")
CONTACTS = 300
SEED = 20261122


@dataclasses.dataclass
class Corpus:
    """Named blobs searched at once: one buffer per source, a needle's hit mapped back to its blob."""

    names: list[str] = dataclasses.field(default_factory=list)
    blobs: list[bytes] = dataclasses.field(default_factory=list)

    def add(self, name: str, blob: bytes) -> None:
        self.names.append(name)
        self.blobs.append(blob)

    def findings(self, needles: Iterable[str]) -> list[tuple[str, str]]:
        starts, parts, at = [], [], 0
        for blob in self.blobs:
            starts.append(at)
            parts.append(blob)
            at += len(blob) + 1
        text = b"\0".join(parts)
        found = []
        for needle in needles:
            encoded = needle.encode()
            digits = needle.isdigit()
            position = text.find(encoded)
            while position >= 0:
                end = position + len(encoded)
                # A number counts only as a whole number (a BSN inside a longer timestamp is no BSN).
                if not digits or not (_digit(text, position - 1) or _digit(text, end)):
                    found.append((self.names[bisect.bisect_right(starts, position) - 1], needle))
                    break
                position = text.find(encoded, position + 1)
        return found


def _digit(text: bytes, index: int) -> bool:
    return 0 <= index < len(text) and 48 <= text[index] <= 57


def registration(item: LoadItem, rng: random.Random) -> tuple[vpb.RegisterSignalRequest, list[str]]:
    """A verwijsindex registration of the item's child by a professional with their own contact details."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
    contact = vpb.Registrant(name=f"{first} {last}", organisation="Jeugdzorg Regio", phone=f"06{rng.randrange(10**8):08d}",
                             email=f"{first.lower()}.{rng.randrange(10**6)}@jeugdzorg.example",
                             sector=vpb.SECTOR_YOUTH_CARE, coordinator=f"{rng.choice(FIRST_NAMES)} Coordinator")
    request = vpb.RegisterSignalRequest(youth_bsn=item.bsn, youth_date_of_birth=common_pb2.Date(year=2014, month=5, day=9),
                                        registrant=contact)
    return request, [contact.name, contact.phone, contact.email, contact.coordinator]


def invalid_requests(items: list[LoadItem]) -> list[tuple[str, str, object, list[str]]]:
    """Requests each service must refuse (tenant, method, request, the personal values in it): an error message
    that echoes its input would leak them."""
    melding = next(i for i in items if i.kind == "melding")
    advies = next(i for i in items if i.kind == "advies" and i.request.asker.identity.name)
    bad_bsn = melding.bsn[:-1] + str((int(melding.bsn[-1]) + 1) % 10)  # fails the 11-proof
    wrong_bsn = ipb.SubmitMeldingRequest()
    wrong_bsn.CopyFrom(melding.request)
    wrong_bsn.idempotency_key += "-bad-bsn"
    wrong_bsn.melding.directbetrokkenen[0].bsn = bad_bsn
    bad_date = ipb.SubmitMeldingRequest()
    bad_date.CopyFrom(melding.request)
    bad_date.idempotency_key += "-bad-date"
    bad_date.melding.directbetrokkenen[1].date_of_birth.month = 13
    no_melder_name = ipb.SubmitMeldingRequest()
    no_melder_name.CopyFrom(melding.request)
    no_melder_name.idempotency_key += "-no-name"
    no_melder_name.melding.melder.name = ""
    no_organisation = ipb.RegisterAdviesRequest()
    no_organisation.CopyFrom(advies.request)
    no_organisation.idempotency_key += "-no-organisation"
    no_organisation.asker.identity.organisation = ""
    vi_bad_bsn = vpb.RegisterSignalRequest(youth_bsn=bad_bsn,
                                           youth_date_of_birth=common_pb2.Date(year=2014, month=5, day=9),
                                           registrant=vpb.Registrant(name="Iris Dekker", phone="0612312312",
                                                                     email="iris.dekker@jeugdzorg.example"))
    tenant = melding.tenant
    return [
        (tenant, "SubmitMelding", wrong_bsn, [bad_bsn, *personal_values(melding)]),
        (tenant, "SubmitMelding", bad_date, personal_values(melding)),
        (tenant, "SubmitMelding", no_melder_name, personal_values(melding)),
        (advies.tenant, "RegisterAdvies", no_organisation, personal_values(advies)),
        # A case system that puts a BSN where the contact id belongs: the NOT_FOUND must not echo it.
        (tenant, "GetContact", ipb.GetContactRequest(contact_id=melding.bsn, purpose="triage"), [melding.bsn]),
        (tenant, "verwijsindex", vi_bad_bsn, [bad_bsn, "Iris Dekker", "0612312312", "iris.dekker@jeugdzorg.example"]),
    ]


async def test_no_personal_data_in_clear_under_a_realistic_load(kafka: str, tmp_path: pathlib.Path) -> None:
    began = time.monotonic()
    var = tmp_path / "var"
    stack = Stack(kafka, var, tenants=TENANTS)
    stack.plan()
    keys = KeyStore(stack.key_dir)
    items = generate(CONTACTS, seed=SEED, tenants=TENANTS)
    rng = random.Random(SEED)
    needles: set[str] = set()
    for item in items:
        needles.update(personal_values(item))
    started_ms = int(time.time() * 1000) - 1000
    errors: list[tuple[str, str]] = []  # (call, "CODE: details" and trailing metadata)
    try:
        await stack.start()
        started = time.monotonic()
        intakes = {t: stack.processes[f"intake-{t}"].address for t in TENANTS}
        vi_address = stack.processes["verwijsindex"].address

        meldingen = [i for i in items if i.kind == "melding"]
        adviezen = [i for i in items if i.kind == "advies"]
        submitted = await submit_all(intakes, keys, meldingen, concurrency=16)
        assert not [s.error for s in submitted if s.error], [s.error for s in submitted if s.error][:3]

        async def call(tenant: str, method: str, request: object, address: str = "") -> None:
            async with client_channel(address or intakes[tenant], keys, tenant) as channel:
                if method == "verwijsindex":
                    stub: object = verwijsindex_service_pb2_grpc.VerwijsindexServiceStub(channel)
                    method = "RegisterSignal"
                else:
                    stub = intake_service_pb2_grpc.IntakeServiceStub(channel)
                try:
                    await getattr(stub, method)(request, timeout=10)
                except grpc.aio.AioRpcError as exc:
                    errors.append((method, f"{exc.code().name}: {exc.details()} {exc.trailing_metadata()}"))

        semaphore = asyncio.Semaphore(16)

        async def limited(tenant: str, method: str, request: object, address: str = "") -> None:
            async with semaphore:
                await call(tenant, method, request, address)

        registrations = [registration(i, rng) for i in items if i.kind == "verwijsindex"]
        for _, values in registrations:
            needles.update(values)
        await asyncio.gather(
            *(limited(i.tenant, "RegisterAdvies", i.request) for i in adviezen),
            *(limited(i.tenant, "verwijsindex", request, vi_address)
              for i, (request, _) in zip([i for i in items if i.kind == "verwijsindex"], registrations, strict=True)),
            publish_signals(kafka, [build_signal(keys, i.bsn, "INVESTIGATION_OPEN", "Utrecht")
                                    for i in items if i.kind == "rvdk"], keys))
        assert not errors, errors[:3]  # the valid load is accepted entirely
        invalid = invalid_requests(items)
        for tenant, method, request, values in invalid:
            needles.update(values)
            await call(tenant, method, request, vi_address if method == "verwijsindex" else "")
        assert len(errors) == len(invalid), "; ".join(e[:50] for _, e in errors)  # each refused, with a message
        submitted_s = time.monotonic() - started

        # Let the pipeline finish: every melding assessed by radar and the notifier's deliveries settled.
        assessed: set[str] = set()
        deadline = time.monotonic() + 30
        wanted = {s.contact_id for s in submitted}
        while time.monotonic() < deadline and not wanted <= assessed:
            await asyncio.sleep(1.0)
            assessed = {r.key.decode() for r in await read_all(kafka, topics.NATIONAL_ASSESSMENTS)
                        if r.key and r.timestamp >= started_ms}
        # Positive control: the values are really stored (encrypted) and come back, in the form scanned for, to
        # the region entitled to read them, so their absence below is not an artefact of how they were written.
        first, item = submitted[0], meldingen[0]
        async with client_channel(intakes[first.tenant], keys, first.tenant) as channel:
            contact = await intake_service_pb2_grpc.IntakeServiceStub(channel).GetContact(
                ipb.GetContactRequest(contact_id=first.contact_id, purpose="triage"), timeout=10)
        assert set(personal_values(item)) <= {v for v in personal_values(dataclasses.replace(
            item, request=ipb.SubmitMeldingRequest(melding=contact.melding)))}, contact.melding
        # Workers read some assessments (radar's access log), as a region's staff would.
        for submission in submitted[:10]:
            async with client_channel(stack.processes["radar"].address, keys, submission.tenant) as channel:
                try:
                    await radar_service_pb2_grpc.RadarServiceStub(channel).GetAssessment(
                        rpb.GetAssessmentRequest(case_id=submission.contact_id), timeout=10)
                except grpc.aio.AioRpcError as exc:
                    errors.append(("GetAssessment", f"{exc.code().name}: {exc.details()} {exc.trailing_metadata()}"))
        exports = pathlib.Path(var / "data" / "audit-notifier.jsonl")
        # Until the notifier's access log exists and stops growing (it is written once deliveries start,
        # later on a busy machine).
        last, stable, settle_deadline = -1, 0, time.monotonic() + 60
        while (stable < 2 or last <= 0) and time.monotonic() < settle_deadline:
            count = len(audit.read(exports)) if exports.exists() else 0
            stable, last = (stable + 1, last) if count == last else (0, count)
            await asyncio.sleep(0.7)
    finally:
        stack.stop()
    assert len(wanted & assessed) >= 0.9 * len(wanted), f"only {len(wanted & assessed)} of {len(wanted)} assessed"

    corpus = Corpus()
    names = [spec.name for spec in topics.all_topics()]
    scanned = 0
    for name, records in zip(names, await asyncio.gather(*(read_all(kafka, n) for n in names)), strict=True):
        for record in records:
            if record.timestamp < started_ms:
                continue  # the session broker is shared with other tests
            scanned += 1
            headers = b"\0".join(k.encode() + b"=" + v for k, v in record.headers or ())
            corpus.add(f"{name}@{record.partition}:{record.offset}", b"\0".join([record.key or b"", record.value or b"",
                                                                                 headers]))
    files = sorted(p for p in (var / "logs").glob("*") if p.is_file())
    audits = sorted((var / "data").glob("audit-*.jsonl"))
    for path in [*files, *audits]:
        corpus.add(path.name, path.read_bytes())
    for call_name, message in errors:
        corpus.add(f"error of {call_name}", message.encode())

    # The scan is meaningful only if the data really went through: records on the topics, every service logged,
    # every service has its audit log, and the needles are many and of every kind.
    assert scanned > 3 * len(meldingen), scanned
    assert {p.stem.split("-")[0] for p in files} >= {"intake", "radar", "notifier", "verwijsindex"}, files
    assert {p.name for p in audits} >= {"audit-radar.jsonl", "audit-notifier.jsonl", "audit-verwijsindex.jsonl",
                                        *(f"audit-intake-{t}.jsonl" for t in TENANTS)}, audits
    kinds = {"bsn": r"\d{9}", "phone": r"06\d{8}", "e-mail": r".+@.+", "postcode": r"\d{4} [A-Z]{2}",
             "street address": r"[A-Z][a-z]+(straat|weg|laan) \d+", "name": r"[A-Z][a-z]+ [a-z ]*[A-Z][a-z]+"}
    counts = {kind: sum(bool(re.fullmatch(pattern, n)) for n in needles) for kind, pattern in kinds.items()}
    assert all(counts.values()), counts

    found = corpus.findings(sorted(needles))
    print(f"{len(items)} items ({len(meldingen)} meldingen, {len(adviezen)} adviezen, {len(registrations)} "
          f"verwijsindex, {sum(i.kind == 'rvdk' for i in items)} RvdK) submitted in {submitted_s:.1f}s; "
          f"{len(wanted & assessed)} assessed; scanned {scanned} records, {len(files)} logs, {len(audits)} audit logs, "
          f"{len(errors)} error messages for {len(needles)} values {counts}; {time.monotonic() - began:.1f}s in all")
    assert not found, f"personal data in clear ({len(found)}): {found[:20]}"
