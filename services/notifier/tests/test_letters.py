"""The household letter and the other issue-6 rules, against a real SQLite file, real keys and
fpdf2: disclosure in the letter, the 4-week notice and its postponements, callback-before-letter
ordering in the store, overdue events, verwijsindex match notices and the re-drive command."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import pathlib
import shutil
import subprocess

import grpc
import pytest
from notifier import redrive
from notifier.adapters import proto
from notifier.adapters.brp import BrpAddressBook
from notifier.adapters.pdf import render_letter
from notifier.adapters.proto import opened, sealed
from notifier.consumer import VERWIJSINDEX, EventHandler
from notifier.domain import DeliveryKind, DeliveryState, Verdict, delivery_key
from notifier.domain.letter import (
    Address,
    Addressee,
    InvalidPostponement,
    LetterFacts,
    Person,
    address_for,
    addressees,
    check_postponement,
    letter_due_date,
    letter_key,
    letter_paragraphs,
    melder_terms,
    rights_paragraphs,
    without_terms,
)
from notifier.grpc_api import NotifierApi
from notifier.letters import LetterBuilder, letters_for
from notifier.store import Store
from simulators.brp import BrpAddress, BrpRegister
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import notifier_service_pb2, receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.verwijsindex.v1 import events_pb2 as vi_events
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vi_service
from vtkit import auth, metrics
from vtkit.calendar import AMSTERDAM
from vtkit.envelope import Event, envelope_for
from vtkit.keystore import KeyStore, init_keys

BYSTANDER = "Bea Buurvrouw"
WITNESS = "Wim Getuige"
VICTIM, CHILD, SUSPECT = "Anna de Vries", "Sem de Vries", "Karel Jansen"
SUSPECT_BSN = "111222333"
# Words that would tell one adult the role the melding gave another.
ROLE_WORDS = ("pleger", "slachtoffer", "verdacht", "dader", "suspect", "victim")
PROFESSIONAL = "Dr. Paula Huisarts"
RECEIVED = dt.datetime(2025, 12, 22, 10, 30, tzinfo=AMSTERDAM)
EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "docs" / "example-letter.pdf"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    return init_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture()
def store(tmp_path: pathlib.Path) -> Store:
    return Store(tmp_path / "notifier.sqlite3")


def pdf_text(pdf: bytes) -> str:
    """The text a reader sees: the PDF read back with poppler's pdftotext (`make fonts` installs it). The
    embedded TrueType font stores glyph ids, not characters, so the PDF's bytes cannot be searched."""
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode("utf-8")


def facts(**changes: object) -> LetterFacts:
    base = LetterFacts(region_name="Veilig Thuis Fryslân", reference="VT-2025-001", letter_date=dt.date(2026, 1, 5),
                       received_on=dt.date(2025, 12, 22), addressee=Addressee("p1", VICTIM, (CHILD,)),
                       address=Address("Dorpsstraat", "12", "8901AB", "Leeuwarden"), melder_name=None,
                       melder_professional=False, decision="DECISION_ONDERZOEK",
                       agreements="Wekelijks contact met de gezinscoach.")
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def melding(tenant: str, case_id: str, keys: KeyStore, event_id: str, *, melder_name: str, may_be_named: bool,
            melder_type: int = common_pb2.MELDER_TYPE_BYSTANDER) -> intake_events.MeldingReceived:
    cipher = keys.tenant_cipher(tenant)
    msg = intake_events.MeldingReceived(tenant_id=tenant, contact_id=case_id, reference="VT-2025-001",
                                        melder_type=melder_type, melder_may_be_named=may_be_named)  # type: ignore[arg-type]
    msg.received_at.FromDatetime(RECEIVED.astimezone(dt.UTC))
    msg.melder.CopyFrom(sealed(cipher, json.dumps({"name": melder_name, "phone": "0612345678"}).encode(), event_id,
                               "melder"))
    at_home = {"postcode": "8901AB", "house_number": "12"}
    people = [("p1", common_pb2.PERSON_ROLE_VICTIM, {"first_names": "Anna", "surname": "de Vries",
                                                    "date_of_birth": "1990-03-01", **at_home}),
              ("p2", common_pb2.PERSON_ROLE_CHILD, {"first_names": "Sem", "surname": "de Vries",
                                                   "date_of_birth": "2016-05-04", **at_home}),
              ("p3", common_pb2.PERSON_ROLE_WITNESS, {"first_names": "Wim", "surname": "Getuige", **at_home}),
              # Known by BSN only: the letter's address comes from the BRP.
              ("p4", common_pb2.PERSON_ROLE_SUSPECT, {"first_names": "Karel", "surname": "Jansen", "bsn": SUSPECT_BSN})]
    for person_id, role, details in people:
        msg.persons.add(person_id=person_id, role=role,  # type: ignore[arg-type]
                        details=sealed(cipher, json.dumps(details).encode(), event_id, f"person:{person_id}"))
    return msg


