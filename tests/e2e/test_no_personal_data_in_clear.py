"""Scanner (docs/security.md): after the cross-region story through every real service, no BSN, name, phone number
or e-mail address of its test data appears in clear in any topic's records (key, value, headers), in any
service's log file, or in the NEN 7513 audit logs."""

from __future__ import annotations

import asyncio
import pathlib
import time

from devstack.demo import cross_region_scenario
from devstack.stack import Stack
from ops.cli import read_all
from vtkit import topics
from vtkit.keystore import KeyStore

A, B = "amsterdam-amstelland", "rotterdam-rijnmond"
# The personal data cross_region_scenario sends (devstack.scenario.melding_request); the BSN is added per run.
PERSONAL = ["Petra de Vries", "Karel Smit", "0201234567", "p.devries@example.nl"]


async def test_no_personal_data_in_clear_in_topics_or_logs(kafka: str, tmp_path: pathlib.Path) -> None:
    var = tmp_path / "var"
    stack = Stack(kafka, var, tenants=(A, B))
    stack.plan()
    started_ms = int(time.time() * 1000) - 1000
    try:
        await stack.start()
        result = await cross_region_scenario(
            kafka, KeyStore(stack.key_dir), A, B, stack.processes[f"intake-{A}"].address,
            stack.processes[f"intake-{B}"].address, str(var / "data" / f"regional-system-{A}.jsonl"))
        await asyncio.sleep(1.0)  # let the notifier's and radar's last outputs land
    finally:
        stack.stop()
    needles = [result.bsn, *PERSONAL]
    encoded = [n.encode() for n in needles]

    # Every topic, records of this run only (the session broker is shared with other tests).
    names = [spec.name for spec in topics.all_topics()]
    per_topic = await asyncio.gather(*(read_all(kafka, name) for name in names))
    scanned, findings = 0, []
    for name, records in zip(names, per_topic, strict=True):
        for record in records:
            if record.timestamp < started_ms:
                continue
            scanned += 1
            blobs = [record.key or b"", record.value or b""] + [v for _, v in record.headers or ()]
            findings += [(name, record.offset, n) for n, e in zip(needles, encoded, strict=True)
                         if any(e in blob for blob in blobs)]
    assert scanned > 10, f"only {scanned} records of this run found: the scenario did not publish?"
    assert not findings, f"personal data in clear on topics: {findings}"

    # Every service log, and the access logs.
    files = sorted((var / "logs").glob("*")) + sorted((var / "data").glob("audit-*.jsonl"))
    assert any(f.name.startswith("intake") for f in files) and any("audit" in f.name for f in files), files
    for path in files:
        if path.is_file():
            text = path.read_bytes()
            leaked = [n for n, e in zip(needles, encoded, strict=True) if e in text]
            assert not leaked, f"{path.name} holds {leaked} in clear"
    print(f"scanned {scanned} records on {len(names)} topics and {len(files)} log files for {len(needles)} values")
