"""A reproducible synthetic national load in the proportions of domain.md section 9 (CBS 2023).

    from vtkit.loadgen import LoadProfile, generate
    items = generate(1000, seed=7)                     # list[LoadItem], the same for the same seed

Proportions (each drawn independently per item, so a run of n items matches them within sampling noise):
- adviezen : meldingen = 143,210 : 127,340 (contacts; an advies carries no household data);
- melder: about 92% professional, the rest bystanders (assumption: the same share for adviezen and meldingen);
- police/justice: 85,590 of 127,340 meldingen (67.2%), all professional;
- region: 54% of contacts in the west (the Randstad regions below, as far as they are among the chosen tenants);
- repeat signals: about 28% of meldingen are about a child already seen in the same region;
- cross-region: about 3% of meldingen are about a child already seen in another region;
- acute: 10% of meldingen (assumption; domain.md gives no national figure);
- RvdK signals: one per 20 meldingen, about a child already seen (assumption);
- verwijsindex registrations: one per 10 meldingen, by a professional about a child already seen (assumption).

A LoadItem of kind "melding" carries a vt.intake.v1 SubmitMeldingRequest, "advies" a RegisterAdviesRequest;
"rvdk" and "verwijsindex" items carry the child's BSN and the region (the caller builds the signal with
vtkit.simulators.rvdk.build_signal or the verwijsindex request, which need keys or tokens).
"""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2

from vtkit.simulators.rvdk import random_bsn
from vtkit.tenants import all_tenants

ADVIEZEN_2023 = 143_210
MELDINGEN_2023 = 127_340
POLICE_MELDINGEN_2023 = 85_590
CONTACTS_PER_YEAR = ADVIEZEN_2023 + MELDINGEN_2023  # 270,550

# The Randstad regions (Noord-Holland, Zuid-Holland, Utrecht); "west" in the CBS split.
WEST = frozenset({"noord-holland-noord", "zaanstreek-waterland", "kennemerland", "amsterdam-amstelland",
                  "gooi-en-vechtstreek", "haaglanden", "hollands-midden", "rotterdam-rijnmond",
                  "zuid-holland-zuid", "utrecht"})

NATURES = [common_pb2.CONCERN_NATURE_CHILD_ABUSE]


@dataclass(frozen=True)
class LoadProfile:
    advies_share: float = ADVIEZEN_2023 / CONTACTS_PER_YEAR
    professional_share: float = 0.92
    police_share_of_meldingen: float = POLICE_MELDINGEN_2023 / MELDINGEN_2023
    west_share: float = 0.54
    repeat_share: float = 0.28
    cross_region_share: float = 0.03
    acute_share: float = 0.10
    rvdk_per_melding: float = 1 / 20
    verwijsindex_per_melding: float = 1 / 10


@dataclass
class LoadItem:
    kind: str  # melding | advies | rvdk | verwijsindex
    tenant: str
    bsn: str = ""
    request: Any = None
    professional: bool = True
    police: bool = False
    acute: bool = False
    repeat: bool = False  # the child was seen before in this region
    cross_region: bool = False  # the child was seen before in another region
    attrs: dict[str, Any] = field(default_factory=dict)


def _professional(rng: random.Random, police: bool) -> intake_service_pb2.Professional:
    if police:
        return intake_service_pb2.Professional(name="Agent J. Bakker", role="wijkagent", organisation="Politie",
                                               phone="0900-8844", email="j.bakker@politie.example")
    name, role, organisation = rng.choice([
        ("Petra de Vries", "leerkracht", "Basisschool De Regenboog"),
        ("Sanne Jansen", "jeugdarts", "GGD"),
        ("Mehmet Yilmaz", "huisarts", "Huisartsenpraktijk Centrum"),
        ("Els Visser", "wijkverpleegkundige", "Buurtzorg"),
    ])
    return intake_service_pb2.Professional(name=name, role=role, organisation=organisation, phone="0201234567",
                                           email="melder@example.nl")


