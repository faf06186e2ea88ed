"""`make run` starts a service again when it exits, with back-off, and stops the stack when one keeps exiting.
The processes are real (`python -m this`, which prints and exits); the clock is the test's, so the back-off is
stepped through, not waited for. The whole stack doing it: tests/integration/test_stack_stop.py."""

from __future__ import annotations

import asyncio
import pathlib

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from devstack.broker import EmbeddedBroker
from devstack.processes import ServiceProcess
from devstack.supervisor import CrashLoop, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def exiting(tmp_path: pathlib.Path) -> ServiceProcess:
    return ServiceProcess("zen", "this", env={}, log_path=tmp_path / "zen.log").start()


def exited(process: ServiceProcess) -> int:
    assert process.proc is not None
    return process.proc.wait(30)


def test_an_exited_service_is_started_again_after_its_back_off(tmp_path: pathlib.Path) -> None:
    clock, process = Clock(), exiting(tmp_path)
    supervisor = Supervisor({"zen": process}, clock=clock)
    first = process.proc
    assert exited(process) == 0
    assert supervisor.tick() == [f"zen exited with 0; starting it again in 1 s (see {tmp_path / 'zen.log'})"]
    clock.now += 0.5
    assert supervisor.tick() == [] and process.proc is first  # not yet: the back-off
    clock.now += 0.5
    assert supervisor.tick() == ["zen started again"]
    assert process.proc is not first
    assert exited(process) == 0
    assert "starting it again in 2 s" in supervisor.tick()[0]  # the second exit waits twice as long


def test_a_service_that_keeps_exiting_stops_the_stack(tmp_path: pathlib.Path) -> None:
    clock, process = Clock(), exiting(tmp_path)
    supervisor = Supervisor({"zen": process}, max_restarts=2, window=600, clock=clock)
    for _ in range(2):
        exited(process)
        supervisor.tick()
        clock.now += 30
        assert supervisor.tick() == ["zen started again"]
    exited(process)
    with pytest.raises(CrashLoop, match="zen exited 3 times within 600 s"):
        supervisor.tick()


def test_exits_longer_ago_than_the_window_do_not_count(tmp_path: pathlib.Path) -> None:
    clock, process = Clock(), exiting(tmp_path)
    supervisor = Supervisor({"zen": process}, max_restarts=1, window=600, clock=clock)
    for _ in range(3):
        exited(process)
        [said] = supervisor.tick()
        assert "starting it again in 1 s" in said  # each exit the first within the window
        clock.now += 601
        assert supervisor.tick() == ["zen started again"]
    exited(process)


class StartFailsOnce(ServiceProcess):
    """A service whose next start fails once, as the broker's does while its port is not free yet."""

    fail_next = False

    def start(self) -> ServiceProcess:
        if self.fail_next:
            self.fail_next = False
            raise OSError("port in use")
        return super().start()


def test_a_start_that_fails_counts_as_an_exit_and_is_tried_again(tmp_path: pathlib.Path) -> None:
    clock = Clock()
    process = StartFailsOnce("zen", "this", env={}, log_path=tmp_path / "zen.log").start()
    supervisor = Supervisor({"zen": process}, clock=clock)
    exited(process)
    supervisor.tick()
    process.fail_next = True
    clock.now += 1
    assert supervisor.tick() == [f"zen could not start (port in use); starting it again in 2 s (see {tmp_path / 'zen.log'})"]
    clock.now += 2
    assert supervisor.tick() == ["zen started again"]
    exited(process)


def test_the_embedded_broker_is_started_again_on_its_port_as_a_new_cluster(tmp_path: pathlib.Path) -> None:
    """A new, empty broker where the lost one was: the services notice its cluster id and recover (a broker loss,
    docs/architecture.md)."""
    clock = Clock()
    with open(tmp_path / "broker.log", "ab") as log, EmbeddedBroker(log=log) as broker:
        supervisor = Supervisor({"kafka": broker}, clock=clock)
        before = asyncio.run(cluster_of(broker.bootstrap_servers))
        assert broker.proc is not None
        broker.proc.kill()
        broker.proc.wait()
        assert supervisor.tick() == [f"kafka exited with -9; starting it again in 1 s (see {tmp_path / 'broker.log'})"]
        clock.now += 1
        assert supervisor.tick() == ["kafka started again"]
        after = asyncio.run(cluster_of(broker.bootstrap_servers))
    assert before and after and before != after


async def cluster_of(bootstrap: str) -> str:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return str((await admin.describe_cluster())["cluster_id"])
    finally:
        await admin.close()
