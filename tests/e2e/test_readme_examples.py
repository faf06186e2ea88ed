"""The `buf curl` examples of docs/api.md (moved there from the README), run as written against `make run`
(python -m devstack) on its fixed port layout, moved by VT_BASE_PORT to a free range: the commands are taken
from docs/api.md, so the test fails when the document drifts from the API or from the ports `make run` listens on
(the README's "Set-up" table; tools/devstack/tests/test_stack_ports.py checks those)."""

from __future__ import annotations

import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time

from devstack.processes import ROOT
from devstack.stack import DEFAULT_BASE_PORT, port_is_free

EXAMPLES_DOC = "docs/api.md"
EXAMPLES = (ROOT / EXAMPLES_DOC).read_text(encoding="utf-8")


# The stack's fixed layout needs 161 ports in a row. The test workers' own ranges (VT_PORT_RANGE) are strewn with
# the random ports of their brokers and processes (CI42 found no free window in one); above the kernel's ephemeral
# range (32768-60999) only explicit binds take ports, so a window there is free.
FIXED_LAYOUT_RANGE = (61000, 65000)


def _base_port() -> int:
    """A base whose whole fixed layout (base .. base+160, devstack.stack) is free."""
    low, high = FIXED_LAYOUT_RANGE
    for base in range(low, high - 170, 170):
        if all(port_is_free(p) for p in range(base, base + 161)):
            return base
    raise RuntimeError("no free range for the stack's fixed ports")


def _moved(text: str, base: int) -> str:
    """The examples' make-run ports, moved from the default base to `base` (same offsets)."""
    return re.sub(r"127\.0\.0\.1:(5\d{4})", lambda m: f"127.0.0.1:{int(m[1]) - DEFAULT_BASE_PORT + base}", text)


def readme_setup() -> str:
    """PKI, ME, ADDR and the buf curl `call` of the Intake API section."""
    block = EXAMPLES[EXAMPLES.index("## Intake API"):]
    block = block[block.index("```sh") + 5:block.index("```", block.index("```sh") + 5)]
    lines = [line for line in block.splitlines() if line.startswith(("PKI=", "ADDR="))]
    buf = block[block.index("call() { .venv/bin/buf curl"):]
    buf = buf[:buf.index("; }") + 3]
    assert "--protocol grpc" in buf
    return "\n".join([*lines, buf])


def readme_call(rpc: str, prefix: str = "") -> str:
    """The example `call RPC '...json...'` (`ncall` for the notifier, `rcall` for radar: the shell command,
    as written)."""
    match = re.search(rf"^\s*{prefix}call {rpc} '.*?'$", EXAMPLES, re.S | re.M)
    assert match, f"{EXAMPLES_DOC} has no `{prefix}call {rpc}` example"
    return match[0].strip()


def readme_service_setup() -> str:
    """The NOTIFIER= and RADAR= addresses and the buf curl `ncall` and `rcall` of the examples."""
    lines = [line for line in EXAMPLES.splitlines() if line.startswith(("NOTIFIER=", "RADAR="))]
    calls = []
    for name in ("ncall", "rcall"):
        start = EXAMPLES.index(f"{name}() {{ .venv/bin/buf curl")
        calls.append(EXAMPLES[start:EXAMPLES.index("; }", start) + 3])
    return "\n".join([*lines, *calls])


def test_api_doc_buf_curl_examples_work_against_make_runs_fixed_ports(tmp_path: pathlib.Path) -> None:
    base = _base_port()
    var = tmp_path / "var"
    subprocess.run([sys.executable, "-m", "vtkit.pki", "init", str(var / "keys")], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")  # the examples name .venv/bin/buf and var/keys
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    env.update(VT_VAR_DIR=str(var), PYTHONUNBUFFERED="1", VT_BASE_PORT=str(base))
    out = tmp_path / "stack.out"
    with open(out, "wb") as sink:
        stack = subprocess.Popen([sys.executable, "-m", "devstack.stack"], cwd=ROOT, env=env, stdout=sink,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while "Ctrl-C stops it" not in out.read_text() and stack.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)  # polling the stack's own "running" line (a condition), bounded
        assert "Ctrl-C stops it" in out.read_text(), out.read_text()[-3000:]
        setup = _moved(readme_setup(), base)

        def call(command: str) -> dict[str, object]:
            done = subprocess.run(["bash", "-c", f"set -e\n{setup}\n{command}"], cwd=tmp_path, capture_output=True,
                                  text=True, timeout=60)
            assert done.returncode == 0, f"{command[:80]}...\n{done.stdout}\n{done.stderr}"
            return json.loads(done.stdout)

        advies = call(readme_call("RegisterAdvies"))
        assert advies["contactId"] and str(advies["reference"]).startswith("VT")
        melding = call(readme_call("SubmitMelding"))
        assert melding["contactId"] and melding["sameDay"] is True
        again = call(readme_call("SubmitMelding"))  # the same idempotency key: the first answer, no second contact
        assert again["contactId"] == melding["contactId"]
        # The examples' placeholder id ("6f1c...") stands for the contact the first example returned.
        contact = call(readme_call("GetContact").replace("6f1c...", str(advies["contactId"])))
        assert contact["contactId"] == advies["contactId"] and contact["kind"] == "CONTACT_KIND_ADVIES"
        vervolg = call(readme_call("RegisterVervolgadvies").replace("6f1c...", str(advies["contactId"])))
        assert vervolg["contactId"]

        # The decision on the melding (radar answers NOT_FOUND until its table has the case), the region's word that
        # the melder was called (the notifier answers NOT_FOUND until it knows the case), the inbox and the norms.
        setup += "\n" + _moved(readme_service_setup(), base)
        case_id = str(melding["contactId"])

        def until_found(command: str) -> dict[str, object]:
            deadline = time.monotonic() + 120
            while True:
                done = subprocess.run(["bash", "-c", f"set -e\n{setup}\n{command}"], cwd=tmp_path,
                                      capture_output=True, text=True, timeout=60)
                if done.returncode == 0:
                    return dict(json.loads(done.stdout))
                err = done.stderr.lower()
                assert ("not_found" in err or "not found" in err) and time.monotonic() < deadline, done.stderr
                time.sleep(0.5)  # the case is still on its way through the broker: asked again, bounded

        decided = until_found(readme_call("RecordDecision", "r").replace("6f1c...", case_id))
        assert decided["eventId"] and decided["onderzoekDueDate"]
        confirmed = until_found(readme_call("ConfirmMelderContacted", "n").replace("6f1c...", case_id))
        assert confirmed["outcome"] == "MELDER_CONTACT_OUTCOME_CONTACTED"
        assert "assessments" in call(readme_call("GetNorms", "r"))
        assert isinstance(call(readme_call("ListInbox", "n")), dict)
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGINT)
            try:
                stack.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(stack.pid, signal.SIGKILL)
