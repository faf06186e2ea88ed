"""`python -m verwijsindex`: settings from the environment, JSON logs, stop on SIGTERM."""

from __future__ import annotations

import asyncio

from vtkit.service import run

from verwijsindex import bootstrap, settings


def main() -> None:
    config = settings.load()

    async def serve(stop: asyncio.Event) -> None:
        await bootstrap.main(config, stop)

    run("verwijsindex", serve, level=config.service.log_level)


if __name__ == "__main__":
    main()
