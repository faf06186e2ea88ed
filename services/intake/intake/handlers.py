"""The service layer: one use case per RPC. Validates with the domain rules, builds the stored
contact and its events (personal data encrypted or sealed), and commits both in one transaction."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from vtkit import topics
from vtkit.audit import CommittedWith
from vtkit.envelope import MAX_VALUE_BYTES, encode, envelope_for, new_event_id
from vtkit.keys import dossier_key_id, parse_dossier_key_id, retention_cutoff

from intake.adapters import proto
from intake.domain import rules
from intake.domain.errors import ConflictError, ContactNotFound, DomainError, TooLarge, ValidationError
from intake.domain.model import (
    Advies,
    AmbtshalveConditions,
    ContactKind,
    ConversionCriteria,
    Justification,
    Melding,
    MeldingOrigin,
    MultidisciplinaryConsultation,
)
from intake.protection import PersonalDataProtector
from intake.store import ContactRecord, ContactStore, OutboxEntry

PAYLOAD_FIELD = "contact"
# An event of one contact takes at most half of what every consumer accepts (vtkit.envelope.MAX_VALUE_BYTES).
MAX_EVENT_BYTES = MAX_VALUE_BYTES // 2
# vt.intake.v1.DestructionReason numbers (the adapter maps them; kept as ints to keep protos out of here)
DESTRUCTION_REQUEST, DESTRUCTION_RETENTION = 1, 2
# What a use case builds before the commit: the contact, its events, and the advies it converts (or "").
Built = tuple[ContactRecord, list[OutboxEntry], str]
P = TypeVar("P")  # what a use case prepares in a worker thread before it builds (its dossier)


@dataclass(frozen=True)
class Dossier:
    """The household's dossier a melding belongs to: its id (the contact id of the melding that opened it), the
    melding's own contact id, when, the protector under the dossier's key, and the household index entries."""
    id: str
    contact_id: str
    received_at: dt.datetime
    protector: PersonalDataProtector
    household_keys: tuple[str, ...] = ()


def new_person_ids(count: int) -> tuple[str, ...]:
    """Opaque ids for the directbetrokkenen of one melding, in their order, distinct within it. They are
    stored with the contact and name these persons in its MeldingReceived and in every later message to
    the region (radar's assessment input, monitoring alerts, register matches), so they are made once, here."""
    ids: list[str] = []
    while len(ids) < count:
        person_id = secrets.token_hex(8)
        if person_id not in ids:
            ids.append(person_id)
    return tuple(ids)


def _nested(prefix: str, check: Callable[[], None]) -> None:
    """Run a domain check whose field paths are relative to a sub-message of the request."""
    try:
        check()
    except DomainError as exc:
        raise exc.under(prefix) from None


class IntakeHandlers:
    def __init__(self, tenant: str, region: int, store: ContactStore, protector: PersonalDataProtector,
                 on_commit: Callable[[], None] = lambda: None,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)):
        self.tenant = tenant
        self.region = region
        self.store = store
        self.protector = protector
        self.topic = topics.intake(tenant)
        self._on_commit = on_commit  # wakes the relay so events go out without waiting for its poll
        self._clock = clock

    # -- use cases --------------------------------------------------------------------------

    async def register_advies(self, key: str, advies: Advies, access: CommittedWith | None = None) -> ContactRecord:
        async def build() -> Built:
            rules.validate_advies(advies)
            record = self._advies_contact(advies, ContactKind.ADVIES, previous_advies_id="")
            return record, [self._advies_event(record, advies)], ""

        return await self._accept(key, "RegisterAdvies", build, access)

    async def register_vervolgadvies(self, key: str, previous_advies_id: str, advies: Advies,
                                     access: CommittedWith | None = None) -> ContactRecord:
        async def build() -> Built:
            _nested("advies", lambda: rules.validate_advies(advies))
            await self._existing_advies("previous_advies_id", previous_advies_id)
            record = self._advies_contact(advies, ContactKind.VERVOLGADVIES, previous_advies_id)
            return record, [self._advies_event(record, advies)], ""

        return await self._accept(key, "RegisterVervolgadvies", build, access)

    async def submit_melding(self, key: str, melding: Melding, access: CommittedWith | None = None) -> ContactRecord:
        def prepare() -> Dossier:
            _nested("melding", lambda: rules.validate_melding(melding))
            return self._dossier_of(melding)

        async def build(dossier: Dossier) -> Built:
            record = self._melding_contact(melding, ContactKind.MELDING, dossier)
            return record, [self._melding_event(record, MeldingOrigin.DIRECT, melding, dossier)], ""

        return await self._accept_prepared(key, "SubmitMelding", prepare, build, access)

    async def convert_advies(self, key: str, advies_id: str, criteria: ConversionCriteria,
                             melding: Melding, access: CommittedWith | None = None) -> ContactRecord:
        async def build() -> Built:
            rules.validate_conversion(advies_id, criteria)
            _nested("melding", lambda: rules.validate_melding(melding))
            advies = await self._existing_advies("advies_id", advies_id)
            if advies.converted_to:
                raise ConflictError("advies_id", f"this advies was already converted into melding {advies.converted_to}")
            dossier = await self._dossier_for(melding)
            record = self._melding_contact(melding, ContactKind.CONVERTED_MELDING, dossier,
                                           Justification(conversion_criteria=criteria), linked_contact_id=advies_id)
            event_id = new_event_id()
            converted = proto.advies_converted(tenant=self.tenant, event_id=event_id, advies_id=advies_id,
                                               record=record, criteria=criteria, protector=dossier.protector)
            return record, [self._melding_event(record, MeldingOrigin.CONVERTED_ADVIES, melding, dossier),
                            self._entry(record, converted, event_id)], advies_id

        return await self._accept(key, "ConvertAdvies", build, access)

    async def submit_ambtshalve_melding(self, key: str, conditions: AmbtshalveConditions,
                                        mdo: MultidisciplinaryConsultation, melding: Melding,
                                        access: CommittedWith | None = None) -> ContactRecord:
        def prepare() -> Dossier:
            rules.validate_ambtshalve(conditions, mdo)
            _nested("melding", lambda: rules.validate_melding(melding))
            return self._dossier_of(melding)

        async def build(dossier: Dossier) -> Built:
            # The professional is always told the decision and its consequences (docs/domain.md section 2).
            record = self._melding_contact(melding, ContactKind.AMBTSHALVE_MELDING, dossier,
                                           Justification(ambtshalve_conditions=conditions, mdo=mdo),
                                           professional_to_be_informed=True)
            event_id = new_event_id()
            made = proto.ambtshalve_melding_made(tenant=self.tenant, event_id=event_id, record=record,
                                                 conditions=conditions, mdo=mdo, protector=dossier.protector)
            return record, [self._melding_event(record, MeldingOrigin.AMBTSHALVE, melding, dossier),
                            self._entry(record, made, event_id)], ""

        return await self._accept_prepared(key, "SubmitAmbtshalveMelding", prepare, build, access)

    async def get_contact(self, contact_id: str) -> tuple[ContactRecord, bytes]:
        """The stored contact and its request payload (protobuf bytes), decrypted."""
        record = await asyncio.to_thread(self.store.get, contact_id) if contact_id else None
        if record is None:
            raise ContactNotFound("contact_id", "no contact with this id in this region")  # never echo input: it may be a BSN
        if record.destroyed:
            raise ContactNotFound("contact_id", f"contact {contact_id!r} was destroyed with its dossier")
        payload = self.protector.decrypt_bytes(record.payload, event_id=record.contact_id, field=PAYLOAD_FIELD)
        return record, payload

    async def report_emergency_access(self, contact_id: str, by_tenant: str, by_user: str, reason: str) -> None:
        """A break-glass read by another region is told to this region's inbox (EmergencyAccess, in the outbox
        before the contact is answered)."""
        now, event_id = self._clock(), new_event_id()
        message = proto.emergency_access(tenant=self.tenant, contact_id=contact_id, by_tenant=by_tenant,
                                         by_user=by_user, at=now, reason=reason, event_id=event_id,
                                         protector=self.protector)
        await asyncio.to_thread(self.store.queue, [self._event(contact_id, message, event_id, now)])
        self._on_commit()

    async def destroy_dossier(self, contact_id: str,
                              reason: int = DESTRUCTION_REQUEST) -> tuple[str, list[str], dt.datetime]:
        """Destroy the dossier `contact_id` belongs to: blank its contacts and queue DossierDestroyed (one
        transaction), then destroy its key. (dossier id, its contact ids, when). Repeating it is harmless."""
        record = await asyncio.to_thread(self.store.get, contact_id) if contact_id.strip() else None
        if record is None:
            raise ContactNotFound("contact_id", "no contact with this id in this region")  # never echo input: it may be a BSN
        if not record.dossier_id:
            raise ConflictError("contact_id", "this advies belongs to no dossier (it holds no household data)")
        ids = await self._destroy(record.dossier_id, reason)
        return record.dossier_id, ids, self._clock()

    async def _destroy(self, dossier_id: str, reason: int) -> list[str]:
        now = self._clock()

        def event(contact_ids: list[str]) -> OutboxEntry:
            message = proto.dossier_destroyed(tenant=self.tenant, dossier_id=dossier_id, contact_ids=contact_ids,
                                              destroyed_at=now, reason=reason)
            return self._event(dossier_id, message, new_event_id(), now)

        ids = await asyncio.to_thread(self.store.destroy_dossier, dossier_id, event, now) or []
        # After the commit: a crash before this line leaves the key, and the sweep destroys it on its next run.
        await asyncio.to_thread(self.protector.keys.data_keys.destroy, dossier_key_id(self.tenant, dossier_id))
        await asyncio.to_thread(self.store.mark_key_destroyed, dossier_id)
        self._on_commit()
        return ids

    async def sweep_retention(self) -> list[tuple[str, list[str]]]:
        """Destroy the dossiers whose last change is more than 20 years ago (Wmo 5.3.4) by the same path as
        a request, and finish destructions a crash interrupted. The destroyed (dossier id, contact ids)."""
        keys = self.protector.keys.data_keys
        for dossier_id in await asyncio.to_thread(self.store.dossiers_awaiting_key_destruction):
            await self._destroy(dossier_id, DESTRUCTION_REQUEST)
        expired = await asyncio.to_thread(keys.expired_dossier_keys, retention_cutoff(self._clock()))
        done = []
        for key_id in expired:
            parsed = parse_dossier_key_id(key_id)
            if parsed is None or parsed[0] != self.tenant:
                continue  # another region's dossier (a shared key store): its own intake sweeps it
            done.append((parsed[1], await self._destroy(parsed[1], DESTRUCTION_RETENTION)))
        return done

    # -- the common acceptance path ---------------------------------------------------------

    async def _accept(self, key: str, method: str, build: Callable[[], Awaitable[Built]],
                      access: CommittedWith | None = None) -> ContactRecord:
        """The contact of a new key, stored with its outbox rows and `access` (the caller's access record: written with
        the commit), or the contact of the key's first request."""
        rules.require_idempotency_key(key)
        earlier = self.store.find_by_idempotency_key(key)  # the store's reader: never behind a commit (ContactStore)
        if earlier is None:
            earlier = await self._save(key, method, await build(), access)
        return self._first(earlier, method)

    async def _accept_prepared(self, key: str, method: str, prepare: Callable[[], P],
                               build: Callable[[P], Awaitable[Built]], access: CommittedWith | None = None) -> ContactRecord:
        """`_accept` with a preparation (validation, the household's dossier and its key: `prepare`) made after the
        idempotency lookup and only when the key is new. Both run on the event loop: their reads go through the
        store's reader, which never waits for a commit (ContactStore), and the rest is CPU of a fraction of a
        millisecond (keyed hashes, a new dossier key wrapped). A worker-thread hop cost more than the work: measured in
        docs/measurements.md, "Intake's group commit: statements on the loop"."""
        rules.require_idempotency_key(key)
        earlier = self.store.find_by_idempotency_key(key)
        if earlier is None:
            earlier = await self._save(key, method, await build(prepare()), access)
        return self._first(earlier, method)

    async def _save(self, key: str, method: str, built: Built, access: CommittedWith | None) -> tuple[str, ContactRecord]:
        record, outbox, converts_advies = built
        for entry in outbox:  # each field is within its limit; together they must be too (docs/architecture.md)
            if len(entry.value) > MAX_EVENT_BYTES:
                raise TooLarge("request", f"is {len(entry.value):,} bytes once encoded and encrypted; at "
                                      f"most {MAX_EVENT_BYTES:,}: fewer directbetrokkenen or shorter texts")
        # Committed with the contacts of other requests waiting at the same time; durable when it returns.
        saved = await self.store.save_in_group(record, outbox, key, method, converts_advies, access)
        self._on_commit()
        return saved

    @staticmethod
    def _first(earlier: tuple[str, ContactRecord], method: str) -> ContactRecord:
        first_method, first = earlier
        if first_method != method:
            raise ConflictError("idempotency_key", f"was already used for a {first_method} request; "
                                "use a new key for a new contact")
        return first

    async def _existing_advies(self, field: str, advies_id: str) -> ContactRecord:
        if not advies_id.strip():
            raise ValidationError(field, "name the advies (contact id) this request refers to")
        record = await asyncio.to_thread(self.store.get, advies_id)
        if record is None or not record.kind.is_advies:
            raise ContactNotFound(field, f"no advies {advies_id!r} in this region")
        return record

    # -- building contacts and events -------------------------------------------------------

    async def _dossier_for(self, melding: Melding) -> Dossier:
        """`_dossier_of` in a worker thread."""
        return await asyncio.to_thread(self._dossier_of, melding)

    def _dossier_of(self, melding: Melding) -> Dossier:
        """The household's dossier: a melding about a person of a household this region has a dossier of (a
        shared directbetrokkene, by the region's keyed hash of their identity) joins it (a hermelding); otherwise
        it opens one, whose id is its contact id. The key exists (on disk) before anything is encrypted under it.
        Blocking."""
        identities = [p.identity_bytes() for p in melding.directbetrokkenen]
        return self._open_dossier(str(uuid.uuid4()), self._clock(), identities)

    def _open_dossier(self, contact_id: str, received_at: dt.datetime, identities: list[bytes]) -> Dossier:
        """Blocking (key files, the database): one worker-thread hop for the household's keyed hashes, the lookup
        of its dossier and the dossier's key, instead of one hop each."""
        keys = tuple(self.protector.household_keys(identities))
        dossier_id = self.store.household_dossier(keys) or contact_id
        return Dossier(dossier_id, contact_id, received_at, self.protector.for_dossier(dossier_id, received_at), keys)

    def _new_record(self, kind: ContactKind, payload: bytes, dossier: Dossier | None = None,
                    **extra: Any) -> ContactRecord:
        if dossier is None:
            received_at, contact_id, protector = self._clock(), str(uuid.uuid4()), self.protector
        else:
            received_at, contact_id, protector = dossier.received_at, dossier.contact_id, dossier.protector
            extra["dossier_id"], extra["household_keys"] = dossier.id, dossier.household_keys
            extra["dossier_key"] = dossier.protector.key_write  # committed with the contact
        # Human-readable reference for phone calls: region, day, random part (not a sequence,
        # so references reveal nothing about volumes).
        reference = f"VT{self.region:02d}-{received_at:%Y%m%d}-{secrets.token_hex(4).upper()}"
        sealed = protector.encrypt_bytes(payload, event_id=contact_id, field=PAYLOAD_FIELD)
        return ContactRecord(contact_id=contact_id, reference=reference, kind=kind, received_at=received_at,
                             payload=sealed, **extra)

    def _advies_contact(self, advies: Advies, kind: ContactKind, previous_advies_id: str) -> ContactRecord:
        return self._new_record(kind, proto.advies_payload(advies.as_stored()), linked_contact_id=previous_advies_id)

    def _melding_contact(self, melding: Melding, kind: ContactKind, dossier: Dossier,
                         justification: Justification = Justification(), **extra: Any) -> ContactRecord:
        """The melding is stored with its legal justification (criteria / conditions and MDO), in the one payload
        encrypted under the dossier key: kept, returned by GetContact, shredded with the dossier."""
        return self._new_record(kind, proto.melding_payload(melding, justification), dossier,
                                same_day=melding.same_day, person_ids=new_person_ids(len(melding.directbetrokkenen)),
                                **extra)

    def _advies_event(self, record: ContactRecord, advies: Advies) -> OutboxEntry:
        event_id = new_event_id()
        # The event carries only what may be kept (a bystander's details only with consent).
        event = proto.advies_registered(tenant=self.tenant, event_id=event_id, record=record,
                                        advies=advies.as_stored(), protector=self.protector)
        return self._entry(record, event, event_id)

    def _melding_event(self, record: ContactRecord, origin: MeldingOrigin, melding: Melding,
                       dossier: Dossier) -> OutboxEntry:
        event_id = new_event_id()
        event = proto.melding_received(tenant=self.tenant, event_id=event_id, record=record, origin=origin,
                                       melding=melding, protector=dossier.protector)
        return self._entry(record, event, event_id)

    def _entry(self, record: ContactRecord, message: Any, event_id: str) -> OutboxEntry:
        return self._event(record.contact_id, message, event_id, record.received_at)

    def _event(self, key: str, message: Any, event_id: str, time: dt.datetime) -> OutboxEntry:
        envelope = envelope_for(message, source=f"intake/{self.tenant}", tenant=self.tenant, event_id=event_id,
                                time=time)
        value, _headers = encode(message, envelope)
        return OutboxEntry(topic=self.topic, key=key, value=value, envelope=envelope)

