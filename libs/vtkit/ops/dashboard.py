"""The operations dashboard: one self-contained page (no external assets) that refreshes every few
seconds from /api/summary, plus the same figures as Prometheus metrics on /metrics."""

from __future__ import annotations

import json
import pathlib
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from vtkit.ops.observer import Observer

PAGE = (pathlib.Path(__file__).with_name("dashboard.html")).read_text(encoding="utf-8")


def metrics(summary: dict[str, Any]) -> bytes:
    """Prometheus exposition of a summary (a fresh registry each time: the values are a snapshot)."""
    registry = CollectorRegistry()
    lag = Gauge("vt_consumer_lag", "Records behind the end offset", ["group", "topic", "partition"], registry=registry)
    size = Gauge("vt_topic_messages", "Records held in a topic", ["topic", "tenant"], registry=registry)
    rate = Gauge("vt_topic_rate", "Records per second appended to a topic", ["topic", "tenant"], registry=registry)
    deadlines = Gauge("vt_deadlines", "Deadlines per region and state", ["area", "tenant", "state"], registry=registry)
    dead = Gauge("vt_dead_letters", "Dead-lettered records per source topic", ["topic"], registry=registry)
    for row in summary["lag"]:
        lag.labels(row["group"], row["topic"], str(row["partition"])).set(row["lag"])
    for row in summary["topics"]:
        size.labels(row["name"], row["tenant"]).set(row["messages"])
        rate.labels(row["name"], row["tenant"]).set(row["rate"])
    for area in ("assessments", "deliveries"):
        for tenant, states in summary[area].items():
            for state, value in states.items():
                deadlines.labels(area, tenant, state).set(value)
    for topic, count in summary["dead_letters"]["by_topic"].items():
        dead.labels(topic).set(count)
    return generate_latest(registry)


def build_app(observer: Observer) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                                                                "script-src 'unsafe-inline'; img-src 'self' data:"})

    async def summary(request: web.Request) -> web.Response:
        return web.json_response(await observer.latest(), dumps=lambda v: json.dumps(v, default=str))

    async def prometheus(request: web.Request) -> web.Response:
        body = metrics(await observer.latest())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/api/summary", summary)
    app.router.add_get("/metrics", prometheus)
    return app
