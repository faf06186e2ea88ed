"""The online meldformulier end to end: the real intake process and broker, Debian's Chromium
driven headless by Playwright. A professional fills the form by its labels with the keyboard, gets
the confirmation with the reference, and the MeldingReceived event arrives on the region's topic.
One submit shows every problem (summary focused, linked to the fields), fields follow the melder type
without script, people are added and removed, Back and send again makes no second melding, the quick
exit leaves no way back, every page carries 112, 0800-2000 and the privacy link, and axe-core finds no
violation at desktop width or 375 px.

Chromium is installed by `make test` (target `chromium`); if it cannot start, this test fails. Every wait
is on a condition (Playwright's expect), never on time. Screenshots go to the test's tmp dir, or to
$VT_SCREENSHOTS (e.g. `VT_SCREENSHOTS=docs/screenshots`) to refresh the ones in the docs."""

from __future__ import annotations

import json
import pathlib
import re
import sqlite3
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from devstack.scenario import TopicWatcher, random_bsn
from intake.web.friction import solves
from intake.web.pages import NEUTRAL_URL
from playwright.async_api import Browser, BrowserContext, Page, Request, async_playwright, expect
from vtkit import topics
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vttest import ServiceProcess, screenshot_path
from vttest.intake import http_address, intake_process

TENANT = "utrecht"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE = pathlib.Path(__file__).with_name("vendor") / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}
ORG = "Veilig Thuis Utrecht"


@pytest.fixture()
async def intake(tmp_path: pathlib.Path, kafka: str, keys: KeyStore,
                 data_dir: pathlib.Path) -> AsyncIterator[ServiceProcess]:
    process = intake_process(tmp_path, kafka, keys, TENANT, data_dir).start()
    try:
        await wait_healthy(process.address, timeout=20, keys=keys)
        yield process
    finally:
        code = process.stop()
        assert code == 0, process.log_text()[-3000:]


@pytest.fixture()
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture()
def base(intake: ServiceProcess) -> str:
    address = http_address(intake)
    assert address.startswith("127.0.0.1:")
    return f"http://{address}"


def stored_contacts(data_dir: pathlib.Path) -> list[tuple[str, list[str]]]:
    """(reference, person ids) of every stored contact."""
    with sqlite3.connect(data_dir / f"intake-{TENANT}.sqlite3") as db:
        return [(ref, json.loads(ids or "[]")) for ref, ids in db.execute("SELECT reference, person_ids FROM contacts")]


def screenshot(tmp_path: pathlib.Path, name: str) -> pathlib.Path:
    return screenshot_path(tmp_path, f"meldformulier-{name}.png")


async def choose(page: Page, melder_type: str) -> None:
    """Step 1: the melder type."""
    await page.get_by_label(melder_type, exact=False).check()
    await page.get_by_role("button", name="Verder").click()
    await expect(page.get_by_role("button", name=re.compile("Melding versturen|Advies vragen")).last).to_be_visible()


async def fill_fields(page: Page, bsn: str, *, name: str, narrative: str = "Kind komt herhaaldelijk met blauwe "
                      "plekken op school.") -> None:
    """Fill the professional's melding form by its labels, as a keyboard user would."""
    await page.get_by_label("Naam", exact=True).fill(name)
    await page.get_by_label("Functie").fill("leerkracht")
    await page.get_by_label("Organisatie").fill("Basisschool De Regenboog")
    await page.get_by_label("Telefoonnummer").fill("0301234567")
    await page.get_by_label("E-mailadres").fill("p.devries@example.nl")
    await page.get_by_label("2. Ik vraag Veilig Thuis de zorg voor de veiligheid over te nemen").check()
    person = page.get_by_role("group", name="Betrokkene 1", exact=True)
    await person.get_by_label("Rol").select_option(label="Kind")
    await person.get_by_label("BSN").fill(bsn)
    await page.get_by_label("Kindermishandeling", exact=True).check()
    acute = page.get_by_label("Er is acuut gevaar", exact=False)
    if not await acute.is_checked():
        await acute.press("Space")  # keyboard toggles the checkbox
    await page.get_by_label("Is er een vermoeden van huiselijk geweld of kindermishandeling?").check()
    await page.get_by_label("Wat is er aan de hand?").fill(narrative)


