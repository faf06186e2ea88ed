"""The operations dashboard in headless Chromium: the real ops process reads a seeded broker and the
page shows the overdue assessment, the dead letter and the per-region figures, with no external asset; under load
its chart (server-side history) has axes and times; a dead letter from a real consumer is re-driven and marked
handled from the page; at 375 px nothing needs horizontal scrolling. Screenshots go to the test's own directory;
set $VT_SCREENSHOTS (e.g. `VT_SCREENSHOTS=docs/screenshots`) to refresh the ones in the docs."""

from __future__ import annotations

import datetime as dt
import pathlib
import uuid
from collections.abc import AsyncIterator

import pytest
from devstack.broker import free_port
from devstack.stack import wait_http
from google.protobuf.timestamp_pb2 import Timestamp
from playwright.async_api import expect
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.envelope import envelope_for
from vtkit.kafka import KafkaSettings, Publisher, make_producer
from vttest import ServiceProcess, headless_chromium, screenshot_path

TENANT = "hollands-midden"


@pytest.fixture()
async def dashboard(kafka: str, tmp_path: pathlib.Path) -> AsyncIterator[str]:
    port = free_port()
    process = ServiceProcess("ops", "ops", {"KAFKA_BOOTSTRAP_SERVERS": kafka, "OPS_HTTP_PORT": str(port),
                                                  "VT_DATA_DIR": str(tmp_path / "data"), "OPS_REDRIVE": "1",
                                                  "OPS_HISTORY_INTERVAL": "1"},
                             tmp_path / "ops.log").start()
    url = f"http://127.0.0.1:{port}/"
    try:
        await wait_http(url, 30)
        yield url
    finally:
        assert process.stop() == 0, process.log_text()[-3000:]


async def seed(kafka: str, publisher: Publisher, case: str) -> None:
    due_at = Timestamp()
    due_at.FromDatetime(dt.datetime(2026, 3, 2, 22, 59, tzinfo=dt.UTC))
    due = events_pb2.AssessmentDue(tenant_id=TENANT, case_id=case, due_at=due_at)
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, case, due, envelope_for(due, source="test", tenant=TENANT))
    producer = make_producer(KafkaSettings(bootstrap_servers=kafka))
    await producer.start()
    try:
        await producer.send_and_wait(topics.DEAD_LETTERS, b"\x00", key=case.encode(),
                                     headers=[("dl_reason", b"DecodeError: missing header ce_id"),
                                              ("dl_topic", topics.intake(TENANT).encode()), ("dl_consumer", b"vt-radar")])
        # a record with a header that is not UTF-8: a row saying so, never a dead reader
        await producer.send_and_wait(topics.DEAD_LETTERS, b"\x00", key=case.encode(),
                                     headers=[("dl_reason", b"bad \xff header"), ("dl_consumer", b"vt-radar")])
    finally:
        await producer.stop()


