"""CPU of one intake process per melding, alone against the embedded broker.

    VT_PORT_RANGE=24500-25999 .venv/bin/pytest -m bench tests/perf -k intake_cpu -s -p no:cacheprovider

One intake (groningen) is started; INTAKE_BENCH_WARMUP (200) meldingen warm it up, then INTAKE_BENCH_N (2000)
loadgen meldingen (seed INTAKE_BENCH_SEED, 9) are submitted over one mTLS channel, INTAKE_BENCH_CONCURRENCY (32) in
flight (a closed loop: the acknowledgement latencies measure the queue as much as a melding). The intake's CPU time
(utime + stime of /proc/<pid>/stat, loadgen.cpu) is read before the first submission and after its outbox is drained
(every MeldingReceived sent, read from its SQLite file), so the relay's signing and sending and the access log's
forwarding count too. Printed: CPU ms per melding, acknowledgements per second, ack p50/p99, the load average, and
per melding the CPU of the main thread and of the other threads, user and system time, and context switches.

Comparing trees by turns (host noise drifts): INTAKE_BENCH_SOURCES=a,b,a,b runs one intake per entry, one after the
other, each with PYTHONPATH naming that repository's service and library folders (an entry `.` is this checkout),
e.g. a `git worktree` of the baseline commit. Profiles of the measured window: INTAKE_BENCH_PROFILE=<dir> (py-spy,
raw collapsed stacks, summarise with tests/perf/pyspy_summary.py; INTAKE_BENCH_PROFILE_ARGS="--gil --threads"
samples only the thread holding the GIL, by thread), INTAKE_BENCH_PERF=<dir> (perf record -g: the native view,
kernel included), INTAKE_BENCH_STRACE=<dir> (syscall counts, or what INTAKE_BENCH_STRACE_ARGS asks; slows intake
down), INTAKE_BENCH_DUMP=1 (context switches per thread id and a py-spy dump naming the threads)."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from devstack.processes import ROOT, ServiceProcess
from loadgen.cpu import CLK_TCK, cpu_seconds
from loadgen.drive import percentiles, submit_all
from loadgen.generate import generate
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore

pytestmark = pytest.mark.bench

N = int(os.environ.get("INTAKE_BENCH_N", "2000"))
WARMUP = int(os.environ.get("INTAKE_BENCH_WARMUP", "200"))
CONCURRENCY = int(os.environ.get("INTAKE_BENCH_CONCURRENCY", "32"))
SEED = int(os.environ.get("INTAKE_BENCH_SEED", "9"))
SOURCES = [s.strip() for s in os.environ.get("INTAKE_BENCH_SOURCES", ".").split(",") if s.strip()]
PROFILE = os.environ.get("INTAKE_BENCH_PROFILE")
PERF = os.environ.get("INTAKE_BENCH_PERF")  # a directory: `perf record` of the measured window (native view)
DUMP = os.environ.get("INTAKE_BENCH_DUMP")  # set: context switches per thread id, and a py-spy dump naming them
STRACE = os.environ.get("INTAKE_BENCH_STRACE")  # a directory: `strace -f -c` syscall counts (slows intake down)
# e.g. "-e trace=openat,fsync": each call with its file instead of the counts
STRACE_ARGS = os.environ.get("INTAKE_BENCH_STRACE_ARGS", "-c").split()
PROFILE_ARGS = os.environ.get("INTAKE_BENCH_PROFILE_ARGS", "").split()  # e.g. --gil, --threads
TENANT = "groningen"
SPY = pathlib.Path(sys.executable).with_name("py-spy")
PATHS = [line.strip() for line in (ROOT / "scripts" / "venv_paths.txt").read_text().splitlines() if line.strip()]


def _threads(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (comm; the main thread: main) of the live threads of `pid`."""
    out: dict[str, float] = {}
    for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "stat").read_text()
        except OSError:
            continue
        name = "main" if task.name == str(pid) else text[text.index("(") + 1:text.rindex(")")].rstrip("0123456789_-")
        fields = text[text.rindex(")") + 2:].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / CLK_TCK
        out["(user)"] = out.get("(user)", 0.0) + int(fields[11]) / CLK_TCK
        out["(sys)"] = out.get("(sys)", 0.0) + int(fields[12]) / CLK_TCK
        try:
            status = (task / "status").read_text()
        except OSError:
            continue
        switches = sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches:" in line)
        out["(switches)"] = out.get("(switches)", 0.0) + switches / 1000  # shown per melding
        if DUMP:
            out[f"(switches {task.name})"] = switches / 1000
    return out


def _unsent(database: pathlib.Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])