HOUSEHOLD_AGREEMENTS = "Wekelijks contact met de gezinscoach."
MELDER_AGREEMENTS = "De melder belt volgende week terug over de school."


def completed(tenant: str, case_id: str, keys: KeyStore, event_id: str, *,
              household: common_pb2.HouseholdNotice | None = None, feedback: common_pb2.MelderFeedback | None = None,
              **flags: bool) -> radar_events.AssessmentCompleted:
    """A decision as radar publishes it: what the melder is told (agreements, melder_feedback) and what the
    household is told (household), each sealed on its own."""
    msg = radar_events.AssessmentCompleted(tenant_id=tenant, case_id=case_id, decision=radar_events.DECISION_ONDERZOEK,
                                           judgement=radar_events.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY, **flags)
    msg.decided_at.FromDatetime(dt.datetime(2025, 12, 29, 12, tzinfo=dt.UTC))
    cipher = keys.tenant_cipher(tenant)
    feedback = feedback or common_pb2.MelderFeedback(safety_judgement="Structureel onveilig.",
                                                     agreements=MELDER_AGREEMENTS)
    household = household or common_pb2.HouseholdNotice(agreements=HOUSEHOLD_AGREEMENTS)
    msg.agreements.CopyFrom(sealed(cipher, feedback.agreements.encode(), event_id, "agreements"))
    msg.melder_feedback.CopyFrom(sealed(cipher, feedback.SerializeToString(), event_id, "melder_feedback"))
    msg.household.CopyFrom(sealed(cipher, household.SerializeToString(), event_id, "household"))
    return msg


async def record_case_and_decision(store: Store, keys: KeyStore, *, melder_name: str = BYSTANDER,
                                   may_be_named: bool = False, melder_type: int = common_pb2.MELDER_TYPE_BYSTANDER,
                                   household: common_pb2.HouseholdNotice | None = None,
                                   feedback: common_pb2.MelderFeedback | None = None,
                                   **flags: bool) -> tuple[str, str]:
    tenant, case_id = "fryslan", "case-1"
    handler = EventHandler(store, keys=keys)
    env = envelope_for(intake_events.MeldingReceived(), source="intake/fryslan", tenant=tenant)
    await handler(Event(env, melding(tenant, case_id, keys, env.id, melder_name=melder_name,
                                     may_be_named=may_be_named, melder_type=melder_type)))
    done_env = envelope_for(radar_events.AssessmentCompleted(), source="region/fryslan", tenant=tenant)
    await handler(Event(done_env, completed(tenant, case_id, keys, done_env.id, household=household,
                                            feedback=feedback, **flags)))
    return tenant, case_id


# -- the letter's text and disclosure ---------------------------------------------------------


def test_letter_covers_the_subjects_of_the_melding_page() -> None:
    letter = facts()
    text = " ".join([*(h + " " + t for h, t in letter_paragraphs(letter)), *rights_paragraphs(letter)]).lower()
    for subject in ("melding", "veiligheid", "contact op met", "gemeente", "onderzoek", "inzage", "correctie",
                    "bezwaar", "klacht", "wekelijks contact met de gezinscoach", "raad voor de kinderbescherming"):
        assert subject in text, subject


def test_bystander_without_consent_is_never_named_but_a_professional_is() -> None:
    anonymous = " ".join(t for _, t in letter_paragraphs(facts(melder_name=None)))
    assert "Iemand maakt zich zorgen" in anonymous and "mogen wij u niet vertellen" in anonymous
    named = " ".join(t for _, t in letter_paragraphs(facts(melder_name=PROFESSIONAL, melder_professional=True)))
    assert PROFESSIONAL in named and "via het werk" in named and "mogen wij u niet vertellen" not in named