def build_melding(rng: random.Random, bsn: str, *, professional: bool, police: bool,
                  acute: bool) -> intake_service_pb2.SubmitMeldingRequest:
    melding = intake_service_pb2.Melding(
        melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL if professional else common_pb2.MELDER_TYPE_BYSTANDER,
        disclosure=intake_service_pb2.Disclosure(),
        situation=intake_service_pb2.SITUATION_VT_TAKES_OVER,
        directbetrokkenen=[intake_service_pb2.Directbetrokkene(role=common_pb2.PERSON_ROLE_CHILD, bsn=bsn)],
        household_label="gezin",
        nature=NATURES,
        acute=acute,
        afwegingskader=intake_service_pb2.AfwegingskaderAnswers(suspicion=True, acute_or_structural_unsafety=True),
        narrative="Zorgen over de veiligheid van het kind thuis.",
    )
    if professional:
        melding.melder.CopyFrom(_professional(rng, police))
    else:  # a bystander must give a name for a melding (anonymous callers get an advies); consent is random
        melding.melder.CopyFrom(intake_service_pb2.Professional(name=rng.choice(["A. de Boer", "K. Mulder"]),
                                                                phone="0612345678"))
        melding.disclosure.bystander_consents = rng.random() < 0.5
    return intake_service_pb2.SubmitMeldingRequest(idempotency_key=str(uuid.UUID(int=rng.getrandbits(128))),
                                                   melding=melding)


def build_advies(rng: random.Random, *, professional: bool) -> intake_service_pb2.RegisterAdviesRequest:
    asker = intake_service_pb2.Asker(type=common_pb2.MELDER_TYPE_PROFESSIONAL if professional
                                     else common_pb2.MELDER_TYPE_BYSTANDER)
    if professional:
        asker.identity.CopyFrom(_professional(rng, False))
    return intake_service_pb2.RegisterAdviesRequest(
        idempotency_key=str(uuid.UUID(int=rng.getrandbits(128))), asker=asker,
        question="Hoe ga ik om met zorgen over een leerling?",
        afwegingskader=intake_service_pb2.AfwegingskaderAnswers(suspicion=True),
        outcome=intake_service_pb2.ADVIES_OUTCOME_ADVICE_AND_SUPPORT)


class ProgressBar:
    """A plain stderr progress bar (no dependency): `[#####.....] 500/1000 meldingen`."""

    def __init__(self, total: int, label: str = "", stream: TextIO | None = None, width: int = 30):
        self.total, self.label, self.width = max(total, 1), label, width
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self._shown = -1

    def update(self, n: int = 1) -> None:
        self.done += n
        percent = self.done * 100 // self.total
        if percent != self._shown:
            self._shown = percent
            filled = self.width * self.done // self.total
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {self.done}/{self.total} {self.label}")
            self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


def iterate(n: int, seed: int = 0, tenants: Sequence[str] | None = None, profile: LoadProfile = LoadProfile(),
            *, meldingen_only: bool = False, progress: bool = False) -> Iterator[LoadItem]:
    """n contacts (adviezen and meldingen; only meldingen when meldingen_only), plus the RvdK signals and
    verwijsindex registrations that go with them, in a reproducible order for the seed."""
    rng = random.Random(seed)
    chosen = sorted(tenants) if tenants else sorted(all_tenants())
    west = [t for t in chosen if t in WEST]
    rest = [t for t in chosen if t not in WEST]
    seen: dict[str, list[str]] = {t: [] for t in chosen}
    all_seen: list[tuple[str, str]] = []
    bar = ProgressBar(n, "contacts") if progress else None

    def region() -> str:
        if west and rest:
            return rng.choice(west if rng.random() < profile.west_share else rest)
        return rng.choice(chosen)

    for _ in range(n):
        tenant = region()
        professional = rng.random() < profile.professional_share
        if not meldingen_only and rng.random() < profile.advies_share:
            yield LoadItem("advies", tenant, request=build_advies(rng, professional=professional),
                           professional=professional)
        else:
            draw = rng.random()
            repeat = cross = False
            others = [(t, b) for t, b in all_seen[-5000:] if t != tenant] if draw >= profile.repeat_share else []
            if draw < profile.repeat_share and seen[tenant]:
                bsn, repeat = rng.choice(seen[tenant]), True
            elif draw < profile.repeat_share + profile.cross_region_share and others:
                bsn, cross = rng.choice(others)[1], True
            else:
                bsn = random_bsn(rng)
            seen[tenant].append(bsn)
            all_seen.append((tenant, bsn))
            police = professional and rng.random() < profile.police_share_of_meldingen / profile.professional_share
            acute = rng.random() < profile.acute_share
            yield LoadItem("melding", tenant, bsn, build_melding(rng, bsn, professional=professional, police=police,
                                                                  acute=acute),
                           professional=professional, police=police, acute=acute, repeat=repeat, cross_region=cross)
            if rng.random() < profile.rvdk_per_melding:
                yield LoadItem("rvdk", tenant, rng.choice(all_seen)[1])
            if rng.random() < profile.verwijsindex_per_melding:
                other_tenant, other_bsn = rng.choice(all_seen)
                yield LoadItem("verwijsindex", other_tenant, other_bsn, attrs={"sector": "SECTOR_EDUCATION"})
        if bar:
            bar.update()
    if bar:
        bar.close()