async def fill_melding(page: Page, bsn: str, *, name: str) -> None:
    await choose(page, "Professional (ik meld vanuit mijn werk)")
    await fill_fields(page, bsn, name=name)


async def send(page: Page) -> None:
    await page.get_by_role("button", name="Melding versturen").last.press("Enter")


async def test_a_professional_files_a_melding_in_the_browser_and_it_reaches_kafka(
        base: str, browser: Browser, kafka: str, tmp_path: pathlib.Path) -> None:
    page = await browser.new_page()
    async with TopicWatcher(kafka, [topics.intake(TENANT)]) as watcher:
        await page.goto(f"{base}/")
        await page.keyboard.press("Tab")  # keyboard users first meet the skip link
        await expect(page.get_by_role("link", name="Direct naar de inhoud")).to_be_focused()
        await page.get_by_role("link", name="Een melding doen").press("Enter")
        await expect(page).to_have_title(f"Een melding doen - {ORG}")
        await fill_melding(page, random_bsn(), name="Petra de Vries")
        await send(page)

        await expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
        reference = (await page.locator("#referentie").inner_text()).strip()
        assert reference.startswith("VT09-")
        await expect(page.get_by_text("vandaag nog op")).to_be_visible()  # acute: same day
        await page.set_viewport_size(PHONE)
        await page.screenshot(path=str(screenshot(tmp_path, "bevestiging")))

        event = await watcher.wait_for(lambda _, m: m.DESCRIPTOR.name == "MeldingReceived"
                                       and m.reference == reference, timeout=20, what="MeldingReceived")
    melding = event.message
    assert melding.tenant_id == TENANT and melding.acute and melding.melder_may_be_named
    assert event.envelope.source == f"intake/{TENANT}"


async def test_a_missing_name_shows_the_dutch_error_next_to_the_field_and_stores_nothing(
        base: str, browser: Browser, data_dir: pathlib.Path) -> None:
    page = await browser.new_page()
    await page.goto(f"{base}/melding")
    await fill_melding(page, random_bsn(), name="")
    await send(page)

    name = page.get_by_label("Naam", exact=True)
    await expect(name).to_have_attribute("aria-invalid", "true")
    error = page.locator("#naam-fout")
    await expect(error).to_contain_text("Vul uw naam in.")
    await expect(error).to_contain_text("Vraag dan advies")
    await expect(name).to_have_accessible_description(re.compile(r"^Fout: Vul uw naam in\."))
    await expect(page).to_have_title(f"Fout: Een melding doen - {ORG}")
    # The error summary links to the field; what was typed elsewhere is kept.
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#naam")
    await expect(page.get_by_label("Organisatie")).to_have_value("Basisschool De Regenboog")
    assert stored_contacts(data_dir) == []


