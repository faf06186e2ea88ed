"""The public form as a hardened edge: one client address (and the region as a whole) may send only so many
forms in a while; the next gets a Dutch 429 page with Retry-After that keeps what was typed, and is counted. The
limits run on a clock the test moves: no waiting."""

from __future__ import annotations

import pathlib
import re
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer
from intake.dossier_keys import region_keys
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.store import ContactStore
from intake.web.app import Meldformulier
from intake.web.limits import FormLimits, TokenBuckets
from prometheus_client import REGISTRY
from vtkit.keystore import KeyStore
from vtkit.tenants import get_tenant

TENANT = "utrecht"
ADVIES = {"melder_type": "professional", "naam": "Petra de Vries", "organisatie": "De Regenboog",
          "email": "p@example.nl", "vraag": "Wat kan ik doen?", "stappen": "stap1"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
async def client(tmp_path: pathlib.Path, keys: KeyStore, clock: Clock) -> AsyncIterator[TestClient]:
    store = ContactStore(tmp_path / "intake.sqlite3")
    handlers = IntakeHandlers(TENANT, 9, store, PersonalDataProtector(region_keys(keys.root, store, TENANT), TENANT))
    limits = FormLimits(TokenBuckets(3, 600, clock), TokenBuckets(100, 600, clock))
    web = TestClient(TestServer(Meldformulier(handlers, get_tenant(TENANT), limits=limits).app()))
    await web.start_server()
    try:
        yield web
    finally:
        await web.close()
        store.close()


async def send(client: TestClient, question: str) -> tuple[int, str, dict[str, str]]:
    page = await (await client.get("/advies?als=professional")).text()
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    response = await client.post("/advies", data={**hidden, **ADVIES, "vraag": question})
    return response.status, await response.text(), dict(response.headers)


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("vt_form_refusals_total", {"tenant": TENANT, "reason": reason}) or 0.0


async def test_a_client_sending_form_after_form_is_stopped_in_dutch_and_keeps_its_text(
        client: TestClient, clock: Clock) -> None:
    before = refusals("rate_address")
    for n in range(3):
        status, _, _ = await send(client, f"Vraag {n}")
        assert status == 200
    status, html, headers = await send(client, "Mijn vierde vraag")
    assert status == 429 and int(headers["Retry-After"]) == 200  # one more after a third of 10 minutes
    assert "veel formulieren verstuurd" in html and "0800-2000" in html and "over 4 minuten opnieuw" in html
    assert "Mijn vierde vraag" in html  # what was typed is still there
    assert refusals("rate_address") == before + 1
    clock.now += 200  # the bucket refilled one
    assert (await send(client, "Mijn vierde vraag"))[0] == 200
    assert (await send(client, "Nog een"))[0] == 429


def test_the_region_limit_holds_whatever_the_addresses() -> None:
    clock = Clock()
    limits = FormLimits(TokenBuckets(3, 600, clock), TokenBuckets(5, 60, clock))
    assert [limits.refused(f"10.0.0.{n}") for n in range(5)] == [None] * 5
    refused = limits.refused("10.0.0.99")
    assert refused is not None and refused[0] == "region" and refused[1] == pytest.approx(12.0)
    clock.now += 12
    assert limits.refused("10.0.0.99") is None


def test_buckets_forget_the_oldest_addresses_beyond_their_bound() -> None:
    buckets = TokenBuckets(1, 60, Clock(), max_keys=3)
    for n in range(10):
        assert buckets.take(f"addr-{n}") == 0.0
    assert len(buckets._buckets) == 3
