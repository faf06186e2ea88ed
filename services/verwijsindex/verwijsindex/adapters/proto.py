"""The only place where protobuf messages and domain values are translated into each other."""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

from google.protobuf import message as pb_message
from google.protobuf.timestamp_pb2 import Timestamp
from vt.common.v1 import common_pb2
from vt.verwijsindex.v1 import events_pb2
from vt.verwijsindex.v1 import verwijsindex_service_pb2 as svc
from vtkit.crypto import Ciphertext, TenantCipher
from vtkit.envelope import encode, envelope_for

from verwijsindex.domain.model import (
    Contact,
    Match,
    MatchKind,
    MatchParty,
    Registration,
    Relocation,
    Sector,
    Signal,
    WithdrawReason,
)
from verwijsindex.domain.rules import RuleViolation
from verwijsindex.store import LogEntry

_SECTORS = {
    svc.SECTOR_YOUTH_CARE: Sector.YOUTH_CARE,
    svc.SECTOR_YOUTH_HEALTH_CARE: Sector.YOUTH_HEALTH_CARE,
    svc.SECTOR_HEALTH_CARE: Sector.HEALTH_CARE,
    svc.SECTOR_EDUCATION: Sector.EDUCATION,
    svc.SECTOR_SOCIAL_SUPPORT: Sector.SOCIAL_SUPPORT,
    svc.SECTOR_WORK_AND_INCOME: Sector.WORK_AND_INCOME,
    svc.SECTOR_POLICE_AND_JUSTICE: Sector.POLICE_AND_JUSTICE,
}
_SECTOR_CODES = {v: k for k, v in _SECTORS.items()}
_REASONS = {svc.WITHDRAW_REASON_WRONG: WithdrawReason.WRONG, svc.WITHDRAW_REASON_RISK_GONE: WithdrawReason.RISK_GONE}
_KINDS = {MatchKind.CLIENT: events_pb2.MATCH_KIND_CLIENT, MatchKind.FAMILY: events_pb2.MATCH_KIND_FAMILY,
          MatchKind.ARCHIVED: events_pb2.MATCH_KIND_ARCHIVED}


# An event of the verwijsindex as the use cases hold it: built here, encoded here (`encoded`), opaque to them.
Event: TypeAlias = pb_message.Message


def encoded(message: Event, source: str, at: dt.datetime, event_id: str | None = None
            ) -> tuple[str, bytes, list[tuple[str, bytes]]]:
    """The event id, value and headers (vtkit.envelope) of an event for the outbox."""
    envelope = envelope_for(message, source=source, event_id=event_id, time=at)
    value, headers = encode(message, envelope)
    return envelope.id, value, headers


def contact_field(registrant_id: str) -> str:
    """Associated-data field name of a registrant's contact in an event (see events.proto)."""
    return f"registrant_contact/{registrant_id}"


def date_from_proto(value: common_pb2.Date, field: str) -> dt.date | None:
    """An unset Date (all zero) is None; an impossible one is a rule violation on `field`."""
    if (value.year, value.month, value.day) == (0, 0, 0):
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise RuleViolation(field, "is not a valid calendar date") from None


def date_to_proto(value: dt.date) -> common_pb2.Date:
    return common_pb2.Date(year=value.year, month=value.month, day=value.day)


def timestamp(value: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value.astimezone(dt.UTC))
    return stamp


def sector_named(value: str) -> Sector | None:
    """The Sector a registrant organisation's certificate names (vtkit.registrants.SECTORS), None if none of them."""
    try:
        return Sector(value)
    except ValueError:
        return None


def registration_from_request(request: svc.RegisterSignalRequest, certified_sector: Sector | None = None
                              ) -> Registration:
    """The request's registrant_id is ignored on purpose: the registrant is the authenticated caller. So is its
    sector when the caller's certificate names one (a registrant organisation's): the certificate's wins. The
    deprecated risk_code is never read: a signal holds no reason (docs/domain.md section 6)."""
    r = request.registrant
    contact = Contact(name=r.name, organisation=r.organisation, phone=r.phone, email=r.email,
                      sector=certified_sector or _SECTORS.get(r.sector), coordinator=r.coordinator)
    return Registration(
        youth_bsn=request.youth_bsn,
        youth_date_of_birth=date_from_proto(request.youth_date_of_birth, "youth_date_of_birth"),
        planned_removal=date_from_proto(request.planned_removal, "planned_removal"),
        contact=contact,
    )