async def test_one_submit_shows_every_problem_in_a_focused_summary_linking_to_each_field(
        base: str, browser: Browser, data_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    page = await browser.new_page(viewport=PHONE)
    await page.goto(f"{base}/melding?als=professional")
    await page.get_by_label("Naam", exact=True).fill("Petra de Vries")
    await page.get_by_label("Organisatie").fill("Basisschool De Regenboog")
    await page.get_by_role("group", name="Betrokkene 1", exact=True).get_by_label("Achternaam").fill("Jansen")
    await send(page)

    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    await expect(page).to_have_title(f"Fout: Een melding doen - {ORG}")
    await expect(summary.get_by_role("heading")).to_have_text("Er zijn 8 problemen")
    links = summary.get_by_role("link")
    await expect(links).to_have_count(8)
    hrefs = [await links.nth(i).get_attribute("href") for i in range(8)]
    assert hrefs == ["#telefoon", "#situatie", "#p1_rol", "#p1_voornamen", "#p1_geboortedatum", "#p1_postcode",
                     "#p1_huisnummer", "#aard"]
    for i, href in enumerate(hrefs):  # the same words next to the field
        await expect(page.locator(f"{href}-fout")).to_have_text("Fout: " + await links.nth(i).inner_text())
    await page.screenshot(path=str(screenshot(tmp_path, "fout")))
    await links.nth(3).click()  # a link takes the keyboard to its field
    await expect(page.get_by_role("group", name="Betrokkene 1", exact=True).get_by_label("Voornamen")).to_be_focused()
    await expect(page.get_by_label("Naam", exact=True)).to_have_value("Petra de Vries")
    await expect(page.get_by_role("group", name="Betrokkene 1", exact=True).get_by_label("Achternaam")).to_have_value("Jansen")
    assert stored_contacts(data_dir) == []


async def test_the_fields_follow_the_melder_type_without_script(base: str, browser: Browser,
                                                                tmp_path: pathlib.Path) -> None:
    context = await browser.new_context(java_script_enabled=False, viewport=PHONE)
    page = await context.new_page()
    await page.goto(f"{base}/melding")
    await page.screenshot(path=str(screenshot(tmp_path, "stap1")))
    await choose(page, "Omstander (bijvoorbeeld buur, familielid of kennis)")
    await expect(page.get_by_label("Ik geef uitdrukkelijk toestemming", exact=False)).to_be_visible()
    await expect(page.get_by_label("Mag Veilig Thuis uw naam aan het gezin noemen", exact=False)).to_have_count(0)
    await expect(page.get_by_role("group", name=re.compile("Afwegingskader"))).to_have_count(0)
    await expect(page.get_by_label("Functie")).to_have_count(0)  # a bystander has no job title here
    await expect(page.get_by_label("Huishouden (niet verplicht)")).to_be_visible()

    await page.get_by_role("link", name="Andere keuze maken").click()
    await choose(page, "Professional (ik meld vanuit mijn werk)")
    await expect(page.get_by_label("Mag Veilig Thuis uw naam aan het gezin noemen", exact=False)).to_be_visible()
    await expect(page.get_by_role("group", name=re.compile("Afwegingskader"))).to_be_visible()
    await expect(page.get_by_label("Ik geef uitdrukkelijk toestemming", exact=False)).to_have_count(0)
    await expect(page.get_by_label("Functie (niet verplicht)")).to_be_visible()
    await context.close()


async def test_three_people_are_added_and_one_removed_without_script_and_the_melding_names_three(
        base: str, browser: Browser, data_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{base}/melding")
    await fill_melding(page, random_bsn(), name="Petra de Vries")
    for block in (2, 3, 4):
        await page.get_by_role("button", name="Nog een persoon toevoegen").click()
        person = page.get_by_role("group", name=f"Betrokkene {block}", exact=True)
        await expect(person.get_by_label("Rol")).to_be_focused()  # the new block takes the keyboard
        await person.get_by_label("Rol").select_option(label="Ander gezinslid")
        await person.get_by_label("BSN").fill(random_bsn())
        await person.get_by_label("Achternaam").fill(f"Persoon{block}")
    await page.get_by_role("button", name="Betrokkene 3 verwijderen").click()
    await expect(page.get_by_role("status")).to_have_text("Betrokkene 3 is verwijderd.")
    await expect(page.get_by_role("group", name=re.compile(r"^Betrokkene \d+$"))).to_have_count(3)
    third = page.get_by_role("group", name="Betrokkene 3", exact=True)
    await expect(third.get_by_label("Achternaam")).to_have_value("Persoon4")  # the fourth moved up
    await expect(page.get_by_label("Naam", exact=True)).to_have_value("Petra de Vries")
    await expect(page.get_by_label("Wat is er aan de hand?")).to_have_value(re.compile("blauwe plekken"))
    await page.screenshot(path=str(screenshot(tmp_path, "personen")))
    assert stored_contacts(data_dir) == []  # adding and removing sends nothing
    await send(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    [(_, person_ids)] = stored_contacts(data_dir)
    assert len(person_ids) == 3
    await context.close()


async def test_back_and_send_again_makes_no_second_melding(base: str, browser: Browser, data_dir: pathlib.Path) -> None:
    page = await browser.new_page()
    bsn = random_bsn()
    await page.goto(f"{base}/melding")
    await fill_melding(page, bsn, name="Petra de Vries")
    await send(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    first = (await page.locator("#referentie").inner_text()).strip()

    await page.go_back()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Een melding doen")
    await fill_fields(page, bsn, name="Petra de Vries")  # as the browser kept it, or typed again
    await send(page)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
    assert (await page.locator("#referentie").inner_text()).strip() == first
    assert [ref for ref, _ in stored_contacts(data_dir)] == [first]


async def neutral_site(context: BrowserContext) -> None:
    """The neutral site, served by Playwright (this machine has no internet)."""
    await context.route(f"{NEUTRAL_URL}**", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<!DOCTYPE html><title>Google</title><p>Zoeken</p>"))


@pytest.mark.parametrize("how", ["button", "three shifts"])
async def test_the_quick_exit_replaces_the_page_and_leaves_no_way_back_and_nothing_stored(
        base: str, browser: Browser, how: str) -> None:
    context = await browser.new_context()
    await neutral_site(context)
    page = await context.new_page()
    await page.goto(f"{base}/melding")
    await page.get_by_label("Omstander", exact=False).check()
    await page.get_by_role("button", name="Verder").click()
    form_url = page.url
    await page.get_by_label("Naam", exact=True).fill("Anna")
    await page.get_by_label("Wat is er aan de hand?").fill("Hij slaat haar.")
    assert await page.evaluate("localStorage.length + sessionStorage.length") == 0
    entries = await page.evaluate("history.length")
    if how == "button":
        await page.get_by_role("link", name="Verlaat deze pagina").click()
    else:
        await page.get_by_label("Wat is er aan de hand?").focus()
        for _ in range(3):
            await page.keyboard.press("Shift")
    await expect(page).to_have_url(NEUTRAL_URL)
    await expect(page).to_have_title("Google")
    assert await page.evaluate("history.length") == entries  # replaced, not added: Back skips the form
    await page.go_back()
    assert page.url != form_url and "als=" not in page.url
    await expect(page.get_by_text("Hij slaat haar.")).to_have_count(0)
    await context.close()


async def test_form_pages_are_not_stored_by_the_browser(base: str, browser: Browser) -> None:
    page = await browser.new_page()
    for path in ("/melding", "/melding?als=professional", "/advies?als=omstander"):
        response = await page.goto(f"{base}{path}")
        assert response is not None and response.headers["cache-control"] == "no-store"


async def test_the_browser_does_the_proof_of_work_and_without_javascript_the_form_is_still_taken(
        base: str, browser: Browser, data_dir: pathlib.Path) -> None:
    sent: list[dict[str, list[str]]] = []

    def remember(request: Request) -> None:
        if request.method == "POST":
            sent.append(parse_qs(request.post_data or "", keep_blank_values=True))

    for javascript in (True, False):
        context = await browser.new_context(java_script_enabled=javascript)
        page = await context.new_page()
        page.on("request", remember)
        await page.goto(f"{base}/melding")
        await fill_melding(page, random_bsn(), name="Petra de Vries")
        await send(page)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
        challenge, answer = sent[-1]["uitdaging"][0], sent[-1]["bewijs"][0]
        if javascript:  # the page's script found the solution (intake.web.friction), the server took it
            assert answer.isdigit() and solves(challenge, answer, int(challenge.split(".")[2]))
        else:  # no script: sent without it, taken all the same (at the stricter rate)
            assert answer == ""
        await context.close()
    assert len(stored_contacts(data_dir)) == 2


async def test_every_page_shows_112_0800_2000_the_privacy_link_and_the_quick_exit(
        base: str, browser: Browser) -> None:
    page = await browser.new_page(viewport=PHONE)

    async def check(where: str) -> None:
        await expect(page.get_by_text("Bij acuut gevaar: bel 112")).to_be_visible()
        await expect(page.get_by_role("link", name="0800-2000").first).to_be_visible()
        await expect(page.get_by_role("link", name="Verlaat deze pagina")).to_be_visible()
        privacy = page.get_by_role("link", name="Privacy: wat wij met uw gegevens doen")
        await expect(privacy).to_have_attribute("href", "/privacy"), where

    for path in ("/", "/melding", "/melding?als=professional", "/melding?als=omstander", "/advies",
                 "/advies?als=professional", "/advies?als=omstander", "/privacy", "/bestaat-niet"):
        await page.goto(f"{base}{path}")
        await check(path)
    await page.goto(f"{base}/privacy")
    await expect(page.get_by_role("heading", name="Hoe lang")).to_be_visible()
    # An anonymous neighbour is offered a call, and is not told VT will call them.
    await page.goto(f"{base}/advies?als=omstander")
    await expect(page.get_by_role("heading", name="Bel ons, u mag anoniem blijven")).to_be_visible()
    await page.get_by_label("Uw vraag").fill("Ik hoor de buren vaak schreeuwen. Wat kan ik doen?")
    await page.get_by_role("button", name="Advies vragen").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Uw adviesvraag is ontvangen")
    await expect(page.get_by_text("neemt geen contact met u op")).to_be_visible()
    await expect(page.get_by_text("Veilig Thuis neemt contact met u op.")).to_have_count(0)
    await check("bevestiging")


async def test_a_narrative_too_long_is_kept_with_a_dutch_message_and_the_limit(
        base: str, browser: Browser, data_dir: pathlib.Path) -> None:
    page = await browser.new_page()
    await page.goto(f"{base}/melding")
    story = "Ik hoor elke avond geschreeuw. " * 1100  # 34,100 characters: over 32,768
    await choose(page, "Professional (ik meld vanuit mijn werk)")
    await expect(page.get_by_text("Maximaal 32.768 tekens")).to_be_visible()
    await fill_fields(page, random_bsn(), name="Petra de Vries", narrative=story)
    await send(page)
    error = page.locator("#verhaal-fout")
    await expect(error).to_contain_text("Deze tekst is te lang: maximaal 32.768 tekens, u heeft er 34.099.")
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_text(re.compile("te lang"))
    assert await page.get_by_label("Wat is er aan de hand?").input_value() == story
    assert stored_contacts(data_dir) == []


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    await page.add_script_tag(path=str(AXE))
    return list(await page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']}))
        .violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                               nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""))


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "375px"])
async def test_axe_finds_no_violation_on_any_page(base: str, browser: Browser, viewport: dict[str, int]) -> None:
    # The pages' CSP admits no script but their own; bypass it to inject axe-core (the test's, never served).
    context = await browser.new_context(bypass_csp=True, viewport=viewport)  # type: ignore[arg-type]
    page = await context.new_page()
    found: dict[str, list[dict[str, Any]]] = {}

    async def audit(name: str) -> None:
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        found[name] = await axe_violations(page)

    for path in ("/", "/privacy", "/bestaat-niet", "/melding", "/melding?als=", "/melding?als=professional",
                 "/melding?als=omstander", "/advies", "/advies?als=professional", "/advies?als=omstander"):
        await page.goto(f"{base}{path}")
        await audit(path)
    await page.goto(f"{base}/melding?als=professional")
    await page.get_by_role("button", name="Nog een persoon toevoegen").click()
    await send(page)  # empty: every error shown
    await audit("melding with errors and two people")
    await page.goto(f"{base}/advies?als=professional")
    await page.get_by_role("button", name="Advies vragen").click()
    await audit("advies with errors")
    await page.goto(f"{base}/melding")
    await fill_melding(page, random_bsn(), name="Petra de Vries")
    await send(page)
    await audit("confirmation")
    assert {name: v for name, v in found.items() if v} == {}
    await context.close()
