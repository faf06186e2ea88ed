"""The operations dashboard during a broker-loss recovery, in headless Chromium: the real ops process watches its own
embedded broker; the broker is killed and started again empty, and the page shows the banner with how many of the
intake records are back; as the intakes' outboxes publish again (here: the same records published anew) the
progress bar fills and the banner goes when all are back. Screenshot: ops-dashboard-recovery.png (vttest.screenshot_path)."""

from __future__ import annotations

import asyncio
import pathlib

import aiohttp
from devstack.broker import EmbeddedBroker, free_port
from devstack.stack import wait_http
from playwright.async_api import expect
from simulators.rvdk import random_bsn
from vtkit import topics
from vtkit.kafka import KafkaSettings, Publisher, ensure_topics, start_producer
from vtkit.keystore import KeyStore
from vtkit.signing import Signers
from vttest import ServiceProcess, headless_chromium, screenshot_path
from vttest.radar import melding_received, publish_melding

TENANT = "drenthe"


async def seen_intake_records(url: str, count: int) -> None:
    """Until the ops process's summary counts `count` records on the region's intake topic (bounded)."""
    deadline = asyncio.get_running_loop().time() + 60
    async with aiohttp.ClientSession() as session:
        while True:
            async with session.get(url + "api/summary") as reply:
                summary = await reply.json()
            if any(t["name"] == topics.intake(TENANT) and t["end_offset"] >= count for t in summary["topics"]):
                return
            assert asyncio.get_running_loop().time() < deadline, "the ops process never saw the intake records"
            await asyncio.sleep(0.5)


async def test_the_dashboard_shows_a_broker_loss_and_the_recovery_as_it_goes(keys: KeyStore,
                                                                              tmp_path: pathlib.Path) -> None:
    broker = EmbeddedBroker(free_port()).start()
    port = free_port()
    ops = None
    try:
        settings = KafkaSettings(bootstrap_servers=broker.bootstrap_servers)

        async def publish(first: int, count: int) -> None:
            await ensure_topics(settings)
            producer = await start_producer(settings)
            try:
                for i in range(first, first + count):  # one at a time: tansu's end offsets count a batch as one
                    await publish_melding(Publisher(producer, Signers(keys.root).headers), melding_received(
                        keys, TENANT, [random_bsn()], event_id=f"evt-{i}"), f"evt-{i}")
            finally:
                await producer.stop()

        await publish(0, 4)
        ops = ServiceProcess("ops", "ops", {"KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
                                                  "OPS_HTTP_PORT": str(port), "VT_DATA_DIR": str(tmp_path / "data"),
                                                  "OPS_HISTORY_INTERVAL": "1"}, tmp_path / "ops.log").start()
        url = f"http://127.0.0.1:{port}/"
        await wait_http(url, 30)
        async with headless_chromium() as browser:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            await page.goto(url)
            banner = page.locator("#broker-banner")
            await expect(banner).to_be_hidden()
            await seen_intake_records(url, 4)  # the ops process has sampled the broker before it is lost

            broker.stop()  # the embedded broker keeps everything in memory: all of it is gone
            broker = EmbeddedBroker(broker.port).start()
            await ensure_topics(settings)
            await expect(banner).to_be_visible(timeout=60_000)
            await expect(page.locator("#broker-text")).to_contain_text("0 van 4 intake-berichten terug (0%)")

            await publish(0, 2)  # the outboxes start publishing again
            await expect(page.locator("#broker-text")).to_contain_text("2 van 4 intake-berichten terug (50%)",
                                                                       timeout=60_000)
            await expect(page.locator("#broker-progress")).to_have_attribute("value", "50")
            shot = screenshot_path(tmp_path, "ops-dashboard-recovery.png")
            await page.screenshot(path=str(shot), full_page=True)
            print(f"dashboard during recovery: {shot}")

            await publish(2, 2)
            await expect(banner).to_be_hidden(timeout=60_000)  # all back: no banner
        assert shot.stat().st_size > 10_000
    finally:
        if ops is not None:
            assert ops.stop() == 0, ops.log_text()[-3000:]
        broker.stop()