def withdraw_reason(request: svc.WithdrawSignalRequest) -> WithdrawReason:
    try:
        return _REASONS[request.reason]
    except KeyError:
        raise RuleViolation("reason", "must be WRONG or RISK_GONE") from None


def register_response(signal: Signal) -> svc.RegisterSignalResponse:
    return svc.RegisterSignalResponse(signal_id=signal.signal_id, planned_removal=date_to_proto(signal.planned_removal))


def list_response(signals: list[Signal], next_page_token: str = "") -> svc.ListMySignalsResponse:
    return svc.ListMySignalsResponse(signals=[
        svc.SignalSummary(signal_id=s.signal_id, registered_at=timestamp(s.registered_at),
                          planned_removal=date_to_proto(s.planned_removal)) for s in signals],
        next_page_token=next_page_token)


def signal_registered(signal: Signal) -> events_pb2.SignalRegistered:
    return events_pb2.SignalRegistered(signal_id=signal.signal_id, youth_pseudonym=signal.youth_pseudonym,
                                       registrant_id=signal.registrant_id, registered_at=timestamp(signal.registered_at),
                                       planned_removal=date_to_proto(signal.planned_removal))


def _registrant(registrant_id: str, contact: Contact) -> svc.Registrant:
    return svc.Registrant(registrant_id=registrant_id, name=contact.name, organisation=contact.organisation,
                          phone=contact.phone, email=contact.email, coordinator=contact.coordinator,
                          sector=_SECTOR_CODES[contact.sector] if contact.sector else svc.SECTOR_UNSPECIFIED)


def _contacts(parties: tuple[MatchParty, ...], event_id: str, cipher: TenantCipher) -> list[events_pb2.RegistrantContact]:
    registrants = []
    for party in parties:
        plain = _registrant(party.registrant_id, party.contact).SerializeToString()
        sealed = cipher.encrypt(plain, event_id=event_id, field=contact_field(party.registrant_id))
        registrants.append(events_pb2.RegistrantContact(
            registrant_id=party.registrant_id,
            contact=common_pb2.EncryptedField(key_id=sealed.key_id, nonce=sealed.nonce, ciphertext=sealed.ciphertext)))
    return registrants


def signal_match(match: Match, match_id: str, event_id: str, at: dt.datetime, cipher: TenantCipher,
                 municipality_code: str = "", regievoerder_id: str = "") -> events_pb2.SignalMatch:
    """Only identities and encrypted contact details: never a risk code or BSN."""
    return events_pb2.SignalMatch(match_id=match_id, kind=_KINDS[match.kind], youth_pseudonym=match.youth_pseudonym,
                                  registrants=_contacts(match.parties, event_id, cipher),
                                  different_youths=match.different_youths, municipality_code=municipality_code,
                                  regievoerder_id=regievoerder_id, matched_at=timestamp(at))


def youth_relocated(move: Relocation, notice_id: str, event_id: str, at: dt.datetime, cipher: TenantCipher,
                    regievoerder_id: str) -> events_pb2.YouthRelocated:
    """Who to tell and where the youth went (the municipality only, never the address)."""
    return events_pb2.YouthRelocated(notice_id=notice_id, youth_pseudonym=move.youth_pseudonym,
                                     from_municipality_code=move.from_municipality_code,
                                     to_municipality_code=move.to_municipality_code,
                                     registrants=_contacts(move.parties, event_id, cipher),
                                     regievoerder_id=regievoerder_id, relocated_at=timestamp(at))


def logbook_response(entries: list[LogEntry], next_page_token: str = "") -> svc.ListLogbookResponse:
    return svc.ListLogbookResponse(next_page_token=next_page_token, entries=[
        svc.LogbookEntry(at=timestamp(e.at), action=e.action, actor=e.actor, signal_id=e.signal_id or "",
                         youth_pseudonym=e.youth_pseudonym or "", registrant_id=e.registrant_id or "",
                         detail=e.detail) for e in entries])


def open_contact(field: common_pb2.EncryptedField, registrant_id: str, event_id: str,
                 cipher: TenantCipher) -> svc.Registrant:
    """Inverse of the encryption in `signal_match` (for notifier-side code and tests)."""
    plain = cipher.decrypt(Ciphertext(field.key_id, field.nonce, field.ciphertext), event_id=event_id,
                           field=contact_field(registrant_id))
    registrant = svc.Registrant()
    registrant.ParseFromString(plain)
    return registrant