def generate(n: int, seed: int = 0, tenants: Sequence[str] | None = None, profile: LoadProfile = LoadProfile(),
             *, meldingen_only: bool = False, progress: bool = False) -> list[LoadItem]:
    return list(iterate(n, seed, tenants, profile, meldingen_only=meldingen_only, progress=progress))


def summary(items: Sequence[LoadItem]) -> dict[str, float]:
    """The measured proportions of a generated load (for the tests and the bench report)."""
    meldingen = [i for i in items if i.kind == "melding"]
    contacts = [i for i in items if i.kind in ("melding", "advies")]
    m = max(len(meldingen), 1)
    return {
        "contacts": len(contacts), "meldingen": len(meldingen),
        "advies_share": sum(i.kind == "advies" for i in contacts) / max(len(contacts), 1),
        "professional_share": sum(i.professional for i in contacts) / max(len(contacts), 1),
        "police_share_of_meldingen": sum(i.police for i in meldingen) / m,
        "west_share": sum(i.tenant in WEST for i in contacts) / max(len(contacts), 1),
        "repeat_share": sum(i.repeat for i in meldingen) / m,
        "cross_region_share": sum(i.cross_region for i in meldingen) / m,
        "acute_share": sum(i.acute for i in meldingen) / m,
        "rvdk_per_melding": sum(i.kind == "rvdk" for i in items) / m,
        "verwijsindex_per_melding": sum(i.kind == "verwijsindex" for i in items) / m,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(summary(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000, progress=True)), indent=2))


# -- driving a running stack (bench and chaos) ------------------------------------------------------------------


@dataclass
class Submission:
    contact_id: str = ""
    tenant: str = ""
    sent: float = 0.0  # perf_counter at the first attempt
    acked: float = 0.0  # perf_counter at the acknowledgement
    attempts: int = 0
    error: str = ""


async def submit_all(addresses: dict[str, str], tokens: dict[str, str], items: Sequence[LoadItem], *,
                     concurrency: int = 32, retry_for: float = 0.0, progress: bool = False,
                     on_ack: Any = None) -> list[Submission]:
    """Submits every melding item to its region's intake over one gRPC channel per region, at most
    `concurrency` at a time. With retry_for > 0 a failed call is retried with the same idempotency key
    for that many seconds (what a real case system does when intake is down); without, it is recorded
    as an error. Returns one Submission per item, in order."""
    import asyncio
    import time

    import grpc
    from vt.intake.v1 import intake_service_pb2_grpc

    from vtkit.auth import bearer_metadata

    channels = {t: grpc.aio.insecure_channel(a) for t, a in addresses.items()}
    stubs = {t: intake_service_pb2_grpc.IntakeServiceStub(c) for t, c in channels.items()}
    semaphore = asyncio.Semaphore(concurrency)
    results = [Submission(tenant=item.tenant) for item in items]
    bar = ProgressBar(len(items), "meldingen acknowledged") if progress else None

    async def one(index: int, item: LoadItem) -> None:
        result = results[index]
        async with semaphore:
            result.sent = time.perf_counter()
            deadline = result.sent + retry_for
            while True:
                result.attempts += 1
                try:
                    reply = await stubs[item.tenant].SubmitMelding(
                        item.request, metadata=bearer_metadata(tokens[item.tenant]), timeout=10)
                except grpc.aio.AioRpcError as exc:
                    if time.perf_counter() < deadline:
                        await asyncio.sleep(0.2)
                        continue
                    result.error = f"{exc.code().name}: {exc.details()}"
                    break
                result.acked, result.contact_id = time.perf_counter(), reply.contact_id
                if on_ack is not None:
                    on_ack(result)
                break
        if bar:
            bar.update()

    try:
        await asyncio.gather(*(one(i, item) for i, item in enumerate(items)))
    finally:
        if bar:
            bar.close()
        for channel in channels.values():
            await channel.close()
    return results


