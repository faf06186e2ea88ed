"""`python -m notifier`: parse the environment, then run until SIGTERM."""

from __future__ import annotations

import asyncio

from vtkit.config import load_settings
from vtkit.kafka import KafkaSettings
from vtkit.service import run

from notifier.bootstrap import run_notifier
from notifier.settings import Settings


def main() -> None:
    # Parsed before anything starts: a missing or invalid value stops us with its name.
    settings = load_settings(Settings)
    kafka = load_settings(KafkaSettings)
    settings.endpoints()

    async def serve(stop: asyncio.Event) -> None:
        await run_notifier(settings, kafka, stop)

    run("notifier", serve, settings.log_level)


if __name__ == "__main__":
    main()
