"""Bot friction on the public form (intake.web.friction): a server-signed proof-of-work challenge on every form
page. Solved, the form is taken at the ordinary rate; without a solution (no JavaScript) still taken, at a
stricter rate; a forged or replayed challenge is refused with a Dutch message that keeps what was typed. Clocks
are injected: no waiting."""

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
from intake.web.app import NOT_OURS, Meldformulier
from intake.web.friction import Proof, ProofOfWork, leading_zero_bits, solve, solves
from intake.web.limits import FormLimits, TokenBuckets
from prometheus_client import REGISTRY
from vtkit.keystore import KeyStore
from vtkit.tenants import get_tenant

TENANT = "utrecht"
ADVIES = {"melder_type": "professional", "naam": "Petra de Vries", "organisatie": "De Regenboog",
          "email": "p@example.nl", "vraag": "Wat kan ik doen?", "stappen": "stap1"}
SECRET = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
async def client(tmp_path: pathlib.Path, keys: KeyStore, clock: Clock) -> AsyncIterator[TestClient]:
    store = ContactStore(tmp_path / "intake.sqlite3")
    handlers = IntakeHandlers(TENANT, 9, store, PersonalDataProtector(region_keys(keys.root, store, TENANT), TENANT))
    limits = FormLimits(TokenBuckets(5, 600, clock), TokenBuckets(100, 600, clock),
                        TokenBuckets(2, 600, clock), TokenBuckets(100, 600, clock))
    form = Meldformulier(handlers, get_tenant(TENANT), secret=SECRET, limits=limits,
                         friction=ProofOfWork(SECRET, bits=8, clock=clock))
    web = TestClient(TestServer(form.app()))
    await web.start_server()
    try:
        yield web
    finally:
        await web.close()
        store.close()


def hidden(page: str) -> dict[str, str]:
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))


async def form_page(client: TestClient) -> dict[str, str]:
    return hidden(await (await client.get("/advies?als=professional")).text())


async def post(client: TestClient, fields: dict[str, str], question: str) -> tuple[int, str]:
    response = await client.post("/advies", data={**fields, **ADVIES, "vraag": question})
    return response.status, await response.text()


def solved(fields: dict[str, str]) -> dict[str, str]:
    return {**fields, "bewijs": solve(fields["uitdaging"])}


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("vt_form_refusals_total", {"tenant": TENANT, "reason": reason}) or 0.0


def test_a_solution_needs_the_leading_zero_bits_the_challenge_names() -> None:
    assert leading_zero_bits(b"\x00\x00\x0f") == 20 and leading_zero_bits(b"\x80") == 0
    pow_ = ProofOfWork(SECRET, bits=10)
    challenge = pow_.issue()
    assert challenge.split(".")[2] == "10"
    answer = solve(challenge)
    assert solves(challenge, answer, 10)
    assert pow_.check(challenge, answer, "form-1") is Proof.SOLVED
    assert pow_.check(challenge, answer, "form-1") is Proof.SOLVED  # the same form again (double click)
    assert pow_.check(challenge, answer, "form-2") is Proof.REPLAYED
    assert pow_.check(challenge, "", "form-3") is Proof.NONE  # no script: no solution
    wrong = next(str(n) for n in range(10_000) if not solves(challenge, str(n), 10))
    assert pow_.check(pow_.issue(), wrong, "form-4") is Proof.FORGED


def test_a_challenge_not_signed_here_or_with_lowered_difficulty_is_forged() -> None:
    ours, theirs = ProofOfWork(SECRET, bits=8), ProofOfWork(b"x" * 32, bits=8)
    foreign = theirs.issue()
    assert ours.check(foreign, solve(foreign), "f") is Proof.FORGED
    issued, nonce, _, mac = ours.issue().split(".")
    easier = f"{issued}.{nonce}.0.{mac}"  # the difficulty is signed too
    assert ours.check(easier, "0", "f") is Proof.FORGED
    assert ours.check("not a challenge", "1", "f") is Proof.FORGED


def test_an_expired_challenge_counts_as_no_solution_not_as_a_refusal(clock: Clock) -> None:
    pow_ = ProofOfWork(SECRET, bits=4, lifetime=3600, clock=clock)
    challenge = pow_.issue()
    clock.now += 3601
    assert pow_.check(challenge, solve(challenge), "f") is Proof.NONE


async def test_solved_forms_go_at_the_ordinary_rate_unsolved_ones_at_the_stricter(client: TestClient) -> None:
    before = refusals("rate_address_unproven")
    for n in range(2):  # without the work: 2 per address in this test's limits
        assert (await post(client, await form_page(client), f"Zonder script {n}"))[0] == 200
    status, html = await post(client, await form_page(client), "Zonder script 3")
    assert status == 429 and "Zonder script 3" in html and "veel formulieren verstuurd" in html
    assert refusals("rate_address_unproven") == before + 1
    # With the work done the ordinary limit (5, of which 2 are used) still has room.
    for n in range(3):
        assert (await post(client, solved(await form_page(client)), f"Met script {n}"))[0] == 200
    assert (await post(client, solved(await form_page(client)), "Met script 4"))[0] == 429


async def test_a_forged_challenge_is_refused_in_dutch_and_keeps_the_text(client: TestClient) -> None:
    before = refusals("challenge_forged")
    fields = await form_page(client)
    issued, nonce, bits, _ = fields["uitdaging"].split(".")
    forged = {**fields, "uitdaging": f"{issued}.{nonce}.{bits}.{'0' * 32}"}
    status, html = await post(client, solved(forged), "Mijn vraag met een vervalste uitdaging")
    assert status == 403 and NOT_OURS in html
    assert "Mijn vraag met een vervalste uitdaging" in html
    assert refusals("challenge_forged") == before + 1
    again = hidden(html)  # the page comes back with a fresh challenge and the same form key
    assert again["uitdaging"] != forged["uitdaging"] and again["formulier"] == fields["formulier"]
    assert (await post(client, solved(again), "Mijn vraag met een vervalste uitdaging"))[0] == 200


async def test_a_solved_challenge_replayed_with_another_form_is_refused(client: TestClient) -> None:
    before = refusals("challenge_replayed")
    first = solved(await form_page(client))
    assert (await post(client, first, "Eerste vraag"))[0] == 200
    second = await form_page(client)  # a new form key, the old work
    status, html = await post(client, {**second, "uitdaging": first["uitdaging"], "bewijs": first["bewijs"]},
                              "Tweede vraag")
    assert status == 403 and NOT_OURS in html and "Tweede vraag" in html
    assert refusals("challenge_replayed") == before + 1
    # The same form sent again (double click, Back) is the first contact's confirmation, not a refusal.
    status, html = await post(client, first, "Eerste vraag")
    assert status == 200 and "is ontvangen" in html


async def test_form_pages_carry_the_challenge_and_the_script_that_solves_it(client: TestClient) -> None:
    page = await (await client.get("/melding?als=professional")).text()
    fields = hidden(page)
    assert fields["bewijs"] == "" and len(fields["uitdaging"].split(".")) == 4
    assert 'crypto.subtle.digest("SHA-256"' in page and "requestSubmit" in page
    index = await (await client.get("/")).text()
    assert "crypto.subtle" not in index  # only pages with a form to send