class EventCollector:
    """Reads topics from the earliest offset (no consumer group) and keeps, per event type, every
    (key, event id, perf_counter at arrival); the key is the case id, or the idempotency key for
    deliveries. Also keeps the size (value + headers) of the first record of each type."""

    KEYS = {"AssessmentDue": "case_id", "AssessmentInput": "case_id", "DeliveryRequested": "idempotency_key",
            "DeliveryDelivered": "idempotency_key", "MeldingReceived": "contact_id"}

    def __init__(self, bootstrap: str, topics: Sequence[str]):
        from aiokafka import AIOKafkaConsumer

        self.seen: dict[str, list[tuple[str, str, float]]] = {k: [] for k in self.KEYS}
        self.messages: dict[str, dict[str, Any]] = {k: {} for k in self.KEYS}  # type -> key -> first message
        self.sizes: dict[str, int] = {}
        self._consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=None,
                                          auto_offset_reset="earliest", enable_auto_commit=False)
        self._task: Any = None

    async def __aenter__(self) -> "EventCollector":
        import asyncio

        await self._consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        import asyncio

        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def _run(self) -> None:
        import time

        from vtkit.envelope import DecodeError, decode

        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=5000)
            now = time.perf_counter()
            for records in batches.values():
                for record in records:
                    kind = dict(record.headers).get("ce_type", b"").decode().rsplit(".", 1)[-1]
                    if kind not in self.KEYS:
                        continue
                    try:
                        event = decode(record.value, record.headers)
                    except DecodeError:
                        continue
                    key = getattr(event.message, self.KEYS[kind])
                    self.seen[kind].append((key, event.envelope.id, now))
                    self.messages[kind].setdefault(key, event.message)
                    self.sizes.setdefault(kind, len(record.value or b"") + sum(len(k) + len(v) for k, v in record.headers))

    def first(self, kind: str) -> dict[str, float]:
        """key -> arrival time of its first event of this type."""
        out: dict[str, float] = {}
        for key, _, at in self.seen[kind]:
            out.setdefault(key, at)
        return out

    def keys(self, kind: str, predicate: Any = None) -> set[str]:
        return {k for k, m in self.messages[kind].items() if predicate is None or predicate(m)}

    async def wait_for(self, kind: str, keys: set[str], timeout: float) -> bool:
        return await self.wait_until(lambda: keys <= set(self.messages[kind]), timeout)

    async def wait_until(self, condition: Any, timeout: float) -> bool:
        import asyncio
        import time

        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.2)
        return True


def percentiles(values: Sequence[float], points: Sequence[int] = (50, 95, 99)) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {f"p{p}": float("nan") for p in points}
    return {f"p{p}": ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] for p in points}


