"""Radar's faust worker stopping (radar.bootstrap): from the stop on, an exception that ends one of the worker's threads
(faust's consumer thread, failing inside mode's thread shutdown) is one warning line in radar's log, not a traceback on
stderr; before the stop the default hook stays."""

from __future__ import annotations

import logging
import threading

import pytest
from radar import bootstrap


class App:
    """The part of a faust app `_stop_worker` uses; its threads fail as faust's consumer thread once did."""

    hook_at_stop: object = None

    async def stop(self) -> None:
        self.hook_at_stop = threading.excepthook
        failing = threading.Thread(target=self.fail, name="AIOKafkaConsumerThread")
        failing.start()
        failing.join()

    @staticmethod
    def fail() -> None:
        raise RuntimeError("await wasn't used with future")


async def test_a_thread_that_fails_while_the_worker_stops_is_a_log_line_not_a_traceback(
        capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    before, app = threading.excepthook, App()
    try:
        with caplog.at_level(logging.WARNING, logger="radar"):
            await bootstrap._stop_worker(app)  # noqa: SLF001
    finally:
        threading.excepthook = before
    assert app.hook_at_stop is bootstrap._thread_failed_while_stopping  # noqa: SLF001
    assert "Traceback" not in capfd.readouterr().err
    [line] = [r for r in caplog.records if r.getMessage() == "a thread of the faust worker failed while it stopped"]
    assert line.__dict__["thread_name"] == "AIOKafkaConsumerThread"
    assert line.__dict__["error"] == "RuntimeError: await wasn't used with future"
