"""The form's web server as an edge (intake.web.edge) on a real socket: a connection over the cap gets 503 and is
closed at once, a request whose headers or body do not arrive in time is closed (408 for a body), and a request
that finds no free slot gets a Dutch 503 with Retry-After. Timeouts are configured short and every wait is on a
condition (the server's answer or its closing the connection), never a sleep."""

from __future__ import annotations

import asyncio
import pathlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from devstack.broker import free_port
from intake.dossier_keys import region_keys
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.store import ContactStore
from intake.web.app import Meldformulier, WebServer
from intake.web.edge import EdgeLimits
from prometheus_client import REGISTRY
from vtkit.keystore import KeyStore
from vtkit.tenants import get_tenant

TENANT = "utrecht"
LIMITS = EdgeLimits(max_connections=3, max_concurrent_requests=1, idle_timeout=0.5, body_timeout=0.5,
                    queue_timeout=0.2, backlog=8)


class GatedForm(Meldformulier):
    """The privacy page waits for `gate`: a request that holds its slot as long as the test wants."""

    gate: asyncio.Event
    entered: asyncio.Event

    async def privacy(self, request: web.Request) -> web.Response:
        self.entered.set()
        await self.gate.wait()
        return await super().privacy(request)


@pytest.fixture()
async def server(tmp_path: pathlib.Path, keys: KeyStore) -> AsyncIterator[tuple[WebServer, GatedForm]]:
    store = ContactStore(tmp_path / "intake.sqlite3")
    protector = PersonalDataProtector(region_keys(keys.root, store, TENANT), TENANT)
    form = GatedForm(IntakeHandlers(TENANT, 9, store, protector), get_tenant(TENANT), edge=LIMITS)
    form.gate, form.entered = asyncio.Event(), asyncio.Event()
    web_server = WebServer(form, "127.0.0.1", free_port())
    await web_server.start()
    try:
        yield web_server, form
    finally:
        form.gate.set()
        await web_server.stop()
        store.close()


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("vt_form_refusals_total", {"tenant": TENANT, "reason": reason}) or 0.0


async def connect(address: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = address.rsplit(":", 1)
    return await asyncio.open_connection(host, int(port))


async def answer_then_close(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (bounded: the server's timeouts close it)."""
    return await asyncio.wait_for(reader.read(), timeout=10)


async def test_a_connection_over_the_cap_gets_503_and_idle_ones_are_closed(
        server: tuple[WebServer, GatedForm]) -> None:
    web_server, _ = server
    before = refusals("connections")
    idle = [await connect(web_server.address) for _ in range(3)]
    idle[0][1].write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # headers trickling, never finished
    runner_server = web_server._runner.server
    assert runner_server is not None
    deadline = time.monotonic() + 10
    while len(runner_server.connections) < 3:  # until the server holds all three (accepting is asynchronous)
        assert time.monotonic() < deadline, "the server did not accept three connections"
        await asyncio.sleep(0.01)
    over, _ = await connect(web_server.address)
    refused = await answer_then_close(over)
    assert refused.startswith(b"HTTP/1.1 503") and b"erg druk" in refused
    assert refusals("connections") == before + 1
    for reader, _ in idle:  # the idle timeout (0.5 s) closes them, the trickling one too, without an answer
        assert await answer_then_close(reader) == b""
    async with aiohttp.ClientSession() as session, session.get(f"http://{web_server.address}/") as response:
        assert response.status == 200


async def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closed(
        server: tuple[WebServer, GatedForm]) -> None:
    web_server, _ = server
    before = refusals("body_timeout")
    reader, writer = await connect(web_server.address)
    writer.write(b"POST /melding HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: 5000\r\n\r\nverhaal=half")
    answer = await answer_then_close(reader)
    assert answer.startswith(b"HTTP/1.1 408") and b"duurde te lang" in answer
    assert refusals("body_timeout") == before + 1


async def test_a_request_without_a_free_slot_gets_a_dutch_503_with_retry_after(
        server: tuple[WebServer, GatedForm]) -> None:
    web_server, form = server
    before = refusals("busy")
    async with aiohttp.ClientSession() as session:
        held = asyncio.create_task(session.get(f"http://{web_server.address}/privacy"))
        await asyncio.wait_for(form.entered.wait(), 10)  # it holds the one slot
        async with session.get(f"http://{web_server.address}/") as response:
            assert response.status == 503 and response.headers["Retry-After"] == "30"
            assert "Het is erg druk op deze website" in await response.text()
        assert refusals("busy") == before + 1
        form.gate.set()
        response = await held
        assert response.status == 200
        response.release()


async def test_only_form_posts_are_taken(server: tuple[WebServer, GatedForm]) -> None:
    web_server, _ = server
    async with aiohttp.ClientSession() as session, session.post(
            f"http://{web_server.address}/melding", data=b"{}", headers={"Content-Type": "application/json"}) as response:
        assert response.status == 415 and "Dit kan niet op deze pagina" in await response.text()


def test_the_web_side_may_take_at_most_half_of_the_process_descriptors() -> None:
    EdgeLimits(max_connections=400, backlog=100).check(fd_limit=1024)
    with pytest.raises(ValueError, match="half of the process's file descriptor limit"):
        EdgeLimits(max_connections=500, backlog=64).check(fd_limit=1024)
