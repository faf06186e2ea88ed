"""What an advies records (docs/domain.md section 2): each of the three outcomes (end of contact is still an
advies), the support VT agreed and the follow-up appointment are kept; an advies gives VT no action
towards the household: its only event is AdviesRegistered, with no persons."""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Iterator

import pytest
from intake.domain.model import Advies, AdviesOutcome, Asker, ContactKind, Identity, MelderType
from intake.dossier_keys import region_keys
from intake.handlers import IntakeHandlers
from intake.protection import PersonalDataProtector
from intake.store import ContactStore
from vt.intake.v1 import events_pb2
from vt.intake.v1 import intake_service_pb2 as pb
from vtkit.envelope import decode
from vtkit.keystore import KeyStore

TENANT = "utrecht"
SUPPORT = ("voorbereiden van gesprekken met betrokkenen", "opstellen van een veiligheidsplan")


@pytest.fixture()
def handlers(tmp_path: pathlib.Path, keys: KeyStore) -> Iterator[IntakeHandlers]:
    store = ContactStore(tmp_path / "intake.sqlite3")
    yield IntakeHandlers(TENANT, 9, store, PersonalDataProtector(region_keys(keys.root, store, TENANT), TENANT))
    store.close()


@pytest.mark.parametrize("outcome", [AdviesOutcome.END_OF_CONTACT, AdviesOutcome.ADVICE_AND_SUPPORT,
                                     AdviesOutcome.MELDING])
async def test_an_advies_keeps_its_outcome_support_and_follow_up_and_starts_no_action(
        handlers: IntakeHandlers, outcome: AdviesOutcome) -> None:
    follow_up = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)
    advies = Advies(asker=Asker(MelderType.PROFESSIONAL, Identity(name="Petra de Vries", organisation="De Regenboog",
                                                                   phone="0301234567")),
                    question="Wat kan ik doen?", meldcode_steps_taken=("stap 1", "stap 2"), outcome=outcome,
                    support_agreed=SUPPORT, follow_up_at=follow_up)
    record = await handlers.register_advies(f"k-{outcome.name}", advies)
    assert record.kind == ContactKind.ADVIES  # end of contact too is registered as an advies

    stored, payload = await handlers.get_contact(record.contact_id)
    kept = pb.RegisterAdviesRequest.FromString(payload)
    assert kept.outcome == int(outcome) and tuple(kept.support_agreed) == SUPPORT
    assert kept.follow_up_at.ToDatetime(tzinfo=dt.UTC) == follow_up and not kept.directbetrokkenen

    [event] = [decode(row.entry.value, row.entry.envelope.headers()).message for row in handlers.store.unsent(10)]
    assert isinstance(event, events_pb2.AdviesRegistered) and event.outcome == int(outcome)
