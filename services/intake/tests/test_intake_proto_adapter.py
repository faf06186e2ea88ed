"""The protobuf adapter: requests become domain objects, stored payloads round-trip, and malformed
values are refused with their field path."""

from __future__ import annotations

import datetime as dt

import pytest
from devstack.scenario import melding_request
from intake.adapters import proto
from intake.domain import rules
from intake.domain.errors import ValidationError
from intake.domain.model import ConcernNature, DisclosureGround, MelderType, PersonRole
from vt.common.v1 import common_pb2
from vt.intake.v1 import intake_service_pb2 as pb


def test_a_melding_request_becomes_a_domain_melding_and_round_trips() -> None:
    request = melding_request("111222333").melding
    request.directbetrokkenen.add(role=common_pb2.PERSON_ROLE_SUSPECT, surname="Jansen", first_names="Piet",
                                  date_of_birth=common_pb2.Date(year=1980, month=2, day=29), postcode="3511 AB",
                                  house_number="4")
    request.disclosure.withhold_ground = pb.DISCLOSURE_GROUND_HARMS_TRUST
    melding = proto.melding_from_proto(request)
    assert melding.melder_type == MelderType.PROFESSIONAL and melding.melder and melding.melder.name == "Petra de Vries"
    assert melding.directbetrokkenen[1].role == PersonRole.SUSPECT
    assert melding.directbetrokkenen[1].date_of_birth == dt.date(1980, 2, 29)
    assert melding.nature == (ConcernNature.CHILD_ABUSE,)
    assert melding.disclosure.withhold_ground == DisclosureGround.HARMS_TRUST and not melding.melder_may_be_named
    assert proto.stored_melding(proto.melding_payload(melding)).melding == request  # stored as a StoredMelding


def test_an_invalid_date_and_an_unknown_enum_value_name_their_field() -> None:
    request = melding_request("111222333").melding
    request.directbetrokkenen[0].date_of_birth.CopyFrom(common_pb2.Date(year=2020, month=2, day=30))
    with pytest.raises(ValidationError, match=r"^directbetrokkenen\[0\]\.date_of_birth: "):
        proto.melding_from_proto(request)
    request = melding_request("111222333").melding
    request.nature.append(42)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^nature\[1\]: unknown value 42"):
        proto.melding_from_proto(request)


def test_household_data_in_an_advies_is_refused_as_a_whole_even_when_malformed() -> None:
    request = pb.RegisterAdviesRequest(asker=pb.Asker(type=common_pb2.MELDER_TYPE_BYSTANDER))
    request.directbetrokkenen.add(date_of_birth=common_pb2.Date(year=2020, month=13, day=1), role=99)  # type: ignore[arg-type]
    advies = proto.advies_from_proto(request)
    with pytest.raises(ValidationError, match=r"^directbetrokkenen: "):
        rules.validate_advies(advies)


def test_a_stored_advies_keeps_no_bystander_details_without_consent() -> None:
    request = pb.RegisterAdviesRequest(asker=pb.Asker(type=common_pb2.MELDER_TYPE_BYSTANDER,
                                                      identity=pb.Professional(name="Buurman", phone="06")),
                                       question="Ik hoor geschreeuw")
    stored = pb.RegisterAdviesRequest.FromString(proto.advies_payload(proto.advies_from_proto(request).as_stored()))
    assert not stored.asker.HasField("identity") and stored.question == "Ik hoor geschreeuw"
