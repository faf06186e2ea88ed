"""The RvdK's receiver of VT's requests to investigate, standalone (simulators.rvdk.FakeRvdkReceiver):
`python -m simulators.rvdk_receiver` (env GRPC_PORT, RECORD_FILE, VT_KEY_DIR; FAIL_FIRST etc. as the fake
regional system). `make run` starts it and points the notifier's NOTIFIER_RVDK_ENDPOINT at it."""

from __future__ import annotations

import asyncio

from simulators.rvdk import FakeRvdkReceiver


async def _main(stop: asyncio.Event) -> None:
    receiver = FakeRvdkReceiver.from_env()
    await receiver.start()
    await stop.wait()
    await receiver.stop()


if __name__ == "__main__":
    from vtkit.service import run

    run("rvdk-receiver", _main)
