"""First the melder, then the household (docs/domain.md section 4), against the real notifier process: the callback
content reaches the region and only then the household letter (a PDF, encrypted under the region's key) reaches the
letter gateway; a bystander melder without consent is not in it; one recorded postponement of the 4-week notice;
verwijsindex matches reach each registrant with only the others' contact details; a relocation notice reaches each
registrant and the new regievoerder once.

All fakes are real gRPC servers; MeldingReceived / AssessmentCompleted / SignalMatch are published
on the session broker exactly as intake, radar and verwijsindex publish them (YouthRelocated too)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import pathlib
import subprocess
import uuid
from collections.abc import Callable

import grpc
import pytest
from notifier.letters import opened, sealed
from simulators.brp import BrpAddress, BrpRegister
from simulators.letter_gateway import FakeLetterGateway
from simulators.professional import FakeProfessionalEndpoint
from simulators.regional_system import FakeRegionalSystem
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.notifier.v1 import notifier_service_pb2, notifier_service_pb2_grpc, receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.verwijsindex.v1 import events_pb2 as vi_events
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as vi_service
from vtkit import topics
from vtkit.calendar import AMSTERDAM
from vtkit.channels import OrgStubs
from vtkit.envelope import envelope_for
from vtkit.kafka import Publisher
from vtkit.keystore import KeyStore
from vttest import eventually
from vttest.notifier import DeliveryEvents, Notifier

BYSTANDER = "Bea Buurvrouw"
# Known to the melding by BSN only: the BRP simulator's register has the first one's address, not the second's.
IN_BRP = ("p2", "Łukasz", "Wiśniewski", "111222333")
NOT_IN_BRP = ("p3", "Ayşe", "Yılmaz", "123456782")
RECEIVED = dt.datetime(2025, 12, 22, 10, 30, tzinfo=AMSTERDAM)


def pdf_text(pdf: bytes) -> str:
    """The letter as a reader sees it (poppler's pdftotext): the embedded font stores glyph ids, not text."""
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode("utf-8")


async def publish_case(publisher: Publisher, keys: KeyStore, tenant: str, case_id: str) -> None:
    """intake's MeldingReceived from a bystander who did not consent to being named."""
    cipher = keys.tenant_cipher(tenant)
    msg = intake_events.MeldingReceived(tenant_id=tenant, contact_id=case_id, reference=case_id[:13],
                                        melder_type=common_pb2.MELDER_TYPE_BYSTANDER, melder_may_be_named=False)
    env = envelope_for(msg, source=f"intake/{tenant}", tenant=tenant)
    msg.received_at.FromDatetime(RECEIVED.astimezone(dt.UTC))
    msg.melder.CopyFrom(sealed(cipher, json.dumps({"name": BYSTANDER}).encode(), env.id, "melder"))
    details = {"first_names": "Anna", "surname": "de Vries", "postcode": "8901AB", "house_number": "12"}
    msg.persons.add(person_id="p1", role=common_pb2.PERSON_ROLE_VICTIM,
                    details=sealed(cipher, json.dumps(details).encode(), env.id, "person:p1"))
    for person_id, first, last, bsn in (IN_BRP, NOT_IN_BRP):
        details = {"first_names": first, "surname": last, "bsn": bsn}
        msg.persons.add(person_id=person_id, role=common_pb2.PERSON_ROLE_SUSPECT,
                        details=sealed(cipher, json.dumps(details).encode(), env.id, f"person:{person_id}"))
    await publisher.publish(topics.intake(tenant), case_id, msg, env)


# What radar's RecordDecision seals for the household; the worker slipped the protected melder's name in.
HOUSEHOLD_TEXT = f"Wekelijks contact met de gezinscoach. {BYSTANDER} blijft buiten beeld."
MELDER_TEXT = "De melder let op de kinderen bij het ophalen van school."


async def publish_decision(publisher: Publisher, keys: KeyStore, tenant: str, case_id: str) -> None:
    msg = radar_events.AssessmentCompleted(tenant_id=tenant, case_id=case_id, decision=radar_events.DECISION_ONDERZOEK)
    env = envelope_for(msg, source=f"radar/{tenant}", tenant=tenant)
    msg.decided_at.FromDatetime(dt.datetime.now(dt.UTC))
    cipher = keys.tenant_cipher(tenant)
    msg.agreements.CopyFrom(sealed(cipher, MELDER_TEXT.encode(), env.id, "agreements"))
    feedback = common_pb2.MelderFeedback(safety_judgement="Er is zorg om structurele onveiligheid.",
                                         shared_information="Wij doen onderzoek.", melder_can_do=MELDER_TEXT,
                                         agreements="Wij bellen u over twee weken.")
    msg.melder_feedback.CopyFrom(sealed(cipher, feedback.SerializeToString(), env.id, "melder_feedback"))
    msg.household.CopyFrom(sealed(cipher, common_pb2.HouseholdNotice(agreements=HOUSEHOLD_TEXT).SerializeToString(),
                                  env.id, "household"))
    await publisher.publish(topics.NATIONAL_ASSESSMENTS, case_id, msg, env)


@pytest.mark.parametrize("fake", [{"fail_first": 2}], indirect=True)
async def test_callback_then_letter_and_a_recorded_postponement(
        publisher: Publisher, keys: KeyStore, fake: FakeRegionalSystem, letter_gateway: FakeLetterGateway,
        make_notifier: Callable[..., Notifier], delivery_events: DeliveryEvents, tmp_path: pathlib.Path) -> None:
    tenant, case_id = "fryslan", f"case-{uuid.uuid4()}"
    # Another region without a regional endpoint: its callback stays pending, so its letter waits.
    held_tenant, held_case = "zeeland", f"case-{uuid.uuid4()}"
    register = tmp_path / "brp-register.json"
    BrpRegister(register).register(IN_BRP[3], BrpAddress("Brinklaan", "7", "9711AB", "Groningen"))
    notifier = make_notifier({tenant: fake.address}, NOTIFIER_LETTER_GATEWAY=letter_gateway.address,
                             NOTIFIER_BRP_REGISTER=str(register))
    proc = await notifier.start()
    for t, c in ((tenant, case_id), (held_tenant, held_case)):
        await publish_case(publisher, keys, t, c)
        await publish_decision(publisher, keys, t, c)
    stubs = OrgStubs(proc.address, keys, notifier_service_pb2_grpc.NotifierServiceStub)
    auth = stubs(tenant)

    # The callback reaches the region (after two refusals, UNAVAILABLE) with the four contents still sealed...
    [callback] = await eventually(lambda: fake.distinct(case_id, "DeliverCallback"), "the decision's callback")
    assert [c["status"] for c in fake.attempts_of(case_id, "DeliverCallback")] == ["UNAVAILABLE", "UNAVAILABLE", "OK"]
    assert callback["has_feedback"] and callback["agreements_key_id"] == f"{tenant}:1"
    [request] = [r for r in fake.callbacks if r.case_id == case_id]
    feedback = common_pb2.MelderFeedback.FromString(opened(keys.tenant_cipher(tenant), request.feedback,
                                                           request.feedback_event_id, "melder_feedback"))
    assert (feedback.melder_can_do, feedback.agreements) == (MELDER_TEXT, "Wij bellen u over twee weken.")

    # ... but delivered is not spoken to: the letter waits for the region's word that the melder was called.
    async def letter_waiting() -> bool:
        reply = await auth.ListDeliveries(notifier_service_pb2.ListDeliveriesRequest(case_id=case_id))
        return any(d.kind == 2 and d.waiting_for_melder_contact for d in reply.deliveries)
    assert await letter_waiting()
    confirmed_at = dt.datetime.now(dt.UTC)
    reply = await auth.ConfirmMelderContacted(notifier_service_pb2.ConfirmMelderContactedRequest(
        case_id=case_id, outcome=notifier_service_pb2.MELDER_CONTACT_OUTCOME_CONTACTED))
    assert reply.letter_released and reply.outcome == notifier_service_pb2.MELDER_CONTACT_OUTCOME_CONTACTED

    def two_letters() -> list[dict[str, object]]:
        got = letter_gateway.distinct(case_id)
        return got if len(got) >= 2 else []

    letters = await eventually(two_letters, "a household letter to each adult with an address")
    # One letter each for the victim (the melding's address) and the person the BRP knows; none for the person
    # known by a BSN the BRP does not know. (The region's inbox also hears that the letter, of a melding received
    # in 2025, is overdue: other calls, not counted here.) None went before the confirmation.
    assert len(letters) == 2 and not await letter_waiting()
    assert all(dt.datetime.fromisoformat(str(letter["received"])) > confirmed_at for letter in letters)
    cipher = keys.tenant_cipher(tenant)
    seen = {}
    for request in (r for r in letter_gateway.letters if r.case_id == case_id):
        assert request.pdf.key_id == f"{tenant}:1"
        pdf = opened(cipher, request.pdf, request.idempotency_key, "letter_pdf")
        addressee = json.loads(opened(cipher, request.addressee, request.idempotency_key, "letter_addressee"))
        out = tmp_path / f"household-letter-{request.idempotency_key[:8]}.pdf"
        out.write_bytes(pdf)
        print(f"household letter as the gateway received it: {out}")
        seen[addressee["name"]] = (pdf_text(pdf), addressee)
    assert sorted(seen) == ["Anna de Vries", "Łukasz Wiśniewski"]
    victim, _ = seen["Anna de Vries"]
    other, address = seen["Łukasz Wiśniewski"]
    assert (address["street"], address["city"], address["address_source"]) == ("Brinklaan", "Groningen", "brp")
    assert "Beste Anna de Vries," in victim and "Wiśniewski" not in victim and BYSTANDER not in victim
    assert "Beste Łukasz Wiśniewski," in other and "Brinklaan 7" in other and "Anna" not in other
    assert not any("Yılmaz" in text for text, _ in seen.values())
    # The household reads the household text, with the protected melder's name taken out, and nothing the melder
    # was told.
    assert "Wekelijks contact met de gezinscoach. (weggelaten) blijft buiten beeld." in " ".join(victim.split())
    assert not any(MELDER_TEXT in " ".join(text.split()) for text, _ in seen.values())
    log = proc.log_text()
    assert "gets no household letter" in log and '"person_id": "p3"' in log and "Yılmaz" not in log
    assert "named the melder" in log and BYSTANDER not in log
    # ... and the region's case system is told, by its own person id, to inform that person another way.
    [task] = await eventually(lambda: fake.inbox(case_id, "LETTER_NOT_SENT"), "the letter-not-sent item")
    assert task["person_ids"] == ["p3"]

    async with stubs as stub:
        auth = stub(held_tenant)

        async def letter_row() -> list[notifier_service_pb2.DeliverySummary]:
            reply = await auth.ListDeliveries(notifier_service_pb2.ListDeliveriesRequest(case_id=held_case))
            return [d for d in reply.deliveries if d.kind == 2]

        deadline = asyncio.get_running_loop().time() + 30
        while not await letter_row():
            assert asyncio.get_running_loop().time() < deadline, "letter never listed"
            await asyncio.sleep(0.2)
        reply = await auth.PostponeLetter(notifier_service_pb2.PostponeLetterRequest(
            case_id=held_case, reason="informing now would endanger the onderzoek", weeks=2))
        assert reply.postponements == 1
        assert (reply.latest_due.year, reply.latest_due.month, reply.latest_due.day) == (2026, 2, 2)
        with pytest.raises(grpc.aio.AioRpcError) as too_long:
            await auth.PostponeLetter(notifier_service_pb2.PostponeLetterRequest(
                case_id=held_case, reason="r", weeks=3))
        assert too_long.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        with pytest.raises(grpc.aio.AioRpcError) as other:
            await stub(tenant).PostponeLetter(notifier_service_pb2.PostponeLetterRequest(
                case_id=held_case, reason="r", weeks=1))
        assert other.value.code() == grpc.StatusCode.NOT_FOUND
        [row] = await letter_row()
        assert row.overdue and (row.due_date.year, row.due_date.month, row.due_date.day) == (2026, 2, 2)

    def overdue_letter(seen: list) -> list:  # type: ignore[type-arg]
        return [m for t, n, m, _ in seen if n == "DeliveryOverdue" and m.case_id == held_case and m.kind == 2
                and m.postponements == 1]
    await delivery_events.wait_for(overdue_letter, "DeliveryOverdue of the postponed letter")
    assert letter_gateway.distinct(held_case) == []


async def test_signal_match_reaches_each_registrant_with_only_the_others(
        publisher: Publisher, keys: KeyStore, professional: FakeProfessionalEndpoint,
        make_notifier: Callable[..., Notifier]) -> None:
    await make_notifier({}, NOTIFIER_PROFESSIONAL_ENDPOINT=professional.address).start()
    cipher = keys.field_cipher("verwijsindex")
    match_id = f"match-{uuid.uuid4()}"
    msg = vi_events.SignalMatch(match_id=match_id, kind=vi_events.MATCH_KIND_CLIENT, youth_pseudonym="y",
                                municipality_code="GM0080")
    env = envelope_for(msg, source="verwijsindex")
    people = {f"{match_id}-r1": "Ria School", f"{match_id}-r2": "Rob Wijkteam"}
    for rid, name in people.items():
        plain = vi_service.Registrant(registrant_id=rid, name=name, phone="010-1234567").SerializeToString()
        msg.registrants.add(registrant_id=rid, contact=sealed(cipher, plain, env.id, f"registrant_contact/{rid}"))
    await publisher.publish(topics.NATIONAL_VERWIJSINDEX, "y", msg, env)

    recipients = [*people, "regievoerder:GM0080"]
    await eventually(lambda: all(professional.to(r) for r in recipients), "a notice to every registrant")
    for rid in people:
        [notice] = professional.to(rid)
        body = receivers_pb2.ProfessionalNotice.FromString(
            opened(cipher, notice.body, notice.idempotency_key, f"notice/{rid}"))
        assert [c.name for c in body.others] == [n for r, n in people.items() if r != rid]
        assert body.match_id == match_id


async def test_youth_relocated_reaches_each_registrant_and_the_new_regievoerder_once(
        publisher: Publisher, keys: KeyStore, professional: FakeProfessionalEndpoint,
        make_notifier: Callable[..., Notifier]) -> None:
    await make_notifier({}, NOTIFIER_PROFESSIONAL_ENDPOINT=professional.address).start()
    cipher = keys.field_cipher("verwijsindex")
    notice_id = f"relocation-{uuid.uuid4()}"
    to_code = f"GM{uuid.uuid4().int % 10000:04d}"
    msg = vi_events.YouthRelocated(notice_id=notice_id, youth_pseudonym="bsn:123456782",
                                   from_municipality_code="GM0363", to_municipality_code=to_code,
                                   regievoerder_id=f"regievoerder:{to_code}")
    env = envelope_for(msg, source="verwijsindex")
    people = {f"{notice_id}-r1": "Ria School", f"{notice_id}-r2": "Rob Wijkteam"}
    for rid, name in people.items():
        plain = vi_service.Registrant(registrant_id=rid, name=name, phone="010-1234567").SerializeToString()
        msg.registrants.add(registrant_id=rid, contact=sealed(cipher, plain, env.id, f"registrant_contact/{rid}"))
    await publisher.publish(topics.NATIONAL_VERWIJSINDEX, msg.youth_pseudonym, msg, env)
    await publisher.publish(topics.NATIONAL_VERWIJSINDEX, msg.youth_pseudonym, msg, env)  # redelivered

    recipients = [*people, f"regievoerder:{to_code}"]
    await eventually(lambda: all(professional.to(r) for r in recipients), "a relocation notice to every recipient")
    await asyncio.sleep(1.0)  # room for a (wrong) second notice from the redelivered event
    for rid in recipients:
        [notice] = professional.to(rid)
        assert notice.subject == "verwijsindex_relocation"
        plain = opened(cipher, notice.body, notice.idempotency_key, f"notice/{rid}")
        body = receivers_pb2.ProfessionalNotice.FromString(plain)
        assert (body.match_id, body.to_municipality_code) == (notice_id, to_code)
        others = people if rid.startswith("regievoerder:") else {r: n for r, n in people.items() if r != rid}
        assert [c.name for c in body.others] == list(others.values())
        assert b"123456782" not in plain
