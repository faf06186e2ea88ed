"""The meldformulier's web adapter against the real handlers and SQLite store (no broker, no
browser): the same domain rules, each error next to its field in Dutch, accessible markup,
CSRF, and a double submit that creates one contact."""

from __future__ import annotations

import pathlib
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import pytest
from aiohttp.test_utils import TestClient, TestServer
from intake.domain.errors import TooLarge, ValidationError
from intake.domain.model import ContactKind
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.store import ContactStore
from intake.web.app import Meldformulier
from intake.web.forms import MESSAGES, field_error
from vtkit.keystore import KeyStore
from vtkit.tenants import get_tenant

TENANT = "utrecht"
MELDING = {"melder_type": "professional", "naam": "Petra de Vries", "functie": "leerkracht",
           "organisatie": "De Regenboog", "telefoon": "0301234567", "email": "p@example.nl", "situatie": "vt",
           "p1_rol": "kind", "p1_bsn": "111222333", "aard": "kindermishandeling", "acuut": "ja",
           "ak_vermoeden": "ja", "verhaal": "Blauwe plekken."}
ADVIES = {"melder_type": "professional", "naam": "Petra de Vries", "organisatie": "De Regenboog",
          "email": "p@example.nl", "vraag": "Wat kan ik doen?", "stappen": "stap1"}


@pytest.fixture()
async def web(tmp_path: pathlib.Path, keys: KeyStore) -> AsyncIterator[tuple[TestClient, ContactStore]]:
    store = ContactStore(tmp_path / "intake.sqlite3")
    protector = PersonalDataProtector(keys, TENANT)
    handlers = IntakeHandlers(TENANT, 9, store, protector)
    client = TestClient(TestServer(Meldformulier(handlers, get_tenant(TENANT)).app()))
    await client.start_server()
    try:
        yield client, store
    finally:
        await client.close()
        store.close()


async def post_form(client: TestClient, path: str, fields: dict[str, str]) -> tuple[int, str]:
    """GET the form (cookie + signed form key) and POST `fields` with its hidden fields."""
    page = await (await client.get(path)).text()
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    response = await client.post(path, data={**hidden, **fields})
    return response.status, await response.text()


class Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def parse(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Markup()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize("path", ["/melding", "/advies"])
async def test_every_input_has_a_label_and_nothing_comes_from_elsewhere(web: tuple[TestClient, ContactStore],
                                                                        path: str) -> None:
    client, _ = web
    response = await client.get(path)
    html = await response.text()
    tags = parse(html)
    assert ("html", {"lang": "nl"}) in tags
    labelled = {a["for"] for t, a in tags if t == "label"}
    fields = [a for t, a in tags if t in ("input", "select", "textarea") and a.get("type") != "hidden"]
    assert fields and all(a["id"] in labelled for a in fields), [a["id"] for a in fields if a["id"] not in labelled]
    assert sum(t == "fieldset" for t, _ in tags) == sum(t == "legend" for t, _ in tags) > 0
    assert not [a for t, a in tags if t in ("script", "link", "img", "iframe")]
    assert "http://" not in html and "https://" not in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "SameSite=Strict" in response.headers["Set-Cookie"]


async def test_a_complete_melding_is_confirmed_with_its_reference(web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    status, html = await post_form(client, "/melding", MELDING)
    assert status == 200, html
    reference = re.search(r'id="referentie">([^<]+)<', html)
    assert reference and reference.group(1).startswith("VT09-")
    assert "vandaag nog" in html  # acute: same-day handling
    [pending] = store.unsent(10)
    record = store.get(pending.entry.key)
    assert record and record.kind == ContactKind.MELDING and record.reference == reference.group(1)


async def test_a_missing_name_is_shown_next_to_the_name_field_in_dutch_and_nothing_is_stored(
        web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    status, html = await post_form(client, "/melding", {**MELDING, "naam": ""})
    assert status == 422
    [naam] = [a for t, a in parse(html) if t == "input" and a.get("id") == "naam"]
    assert naam["aria-invalid"] == "true" and "naam-fout" in (naam["aria-describedby"] or "")
    assert re.search(r'id="naam-fout"><span[^>]*>Fout: </span>Vul uw naam in\..*Vraag dan advies', html)
    assert 'href="#naam"' in html and "<title>Fout: " in html
    assert 'value="Petra de Vries"' not in html and 'value="De Regenboog"' in html  # the rest is kept
    assert store.unsent_count() == 0


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"melder_type": ""}, "melder_type", "professional of als omstander"),
    ({"telefoon": "", "email": ""}, "telefoon", "telefoonnummer of e-mailadres"),
    ({"situatie": ""}, "situatie", "zelf hulp"),
    ({"p1_rol": "", "p1_bsn": ""}, "p1_rol", "ten minste één betrokkene"),
    ({"p1_rol": ""}, "p1_rol", "rol van deze betrokkene"),
    ({"p1_bsn": "123456789"}, "p1_bsn", "elfproef"),
    ({"p1_bsn": "", "p1_achternaam": "Jansen"}, "p1_voornamen", "zonder BSN"),
    ({"p2_rol": "pleger", "p2_achternaam": "Jansen", "p2_voornamen": "Piet", "p2_geboortedatum": "31-02-1980"},
     "p2_geboortedatum", "geldige geboortedatum"),
    ({"aard": ""}, "aard", "aard van uw zorg"),
])
async def test_each_melding_rule_lands_on_its_field(web: tuple[TestClient, ContactStore], change: dict[str, str],
                                                    field: str, words: str) -> None:
    client, store = web
    status, html = await post_form(client, "/melding", {k: v for k, v in {**MELDING, **change}.items() if v})
    assert status == 422
    match = re.search(rf'id="{field}-fout"><span[^>]*>Fout: </span>([^<]*)<', html)
    assert match and words in match.group(1), html[html.find("summary"):][:400]
    assert store.unsent_count() == 0


