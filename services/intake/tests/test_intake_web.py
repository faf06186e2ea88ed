"""The meldformulier's web adapter against the real handlers and SQLite store (no broker, no
browser): the same domain rules, every error at once next to its field in Dutch, accessible markup,
fields by melder type, person blocks added and removed, CSRF, a double submit that creates one
contact, Dutch error pages, and the safety information on every page."""

from __future__ import annotations

import pathlib
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import pytest
from aiohttp.test_utils import TestClient, TestServer
from intake.domain.errors import TooLarge, ValidationError
from intake.domain.model import Afwegingskader, ContactKind, Disclosure, DisclosureGround
from intake.dossier_keys import region_keys
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.store import ContactStore
from intake.web.app import Meldformulier
from intake.web.forms import MESSAGES, FormData, field_error, melding_from_form
from intake.web.pages import NEUTRAL_URL
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
    protector = PersonalDataProtector(region_keys(keys.root, store, TENANT), TENANT)
    handlers = IntakeHandlers(TENANT, 9, store, protector)
    client = TestClient(TestServer(Meldformulier(handlers, get_tenant(TENANT)).app()))
    await client.start_server()
    try:
        yield client, store
    finally:
        await client.close()
        store.close()


def hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))


async def post_form(client: TestClient, path: str, fields: dict[str, str]) -> tuple[int, str]:
    """GET the form for the melder type of `fields` (cookie + signed form key) and POST `fields` with its
    hidden fields (which `fields` may override)."""
    als = fields.get("melder_type") or "professional"
    page = await (await client.get(f"{path}?als={als}")).text()
    response = await client.post(path, data={**hidden_fields(page), **fields})
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


FORM_PAGES = ["/melding", "/melding?als=professional", "/melding?als=omstander", "/advies", "/advies?als=professional",
              "/advies?als=omstander"]


