"""`python -m intake`: one VT region's intake service."""

from __future__ import annotations

import asyncio

from vtkit.config import load_settings
from vtkit.kafka import KafkaSettings
from vtkit.service import run

from intake.bootstrap import bootstrap
from intake.settings import Settings


def main() -> None:
    settings = load_settings(Settings)
    kafka = load_settings(KafkaSettings)

    async def serve(stop: asyncio.Event) -> None:
        # Built inside the running loop: grpc.aio objects bind to the loop that creates them.
        await bootstrap(settings, kafka).run(stop)

    run("intake", serve)


if __name__ == "__main__":
    main()
