"""The outgoing notices of a decision (docs/architecture.md "Outgoing notices"): what each says, to whom it goes, and
that only its receiver opens it. The RvdK request is sealed to the RvdK; the municipality notice says which region
asked the Raad about which child living there, never why; the hand-over names what is handed over and who answers for
safety; the professional of an ambtshalve melding hears of the melding and then of the decision and what it means."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import pathlib

import pytest
from notifier.adapters.proto import opened, sealed
from notifier.consumer import EventHandler
from notifier.domain import Delivery, DeliveryKind, delivery_key
from notifier.domain.letter import Address, Person
from notifier.domain.notices import (
    NoticeUndeliverable,
    by_municipality,
    decision_consequences,
    municipality_text,
)
from notifier.notices import NoticeBuilder
from notifier.store import Store
from vt.common.v1 import common_pb2
from vt.intake.v1 import events_pb2 as intake_events
from vt.intake.v1 import intake_service_pb2
from vt.notifier.v1 import receivers_pb2
from vt.radar.v1 import events_pb2 as radar_events
from vtkit.calendar import AMSTERDAM
from vtkit.crypto import DecryptionError, Sealed
from vtkit.envelope import Event, envelope_for
from vtkit.keystore import KeyStore, init_keys

TENANT = "fryslan"
TODAY = dt.date(2026, 1, 5)
CHILD_BSN, MOTHER_BSN = "111222333", "123456782"
REASON = "Ouders weigeren elke hulp; Sem verzuimt al weken van school."
PROFESSIONAL = {"name": "Petra de Vries", "organisation": "Basisschool De Regenboog", "phone": "0201234567"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    return init_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture()
def store(tmp_path: pathlib.Path) -> Store:
    return Store(tmp_path / "notifier.sqlite3")


class Brp:
    """The BRP as the notifier asks it: the child lives in Leeuwarden (GM0080); the mother is unknown."""

    def address_of(self, bsn: str) -> Address | None:
        if bsn == CHILD_BSN:
            return Address("Dorpsstraat", "12", "8901AB", "Leeuwarden", municipality_code="GM0080")
        return None


def melding(case_id: str, event_id: str, keys: KeyStore, origin: int = intake_events.MELDING_ORIGIN_DIRECT,
            with_child: bool = True) -> intake_events.MeldingReceived:
    cipher = keys.tenant_cipher(TENANT)
    msg = intake_events.MeldingReceived(tenant_id=TENANT, contact_id=case_id, reference="VT-2026-0042", origin=origin,  # type: ignore[arg-type]
                                        melder_type=common_pb2.MELDER_TYPE_PROFESSIONAL, melder_may_be_named=True)
    msg.received_at.FromDatetime(dt.datetime(2025, 12, 22, 10, 30, tzinfo=AMSTERDAM))
    msg.melder.CopyFrom(sealed(cipher, json.dumps(PROFESSIONAL).encode(), event_id, "melder"))
    people = [("p1", common_pb2.PERSON_ROLE_VICTIM, {"first_names": "Anna", "surname": "de Vries", "bsn": MOTHER_BSN,
                                                    "date_of_birth": "1990-03-01"}),
              ("p3", common_pb2.PERSON_ROLE_WITNESS, {"first_names": "Wim", "surname": "Getuige"})]
    if with_child:
        people.append(("p2", common_pb2.PERSON_ROLE_CHILD, {"first_names": "Sem", "surname": "de Vries",
                                                           "bsn": CHILD_BSN, "date_of_birth": "2016-05-04"}))
    for person_id, role, details in people:
        msg.persons.add(person_id=person_id, role=role,  # type: ignore[arg-type]
                        details=sealed(cipher, json.dumps(details).encode(), event_id, f"person:{person_id}"))
    return msg


async def decided(store: Store, keys: KeyStore, decision: int, origin: int = intake_events.MELDING_ORIGIN_DIRECT,
                  with_child: bool = True, **fields: str) -> tuple[EventHandler, str, dict[DeliveryKind, Delivery]]:
    """A melding and its decision through the consumer; the deliveries of the case by kind."""
    handler = EventHandler(store, keys=keys)
    case_id = f"case-{decision}-{origin}-{with_child}"
    env = envelope_for(intake_events.MeldingReceived(), source=f"intake/{TENANT}", tenant=TENANT)
    await handler(Event(env, melding(case_id, env.id, keys, origin, with_child)))
    msg = radar_events.AssessmentCompleted(tenant_id=TENANT, case_id=case_id, decision=decision,  # type: ignore[arg-type]
                                           judgement=radar_events.SAFETY_JUDGEMENT_STRUCTURAL_UNSAFETY,
                                           responsible_for_safety="wijkteam Leeuwarden-Oost", **fields)
    done = envelope_for(msg, source=f"radar/{TENANT}", tenant=TENANT)
    msg.decided_at.FromDatetime(dt.datetime(2026, 1, 5, 11, tzinfo=dt.UTC))
    cipher = keys.tenant_cipher(TENANT)
    msg.agreements.CopyFrom(sealed(cipher, b"Wekelijks huisbezoek door het wijkteam.", done.id, "agreements"))
    if decision == radar_events.DECISION_RVDK_REQUEST:
        reason = common_pb2.RvdkRequestReason(ground=common_pb2.RVDK_REQUEST_GROUND_VOLUNTARY_HELP_INSUFFICIENT,
                                              explanation=REASON)
        msg.rvdk_reason.CopyFrom(sealed(cipher, reason.SerializeToString(), done.id, "rvdk_reason"))
    await handler(Event(done, msg))
    return handler, case_id, {d.kind: d for d in store.list_for_tenant(TENANT, case_id=case_id)}


def open_sealed(keys: KeyStore, request: receivers_pb2.NotifyRequest) -> bytes:
    s = request.sealed_body
    return keys.seal_opener("rvdk").open(Sealed(s.recipient, s.ephemeral_public_key, s.nonce, s.ciphertext))


def open_body(keys: KeyStore, request: receivers_pb2.NotifyRequest) -> bytes:
    return opened(keys.field_cipher("notifier"), request.body, request.idempotency_key,
                  f"notice/{request.recipient_id}")


# -- the rules -------------------------------------------------------------------------------------------------


def test_the_municipality_is_told_who_asked_about_which_child_and_nothing_more() -> None:
    sem = Person("p2", "Sem de Vries", "CHILD", bsn=CHILD_BSN)
    text = municipality_text("Veilig Thuis Fryslân", "0800-2000", dt.date(2026, 1, 5), [sem])
    assert text.startswith("Veilig Thuis Fryslân heeft op 5 januari 2026 de Raad voor de Kinderbescherming gevraagd")
    assert "Sem de Vries, wonend in uw gemeente" in text and "0800-2000" in text
    two = municipality_text("VT", "0800-2000", dt.date(2026, 1, 5), [sem, dataclasses.replace(sem, name="Lis de Vries")])
    assert "Sem de Vries en Lis de Vries, wonend" in two


def test_children_are_grouped_by_the_municipality_the_brp_has_them_in() -> None:
    sem = Person("p2", "Sem", "CHILD", bsn=CHILD_BSN)
    lis = Person("p5", "Lis", "CHILD", bsn=MOTHER_BSN)
    nobody = Person("p6", "Noor", "CHILD")
    places, unknown = by_municipality([sem, lis, nobody], Brp())
    assert places == {"GM0080": [sem]} and unknown == [lis, nobody]


def test_every_decision_tells_the_ambtshalve_professional_what_it_means() -> None:
    for name in radar_events.Decision.keys():
        if name != "DECISION_UNSPECIFIED":
            assert decision_consequences(name, "wijkteam Oost"), name
    assert "wijkteam Oost" in " ".join(decision_consequences("DECISION_OVERDRACHT", "wijkteam Oost"))


# -- built from the case, opened as the receiver would ------------------------------------------------------------


async def test_rvdk_request_is_sealed_to_the_rvdk_with_the_child_the_reason_and_the_region(
        store: Store, keys: KeyStore) -> None:
    _, case_id, rows = await decided(store, keys, radar_events.DECISION_RVDK_REQUEST, rvdk_request=True)  # type: ignore[arg-type]
    assert {DeliveryKind.RVDK_REQUEST_NOTICE, DeliveryKind.MUNICIPALITY_NOTICE} <= set(rows)
    rvdk = rows[DeliveryKind.RVDK_REQUEST_NOTICE]
    # The municipality hears of it only once the RvdK has the request.
    assert rows[DeliveryKind.MUNICIPALITY_NOTICE].after_key == rvdk.key
    assert REASON.encode() not in rvdk.body  # stored as it arrived: encrypted
    [request] = NoticeBuilder(store, keys, Brp()).requests(rvdk, TODAY)
    assert (request.recipient_id, request.subject, request.idempotency_key) == ("rvdk", "rvdk_request", rvdk.key)
    assert not request.HasField("body") and REASON.encode() not in request.SerializeToString()
    body = receivers_pb2.RvdkRequest.FromString(open_sealed(keys, request))
    assert [(c.name, c.bsn, c.date_of_birth.year) for c in body.children] == [("Sem de Vries", CHILD_BSN, 2016)]
    assert body.reason.explanation == REASON
    assert body.reason.ground == common_pb2.RVDK_REQUEST_GROUND_VOLUNTARY_HELP_INSUFFICIENT
    assert (body.region.name, body.region.phone, body.region.tenant_id) == ("Veilig Thuis Fryslân", "0800-2000", TENANT)
    assert body.reference == "VT-2026-0042" and body.case_id == case_id
    # Sealed: the radar key (or any other seal key) does not open it.
    s = request.sealed_body
    with pytest.raises(DecryptionError):
        keys.seal_opener("radar").open(Sealed("rvdk", s.ephemeral_public_key, s.nonce, s.ciphertext))


async def test_municipality_notice_goes_to_the_childs_municipality_without_the_reason(
        store: Store, keys: KeyStore) -> None:
    _, case_id, rows = await decided(store, keys, radar_events.DECISION_RVDK_REQUEST, rvdk_request=True)  # type: ignore[arg-type]
    [request] = NoticeBuilder(store, keys, Brp()).requests(rows[DeliveryKind.MUNICIPALITY_NOTICE], TODAY)
    assert (request.recipient_id, request.subject) == ("municipality:GM0080", "municipality_notice")
    plain = open_body(keys, request)
    notice = receivers_pb2.MunicipalityNotice.FromString(plain)
    assert notice.municipality_code == "GM0080" and [c.name for c in notice.children] == ["Sem de Vries"]
    assert notice.region.name == "Veilig Thuis Fryslân" and "gevraagd een onderzoek te doen" in notice.text
    # Never the reason, the mother, the melder or the agreements.
    for secret in (REASON, "weigeren", "Anna", PROFESSIONAL["name"], "huisbezoek"):
        assert secret.encode() not in plain, secret
    # Nobody placed in a municipality: the delivery fails with the reason, it does not retry.
    _, _, none = await decided(store, keys, radar_events.DECISION_RVDK_REQUEST, with_child=False)  # type: ignore[arg-type]
    with pytest.raises(NoticeUndeliverable, match="no child"):
        NoticeBuilder(store, keys, Brp()).requests(none[DeliveryKind.RVDK_REQUEST_NOTICE], TODAY)
    with pytest.raises(NoticeUndeliverable, match="no child"):
        NoticeBuilder(store, keys).requests(none[DeliveryKind.MUNICIPALITY_NOTICE], TODAY)


async def test_overdracht_hands_over_to_the_named_receiver(store: Store, keys: KeyStore) -> None:
    _, case_id, rows = await decided(store, keys, radar_events.DECISION_OVERDRACHT,  # type: ignore[arg-type]
                                     overdracht_to="Wijkteam Leeuwarden-Oost",
                                     overdracht_receiver_id="wijkteam:leeuwarden-oost")
    [request] = NoticeBuilder(store, keys).requests(rows[DeliveryKind.OVERDRACHT_NOTICE], TODAY)
    assert (request.recipient_id, request.subject) == ("wijkteam:leeuwarden-oost", "overdracht")
    notice = receivers_pb2.HandoverNotice.FromString(open_body(keys, request))
    assert notice.receiver_name == "Wijkteam Leeuwarden-Oost" and notice.reference == "VT-2026-0042"
    assert notice.responsible_for_safety == "wijkteam Leeuwarden-Oost"
    assert "draagt de zorg voor de veiligheid van dit huishouden over aan Wijkteam Leeuwarden-Oost" in notice.handed_over
    assert notice.agreements == "Wekelijks huisbezoek door het wijkteam." and "structureel onveilig" in notice.judgement
    assert sorted((p.name, p.role) for p in notice.persons) == [("Anna de Vries", "victim"), ("Sem de Vries", "child")]
    assert notice.region.phone == "0800-2000"
    # Another receiver's key does not open it (bound to its recipient).
    with pytest.raises(DecryptionError):
        opened(keys.field_cipher("notifier"), request.body, request.idempotency_key, "notice/wijkteam:elders")
    # An overdracht recorded before the receiver was required sends no hand-over.
    _, _, older = await decided(store, keys, radar_events.DECISION_OVERDRACHT, with_child=False,  # type: ignore[arg-type]
                                overdracht_to="wijkteam")
    assert DeliveryKind.OVERDRACHT_NOTICE not in older


async def test_ambtshalve_professional_hears_of_the_melding_and_then_of_the_decision(
        store: Store, keys: KeyStore) -> None:
    handler, case_id, rows = await decided(store, keys, radar_events.DECISION_ONDERZOEK,  # type: ignore[arg-type]
                                           origin=intake_events.MELDING_ORIGIN_AMBTSHALVE)
    made = intake_events.AmbtshalveMeldingMade(
        tenant_id=TENANT, melding_id=case_id, professional_to_be_informed=True, mdo_participant_count=3,
        conditions=intake_service_pb2.AmbtshalveConditions(high_acute_risk=True, professional_cannot_increase_safety=True,
                                                           no_agreement_on_melding=True, vt_has_personal_data=True),
        mdo_date=common_pb2.Date(year=2025, month=12, day=19))
    await handler(Event(envelope_for(made, source=f"intake/{TENANT}", tenant=TENANT), made))
    rows = {d.kind: d for d in store.list_for_tenant(TENANT, case_id=case_id)}
    builder = NoticeBuilder(store, keys)
    [first] = builder.requests(rows[DeliveryKind.AMBTSHALVE_NOTICE], TODAY)
    assert (first.recipient_id, first.subject) == (f"professional:{TENANT}:{case_id}", "ambtshalve_melding")
    melding_notice = receivers_pb2.AmbtshalveNotice.FromString(open_body(keys, first))
    assert melding_notice.stage == receivers_pb2.AMBTSHALVE_STAGE_MELDING
    assert (melding_notice.professional_name, melding_notice.mdo_date.day) == ("Petra de Vries", 19)
    assert len(melding_notice.conditions) == 4 and any("zonder uw instemming" in c for c in melding_notice.consequences)
    [then] = builder.requests(rows[DeliveryKind.AMBTSHALVE_DECISION_NOTICE], TODAY)
    assert then.subject == "ambtshalve_decision" and then.idempotency_key != first.idempotency_key
    decision = receivers_pb2.AmbtshalveNotice.FromString(open_body(keys, then))
    assert decision.stage == receivers_pb2.AMBTSHALVE_STAGE_DECISION and decision.decision == "DECISION_ONDERZOEK"
    assert decision.decision_text == "Veilig Thuis doet onderzoek naar de situatie."
    assert any("10 weken" in c for c in decision.consequences)
    # A melding that was not made ambtshalve tells no professional about its decision.
    _, _, direct = await decided(store, keys, radar_events.DECISION_NO_FURTHER_STEPS)  # type: ignore[arg-type]
    assert DeliveryKind.AMBTSHALVE_DECISION_NOTICE not in direct


async def test_an_onderzoek_outcome_that_asks_the_rvdk_sends_the_request_too(store: Store, keys: KeyStore) -> None:
    handler, case_id, _ = await decided(store, keys, radar_events.DECISION_ONDERZOEK)  # type: ignore[arg-type]
    outcome = radar_events.OnderzoekCompleted(tenant_id=TENANT, case_id=case_id,
                                              follow_up=radar_events.DECISION_RVDK_REQUEST,
                                              judgement=radar_events.SAFETY_JUDGEMENT_ACUTE_UNSAFETY,
                                              responsible_for_safety="VT Fryslân")
    env = envelope_for(outcome, source=f"radar/{TENANT}", tenant=TENANT)
    outcome.completed_at.FromDatetime(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    reason = common_pb2.RvdkRequestReason(ground=common_pb2.RVDK_REQUEST_GROUND_URGENT, explanation=REASON)
    outcome.rvdk_reason.CopyFrom(sealed(keys.tenant_cipher(TENANT), reason.SerializeToString(), env.id, "rvdk_reason"))
    await handler(Event(env, outcome))
    rows = {d.kind: d for d in store.list_for_tenant(TENANT, case_id=case_id)}
    request_row = rows[DeliveryKind.RVDK_REQUEST_NOTICE]
    assert request_row.cause_event_id == env.id
    [request] = NoticeBuilder(store, keys, Brp()).requests(request_row, TODAY)
    body = receivers_pb2.RvdkRequest.FromString(open_sealed(keys, request))
    assert body.reason.ground == common_pb2.RVDK_REQUEST_GROUND_URGENT and body.reason.explanation == REASON


def test_a_notice_scheduled_before_notices_had_content_is_sent_as_it_was(keys: KeyStore, store: Store) -> None:
    key = delivery_key("old-event/rvdk", DeliveryKind.RVDK_REQUEST_NOTICE)
    old = receivers_pb2.NotifyRequest(idempotency_key=key, recipient_id=f"rvdk:{TENANT}", subject="rvdk_request")
    now = dt.datetime.now(dt.UTC)
    row = Delivery(key=key, kind=DeliveryKind.RVDK_REQUEST_NOTICE, tenant_id=TENANT, case_id="c", cause_event_id="e",
                   due_date=None, created_at=now, deliver_after=now, body=old.SerializeToString())
    assert NoticeBuilder(store, keys).requests(row, TODAY) == [old]
