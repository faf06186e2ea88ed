"""A decision through every real process (intake, radar, notifier, the fake case system and letter gateway, the
embedded broker): what the melder is told reaches the region's case system as the callback's four contents; the
case system confirms the conversation with the melder (as its worker would); only then do the household letters
go, one per adult, rendered from the household text only. The melder, a professional with a withhold ground, is
named in every free-text field of the melding and of the decision, and appears in no letter."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import subprocess
from typing import Any

from devstack.scenario import submit_melding
from devstack.stack import Stack
from notifier.letters import opened
from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2 as ipb
from vt.notifier.v1 import receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vt.radar.v1 import radar_service_pb2, radar_service_pb2_grpc
from vtkit.channels import Org, OrgStubs
from vtkit.keystore import KeyStore
from vttest import eventually

A = "utrecht"
MELDER, ORGANISATION, PHONE = "Paula Verbeek-Smits", "Praktijk Zonnehoek", "030-7654321"
MENTION = f"{MELDER} ({ORGANISATION}, {PHONE}) en Verbeek-Smits"
SECRETS = ("Paula", "Verbeek", "Smits", "Zonnehoek", "7654321", "765 4321")


def rows(path: pathlib.Path, method: str) -> list[dict[str, Any]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [r for r in map(json.loads, filter(None, lines)) if r["method"] == method and r["status"] == "OK"]


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


def melding() -> ipb.SubmitMeldingRequest:
    at_home = {"postcode": "3511AB", "house_number": "8"}
    return ipb.SubmitMeldingRequest(idempotency_key=f"e2e-{dt.datetime.now().timestamp()}", melding=ipb.Melding(
        melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL,
        melder=ipb.Professional(name=MELDER, role="huisarts", organisation=ORGANISATION, phone=PHONE,
                                email="p.verbeek@zonnehoek.example"),
        disclosure=ipb.Disclosure(withhold_ground=ipb.DISCLOSURE_GROUND_ENDANGERS_INVOLVED),
        situation=ipb.SITUATION_VT_TAKES_OVER,
        directbetrokkenen=[
            ipb.Directbetrokkene(role=common_pb2.PERSON_ROLE_VICTIM, surname="de Wit", first_names="Sanne",
                                 date_of_birth=common_pb2.Date(year=1991, month=4, day=2), **at_home),
            ipb.Directbetrokkene(role=common_pb2.PERSON_ROLE_SUSPECT, surname="de Wit", first_names="Joost",
                                 date_of_birth=common_pb2.Date(year=1989, month=8, day=9), **at_home),
            ipb.Directbetrokkene(role=common_pb2.PERSON_ROLE_CHILD, surname="de Wit", first_names="Lotte",
                                 date_of_birth=common_pb2.Date(year=2019, month=1, day=5), **at_home)],
        household_label=f"gezin de Wit, gemeld door {MENTION}",
        nature=[common_pb2.CONCERN_NATURE_PARTNER_VIOLENCE],
        afwegingskader=ipb.AfwegingskaderAnswers(suspicion=True, acute_or_structural_unsafety=True),
        narrative=f"{MENTION} zag letsel bij moeder op het spreekuur."))


async def test_the_melder_is_told_first_and_the_household_never_learns_who_told(kafka: str,
                                                                                 tmp_path: pathlib.Path) -> None:
    stack = Stack(kafka, tmp_path / "var", tenants=(A,))
    stack.plan()
    data = tmp_path / "var" / "data"
    try:
        await stack.start()
        keys = KeyStore(stack.key_dir)
        reply = await submit_melding(stack.processes[f"intake-{A}"].address, Org(keys, A), melding())
        case_id = reply.contact_id
        decision = radar_service_pb2.RecordDecisionRequest(
            case_id=case_id, judgement=radar_events.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
            decision=radar_events.DECISION_ONDERZOEK, responsible_for_safety=f"VT Utrecht met {MENTION}",
            agreements=f"Terugbellen met {MENTION}",
            melder_feedback=common_pb2.MelderFeedback(
                safety_judgement=f"Structureel onveilig; besproken met {MENTION}",
                shared_information=f"Wij starten een onderzoek, {MENTION}", melder_can_do=f"{MENTION} let op letsel",
                agreements=f"Wij bellen {MENTION} over twee weken"),
            household=common_pb2.HouseholdNotice(agreements=f"U praat met ons over de veiligheid; {MENTION} ook.",
                                                 contact_person=f"{MELDER}"))
        async with OrgStubs(stack.processes["radar"].address, keys, radar_service_pb2_grpc.RadarServiceStub) as radar:
            decided = await eventually(lambda: radar(A).RecordDecision(decision), truthy=False)  # NOT_FOUND until radar has it

        regional = data / f"regional-system-{A}.jsonl"
        letters_sent = data / "letter-gateway.jsonl"

        async def two_letters() -> list[dict[str, Any]]:
            sent = rows(letters_sent, "SendLetter")
            assert len(sent) >= 2, "waiting for the household letters"
            return sent
        sent = await eventually(two_letters, timeout=120, truthy=False)
        [callback] = [r for r in rows(regional, "DeliverCallback") if r["case_id"] == case_id and not r["due_date"]]
        [confirmed] = [r for r in rows(regional, "ConfirmMelderContacted") if r["case_id"] == case_id]
        # The callback with its four contents, then the conversation, then (only then) the letters.
        assert callback["has_feedback"]
        assert callback["received"] < confirmed["received"] < min(r["received"] for r in sent)
        cipher = keys.tenant_cipher(A)
        texts = {}
        for file in sorted((data / "letters").glob("*.pb")):
            request = receivers_pb2.SendLetterRequest.FromString(file.read_bytes())
            assert request.case_id == case_id
            addressee = json.loads(opened(cipher, request.addressee, request.idempotency_key, "letter_addressee"))
            texts[addressee["name"]] = pdf_text(opened(cipher, request.pdf, request.idempotency_key, "letter_pdf"))
        assert sorted(texts) == ["Joost de Wit", "Sanne de Wit"]  # one per adult; the child is named in both
        for name, text in texts.items():
            assert f"Beste {name}," in text and "Lotte de Wit" in text
            assert "U praat met ons over de veiligheid; (weggelaten)" in text
            assert "Wie de melding deed, mogen wij u niet vertellen." in text
            for secret in SECRETS:
                assert secret not in text, (name, secret)
        assert decided.event_id
    finally:
        stack.stop()
