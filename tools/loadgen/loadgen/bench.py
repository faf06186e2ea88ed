"""The pipeline measurement shared by `make bench` (bench_pipeline.py, BENCH_N meldingen) and its short
version in `make test` (test_bench_smoke.py): same code path, different load.

1. pipeline: the real Stack (every service its own process, on the embedded broker or KAFKA_BOOTSTRAP_SERVERS)
   gets n meldingen of the synthetic national load (loadgen, meldingen only, over `tenants`) through
   intake gRPC with bounded concurrency. Measured: intake acknowledgement latency (durable outbox included),
   submission -> AssessmentDue on vt.national.assessments.v1, submission -> DeliveryRequested of the melder
   callback on vt.national.deliveries.v1 (the notifier scheduled it), and the sustained rates.
2. baseline: raw aiokafka produce -> consume of records of the size of a MeldingReceived (value + headers)
   through the same broker, one producer, one consumer, a fresh 4-partition topic.
3. ratio pipeline / baseline and the extrapolated time for one national year (270,550 contacts).
4. peak RSS (VmHWM) of every process of the stack.
5. CPU per melding: user + system CPU time (loadgen.cpu, /proc) of every process of the stack and of the
   embedded broker (with any descendants), read when the n submissions start and once every callback is
   scheduled, divided by n; the load generator (this process: submissions, the event reader) separately.
   Everything those processes did in that window counts, idle work (ops polling metrics, timers) included.
6. open loop: after that, on the same stack, open_rate meldingen a second for open_seconds (another seed),
   started on schedule whatever the earlier ones do, at most open_max_in_flight outstanding; acknowledgement
   and submission -> AssessmentDue latency, measured from each melding's scheduled start.
With `profile_dir`, py-spy samples radar, notifier, one intake and one fake regional system during the submission
phase (raw collapsed stacks, summarised by tests/perf/pyspy_summary.py); BENCH_PROFILE_ARGS adds py-spy options
(`--gil`: only the thread holding the GIL, i.e. the Python CPU without the waits in fsync or the kernel).
Also reported: how long the stack took to start (`startup_s`), the open file descriptors of every process at the end
(`open_fds`; 25 regions run about 60 processes, docs/measurements.md) and the CPU each used while the started stack
settled (`settle_cpu_s`, `settle_seconds` before the window, and with `settle_quiet` on until the stack uses less
than that many cores). `prepare(stack)` runs after the stack is planned
(keys made, ports chosen) and before it starts: a bench puts history into the data directory there."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import pathlib
import platform
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from devstack.broker import embedded_broker_pid
from devstack.stack import Stack
from vt.notifier.v1 import events_pb2 as notifier_events
from vtkit import topics
from vtkit.kafka import KafkaSettings, ensure_topics, make_producer, true_end_offsets
from vtkit.keystore import KeyStore
from vtkit.signing import RecordVerifier, Signers

from loadgen.cpu import CpuWindow
from loadgen.drive import EventCollector, peak_rss_mib, percentiles, submit_all, submit_open_loop
from loadgen.generate import CONTACTS_PER_YEAR, generate

CALLBACK = notifier_events.DELIVERY_KIND_MELDER_CALLBACK
PROFILED = ("radar", "notifier")
# Every figure the result file must carry (the smoke test asserts them).
REQUIRED = ("raw_msgs_per_s", "ack_per_s", "assessed_per_s", "scheduled_per_s", "ratio", "national_year_hours",
            "latency_ms", "peak_rss_mib", "machine", "broker", "cpu_ms_per_melding", "open_loop", "records_per_melding")
LOADGEN = "loadgen"


def machine() -> str:
    model = ""
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kib = int(pathlib.Path("/proc/meminfo").read_text().split()[1])
        ram = f", {mem_kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        ram = ""
    return (f"{os.cpu_count()} cores ({model or platform.machine()}){ram}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


async def raw_baseline(kafka: str, count: int, size: int) -> float:
    """Records per second, from the first send until the last record is consumed."""
    topic = f"bench.raw.{uuid.uuid4().hex[:8]}"
    settings = KafkaSettings(bootstrap_servers=kafka)
    await ensure_topics(settings, [topics.TopicSpec(topic, 4)])
    producer = make_producer(settings)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    try:
        value = os.urandom(max(size - 200, 1))
        headers = [(f"ce_h{i}", b"x" * 36) for i in range(5)]  # ~200 bytes of headers, as an envelope has
        t0 = time.perf_counter()
        futures = [await producer.send(topic, value, key=str(i).encode(), headers=headers) for i in range(count)]
        await asyncio.gather(*futures)
        seen = 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            seen += sum(len(r) for r in batches.values())
            if time.perf_counter() - t0 > 300:
                raise AssertionError(f"raw baseline: only {seen} of {count} consumed")
        return count / (time.perf_counter() - t0)
    finally:
        await consumer.stop()
        await producer.stop()


def record_signature_cost(keys: KeyStore, size: int, count: int = 2000) -> dict[str, float]:
    """CPU microseconds to sign one record as its region and to verify it (process time, so the machine's other
    load does not count)."""
    topic = topics.intake("utrecht")
    signers, verifier = Signers(keys.root), RecordVerifier.load(keys.root)
    value, headers = os.urandom(size), [("ce_id", b"x" * 36), ("ce_type", b"vt.intake.v1.MeldingReceived")]
    t0 = time.process_time()
    signed = [signers.headers(topic, str(i).encode(), value, headers) for i in range(count)]
    t1 = time.process_time()
    for i, one in enumerate(signed):
        verifier.check(topic, str(i).encode(), value, one)
    t2 = time.process_time()
    return {"sign": (t1 - t0) * 1e6 / count, "verify": (t2 - t1) * 1e6 / count}


async def topic_records(kafka: str) -> dict[str, int]:
    """How many records each topic holds (its partitions' true end offsets: tansu answers ListOffsets with the last
    batch's base offset + 1, vtkit.kafka.true_end_offsets): read before and after a window, the records the window
    wrote, per topic (faust's changelogs and the services' own topics alike)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for topic in await consumer.topics()
                      for p in consumer.partitions_for_topic(topic) or ()]
        listed = await consumer.end_offsets(partitions) if partitions else {}
    finally:
        await consumer.stop()
    ends = await true_end_offsets(KafkaSettings(bootstrap_servers=kafka), listed)
    counts: dict[str, int] = {}
    for tp, end in ends.items():
        counts[tp.topic] = counts.get(tp.topic, 0) + end
    return counts