def test_the_letter_is_one_page_with_phone_contact_reference_and_rights() -> None:
    text = pdf_text(render_letter(facts()))
    assert text.count("\f") == 1, "one page"
    for expected in (VICTIM, "Dorpsstraat 12", "8901 AB LEEUWARDEN", "Kenmerk", "VT-2025-001",
                     "0800-2000", "Uw contactpersoon belt u binnenkort", "Uw rechten", "inzage", "correctie",
                     "bezwaar", "klacht"):
        assert expected in text, expected
    assert "Uw contactpersoon is Team Noord, Marieke Bakker." in pdf_text(
        render_letter(facts(contact="Team Noord, Marieke Bakker")))
    # Every decision and a long agreement still fit on the one page.
    for decision in ("DECISION_VOORWAARDEN_EN_VERVOLG", "DECISION_RVDK_REQUEST", "DECISION_UNSPECIFIED"):
        long = facts(decision=decision, melder_name=PROFESSIONAL, melder_professional=True,
                     addressee=Addressee("p1", VICTIM, ("Sem de Vries", "Lotte de Vries", "Daan de Vries")),
                     agreements="Mevrouw en meneer zorgen samen dat de kinderen elke dag naar school gaan. " * 3)
        assert pdf_text(render_letter(long)).count("\f") <= 2


