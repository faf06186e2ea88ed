"""`make run` starts a service that exits again; Ctrl-C stops the services first, then the broker, with no traceback.

The stack runs as it does for a user (`python -m devstack.stack`, embedded broker) in its own process group,
and the SIGINT goes to that whole group, as a terminal sends it. Every service and the broker run in
their own session (devstack.processes), so only the stack receives it and stops them in order."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

from devstack.processes import ROOT
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore

SERVICES = ("intake-utrecht", "radar", "verwijsindex", "notifier")


def test_a_killed_service_is_started_again_and_ctrl_c_stops_services_then_broker_without_traceback(
        tmp_path: pathlib.Path) -> None:
    var = tmp_path / "var"
    subprocess.run([sys.executable, "-m", "vtkit.pki", "init", str(var / "keys")], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
    # VT_BASE_PORT=0: free ports, so a `make run` on this machine does not collide (fixed ports: test_stack_ports).
    env.update(VT_VAR_DIR=str(var), VT_DEMO_TENANTS="utrecht", PYTHONUNBUFFERED="1", VT_BASE_PORT="0")
    out = tmp_path / "stack.out"
    with open(out, "wb") as sink:
        stack = subprocess.Popen([sys.executable, "-m", "devstack.stack"], cwd=ROOT, env=env, stdout=sink,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while "Ctrl-C stops it" not in out.read_text() and stack.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "Ctrl-C stops it" in out.read_text(), out.read_text()[-3000:]
        assert len(_descendants(stack.pid)) >= len(SERVICES) + 1

        # A service that exits (here SIGKILLed) is started again by the stack and serves again (devstack.supervisor).
        services = json.loads((var / "stack.json").read_text())["services"]
        killed = _kill_and_see_started_again(stack.pid, out, "verwijsindex", "verwijsindex")
        asyncio.run(wait_healthy(services["verwijsindex"], timeout=60, keys=KeyStore(var / "keys")))
        assert [pid for pid in _descendants(stack.pid) if "verwijsindex" in _cmdline(pid)] != [killed]
        # The embedded broker too: a new, empty one on its port (a broker loss); radar notices and serves again.
        _kill_and_see_started_again(stack.pid, out, "tansu", "kafka")
        _wait_for_text(var / "logs" / "radar.log", "the broker lost its history", 90)
        asyncio.run(wait_healthy(services["radar"], timeout=90, keys=KeyStore(var / "keys")))
        children = _descendants(stack.pid)

        os.killpg(stack.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
        code = stack.wait(60)
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)

    text = out.read_text()
    assert code == 0, text[-3000:]
    assert "Traceback" not in text, text[-3000:]
    assert not [pid for pid in children if _alive(pid)], "processes left running after the stop"
    logs = var / "logs"
    for name in SERVICES:
        log = (logs / f"{name}.log").read_text()
        assert "Traceback" not in log, f"{name}: {log[-3000:]}"
        # A graceful exit (vtkit.service logs it after draining): the broker was still there to drain to.
        assert '"msg": "stopped"' in log, f"{name} did not stop gracefully: {log[-3000:]}"


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for child in pathlib.Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
            found.append(int(child))
            todo.append(int(child))
    return found


def _kill_and_see_started_again(stack: int, out: pathlib.Path, command: str, name: str) -> int:
    """SIGKILL the stack's process whose command line holds `command`; the stack says it starts `name` again."""
    [killed] = [pid for pid in _descendants(stack) if command in _cmdline(pid)]
    os.kill(killed, signal.SIGKILL)
    _wait_for_text(out, f"{name} started again", 60)
    assert f"{name} exited with -9; starting it again in 1 s" in out.read_text(), out.read_text()[-3000:]
    return killed


def _wait_for_text(path: pathlib.Path, text: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while text not in path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert text in path.read_text(), path.read_text()[-3000:]


def _cmdline(pid: int) -> str:
    return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


def _alive(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"