async def test_a_second_person_block_is_identified_by_the_fallback(web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    status, _ = await post_form(client, "/melding", {**MELDING, "p2_rol": "pleger", "p2_achternaam": "Jansen",
                                                     "p2_voornamen": "Piet", "p2_geboortedatum": "1980-01-02",
                                                     "p2_postcode": "3511 AB", "p2_huisnummer": "1"})
    assert status == 200 and store.unsent_count() == 1


async def test_a_double_submit_creates_one_contact(web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    page = await (await client.get("/melding")).text()
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    first = await (await client.post("/melding", data={**hidden, **MELDING})).text()
    second = await (await client.post("/melding", data={**hidden, **MELDING})).text()
    ref = re.compile(r'id="referentie">([^<]+)<')
    assert ref.search(first).group(1) == ref.search(second).group(1)  # type: ignore[union-attr]
    assert store.unsent_count() == 1


async def test_a_post_without_the_signed_form_key_is_refused(web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    response = await client.post("/melding", data={**MELDING, "formulier": "someone-elses-key", "csrf": "x"})
    assert response.status == 403 and "verlopen" in await response.text()
    assert store.unsent_count() == 0


async def test_an_advies_is_registered_without_household_fields(web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    html = await (await client.get("/advies")).text()
    assert "bsn" not in html.lower() and "p1_" not in html
    status, html = await post_form(client, "/advies", ADVIES)
    assert status == 200 and 'id="referentie">VT09-' in html
    [pending] = store.unsent(10)
    assert store.get(pending.entry.key).kind == ContactKind.ADVIES  # type: ignore[union-attr]


async def test_an_advies_of_a_professional_needs_the_organisation(web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    status, html = await post_form(client, "/advies", {**ADVIES, "organisatie": ""})
    assert status == 422 and 'id="organisatie-fout"' in html and store.unsent_count() == 0


def test_every_message_is_dutch_and_maps_person_fields_to_their_block() -> None:
    assert field_error(ValidationError("melding.directbetrokkenen[1].bsn", "x"), blocks=(1, 2))[0] == "p2_bsn"
    assert field_error(ValidationError("melding.directbetrokkenen[0].surname", "x"), blocks=(2,))[0] == "p2_achternaam"
    assert field_error(ValidationError("unknown.path", "x")) == ("", "Dit is niet goed ingevuld.")
    assert all(not re.search(r"\b(the|is required|must)\b", message) for _, message in MESSAGES.values())


async def test_a_narrative_too_long_once_encoded_is_shown_on_its_field_in_dutch_and_kept(
        web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    long_story = "Zij gilt \x07" * 4000  # 40,000 characters, control characters among them: over the limit
    status, html = await post_form(client, "/melding", {**MELDING, "verhaal": long_story})
    assert status == 422
    match = re.search(r'id="verhaal-fout"><span[^>]*>Fout: </span>([^<]*)<', html)
    assert match and "te lang" in match.group(1), html[html.find("summary"):][:400]
    assert html.count("Zij gilt") >= 4000  # what was typed is still there to shorten
    assert store.unsent_count() == 0


def test_a_too_long_surname_is_not_called_missing() -> None:
    field, message = field_error(TooLarge("melding.directbetrokkenen[0].surname", "x"), blocks=(1,))
    assert field == "p1_achternaam" and "te lang" in message and "Vul" not in message