async def _drained(database: pathlib.Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while _unsent(database):
        if time.monotonic() > deadline:
            raise AssertionError("the outbox was not drained in time")
        await asyncio.sleep(0.05)


def _profilers(pid: int, label: str) -> list[subprocess.Popen[bytes]]:
    """py-spy (INTAKE_BENCH_PROFILE) and perf (INTAKE_BENCH_PERF) recording `pid`, as asked."""
    started = []
    if PROFILE:
        out = pathlib.Path(PROFILE)
        out.mkdir(parents=True, exist_ok=True)
        started.append(subprocess.Popen([str(SPY), "record", "--pid", str(pid), "--format", "raw", "--rate", "200",
                                         "--nonblocking", *PROFILE_ARGS, "-o", str(out / f"intake-{label}.collapsed")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    if PERF:
        out = pathlib.Path(PERF)
        out.mkdir(parents=True, exist_ok=True)
        started.append(subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(pid), "-o",
                                         str(out / f"intake-{label}.perf.data")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    if STRACE:
        out = pathlib.Path(STRACE)
        out.mkdir(parents=True, exist_ok=True)
        started.append(subprocess.Popen(["strace", "-f", *STRACE_ARGS, "-o", str(out / f"intake-{label}.strace"),
                                         "-p", str(pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return started


def _stop(profilers: list[subprocess.Popen[bytes]], pid: int) -> None:
    if DUMP:
        print(subprocess.run([str(SPY), "dump", "--pid", str(pid)], capture_output=True, text=True).stdout)
    for profiler in profilers:
        profiler.send_signal(signal.SIGINT)  # each writes its file on SIGINT
        profiler.wait(timeout=60)


async def _one(source: str, kafka: str, keys: KeyStore, work: pathlib.Path, label: str) -> dict[str, float]:
    root = ROOT if source == "." else pathlib.Path(source).resolve()
    data = work / label / "data"
    data.mkdir(parents=True)
    env = {"VT_TENANT": TENANT, "VT_KEY_DIR": str(keys.root), "VT_DATA_DIR": str(data),
           "KAFKA_BOOTSTRAP_SERVERS": kafka,
           # libs/vtproto is generated: taken from this checkout when the other tree has none
           "PYTHONPATH": os.pathsep.join(str(root / p) if (root / p).exists() else str(ROOT / p) for p in PATHS)}
    process = ServiceProcess(f"intake-{label}", "intake", env=env, log_path=work / label / "intake.log").start()
    try:
        await wait_healthy(process.address, timeout=30, keys=keys)
        items = [i for i in generate(2 * (WARMUP + N), seed=SEED, tenants=[TENANT], meldingen_only=True)
                 if i.kind == "melding"][:WARMUP + N]  # (RvdK and verwijsindex items are not for intake)
        assert len(items) == WARMUP + N
        warm, measured = items[:WARMUP], items[WARMUP:]
        addresses = {TENANT: process.address}
        await submit_all(addresses, keys, warm, concurrency=CONCURRENCY)
        database = data / f"intake-{TENANT}.sqlite3"
        await _drained(database)
        await asyncio.sleep(1.0)
        assert process.proc is not None
        pid = process.proc.pid
        profilers = _profilers(pid, label)
        if profilers:
            await asyncio.sleep(1.0)  # attached
        threads0, cpu0, t0 = _threads(pid), cpu_seconds(pid), time.perf_counter()
        results = await submit_all(addresses, keys, measured, concurrency=CONCURRENCY)
        acked = time.perf_counter() - t0
        await _drained(database)
        cpu1, t1, threads1 = cpu_seconds(pid), time.perf_counter(), _threads(pid)
        _stop(profilers, pid)
        errors = [r.error for r in results if r.error]
        assert not errors, errors[:5]
    finally:
        code = process.stop()
        assert code == 0, process.log_text()[-3000:]
    per_thread = {name: 1000 * (threads1[name] - threads0.get(name, 0.0)) / N for name in threads1}
    print(f"{label}: ms CPU/melding by thread name: "
          + ", ".join(f"{k} {v:.3f}" for k, v in sorted(per_thread.items(), key=lambda kv: -kv[1]) if v > 0.001))
    latency = percentiles([1000 * (r.acked - r.sent) for r in results], (50, 99))
    return {"cpu_ms_per_melding": 1000 * (cpu1 - cpu0) / N, "acks_per_s": N / acked, "seconds": t1 - t0,
            "ack_p50_ms": latency["p50"], "ack_p99_ms": latency["p99"]}


async def test_intake_cpu_per_melding(kafka: str, keys: KeyStore, tmp_path: pathlib.Path) -> None:
    rows = []
    for i, source in enumerate(SOURCES):
        label = f"{i}-{pathlib.Path(source).resolve().name}"
        row = await _one(source, kafka, keys, tmp_path, label)
        load = pathlib.Path("/proc/loadavg").read_text().split()[:3]
        rows.append(f"{label:24} {row['cpu_ms_per_melding']:6.3f} ms CPU/melding  {row['acks_per_s']:6.0f} acks/s  "
                    f"{row['seconds']:5.1f} s  ack p50/p99 {row['ack_p50_ms']:4.0f}/{row['ack_p99_ms']:4.0f} ms  "
                    f"load {' '.join(load)}")
        print(rows[-1], flush=True)
    print("\nintake CPU per melding (N={}, concurrency {}):\n{}".format(N, CONCURRENCY, "\n".join(rows)))
