"""The operations dashboard in headless Chromium: the real ops process reads a seeded broker and the
page shows the overdue assessment, the dead letter and the per-region figures, with no external asset."""

from __future__ import annotations

import datetime as dt
import pathlib
import uuid
from collections.abc import AsyncIterator

import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from playwright.async_api import expect
from vt.radar.v1 import events_pb2
from vtkit import topics
from vtkit.broker import free_port
from vtkit.envelope import envelope_for
from vtkit.kafka import KafkaSettings, Publisher, make_producer
from vtkit.stack import wait_http
from vtkit.testing import ServiceProcess, headless_chromium

TENANT = "hollands-midden"


@pytest.fixture()
async def dashboard(kafka: str, tmp_path: pathlib.Path) -> AsyncIterator[str]:
    port = free_port()
    process = ServiceProcess("ops", "vtkit.ops", {"KAFKA_BOOTSTRAP_SERVERS": kafka, "OPS_HTTP_PORT": str(port)},
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
        await expect(page.locator("#deadlines tbody")).to_contain_text(TENANT)
        assert int(await page.locator("#total-overdue").inner_text()) >= 1
        assert int(await page.locator("#total-dead").inner_text()) >= 1
        await expect(page.locator("#tile-overdue")).to_have_class("tile alarm")
        screenshot = tmp_path / "ops-dashboard.png"
        await page.screenshot(path=str(screenshot), full_page=True)
    print(f"dashboard screenshot: {screenshot}")
    assert screenshot.stat().st_size > 10_000
    assert requested and all(url.startswith(dashboard) for url in requested), requested