def server_seconds(urls: Sequence[str], method: str) -> dict[float, float]:
    """The services' vt_grpc_server_handling_seconds buckets of `method` (upper bound in seconds -> calls at most that
    long, summed over the services at `urls`): from the interceptors' start to the answer, as the server saw it."""
    from prometheus_client.parser import text_string_to_metric_families

    buckets: dict[float, float] = {}
    for url in urls:
        with urllib.request.urlopen(url, timeout=5) as answer:
            text = answer.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "vt_grpc_server_handling_seconds_bucket" and sample.labels["grpc_method"] == method:
                    bound = float(sample.labels["le"])
                    buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return buckets


def bucket_quantile_ms(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """The upper bound (ms) of the histogram bucket that holds quantile `q` of the calls between two scrapes."""
    between = sorted((bound, after[bound] - before.get(bound, 0.0)) for bound in after)
    total = between[-1][1] if between else 0.0
    return next((bound * 1000 for bound, count in between if total and count >= q * total), math.inf)


def git_commit() -> str:
    """The short commit of the checkout the bench runs from, with "-dirty" when tracked files differ."""
    root = pathlib.Path(__file__).resolve().parents[3]
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


async def wait_until_quiet(pids: dict[str, int], cores: float, step: float = 2.0, limit: float = 180.0) -> None:
    """Wait until the processes together used less than `cores` CPU seconds a second over `step` (at most `limit`
    seconds): start-up work that reads a long history (radar's first norm gauges) then stays out of the window."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        window = CpuWindow(pids)
        window.start()
        await asyncio.sleep(step)
        if sum(window.stop().values()) / step < cores:
            return


def open_fds(pid: int) -> int:
    """File descriptors the process has open now (sockets included); -1 when it cannot be read."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def start_profilers(stack: Stack, out_dir: pathlib.Path) -> list[subprocess.Popen[bytes]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    spy = pathlib.Path(sys.executable).with_name("py-spy")
    # The intakes are alike, and so are the regions' fake case systems: one of each.
    alike = [next(name for name in stack.processes if name.startswith(prefix))
             for prefix in ("intake-", "regional-system-")]
    pids = {name: proc.pid for name in (*PROFILED, *alike) if (proc := stack.processes[name].proc) is not None}
    extra = os.environ.get("BENCH_PROFILE_ARGS", "").split()
    return [subprocess.Popen([str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
                              "--nonblocking", *extra, "-o", str(out_dir / f"{name}.collapsed")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, pid in pids.items()]


def stop_profilers(profilers: list[subprocess.Popen[bytes]]) -> None:
    for p in profilers:
        p.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
    for p in profilers:
        p.wait(timeout=60)


async def run_pipeline(kafka: str, work_dir: pathlib.Path, results_dir: pathlib.Path, *, n: int,
                       concurrency: int, seed: int, tenants: Sequence[str],
                       profile_dir: pathlib.Path | None = None, raw_min: int = 5000, open_rate: float = 200.0,
                       open_seconds: float = 10.0, open_max_in_flight: int = 64,
                       prepare: Callable[[Stack], None] | None = None, settle_seconds: float = 1.0,
                       settle_quiet: float | None = None) -> dict[str, Any]:
    """Runs the measurement and writes results.json and results.md into results_dir; returns the results."""
    load_before = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    commit = git_commit()
    items = generate(n, seed=seed, tenants=tenants, meldingen_only=True, progress=True)
    meldingen = [i for i in items if i.kind == "melding"]
    open_n = max(1, round(open_rate * open_seconds))
    open_items = [i for i in generate(open_n, seed=seed + 1, tenants=tenants, meldingen_only=True) if i.kind == "melding"]
    stack = Stack(kafka, work_dir, tenants=tuple(tenants))
    stack.plan()
    if prepare is not None:
        prepare(stack)
    profilers: list[subprocess.Popen[bytes]] = []
    try:
        started = time.perf_counter()
        # Processes start in parallel on 2 cores: each region adds two (its intake and its fake case system).
        await stack.start(timeout=90.0 + 6.0 * len(tenants))
        startup_s = time.perf_counter() - started
        keys = KeyStore(stack.key_dir)
        addresses = {t: stack.processes[f"intake-{t}"].address for t in tenants}
        watched = [topics.NATIONAL_ASSESSMENTS, topics.NATIONAL_DELIVERIES] + [topics.intake(t) for t in tenants]
        pids = {name: p.proc.pid for name, p in stack.processes.items() if p.proc}
        broker_pid = embedded_broker_pid(kafka)
        if broker_pid is not None:
            pids["broker"] = broker_pid
        async with EventCollector(kafka, watched) as events:
            settle = CpuWindow(pids)
            settle.start()
            await asyncio.sleep(settle_seconds)
            if settle_quiet is not None:
                await wait_until_quiet(pids, settle_quiet)
            settle_cpu_s = settle.stop()
            if profile_dir is not None:
                profilers = start_profilers(stack, profile_dir)
            records_before = await topic_records(kafka)
            cpu = CpuWindow({**pids, LOADGEN: os.getpid()}, own=frozenset({LOADGEN}))
            cpu.start()
            t0 = time.perf_counter()
            submissions = await submit_all(addresses, keys, meldingen, concurrency=concurrency, progress=True)
            acked_at = time.perf_counter()
            failed = [s.error for s in submissions if not s.contact_id]
            assert not failed, failed[:5]
            cases = {s.contact_id for s in submissions}
            assessed = await events.wait_for("AssessmentDue", cases, 600)
            is_callback = lambda m: m.kind == CALLBACK and m.case_id in cases  # noqa: E731
            await events.wait_until(lambda: len(events.keys("DeliveryRequested", is_callback)) >= len(cases), 600)
            cpu_window = time.perf_counter() - t0
            cpu_s = cpu.stop()
            records_after = await topic_records(kafka)
            if profilers:
                stop_profilers(profilers)
                profilers = []
            assert assessed, f"{len(cases - set(events.messages['AssessmentDue']))} AssessmentDue missing"
            due_at = events.first("AssessmentDue")
            scheduled_at: dict[str, float] = {}
            for key, _, at in events.seen["DeliveryRequested"]:
                message = events.messages["DeliveryRequested"][key]
                if message.kind == CALLBACK and message.case_id in cases:
                    scheduled_at.setdefault(message.case_id, at)
            record_bytes = events.sizes.get("MeldingReceived", 0)

            print(f"\nopen loop: {len(open_items)} meldingen at {open_rate:g}/s")
            intake_metrics = [stack.metrics[f"intake-{t}"] for t in tenants]
            served_before = await asyncio.to_thread(server_seconds, intake_metrics, "SubmitMelding")
            open_subs, late_starts = await submit_open_loop(addresses, keys, open_items, rate=open_rate,
                                                            max_in_flight=open_max_in_flight)
            served = await asyncio.to_thread(server_seconds, intake_metrics, "SubmitMelding")
            open_failed = [s.error for s in open_subs if not s.contact_id]
            assert not open_failed, open_failed[:5]
            open_cases = {s.contact_id for s in open_subs}
            assert await events.wait_for("AssessmentDue", open_cases, 600), \
                f"open loop: {len(open_cases - set(events.messages['AssessmentDue']))} AssessmentDue missing"
            open_due_at = events.first("AssessmentDue")
        assert set(scheduled_at) == cases, f"{len(cases - set(scheduled_at))} callbacks not scheduled"
        rss = {name: peak_rss_mib(p.proc.pid) for name, p in stack.processes.items() if p.proc}
        fds = {name: open_fds(pid) for name, pid in {**pids, LOADGEN: os.getpid()}.items()}
    finally:
        if profilers:
            stop_profilers(profilers)
        stack.stop()

    raw_n = max(n, raw_min)
    raw_rate = await raw_baseline(kafka, raw_n, record_bytes)
    signature_us = record_signature_cost(keys, max(record_bytes, 1))
    assessed_rate = n / (max(due_at[c] for c in cases) - t0)
    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(), "cores": os.cpu_count(), "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "broker": "external (KAFKA_BOOTSTRAP_SERVERS)" if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") else "embedded tansu",
        "n": n, "concurrency": concurrency, "seed": seed, "tenants": list(tenants), "record_bytes": record_bytes,
        "meldingen": len(cases), "assessed_cases": len(set(due_at) & cases), "scheduled_cases": len(scheduled_at),
        "raw_n": raw_n, "raw_msgs_per_s": raw_rate,
        "ack_per_s": n / (acked_at - t0), "assessed_per_s": assessed_rate,
        "scheduled_per_s": n / (max(scheduled_at.values()) - t0),
        "ratio": assessed_rate / raw_rate, "national_year_hours": CONTACTS_PER_YEAR / assessed_rate / 3600,
        "latency_ms": {
            "ack": percentiles([(s.acked - s.sent) * 1000 for s in submissions]),
            "assessed": percentiles([(due_at[s.contact_id] - s.sent) * 1000 for s in submissions]),
            "scheduled": percentiles([(scheduled_at[s.contact_id] - s.sent) * 1000 for s in submissions]),
        },
        "peak_rss_mib": rss,
        "startup_s": startup_s, "settle_seconds": settle_seconds, "settle_cpu_s": settle_cpu_s, "open_fds": fds,
        "commit": commit,
        "cpu_window_s": cpu_window,
        "cpu_ms_per_melding": {
            "total": sum(v for k, v in cpu_s.items() if k != LOADGEN) * 1000 / n,
            "per_process": {k: v * 1000 / n for k, v in sorted(cpu_s.items()) if k != LOADGEN},
            LOADGEN: cpu_s[LOADGEN] * 1000 / n,
        },
        # Records written to each topic in the CPU window, per melding (the broker stores each, a consumer reads it).
        "records_per_melding": {
            topic: (count - records_before.get(topic, 0)) / n
            for topic, count in sorted(records_after.items()) if count > records_before.get(topic, 0)},
        # What signing a melding's record (intake) and checking it (radar and the notifier each) costs, in CPU
        # microseconds per record of this run's size (vtkit.signing); included in the per-process figures above.
        "record_signature_us": signature_us,
        "open_loop": {
            "rate_per_s": open_rate, "count": len(open_subs), "max_in_flight": open_max_in_flight,
            "ack_p50_ms": percentiles([(s.acked - s.sent) * 1000 for s in open_subs], (50,))["p50"],
            "ack_p99_ms": percentiles([(s.acked - s.sent) * 1000 for s in open_subs], (99,))["p99"],
            "assessment_p99_ms": percentiles([(open_due_at[s.contact_id] - s.sent) * 1000 for s in open_subs],
                                             (99,))["p99"],
            "late_starts": late_starts,
            # The same calls as the intakes timed them (their histogram's bucket bounds: 10, 25, 50, 100, 250 ms,
            # ...): what the acknowledgement took inside intake, not waiting in the load generator or the network.
            "server_ack_p50_ms_at_most": bucket_quantile_ms(served_before, served, 0.50),
            "server_ack_p99_ms_at_most": bucket_quantile_ms(served_before, served, 0.99),
        },
    }
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "results.json").write_text(json.dumps(results, indent=2))
    table = markdown(results)
    (results_dir / "results.md").write_text(table)
    print("\n" + table)
    return results