def peak_rss_mib(pid: int) -> float:
    """Peak resident set size of a process (VmHWM of /proc/<pid>/status), in MiB; 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# -- chaos: the same load while services are SIGKILLed and the broker link is cut -----------------------------------


@dataclass
class ChaosReport:
    acknowledged: int = 0
    received: int = 0  # acknowledged contacts with a MeldingReceived on their intake topic
    assessed: int = 0  # acknowledged contacts with an AssessmentDue
    assessment_redeliveries: int = 0  # the same AssessmentDue event (same event id) read again
    assessment_reissued: int = 0  # cases with a second AssessmentDue under another event id
    scheduled: int = 0  # acknowledged contacts whose melder callback the notifier requested
    delivered: int = 0  # acknowledged contacts whose callback reached their region's fake case system
    duplicates: int = 0  # repeat deliveries of an idempotency key the receiver already had (acknowledged, flagged)
    second_distinct: int = 0  # cases that got a callback under two different idempotency keys
    lost: int = 0  # acknowledged but not received, assessed or delivered
    kills: list[str] = field(default_factory=list)
    outage_seconds: float = 0.0
    restarted_after_outage: list[str] = field(default_factory=list)  # exits not caused by a SIGKILL, started again
    seconds: float = 0.0
    missing: dict[str, list[str]] = field(default_factory=dict)

    def line(self) -> str:
        return (f"acknowledged {self.acknowledged}, received {self.received}, assessed {self.assessed} "
                f"(redelivered {self.assessment_redeliveries}, reissued {self.assessment_reissued}), scheduled "
                f"{self.scheduled}, delivered {self.delivered}, duplicates {self.duplicates}, second distinct "
                f"deliveries {self.second_distinct}, lost {self.lost}; {len(self.kills)} SIGKILLs "
                f"({', '.join(self.kills)}), broker link cut {self.outage_seconds:.0f} s, {self.seconds:.0f} s in all")


def _fake_receiver_rows(path: Any) -> list[dict[str, Any]]:
    import json
    import pathlib

    file = pathlib.Path(path)
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text().splitlines() if line.strip()]


async def run_chaos(stack: Any, meldingen: int, *, seed: int = 0, kills: Sequence[tuple[int, str]] = (),
                    random_kills: int = 0, victims: Sequence[str] = (), link: Any = None, outage_at: int = 0,
                    outage_seconds: float = 5.0, concurrency: int = 16, settle_timeout: float = 300.0,
                    progress: bool = False) -> ChaosReport:
    """Drives `meldingen` meldingen (the synthetic load, over the stack's tenants) into a started Stack and meanwhile:
    - `kills`: (after this many acknowledgements, process name) — SIGKILL it and start it again on the same ports
      and data directories;
    - `random_kills`: that many more SIGKILLs of random `victims` at random acknowledgement counts (seeded);
    - `link` (a vtkit.testing.CuttableLink every client of the broker goes through): cut at `outage_at`
      acknowledgements for `outage_seconds`, then restored; processes that died of it are started again.
    Submissions are retried with the same idempotency key while intake is down, as a case system does.
    Then waits (settle_timeout) until every acknowledged melding is assessed and its callback delivered, and counts."""
    import asyncio
    import time

    from vt.notifier.v1 import events_pb2 as notifier_events

    from vtkit import topics
    from vtkit.grpcserver import wait_healthy
    from vtkit.keystore import KeyStore

    rng = random.Random(seed)
    report = ChaosReport()
    tenants = list(stack.tenants)
    items = [i for i in generate(meldingen, seed=seed, tenants=tenants, meldingen_only=True) if i.kind == "melding"]
    schedule = sorted([*kills, *((rng.randrange(1, max(len(items), 2)), rng.choice(list(victims)))
                                 for _ in range(random_kills))])
    keys = KeyStore(stack.key_dir)
    addresses = {t: stack.processes[f"intake-{t}"].address for t in tenants}
    tokens = {t: keys.token_for(t) for t in tenants}
    acked = 0
    progressed = asyncio.Event()

    def on_ack(_: Submission) -> None:
        nonlocal acked
        acked += 1
        progressed.set()

    async def at(count: int) -> None:
        while acked < count and not finished.is_set():
            progressed.clear()
            await progressed.wait()

    async def restart(name: str) -> None:
        """Start again and wait until healthy; like a supervisor, start once more whenever it exits first
        (a service that cannot reach the broker at startup exits, e.g. during the outage)."""
        process = stack.processes[name]
        process.start()
        deadline = time.monotonic() + 180
        while True:
            try:
                await wait_healthy(process.address, 2)
                return
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} not healthy again within 180 s:\n{process.log_text()[-2000:]}") from None
                if process.proc is not None and process.proc.poll() is not None:
                    report.restarted_after_outage.append(f"{name} exited at startup ({process.proc.returncode})")
                    await asyncio.sleep(1.0)
                    process.start()

    async def killer() -> None:
        for count, name in schedule:
            await at(count)
            stack.processes[name].kill()
            report.kills.append(f"{name}@{acked}")
            await asyncio.sleep(rng.uniform(0.2, 1.5))
            await restart(name)

    async def outage() -> None:
        await at(outage_at)
        link.cut()
        start = time.monotonic()
        await asyncio.sleep(outage_seconds)
        link.restore()
        report.outage_seconds = time.monotonic() - start

    finished = asyncio.Event()
    started = time.perf_counter()
    watched = [topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_DELIVERIES] + [topics.intake(t) for t in tenants]
    async with EventCollector(stack.bootstrap, watched) as events:
        chaos = [asyncio.create_task(killer())]
        if link is not None:
            chaos.append(asyncio.create_task(outage()))
        submissions = await submit_all(addresses, tokens, items, concurrency=concurrency, retry_for=180,
                                       progress=progress, on_ack=on_ack)
        finished.set()
        await asyncio.gather(*chaos)
        for name, process in stack.processes.items():  # anything the outage took down comes back
            if process.proc is not None and process.proc.poll() is not None:
                report.restarted_after_outage.append(f"{name} (exit {process.proc.returncode})")
                await restart(name)
        ack = {s.contact_id: s.tenant for s in submissions if s.contact_id}
        report.acknowledged = len(ack)
        cases = set(ack)
        callback = notifier_events.DELIVERY_KIND_MELDER_CALLBACK
        files = {t: stack.var_dir / "data" / f"regional-system-{t}.jsonl" for t in tenants}

        def delivered() -> dict[str, list[dict[str, Any]]]:
            rows: dict[str, list[dict[str, Any]]] = {}
            for path in files.values():
                for row in _fake_receiver_rows(path):
                    if row.get("method") == "DeliverCallback" and row.get("status") == "OK" and row["case_id"] in cases:
                        rows.setdefault(row["case_id"], []).append(row)
            return rows

        state: dict[str, Any] = {"rows": {}, "at": 0.0}

        def settled() -> bool:
            if not cases <= set(events.messages["AssessmentDue"]) or not cases <= set(events.messages["MeldingReceived"]):
                return False
            if time.monotonic() - state["at"] > 1.0:
                state["rows"], state["at"] = delivered(), time.monotonic()
            return cases <= set(state["rows"])

        await events.wait_until(settled, settle_timeout)
        await asyncio.sleep(2.0)  # let late redeliveries show up in the counts
        rows = delivered()
        report.seconds = time.perf_counter() - started
        received = set(events.messages["MeldingReceived"]) & cases
        due: dict[str, set[str]] = {}
        for case_id, event_id, _ in events.seen["AssessmentDue"]:
            if case_id in cases:
                due.setdefault(case_id, set()).add(event_id)
        report.assessment_redeliveries = sum(1 for c, _, _ in events.seen["AssessmentDue"] if c in cases) - sum(
            len(ids) for ids in due.values())
        report.assessment_reissued = sum(1 for ids in due.values() if len(ids) > 1)
        scheduled = {m.case_id for m in events.messages["DeliveryRequested"].values()
                     if m.kind == callback and m.case_id in cases}
        report.received, report.assessed, report.scheduled = len(received), len(due), len(scheduled)
        report.delivered = len(rows)
        report.duplicates = sum(1 for case_rows in rows.values() for r in case_rows if r["duplicate"])
        report.second_distinct = sum(1 for case_rows in rows.values()
                                     if len({r["idempotency_key"] for r in case_rows}) > 1)
        missing = {"received": sorted(cases - received), "assessed": sorted(cases - set(due)),
                   "delivered": sorted(cases - set(rows))}
        report.missing = {k: v[:10] for k, v in missing.items() if v}
        report.lost = len(set().union(*map(set, missing.values())))
        failed = [s.error for s in submissions if not s.contact_id]
        if failed:
            report.missing["not acknowledged (client gave up)"] = failed[:10]
    return report
