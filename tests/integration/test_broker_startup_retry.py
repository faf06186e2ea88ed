"""A service started while the broker is unreachable does not exit. radar, notifier and
verwijsindex retry the broker with back-off (vtkit.kafka.until_connected, a log line per attempt) and keep their
gRPC health from answering SERVING until connected; intake serves meanwhile (its outbox takes the meldingen).
Once the broker's port opens they become healthy and the pipeline works: meldingen get assessed and called back."""

from __future__ import annotations

import asyncio
import pathlib

from devstack.broker import free_port, wait_for_broker
from devstack.stack import Stack, wait_http
from loadgen import run_chaos
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vttest import CuttableLink, ServiceProcess, broker_advertised_at

TENANT = "utrecht"
WAITING = ("radar", "notifier", "verwijsindex")  # the services that need the broker before they can serve


def retries(process: ServiceProcess) -> int:
    return process.log_text().count("broker not reachable; retrying")


async def test_services_started_before_the_broker_is_reachable_wait_for_it_then_work(tmp_path: pathlib.Path) -> None:
    broker_port, link_port = free_port(), free_port()
    bootstrap = f"127.0.0.1:{link_port}"
    broker = broker_advertised_at(bootstrap, broker_port, tmp_path / "broker.log")
    # Not started yet: connections to the broker's advertised address are refused, as with a broker down.
    link = CuttableLink(link_port, broker_port)
    stack = Stack(bootstrap, tmp_path / "var", tenants=(TENANT,))
    stack.plan()
    keys = KeyStore(stack.key_dir)
    try:
        await wait_for_broker(f"127.0.0.1:{broker_port}")
        for process in stack.processes.values():
            process.start()
        # Each logs a few attempts (start-up itself takes seconds when a dozen processes start on 2 cores).
        for _ in range(180):  # at most 90 s
            if all(retries(stack.processes[name]) >= 3 for name in WAITING):
                break
            await asyncio.sleep(0.5)
        for name in WAITING:
            process = stack.processes[name]
            assert process.proc is not None and process.proc.poll() is None, f"{name} exited:\n{process.log_text()}"
            assert retries(process) >= 3, f"{name} logged {retries(process)} retries:\n{process.log_text()[-3000:]}"
            try:
                await wait_healthy(process.address, 0.5, keys)
                raise AssertionError(f"{name} answered SERVING without a broker")
            except TimeoutError:
                pass
        # Intake takes meldingen without the broker (into its outbox), so it is already healthy.
        await wait_healthy(stack.processes[f"intake-{TENANT}"].address, 30, keys)

        await link.start()
        for name, process in stack.processes.items():
            if name in stack.web:
                await wait_http(stack.web[name], 90)
            else:
                await wait_healthy(process.address, 90, keys)
        report = await run_chaos(stack, 6, seed=3, concurrency=3, settle_timeout=90)
    finally:
        stack.stop()
        await link.stop()
        broker.terminate()
        broker.wait(10)
    print("after a late broker:", report.line())
    assert report.acknowledged == 6, report.missing
    assert report.lost == 0, report.missing
    assert report.received == report.assessed == report.delivered == 6