def test_a_regions_letter_contact_comes_from_its_configuration(tmp_path: pathlib.Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from vtkit.tenants import get_tenant
    config = tmp_path / "tenants.toml"
    config.write_text('[[tenant]]\nid = "fryslan"\nname = "Veilig Thuis Fryslân"\nregion = 2\n'
                      'letter_contact = "het team Noord"\n'
                      '[[tenant]]\nid = "drenthe"\nname = "Veilig Thuis Drenthe"\nregion = 3\n', encoding="utf-8")
    monkeypatch.setenv("VT_TENANTS_FILE", str(config))
    assert get_tenant("fryslan").letter_contact == "het team Noord"
    assert get_tenant("drenthe").letter_contact == ""


@pytest.fixture()
def brp(tmp_path: pathlib.Path) -> BrpAddressBook:
    """The BRP simulator's register knows where the suspect (known to the melding by BSN only) lives."""
    path = tmp_path / "brp-register.json"
    BrpRegister(path).register(SUSPECT_BSN, BrpAddress("Wiśniewskistraat", "3a", "9711 AB", "Groningen"))
    return BrpAddressBook(path)


async def test_one_letter_per_adult_naming_no_one_elses_role(store: Store, keys: KeyStore, brp: BrpAddressBook,
                                                              tmp_path: pathlib.Path) -> None:
    tenant, case_id = await record_case_and_decision(store, keys)
    letter = store.letter_for_case(tenant, case_id)
    assert letter is not None
    requests = LetterBuilder(store, keys, brp).requests(letter, dt.date(2026, 1, 5))
    cipher = keys.tenant_cipher(tenant)
    # The victim and the suspect each get their own letter (the child is named in both, the witness in none),
    # each under a key derived from the delivery's key and the addressee's person id.
    assert [r.idempotency_key for r in requests] == [letter_key(letter.key, "p1"), letter_key(letter.key, "p4")]
    assert letter_key(letter.key, "p1") == hashlib.sha256(f"{letter.key}/p1".encode()).hexdigest()
    texts = {}
    for request, me, other in zip(requests, (VICTIM, SUSPECT), (SUSPECT, VICTIM), strict=True):
        pdf = opened(cipher, request.pdf, request.idempotency_key, "letter_pdf")
        addressee = json.loads(opened(cipher, request.addressee, request.idempotency_key, "letter_addressee"))
        assert pdf.startswith(b"%PDF") and len(pdf) < 100_000
        assert addressee["name"] == me
        if me == SUSPECT:  # the BRP's address; the victim's is what the melder gave
            assert addressee == {"name": SUSPECT, "street": "Wiśniewskistraat", "house_number": "3a",
                                 "postcode": "9711 AB", "city": "Groningen", "address_source": "brp"}
        else:
            assert (addressee["postcode"], addressee["house_number"], addressee["address_source"]) == (
                "8901AB", "12", "melding")
        text = texts[me] = pdf_text(pdf)
        assert f"Beste {me}," in text and other not in text and CHILD in text
        assert "Veilig Thuis Fryslân" in text and "Iemand" in text
        for secret in (BYSTANDER, WITNESS, "0612345678", SUSPECT_BSN, *ROLE_WORDS):
            assert secret not in text.lower() and secret not in text, secret
        out = tmp_path / f"household-letter-{request.idempotency_key[:8]}.pdf"
        out.write_bytes(pdf)
        print(f"rendered household letter: {out}")
        if me == SUSPECT and EXAMPLE.parent.is_dir():  # the one addressed from the BRP
            shutil.copyfile(out, EXAMPLE)
    # Apart from name and address, both letters say the same: the text depends on no role.
    body = {me: text.split(f"Beste {me},")[1].replace(me, "X") for me, text in texts.items()}
    assert body[VICTIM] == body[SUSPECT]


async def test_a_person_without_a_known_address_gets_no_letter_and_is_reported(
        store: Store, keys: KeyStore, caplog: pytest.LogCaptureFixture) -> None:
    """The suspect is known by BSN only and no BRP knows the BSN: no "Beste bewoner(s)" letter without an address,
    but an item in the region's inbox naming the region's person id (a task: inform them another way), a warning
    and a count per region, once however often the delivery is tried."""
    tenant, case_id = await record_case_and_decision(store, keys)
    letter = store.letter_for_case(tenant, case_id)
    assert letter is not None
    counter = metrics.HOUSEHOLD_LETTER_UNADDRESSED.labels(tenant, "no_address")
    before = counter._value.get()
    builder = LetterBuilder(store, keys)  # no BRP configured
    for _ in range(2):
        requests = builder.requests(letter, dt.date(2026, 1, 5))
        assert [r.idempotency_key for r in requests] == [letter_key(letter.key, "p1")]
    assert counter._value.get() == before + 1
    [warning] = [r for r in caplog.records if r.name == "notifier.letters" and r.levelname == "WARNING"]
    assert warning.person_id == "p4" and warning.reason == "no_address" and warning.case_id == case_id  # type: ignore[attr-defined]
    assert SUSPECT not in caplog.text and SUSPECT_BSN not in caplog.text
    [item] = [r for r in store.inbox_page(tenant) if r.delivery.kind is DeliveryKind.INBOX_LETTER_NOT_SENT]
    told = proto.inbox_item(item.delivery)
    assert (list(told.person_ids), told.letter_not_sent.reason, told.case_id) == (["p4"], "no_address", case_id)


def test_address_from_the_brp_before_the_melding() -> None:
    class Book:
        def address_of(self, bsn: str) -> Address | None:
            return Address("Brinklaan", "7", "1234AB", "Emmen") if bsn == SUSPECT_BSN else None

    with_bsn = Person("p", SUSPECT, "SUSPECT", bsn=SUSPECT_BSN, postcode="9999ZZ", house_number="1")
    assert address_for(with_bsn, Book()) == Address("Brinklaan", "7", "1234AB", "Emmen")
    unknown_bsn = dataclasses.replace(with_bsn, bsn="123456782")
    assert address_for(unknown_bsn, Book()) == Address("", "1", "9999ZZ", "", source="melding")
    assert address_for(dataclasses.replace(unknown_bsn, postcode=""), Book()) is None
    assert Address("Brinklaan", "7", "1234ab", "Emmen").lines() == ("Brinklaan 7", "1234 AB  EMMEN")
    assert Address("", "12", "8901AB", "", source="melding").lines() == ("Huisnummer 12", "8901 AB")


def test_addressees_are_the_adults_and_a_child_goes_to_its_parents() -> None:
    today = dt.date(2026, 1, 5)
    people = [Person("a", "Ayşe Yılmaz", "VICTIM", date_of_birth=dt.date(1985, 1, 1)),
              Person("b", "Łukasz Wiśniewski", "SUSPECT"),
              Person("c", "Mila Yılmaz", "CHILD"),
              Person("d", "Noor Yılmaz", "HOUSEHOLD_MEMBER", date_of_birth=dt.date(2008, 1, 6)),  # 17 until tomorrow
              Person("e", "Wim Getuige", "WITNESS")]
    to, unaddressed = addressees(people, today)
    assert to == [Addressee("a", "Ayşe Yılmaz", ("Mila Yılmaz", "Noor Yılmaz")),
                  Addressee("b", "Łukasz Wiśniewski", ("Mila Yılmaz", "Noor Yılmaz"))]
    assert unaddressed == []
    # Children without an adult directbetrokkene: nobody to write to, reported back for the region.
    assert addressees(people[2:], today) == ([], [(people[2], "no_adult"), (people[3], "no_adult")])
    # An adult known by BSN only has no name to write to: reported, not "Beste bewoner(s)".
    nameless = Person("f", "", "SUSPECT", bsn=SUSPECT_BSN)
    assert addressees([nameless, people[2]], today) == ([], [(nameless, "no_name")])
    assert addressees(people[3:], dt.date(2026, 1, 6))[0] == [Addressee("d", "Noor Yılmaz", ())]


async def test_professional_melder_who_may_be_named_is_named(store: Store, keys: KeyStore) -> None:
    tenant, case_id = await record_case_and_decision(store, keys, melder_name=PROFESSIONAL, may_be_named=True,
                                                     melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL)
    letter = store.letter_for_case(tenant, case_id)
    case = store.get_case(tenant, case_id)
    assert letter is not None and case is not None
    letters, missing = letters_for(case, radar_events.AssessmentCompleted.FromString(letter.body),
                                   letter.cause_event_id, keys.tenant_cipher(tenant), dt.date(2026, 1, 5))
    assert len(letters) == 1 and [m.person_id for m in missing] == ["p4"]  # no BRP here: the suspect has no address
    for one in letters:
        assert one.facts.melder_name == PROFESSIONAL and one.facts.melder_professional
        assert PROFESSIONAL in pdf_text(render_letter(one.facts))


async def household_letter_texts(store: Store, keys: KeyStore, tenant: str, case_id: str) -> list[str]:
    letter = store.letter_for_case(tenant, case_id)
    assert letter is not None
    cipher = keys.tenant_cipher(tenant)
    return [pdf_text(opened(cipher, r.pdf, r.idempotency_key, "letter_pdf"))
            for r in LetterBuilder(store, keys).requests(letter, dt.date(2026, 1, 5))]


async def test_the_letter_says_what_the_household_is_told_never_what_the_melder_is_told(
        store: Store, keys: KeyStore) -> None:
    feedback = common_pb2.MelderFeedback(safety_judgement="Oordeel voor de melder", shared_information="Gedeeld met "
                                         "de melder", melder_can_do="De melder let op", agreements=MELDER_AGREEMENTS)
    tenant, case_id = await record_case_and_decision(store, keys, feedback=feedback, household=common_pb2.HouseholdNotice(
        agreements="Moeder en vader komen dinsdag naar het gesprek.", contact_person="Marleen Bakker"))
    [text] = await household_letter_texts(store, keys, tenant, case_id)
    flat = " ".join(text.split())
    assert "Moeder en vader komen dinsdag naar het gesprek." in flat and "Uw contactpersoon is Marleen Bakker." in flat
    for melders in ("Oordeel voor de melder", "Gedeeld met", "De melder let op", MELDER_AGREEMENTS):
        assert melders not in flat


@pytest.mark.parametrize(("melder_type", "may_be_named"), [(common_pb2.MELDER_TYPE_BYSTANDER, False),
                                                           (common_pb2.MELDER_TYPE_PROFESSIONAL, False)])
async def test_a_melder_who_may_not_be_named_never_reaches_the_household(
        store: Store, keys: KeyStore, melder_type: int, may_be_named: bool, caplog: pytest.LogCaptureFixture) -> None:
    """A bystander without consent, or a professional with a withhold ground: the melder's name (whole, or the
    surname alone), phone and organisation typed into every free-text field of the decision never reach the
    letter. What is said to the melder is never opened for it; the household text is cleaned."""
    name, phone = "Ayşe Yılmaz", "06-12 34 56 78"
    everywhere = f"Afgesproken met {name} (tel. {phone}); Yılmaz belt dinsdag, 0612345678."
    feedback = common_pb2.MelderFeedback(safety_judgement=everywhere, shared_information=everywhere,
                                         melder_can_do=everywhere, agreements=everywhere)
    tenant, case_id = await record_case_and_decision(
        store, keys, melder_name=name, may_be_named=may_be_named, melder_type=melder_type, feedback=feedback,
        household=common_pb2.HouseholdNotice(agreements=everywhere, contact_person=f"{name} of haar collega"))
    counter = metrics.HOUSEHOLD_LETTER_MELDER_REMOVED.labels(tenant)
    before = counter._value.get()
    [text] = await household_letter_texts(store, keys, tenant, case_id)
    flat = " ".join(text.split())
    for secret in ("Ayşe", "Yılmaz", "0612345678", "06-12 34 56 78", "12 34 56"):
        assert secret not in flat, secret
    assert "Afgesproken met (weggelaten) (tel. (weggelaten)); (weggelaten) belt dinsdag, (weggelaten)." in flat
    assert "Uw contactpersoon belt u binnenkort." in flat  # the contact person named the melder: the default
    assert "Wie de melding deed, mogen wij u niet vertellen." in flat
    assert counter._value.get() == before + 1
    assert "Yılmaz" not in caplog.text


async def test_a_melder_who_may_be_named_is_not_removed(store: Store, keys: KeyStore) -> None:
    tenant, case_id = await record_case_and_decision(
        store, keys, melder_name=PROFESSIONAL, may_be_named=True, melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL,
        household=common_pb2.HouseholdNotice(agreements=f"U gaat samen met {PROFESSIONAL} naar de school."))
    [text] = await household_letter_texts(store, keys, tenant, case_id)
    assert f"U gaat samen met {PROFESSIONAL} naar de school." in " ".join(text.split())


def test_melder_terms_are_removed_as_whole_words_however_written() -> None:
    terms = melder_terms("Dr. Piet van der Berg", "Huisartsenpraktijk De Linde", "+31 6 1234 5678", "p.berg@linde.nl")
    text, removed = without_terms("Met PIET (p.berg@linde.nl, +31612345678 of 06-12 34 56 78) van "
                                  "huisartsenpraktijk de linde; de Bergweg, Pietje en 1612345678 blijven.", terms)
    assert removed and text == ("Met (weggelaten) ((weggelaten), (weggelaten) of (weggelaten)) van (weggelaten); de "
                                "Bergweg, Pietje en 1612345678 blijven.")
    assert without_terms("Niets over de melder.", terms) == ("Niets over de melder.", False)
    assert "van" not in terms and "der" not in terms  # particles alone identify nobody


# -- callback then letter ---------------------------------------------------------------------


async def test_letter_waits_for_the_callback_and_the_conversation_with_the_melder(store: Store,
                                                                                   keys: KeyStore) -> None:
    tenant, case_id = await record_case_and_decision(store, keys)
    rows = {d.kind: d for d in store.list_for_tenant(tenant, case_id=case_id)}
    callback, letter = rows[DeliveryKind.MELDER_CALLBACK], rows[DeliveryKind.HOUSEHOLD_LETTER]
    assert letter.after_key == callback.key
    assert letter.due_date == dt.date(2026, 1, 19)  # 4 weeks after recording on 22 December
    request = receivers_pb2.DeliverCallbackRequest.FromString(callback.body)
    assert request.agreements.key_id == f"{tenant}:1"  # passed through, still encrypted
    # The callback's four contents, passed through sealed; the region opens them with the decision's event id.
    feedback = common_pb2.MelderFeedback.FromString(
        opened(keys.tenant_cipher(tenant), request.feedback, request.feedback_event_id, "melder_feedback"))
    assert (feedback.safety_judgement, feedback.agreements) == ("Structureel onveilig.", MELDER_AGREEMENTS)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    kinds = [DeliveryKind.HOUSEHOLD_LETTER]
    assert [d.key for d in store.due(later, [tenant], any_tenant_kinds=kinds)] == [callback.key]
    claimed = store.claim(callback, later, dt.timedelta(seconds=10))
    assert claimed is not None and store.settle(claimed, Verdict(DeliveryState.DELIVERED), later)
    # Delivered is not spoken to: the letter waits until the region confirms the conversation with the melder.
    assert store.due(later, [tenant], any_tenant_kinds=kinds) == []
    store.confirm_melder_contact(tenant, case_id, "contacted", later, later)
    assert [d.key for d in store.due(later, [tenant], any_tenant_kinds=kinds)] == [letter.key]
    # The first confirmation counts.
    again = store.confirm_melder_contact(tenant, case_id, "not_reached", later + dt.timedelta(hours=1), later)
    assert (again.outcome, again.contacted_at) == ("contacted", later)


async def test_letter_waits_for_its_melding_received(store: Store, keys: KeyStore) -> None:
    handler = EventHandler(store, keys=keys)
    env = envelope_for(radar_events.AssessmentCompleted(), source="region/fryslan", tenant="fryslan")
    await handler(Event(env, completed("fryslan", "case-late", keys, env.id)))
    rows = {d.kind: d for d in store.list_for_tenant("fryslan")}
    letter = rows[DeliveryKind.HOUSEHOLD_LETTER]
    assert letter.due_date is None  # unknown until the recording moment is known
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    claimed = store.claim(rows[DeliveryKind.MELDER_CALLBACK], later, dt.timedelta(seconds=10))
    assert claimed is not None and store.settle(claimed, Verdict(DeliveryState.DELIVERED), later)
    kinds = [DeliveryKind.HOUSEHOLD_LETTER]
    assert store.due(later, ["fryslan"], any_tenant_kinds=kinds) == []
    intake_env = envelope_for(intake_events.MeldingReceived(), source="intake/fryslan", tenant="fryslan")
    await handler(Event(intake_env, melding("fryslan", "case-late", keys, intake_env.id, melder_name=BYSTANDER,
                                            may_be_named=False)))
    store.confirm_melder_contact("fryslan", "case-late", "contacted", later, later)
    assert [d.key for d in store.due(later, ["fryslan"], any_tenant_kinds=kinds)] == [letter.key]
    moved = store.get(letter.key)
    assert moved is not None and moved.due_date == dt.date(2026, 1, 19)


# -- 4-week notice, postponement, overdue ------------------------------------------------------


def test_letter_due_is_four_calendar_weeks_after_recording_plus_postponements() -> None:
    assert letter_due_date(dt.date(2025, 12, 22)) == dt.date(2026, 1, 19)
    assert letter_due_date(dt.date(2025, 12, 22), 2) == dt.date(2026, 2, 2)
    check_postponement(2, "informing now endangers the onderzoek")
    with pytest.raises(InvalidPostponement):
        check_postponement(3, "too long")
    with pytest.raises(InvalidPostponement):
        check_postponement(1, "  ")


class _Context:
    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None

    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.code = code
        raise grpc.RpcError(details)

    async def abort_with_status(self, status: grpc.Status) -> None:
        # How refusals naming a field end (vtkit.grpcerrors: the message plus a google.rpc.BadRequest trailer).
        await self.abort(status.code, status.details)


async def test_one_recorded_postponement_moves_the_due_date(store: Store, keys: KeyStore) -> None:
    tenant, case_id = await record_case_and_decision(store, keys)
    api = NotifierApi(store)
    token = auth._caller.set(auth.Caller(tenant=tenant, role="region"))  # type: ignore[call-arg]
    try:
        reply = await api.PostponeLetter(notifier_service_pb2.PostponeLetterRequest(
            case_id=case_id, reason="informing now endangers the onderzoek", weeks=2), _Context())  # type: ignore[arg-type]
        assert (reply.latest_due.year, reply.latest_due.month, reply.latest_due.day) == (2026, 2, 2)
        assert reply.postponements == 1
        for request, code in [(notifier_service_pb2.PostponeLetterRequest(case_id=case_id, reason="x", weeks=3),
                               grpc.StatusCode.INVALID_ARGUMENT),
                              (notifier_service_pb2.PostponeLetterRequest(case_id=case_id, reason="", weeks=1),
                               grpc.StatusCode.INVALID_ARGUMENT),
                              (notifier_service_pb2.PostponeLetterRequest(case_id="other", reason="x", weeks=1),
                               grpc.StatusCode.NOT_FOUND)]:
            context = _Context()
            with pytest.raises(grpc.RpcError):
                await api.PostponeLetter(request, context)  # type: ignore[arg-type]
            assert context.code == code
    finally:
        auth._caller.reset(token)
    token = auth._caller.set(auth.Caller(tenant="groningen", role="region"))  # type: ignore[call-arg]
    try:
        context = _Context()
        with pytest.raises(grpc.RpcError):
            await api.PostponeLetter(notifier_service_pb2.PostponeLetterRequest(case_id=case_id, reason="x", weeks=1),
                                     context)  # type: ignore[arg-type]
        assert context.code == grpc.StatusCode.NOT_FOUND
    finally:
        auth._caller.reset(token)
    [recorded] = store.postponements(tenant, case_id)
    assert (recorded.weeks, recorded.reason) == (2, "informing now endangers the onderzoek")
    assert (recorded.due_before, recorded.due_after) == (dt.date(2026, 1, 19), dt.date(2026, 2, 2))
    letter = store.letter_for_case(tenant, case_id)
    assert letter is not None and letter.due_date == dt.date(2026, 2, 2)
    # The letter is held while postponed, but never past the start of its new due date (here long gone).
    assert letter.deliver_after <= dt.datetime.now(dt.UTC)
    # Past the new due date it is overdue: reported once per due date.
    assert [d.key for d in store.newly_overdue(dt.date(2026, 2, 3))] == [letter.key]
    assert store.newly_overdue(dt.date(2026, 2, 2)) == []
    now = dt.datetime.now(dt.UTC)
    assert store.mark_overdue(letter, now) and not store.mark_overdue(letter, now)
    assert store.newly_overdue(dt.date(2026, 2, 3)) == []
    assert [e.event for e in store.unsent()][-1] == "overdue"


# -- verwijsindex match notices ----------------------------------------------------------------


async def test_signal_match_notifies_each_registrant_with_only_the_others(store: Store, keys: KeyStore) -> None:
    cipher = keys.field_cipher(VERWIJSINDEX)
    msg = vi_events.SignalMatch(match_id="m-1", kind=vi_events.MATCH_KIND_CLIENT, youth_pseudonym="y",
                                municipality_code="GM0080")
    env = envelope_for(msg, source="verwijsindex")
    people = {"r1": "Ria School", "r2": "Rob Wijkteam", "r3": "Roos GGD"}
    for rid, name in people.items():
        plain = vi_service.Registrant(registrant_id=rid, name=name, phone="010-1234567").SerializeToString()
        msg.registrants.add(registrant_id=rid, contact=sealed(cipher, plain, env.id, f"registrant_contact/{rid}"))
    handler = EventHandler(store, keys=keys)
    await handler(Event(env, msg))
    await handler(Event(env, msg))  # redelivered: nothing new
    rows = store.list_for_tenant(VERWIJSINDEX)
    assert len(rows) == 4 and {d.kind for d in rows} == {DeliveryKind.VERWIJSINDEX_MATCH_NOTICE}
    for d in rows:
        request = receivers_pb2.NotifyRequest.FromString(d.body)
        assert d.key == delivery_key(f"{env.id}/{request.recipient_id}", DeliveryKind.VERWIJSINDEX_MATCH_NOTICE)
        notice = receivers_pb2.ProfessionalNotice.FromString(
            opened(cipher, request.body, d.key, f"notice/{request.recipient_id}"))
        names = {c.name for c in notice.others}
        if request.recipient_id.startswith("regievoerder:"):
            assert names == set(people.values())
        else:
            assert names == {n for r, n in people.items() if r != request.recipient_id}
        assert b"Ria School" not in d.body  # stored encrypted



async def test_youth_relocated_notifies_each_registrant_and_the_new_regievoerder_once(store: Store,
                                                                                     keys: KeyStore) -> None:
    cipher = keys.field_cipher(VERWIJSINDEX)
    msg = vi_events.YouthRelocated(notice_id="n-1", youth_pseudonym="bsn:123456782", from_municipality_code="GM0363",
                                   to_municipality_code="GM0344", regievoerder_id="regievoerder:GM0344")
    env = envelope_for(msg, source="verwijsindex")
    people = {"r1": "Ria School", "r2": "Rob Wijkteam"}
    for rid, name in people.items():
        plain = vi_service.Registrant(registrant_id=rid, name=name, phone="010-1234567").SerializeToString()
        msg.registrants.add(registrant_id=rid, contact=sealed(cipher, plain, env.id, f"registrant_contact/{rid}"))
    handler = EventHandler(store, keys=keys)
    await handler(Event(env, msg))
    await handler(Event(env, msg))  # redelivered: nothing new
    rows = store.list_for_tenant(VERWIJSINDEX)
    assert len(rows) == 3 and {d.kind for d in rows} == {DeliveryKind.VERWIJSINDEX_RELOCATION_NOTICE}
    recipients = set()
    for d in rows:
        request = receivers_pb2.NotifyRequest.FromString(d.body)
        recipients.add(request.recipient_id)
        assert request.subject == "verwijsindex_relocation" and d.case_id == "n-1"
        assert d.key == delivery_key(f"{env.id}/{request.recipient_id}", DeliveryKind.VERWIJSINDEX_RELOCATION_NOTICE)
        plain = opened(cipher, request.body, d.key, f"notice/{request.recipient_id}")
        notice = receivers_pb2.ProfessionalNotice.FromString(plain)
        assert (notice.from_municipality_code, notice.to_municipality_code) == ("GM0363", "GM0344")
        names = {c.name for c in notice.others}
        if request.recipient_id == "regievoerder:GM0344":
            assert names == set(people.values())
        else:
            assert names == {n for r, n in people.items() if r != request.recipient_id}
        assert b"123456782" not in plain and b"123456782" not in d.body  # never the BSN (pseudonym)
        assert b"Ria School" not in d.body  # stored encrypted
    assert recipients == {"r1", "r2", "regievoerder:GM0344"}

# -- re-drive ----------------------------------------------------------------------------------


async def test_redrive_lists_and_resets_failed_deliveries(store: Store, keys: KeyStore, tmp_path: pathlib.Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    tenant, case_id = await record_case_and_decision(store, keys)
    callback = next(d for d in store.list_for_tenant(tenant) if d.kind is DeliveryKind.MELDER_CALLBACK)
    now = dt.datetime.now(dt.UTC)
    claimed = store.claim(callback, now, dt.timedelta(seconds=5))
    assert claimed is not None
    store.settle(claimed, Verdict(DeliveryState.FAILED, reason="INVALID_ARGUMENT: bad", permanent=True), now)
    monkeypatch.setenv("VT_DATA_DIR", str(tmp_path))
    assert redrive.main(["--list"]) == 0
    listing = capsys.readouterr().out
    assert callback.key in listing and "INVALID_ARGUMENT" in listing and BYSTANDER not in listing
    assert redrive.main(["--all"]) == 0
    assert "re-driven: 1" in capsys.readouterr().out
    again = store.get(callback.key)
    assert again is not None and again.state is DeliveryState.PENDING and again.attempts == 0
    assert redrive.main([callback.key]) == 1  # no longer failed
