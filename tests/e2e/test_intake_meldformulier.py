"""The online meldformulier end to end: the real intake process and broker, Debian's Chromium
driven headless by Playwright. A professional fills the form by its labels with the keyboard, gets
the confirmation with the reference, and the MeldingReceived event arrives on the region's topic.
A missing field shows the Dutch error next to that field and stores nothing.

Chromium is installed by `make test` (target `chromium`); if it cannot start, this test fails."""

from __future__ import annotations

import pathlib
import re
import sqlite3
from collections.abc import AsyncIterator

import pytest
from intake.testkit import http_address, intake_process
from playwright.async_api import Browser, Page, async_playwright, expect
from vtkit import topics
from vtkit.grpcserver import wait_healthy
from vtkit.keystore import KeyStore
from vtkit.scenario import TopicWatcher, random_bsn
from vtkit.testing import ServiceProcess

TENANT = "utrecht"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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


def stored_contacts(data_dir: pathlib.Path) -> int:
    with sqlite3.connect(data_dir / f"intake-{TENANT}.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM contacts").fetchone()[0])


async def fill_melding(page: Page, bsn: str, *, name: str) -> None:
    """Fill the melding form by its labels, as a keyboard user would (step 1: the melder type)."""
    await page.get_by_label("Professional (ik meld vanuit mijn werk)").check()
    await page.get_by_role("button", name="Verder").click()
    await page.get_by_label("Naam", exact=True).fill(name)
    await page.get_by_label("Functie").fill("leerkracht")
    await page.get_by_label("Organisatie").fill("Basisschool De Regenboog")
    await page.get_by_label("Telefoonnummer").fill("0301234567")
    await page.get_by_label("E-mailadres").fill("p.devries@example.nl")
    await page.get_by_label("2. Ik vraag Veilig Thuis de zorg voor de veiligheid over te nemen").check()
    person = page.get_by_role("group", name="Betrokkene 1")
    await person.get_by_label("Rol").select_option(label="Kind")
    await person.get_by_label("BSN").fill(bsn)
    await page.get_by_label("Kindermishandeling", exact=True).check()
    acute = page.get_by_label("Er is acuut gevaar", exact=False)
    if not await acute.is_checked():
        await acute.press("Space")  # keyboard toggles the checkbox
    await page.get_by_label("Is er een vermoeden van huiselijk geweld of kindermishandeling?").check()
    await page.get_by_label("Wat is er aan de hand?").fill("Kind komt herhaaldelijk met blauwe plekken op school.")


async def test_a_professional_files_a_melding_in_the_browser_and_it_reaches_kafka(
        intake: ServiceProcess, browser: Browser, kafka: str, tmp_path: pathlib.Path) -> None:
    address = http_address(intake)
    assert address.startswith("127.0.0.1:")
    page = await browser.new_page()
    async with TopicWatcher(kafka, [topics.intake(TENANT)]) as watcher:
        await page.goto(f"http://{address}/")
        await page.keyboard.press("Tab")  # keyboard users first meet the skip link
        await expect(page.get_by_role("link", name="Direct naar de inhoud")).to_be_focused()
        await page.get_by_role("link", name="Een melding doen").press("Enter")
        await expect(page).to_have_title("Een melding doen - Veilig Thuis Utrecht")
        await fill_melding(page, random_bsn(), name="Petra de Vries")
        await page.get_by_role("button", name="Melding versturen").press("Enter")

        await expect(page.get_by_role("heading", level=1)).to_have_text("Uw melding is ontvangen")
        reference = (await page.locator("#referentie").inner_text()).strip()
        assert reference.startswith("VT09-")
        await expect(page.get_by_text("vandaag nog op")).to_be_visible()  # acute: same day
        screenshot = tmp_path / "meldformulier-bevestiging.png"
        await page.screenshot(path=str(screenshot), full_page=True)
        print("screenshot:", screenshot)

        event = await watcher.wait_for(lambda _, m: m.DESCRIPTOR.name == "MeldingReceived"
                                       and m.reference == reference, timeout=20, what="MeldingReceived")
    melding = event.message
    assert melding.tenant_id == TENANT and melding.acute and melding.melder_may_be_named
    assert event.envelope.source == f"intake/{TENANT}"


async def test_a_missing_name_shows_the_dutch_error_next_to_the_field_and_stores_nothing(
        intake: ServiceProcess, browser: Browser, data_dir: pathlib.Path, tmp_path: pathlib.Path) -> None:
    page = await browser.new_page()
    await page.goto(f"http://{http_address(intake)}/melding")
    await fill_melding(page, random_bsn(), name="")
    await page.get_by_role("button", name="Melding versturen").press("Enter")

    name = page.get_by_label("Naam", exact=True)
    await expect(name).to_have_attribute("aria-invalid", "true")
    error = page.locator("#naam-fout")
    await expect(error).to_contain_text("Vul uw naam in.")
    await expect(error).to_contain_text("Vraag dan advies")
    await expect(name).to_have_accessible_description(re.compile(r"^Fout: Vul uw naam in\."))
    await expect(page).to_have_title("Fout: Een melding doen - Veilig Thuis Utrecht")
    # The error summary links to the field; what was typed elsewhere is kept.
    await expect(page.get_by_role("alert").get_by_role("link")).to_have_attribute("href", "#naam")
    await expect(page.get_by_label("Organisatie")).to_have_value("Basisschool De Regenboog")
    screenshot = tmp_path / "meldformulier-fout.png"
    await page.screenshot(path=str(screenshot), full_page=True)
    print("screenshot:", screenshot)
    assert stored_contacts(data_dir) == 0
