"""Translation of BRP household facts (vt.verwijsindex.v1.HouseholdFacts) into domain values:
opens the sealed identifiers and turns them into pseudonyms at once, so no BSN or address
outlives this function."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from vt.common.v1 import common_pb2
from vt.verwijsindex.v1 import events_pb2
from vtkit.crypto import DecryptionError, Pseudonymizer, Sealed, SealOpener

from verwijsindex.domain import rules
from verwijsindex.domain.model import HouseholdFacts


class InvalidFacts(ValueError):
    """Facts that can never be used (unsealable, no valid BSN, no address): dead-lettered."""


def _open(opener: SealOpener, sealed: common_pb2.SealedIdentifier, what: str) -> str:
    try:
        plain = opener.open(Sealed(sealed.recipient, sealed.ephemeral_public_key, sealed.nonce, sealed.ciphertext))
        return plain.decode()
    except (DecryptionError, UnicodeDecodeError) as exc:
        raise InvalidFacts(f"{what}: {exc}") from None


def _bsn(opener: SealOpener, sealed: common_pb2.SealedIdentifier, what: str) -> str:
    plain = _open(opener, sealed, what)
    if not plain.startswith("bsn:"):
        raise InvalidFacts(f"{what}: not a sealed 'bsn:' identifier")
    try:
        return rules.canonical_bsn(plain.removeprefix("bsn:"))
    except rules.RuleViolation:
        raise InvalidFacts(f"{what}: not a valid BSN") from None


def _date(value: common_pb2.Date) -> dt.date | None:
    if (value.year, value.month, value.day) == (0, 0, 0):
        return None
    try:
        return dt.date(value.year, value.month, value.day)
    except ValueError:
        raise InvalidFacts("date_of_death: not a calendar date") from None


def _time(value: Timestamp) -> dt.datetime:
    if value.seconds == 0 and value.nanos == 0:
        raise InvalidFacts("observed_at is required")
    try:
        return value.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError):  # outside the Timestamp range: it stopped the BRP consumer (fuzz run)
        raise InvalidFacts("observed_at: not a valid timestamp") from None


def facts_from_proto(message: events_pb2.HouseholdFacts, opener: SealOpener,
                     pseudonymizer: Pseudonymizer) -> HouseholdFacts:
    youth = _bsn(opener, message.youth, "youth")
    address = rules.normalised_address(_open(opener, message.home_address, "home_address"))
    if not address:
        raise InvalidFacts("home_address: empty")
    parents = frozenset(pseudonymizer.pseudonym(b"bsn:" + _bsn(opener, p, "parents").encode())
                        for p in message.parents)
    if not message.municipality_code.strip():
        raise InvalidFacts("municipality_code is required")
    return HouseholdFacts(
        youth_pseudonym=pseudonymizer.pseudonym(b"bsn:" + youth.encode()),
        address_pseudonym=pseudonymizer.pseudonym(b"addr:" + address.encode()),
        institution_address=message.institution_address, parent_pseudonyms=parents,
        municipality_code=message.municipality_code.strip().upper(), date_of_death=_date(message.date_of_death),
        observed_at=_time(message.observed_at))