async def test_dashboard_shows_overdue_deadlines_and_dead_letters(kafka: str, publisher: Publisher, dashboard: str,
                                                                  tmp_path: pathlib.Path) -> None:
    case = f"case-{uuid.uuid4().hex[:8]}"
    await seed(kafka, publisher, case)
    requested: list[str] = []
    async with headless_chromium() as browser:
        page = await browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("request", lambda request: requested.append(request.url))
        await page.goto(dashboard)
        overdue = page.locator("#overdue tbody")
        await expect(overdue).to_contain_text(case, timeout=30_000)
        await expect(overdue).to_contain_text(TENANT)
        await expect(page.locator("#dead tbody")).to_contain_text("missing header ce_id")
        await expect(page.locator("#dead tbody")).to_contain_text("is not UTF-8")
        await expect(page.locator("#deadlines tbody")).to_contain_text(TENANT)
        assert int(await page.locator("#total-overdue").inner_text()) >= 1
        assert int(await page.locator("#total-dead").inner_text()) >= 1
        await expect(page.locator("#tile-overdue")).to_have_class("tile alarm")
        screenshot = screenshot_path(tmp_path, "ops-dashboard.png")
        await page.screenshot(path=str(screenshot), full_page=True)
    print(f"dashboard screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000
    assert requested and all(url.startswith(dashboard) for url in requested), requested


async def test_dashboard_under_load_with_a_dead_letter_redriven_and_handled_and_at_375_px(
        kafka: str, publisher: Publisher, dashboard: str, tmp_path: pathlib.Path) -> None:
    import asyncio

    from vttest import eventually

    from tests.integration.test_ops_cli import _consumer_loop

    topic = topics.register(TENANT)
    marker = uuid.uuid4().hex[:8]
    group = f"vt-test-dash-{marker}"
    entry = events_pb2.RegisterEntry(tenant_id=TENANT, case_id=f"c-{marker}")
    failing = envelope_for(entry, source="test", tenant=TENANT)
    handled: list[str] = []
    fail = {failing.id}
    stop = asyncio.Event()
    loop = asyncio.create_task(_consumer_loop(kafka, topic, group, handled, fail, stop))

    async def load() -> None:  # a steady stream while the chart samples (the test ends it)
        i = 0
        while not stop.is_set():
            due = events_pb2.AssessmentDue(tenant_id=TENANT, case_id=f"load-{marker}-{i}")
            await publisher.publish(topics.NATIONAL_ASSESSMENTS, due.case_id, due,
                                    envelope_for(due, source="test", tenant=TENANT))
            i += 1
            await asyncio.sleep(0.02)  # pacing of the load generator, not a wait for a condition

    loader = asyncio.create_task(load())
    try:
        await publisher.publish(topic, f"c-{marker}", entry, failing)
        async with headless_chromium() as browser:
            page = await browser.new_page(viewport={"width": 1400, "height": 1100})
            await page.goto(dashboard)
            row = page.locator("#dead tbody tr", has_text=group)
            await expect(row).to_contain_text(topic, timeout=60_000)
            await expect(row).to_contain_text("receiver refused")
            # the chart: axis labels with a unit and clock times, and a line once the history holds samples
            await expect(page.locator("#chart path.line")).to_have_count(1, timeout=30_000)
            await expect(page.locator("#chart")).to_contain_text("berichten/s")
            await expect(page.locator("#chart text", has_text=":")).not_to_have_count(0)
            await page.wait_for_function("document.getElementById('total-rate').textContent !== '0.0'", timeout=30_000)
            await page.screenshot(path=str(screenshot_path(tmp_path, "ops-dashboard-load.png")), full_page=True)

            fail.clear()  # the cause is fixed: re-drive from the page, to this consumer only
            await row.get_by_role("button", name="Opnieuw aanbieden").click()
            await expect(page.locator("#dead-note")).to_contain_text(f"for {group}", timeout=30_000)
            await eventually(lambda: failing.id in handled, timeout=60)
            await row.get_by_role("button", name="Afgehandeld").click()
            await expect(row).to_contain_text("afgehandeld", timeout=30_000)
            await expect(row.get_by_role("button", name="Afgehandeld")).to_be_disabled()
            await page.screenshot(path=str(screenshot_path(tmp_path, "ops-dashboard-deadletter.png")), full_page=True)

            mobile = await browser.new_page(viewport={"width": 375, "height": 812})
            await mobile.goto(dashboard)
            await expect(mobile.locator("#dead tbody tr", has_text=group)).to_contain_text("afgehandeld", timeout=30_000)
            await expect(mobile.locator("#chart path.line")).to_have_count(1, timeout=30_000)
            overflow = await mobile.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"the page scrolls sideways at 375 px by {overflow} px"
            await mobile.screenshot(path=str(screenshot_path(tmp_path, "ops-dashboard-375.png")), full_page=True)
            # Dutch text with the technical term as a tooltip
            assert await mobile.locator("#tile-dead [title]").get_attribute("title") == \
                "dead letters: records a consumer could not process"
    finally:
        stop.set()
        await asyncio.gather(loader, loop)

