"""The operations dashboard: one self-contained page (no external assets) that refreshes every few
seconds from /api/summary, plus the same figures as Prometheus metrics on /metrics."""

from __future__ import annotations

import json
import pathlib
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from vtkit.kafka import KafkaSettings

from ops.deadletters import redrive_rows
from ops.observer import History, Observer

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


# The page's POSTs carry this header; a form or link of another site cannot send it without a CORS preflight this
# service never answers, so a visited page cannot re-drive or mark dead letters through an operator's browser.
CSRF_HEADER = "X-VT-Ops"


def build_app(observer: Observer, history: History | None = None, redrive_with: KafkaSettings | None = None) -> web.Application:
    """The dashboard; `redrive_with` set: its re-drive button publishes (OPS_REDRIVE), else it explains the Job."""
    history = history or History()
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html", charset="utf-8",
                            headers={"Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                                                                "script-src 'unsafe-inline'; img-src 'self' data:"})

    async def summary(request: web.Request) -> web.Response:
        body = {**await observer.latest(), "redrive": redrive_with is not None}
        return web.json_response(body, dumps=lambda v: json.dumps(v, default=str))

    async def prometheus(request: web.Request) -> web.Response:
        body = metrics(await observer.latest())
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def history_view(request: web.Request) -> web.Response:
        try:
            span = min(max(float(request.query.get("span", "3600")), 60.0), 7 * 24 * 3600.0)
            points = min(max(int(request.query.get("points", "360")), 10), 2000)
        except ValueError:
            raise web.HTTPBadRequest(text="span and points are numbers") from None
        return web.json_response(history.view(span, points))

    def dead_letter(request: web.Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.headers.get(CSRF_HEADER) != "1":
            raise web.HTTPForbidden(text=f"missing {CSRF_HEADER} header")
        row = observer.recent_dead_letters.get(request.match_info["id"])
        if row is None or row["event_id"] != str(body.get("event_id", "")):
            raise web.HTTPNotFound(text="no such dead letter (the list changed: reload)")
        return row

    async def handled(request: web.Request) -> web.Response:
        row = dead_letter(request, await _json(request))
        if observer.marks is None:
            raise web.HTTPServiceUnavailable(text="no store for marks")
        at = observer.marks.mark_handled(row, "dashboard")
        return web.json_response({"id": row["id"], "handled": at})

    async def redrive(request: web.Request) -> web.Response:
        row = dead_letter(request, await _json(request))
        if redrive_with is None:
            raise web.HTTPForbidden(text="re-drive is off here (OPS_REDRIVE); use vt-ops redrive or the ops-redrive Job")
        [line] = await redrive_rows(redrive_with, [row], observer.marks)
        return web.json_response({"id": row["id"], "result": line, "ok": "not re-driven" not in line})

    app = web.Application()
    app["redrive"] = redrive_with is not None
    app.router.add_get("/", page)
    app.router.add_get("/api/history", history_view)
    app.router.add_post("/api/deadletters/{id}/handled", handled)
    app.router.add_post("/api/deadletters/{id}/redrive", redrive)
    app.router.add_get("/api/summary", summary)
    app.router.add_get("/metrics", prometheus)
    return app


async def _json(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="a JSON body is expected") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="a JSON object is expected")
    return body