def markdown(r: dict[str, Any]) -> str:
    lat = r["latency_ms"]
    rows = [
        ("when", r["when"]),
        ("machine", r["machine"]),
        ("load average (1 min) before / after the run", f"{r['load_average']['before']:.1f} / {r['load_average']['after']:.1f}"),
        ("broker", r["broker"]),
        ("meldingen (regions, concurrency)", f"{r['n']} ({len(r['tenants'])}, {r['concurrency']})"),
        ("MeldingReceived record size", f"{r['record_bytes']} bytes"),
        ("raw aiokafka produce->consume", f"{r['raw_msgs_per_s']:.0f} msgs/s"),
        ("intake acknowledged", f"{r['ack_per_s']:.1f} meldingen/s"),
        ("pipeline sustained (all AssessmentDue)", f"{r['assessed_per_s']:.1f} meldingen/s"),
        ("pipeline to notifier scheduled (all DeliveryRequested)", f"{r['scheduled_per_s']:.1f} meldingen/s"),
        ("ratio pipeline / raw", f"{r['ratio']:.4f}"),
        ("one national year (270,550 contacts) at the pipeline rate", f"{r['national_year_hours']:.2f} h"),
    ]
    for name, key in (("intake ack", "ack"), ("submission -> AssessmentDue", "assessed"),
                      ("submission -> notifier scheduled", "scheduled")):
        p = lat[key]
        rows.append((f"{name} p50 / p95 / p99", f"{p['p50']:.0f} / {p['p95']:.0f} / {p['p99']:.0f} ms"))
    for name, mib in sorted(r["peak_rss_mib"].items()):
        rows.append((f"peak RSS {name}", f"{mib:.0f} MiB"))
    rows.append(("peak RSS, all service processes together", f"{sum(r['peak_rss_mib'].values()):.0f} MiB"))
    rows.append((f"stack start-up ({len(r['peak_rss_mib'])} processes)", f"{r['startup_s']:.1f} s"))
    busiest = max(r["open_fds"].items(), key=lambda kv: kv[1])
    rows.append(("open file descriptors: all processes / most in one", f"{sum(r['open_fds'].values())} / "
                 f"{busiest[1]} ({busiest[0]})"))
    cpu = r["cpu_ms_per_melding"]
    rows.append((f"CPU per melding, suite total ({len(cpu['per_process'])} processes incl. broker; "
                 f"window {r['cpu_window_s']:.1f} s)", f"{cpu['total']:.1f} ms"))
    for name, ms in sorted(cpu["per_process"].items(), key=lambda kv: -kv[1]):
        rows.append((f"CPU per melding {name}", f"{ms:.2f} ms"))
    rows.append(("CPU per melding load generator (not in the total)", f"{cpu[LOADGEN]:.2f} ms"))
    records = r["records_per_melding"]
    rows.append(("Kafka records written per melding, all topics", f"{sum(records.values()):.1f}"))
    rows += [(f"Kafka records per melding {topic}", f"{count:.2f}")
             for topic, count in sorted(records.items(), key=lambda kv: -kv[1])]
    sig = r["record_signature_us"]
    rows.append(("record signature: sign (intake) / verify (radar, notifier each), CPU per record",
                 f"{sig['sign']:.0f} / {sig['verify']:.0f} µs"))
    o = r["open_loop"]
    rows += [
        ("open loop: meldingen at a fixed rate (max in flight)",
         f"{o['count']} at {o['rate_per_s']:g}/s ({o['max_in_flight']})"),
        ("open loop: late starts (> 10 ms after schedule)", str(o["late_starts"])),
        ("open loop: ack p50 / p99 (from the scheduled start)", f"{o['ack_p50_ms']:.0f} / {o['ack_p99_ms']:.0f} ms"),
        ("open loop: ack p50 / p99 inside intake (at most: its histogram's bucket)",
         f"{o['server_ack_p50_ms_at_most']:.0f} / {o['server_ack_p99_ms_at_most']:.0f} ms"),
        ("open loop: submission -> AssessmentDue p99", f"{o['assessment_p99_ms']:.0f} ms"),
    ]
    lines = ["| measure | value |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(lines) + "\n"


HISTORY_HEADER = ("| date (UTC) | commit | cores | load 1 min before / after | BENCH_N | CPU ms/melding (total) "
                  "| top 3 processes (CPU ms/melding) | sustained (AssessmentDue/s) | open loop rate (late starts) "
                  "| open-loop ack p99 | open-loop AssessmentDue p99 |")


def history_row(r: dict[str, Any]) -> str:
    cpu = r["cpu_ms_per_melding"]
    top = sorted(cpu["per_process"].items(), key=lambda kv: -kv[1])[:3]
    o = r["open_loop"]
    cells = [r["when"].replace("T", " ").removesuffix("+00:00"), f"`{r['commit']}`", str(r.get("cores", "?")),
             f"{r['load_average']['before']:.1f} / {r['load_average']['after']:.1f}", str(r["n"]),
             f"{cpu['total']:.1f}", ", ".join(f"{name} {ms:.1f}" for name, ms in top), f"{r['assessed_per_s']:.1f}",
             f"{o['rate_per_s']:g}/s ({o['late_starts']})", f"{o['ack_p99_ms']:.0f} ms",
             f"{o['assessment_p99_ms']:.0f} ms"]
    return "| " + " | ".join(cells) + " |"


def append_history(r: dict[str, Any], path: pathlib.Path) -> None:
    """Adds one row for this run at the end of the history table of `path` (docs/measurements.md), which is
    the table under the line HISTORY_HEADER; creates the file with that table when missing."""
    row = history_row(r)
    if not path.exists():
        path.write_text(textwrap.dedent(f"""\
            # Measurements

            ## History

            {HISTORY_HEADER}
            |{"---|" * HISTORY_HEADER.count(" | ")}---|
            """))
    lines = path.read_text().splitlines()
    at = lines.index(HISTORY_HEADER) + 1
    while at < len(lines) and lines[at].startswith("|"):
        at += 1
    lines.insert(at, row)
    path.write_text("\n".join(lines) + "\n")