@pytest.mark.parametrize("path", FORM_PAGES)
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
    assert not [a for t, a in tags if t in ("link", "img", "iframe")]
    nonce = re.search(r"script-src 'nonce-([^']+)'", response.headers["Content-Security-Policy"])
    assert nonce and [a for t, a in tags if t == "script"] == [{"nonce": nonce.group(1)}]  # inline, ours only
    assert "http://" not in html and set(re.findall(r"https://[^\"]+", html)) == {NEUTRAL_URL}
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "SameSite=Strict" in response.headers["Set-Cookie"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "localStorage" not in html and "sessionStorage" not in html


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
    ({"telefoon": "", "email": ""}, "telefoon", "telefoonnummer of e-mailadres"),
    ({"situatie": ""}, "situatie", "zelf hulp"),
    ({"p1_rol": "", "p1_bsn": ""}, "p1_rol", "ten minste één betrokkene"),
    ({"p1_rol": ""}, "p1_rol", "rol van deze betrokkene"),
    ({"p1_bsn": "123456789"}, "p1_bsn", "elfproef"),
    ({"p1_bsn": "", "p1_achternaam": "Jansen"}, "p1_voornamen", "Vul de voornamen in, of het BSN."),
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
    hidden = hidden_fields(await (await client.get("/melding?als=professional")).text())
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
    html = await (await client.get("/advies?als=professional")).text()
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
    assert match and "te lang: maximaal 32.768 tekens, u heeft er 60.000" in match.group(1), html[html.find("summary"):][:400]
    assert "Maximaal 32.768 tekens" in html  # the limit is shown next to the field before anything goes wrong
    assert html.count("Zij gilt") >= 4000  # what was typed is still there to shorten
    assert store.unsent_count() == 0


def test_a_too_long_surname_is_not_called_missing() -> None:
    field, message = field_error(TooLarge("melding.directbetrokkenen[0].surname", "x"), blocks=(1,))
    assert field == "p1_achternaam" and "te lang" in message and "Vul" not in message


def summary_links(html: str) -> list[tuple[str, str]]:
    summary = html[html.index('id="foutenoverzicht"'):]
    summary = summary[:summary.index("</div>")]
    return re.findall(r'<a href="#(\w+)">([^<]*)</a>', summary)


async def test_one_submit_shows_every_problem_in_page_order_each_linked_with_the_words_next_to_its_field(
        web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    fields = {**MELDING, "naam": "", "telefoon": "", "email": "", "situatie": "", "p1_bsn": "", "p1_achternaam": "Jansen",
              "aard": "", "verhaal": "Zij gilt \x07" * 4000}
    status, html = await post_form(client, "/melding", {k: v for k, v in fields.items() if v})
    assert status == 422 and "<title>Fout: Een melding doen" in html
    links = summary_links(html)
    assert [field for field, _ in links] == ["naam", "telefoon", "situatie", "p1_voornamen", "p1_geboortedatum",
                                             "p1_postcode", "p1_huisnummer", "aard", "verhaal"]
    for field, words in links:  # the same words next to the field, and the link lands on a focusable element
        assert f'id="{field}-fout"><span class="visually-hidden">Fout: </span>{words}</p>' in html
        assert re.search(rf'<(input|select|textarea)[^>]* id="{field}"', html), field
    assert 'role="alert"' in html and 'tabindex="-1" autofocus' in html and "Er zijn 9 problemen" in html
    assert 'value="Jansen"' in html and 'value="De Regenboog"' in html and html.count("Zij gilt") >= 4000
    assert store.unsent_count() == 0


async def test_a_missing_melder_type_asks_for_it_first(web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    html = await (await client.get("/melding?als=")).text()
    assert "<title>Fout: Een melding doen" in html and summary_links(html) == [
        ("als", "Kies of u meldt als professional of als omstander.")]
    response = await client.post("/melding", data={**MELDING, "melder_type": "iemand"})
    assert response.status == 422 and 'id="als-fout"' in await response.text()
    assert store.unsent_count() == 0


async def test_the_fields_follow_the_melder_type(web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    professional = await (await client.get("/melding?als=professional")).text()
    bystander = await (await client.get("/melding?als=omstander")).text()
    assert 'name="reden_niet_noemen"' in professional and 'name="ak_vermoeden"' in professional
    assert 'name="toestemming"' not in professional
    assert 'name="toestemming"' in bystander and "reden_niet_noemen" not in bystander and "ak_vermoeden" not in bystander
    assert "(niet verplicht)" in professional and "(niet verplicht)" in bystander
    # A field of the other type, posted anyway (switched type, crafted post), is not read.
    crafted = {**MELDING, "melder_type": "omstander", "reden_niet_noemen": "gevaar_melder", "toestemming": "ja"}
    melding = melding_from_form(FormData(list(crafted.items()))).melding
    assert melding.disclosure == Disclosure(bystander_consents=True, withhold_ground=DisclosureGround.NONE)
    assert melding.afwegingskader == Afwegingskader()  # the professional's afwegingskader is not read either
    status, _ = await post_form(client, "/melding", crafted)
    assert status == 200 and store.unsent_count() == 1
    advies = await (await client.get("/advies?als=professional")).text()
    anonymous = await (await client.get("/advies?als=omstander")).text()
    assert 'name="stappen"' in advies and 'name="stappen"' not in anonymous
    assert "u mag anoniem blijven" in anonymous.lower() and 'href="tel:08002000"' in anonymous


async def test_people_are_added_and_removed_without_script_keeping_what_was_typed(
        web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    hidden = hidden_fields(await (await client.get("/melding?als=professional")).text())
    fields = {**hidden, **MELDING}
    for block in (2, 3, 4):  # add three people
        response = await client.post("/melding", data={**fields, "actie": "toevoegen"})
        html = await response.text()
        assert response.status == 200 and f"Betrokkene {block} is toegevoegd." in html
        assert re.search(rf'<select id="p{block}_rol" name="p{block}_rol" autofocus', html)
        fields = {**hidden_fields(html), **fields, "personen": str(block),
                  f"p{block}_rol": "gezinslid", f"p{block}_achternaam": f"Persoon{block}"}
        assert hidden_fields(html)["formulier"] == hidden["formulier"]  # the same form, the same key
    response = await client.post("/melding", data={**fields, "actie": "verwijder-3"})
    html = await response.text()
    assert "Betrokkene 3 is verwijderd." in html and 'name="personen" value="3"' in html
    assert 'value="Persoon2"' in html and 'value="Persoon3"' not in html
    assert re.search(r'id="p3_achternaam" name="p3_achternaam" value="Persoon4"', html)  # block 4 moved up
    assert 'value="Petra de Vries"' in html and store.unsent_count() == 0  # nothing is sent by adding or removing
    ten = {**fields, "personen": "10"}
    html = await (await client.post("/melding", data={**ten, "actie": "toevoegen"})).text()
    assert "Nog een persoon toevoegen" not in html and 'id="p10_rol"' in html and 'id="p11_rol"' not in html


async def test_sending_the_same_form_again_shows_the_first_confirmation_even_when_it_is_now_incomplete(
        web: tuple[TestClient, ContactStore]) -> None:
    client, store = web
    hidden = hidden_fields(await (await client.get("/melding?als=professional")).text())
    first = await (await client.post("/melding", data={**hidden, **MELDING})).text()
    again = await client.post("/melding", data={**hidden, "melder_type": "professional"})  # Back, fields emptied
    ref = re.compile(r'id="referentie">([^<]+)<')
    assert again.status == 200 and ref.search(await again.text()).group(1) == ref.search(first).group(1)  # type: ignore[union-attr]
    assert store.unsent_count() == 1
    advies = await client.post("/advies", data={**hidden, **ADVIES})  # a melding's key is no advies
    assert advies.status == 409 and store.unsent_count() == 1


@pytest.mark.parametrize("path", ["/", "/privacy", "/melding", "/melding?als=omstander", "/advies?als=professional",
                                  "/bestaat-niet"])
async def test_every_page_has_the_quick_exit_the_numbers_and_the_privacy_link(
        web: tuple[TestClient, ContactStore], path: str) -> None:
    client, _ = web
    response = await client.get(path)
    html = await response.text()
    assert f'<a class="exit" id="verlaat" href="{NEUTRAL_URL}"' in html and "Verlaat deze pagina" in html
    assert "location.replace" in html
    assert 'href="tel:08002000">0800-2000</a>' in html and "Bij acuut gevaar: bel" in html and 'href="tel:112"' in html
    assert 'href="/privacy"' in html and response.headers["Cache-Control"] == "no-store"


async def test_errors_are_dutch_pages(web: tuple[TestClient, ContactStore]) -> None:
    client, _ = web
    response = await client.get("/bestaat-niet")
    html = await response.text()
    assert response.status == 404 and "Deze pagina bestaat niet" in html and "Not Found" not in html
    response = await client.put("/melding")
    assert response.status == 405 and "Dit kan niet op deze pagina" in await response.text()
    response = await client.post("/melding", data={"verhaal": "x" * (3 * 1024 * 1024)})
    html = await response.text()
    assert response.status == 413 and "Wat u verstuurde is te groot" in html and "Entity" not in html


async def test_a_failure_inside_keeps_what_was_typed_and_says_so_in_dutch(
        web: tuple[TestClient, ContactStore], monkeypatch: pytest.MonkeyPatch) -> None:
    client, store = web

    async def broken(*_: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(IntakeHandlers, "submit_melding", broken)
    status, html = await post_form(client, "/melding", MELDING)
    assert status == 500 and "Er ging bij ons iets mis" in html and 'value="Petra de Vries"' in html
    assert "Twee keer versturen maakt geen tweede melding" in html


async def test_an_anonymous_bystanders_advies_is_not_promised_a_call_back(web: tuple[TestClient, ContactStore]) -> None:
    client, _ = web
    status, html = await post_form(client, "/advies", {"melder_type": "omstander", "vraag": "Mijn buren schreeuwen."})
    assert status == 200 and 'id="referentie">VT09-' in html
    assert "neemt contact met u op" not in html.replace("neemt geen contact met u op", "")
    assert "Bel <a href=\"tel:08002000\">0800-2000</a>" in html
    status, html = await post_form(client, "/advies", {"melder_type": "omstander", "vraag": "Mijn buren schreeuwen.",
                                                       "telefoon": "0612345678", "toestemming": "ja"})
    assert status == 200 and "Veilig Thuis neemt contact met u op" in html


async def test_the_same_form_sent_again_from_a_re_fetched_page_makes_no_second_melding(
        web: tuple[TestClient, ContactStore]) -> None:
    """Back re-fetches the form (no-store) with a new key: the same melder about the same persons is the
    first melding; another household is a new one."""
    client, store = web
    ref = re.compile(r'id="referentie">([^<]+)<')
    status, first = await post_form(client, "/melding", MELDING)
    assert status == 200 and "vt_verstuurd" in client.session.cookie_jar.filter_cookies(client.make_url("/"))
    status, again = await post_form(client, "/melding", {**MELDING, "verhaal": "Nog iets erbij."})  # a new page
    assert status == 200 and ref.search(again).group(1) == ref.search(first).group(1)  # type: ignore[union-attr]
    assert store.unsent_count() == 1
    status, other = await post_form(client, "/melding", {**MELDING, "p1_bsn": "123456782"})
    assert status == 200 and ref.search(other).group(1) != ref.search(first).group(1)  # type: ignore[union-attr]
    assert store.unsent_count() == 2
