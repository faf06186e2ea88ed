"""The region's dossier keys, kept in intake's own database and committed with the contact that first uses them.

Before, each melding's dossier key was a key file written and fsynced (the file, then its directory) before the
contact was stored: two fsyncs per acknowledgement, in series with the contact's own commit. Here the wrapped key
(the same wrapping under the master key as a key file, vtkit.keys) is a row of intake's SQLite file written in the
contact's transaction, so it is durable with the contact, in the group's one commit, and a contact is never without
its key nor a key without its contact.

Radar and the notifier read dossier keys from the shared key store (`<key dir>/data-keys`). The relay publishes
every key committed here to that store, fsynced, before it sends the events of the same commit (ContactStore
.before_sending): no service ever reads an event whose key it cannot find. Destruction blanks the row in the
transaction that blanks the dossier's contacts, then tombstones the published file (vtkit.keys.LocalDataKeyStore
.destroy). The retention sweep asks an index of this file, not every key file of every region.

Tenant keys, and other regions' dossier keys (a shared key store), stay files, as in LocalDataKeyStore.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from vtkit.keys import (
    DossierKeyWrite,
    KeyDestroyed,
    LocalDataKeyStore,
    UnknownKey,
    dossier_key_id,
    parse_dossier_key_id,
)
from vtkit.keystore import KeyStore

from intake.store import ContactStore

log = logging.getLogger("intake.dossier_keys")

# The one-time import of the region's dossier key files into the database (keys made before they were kept here).
IMPORT_STEP = "dossier key files imported"


def region_keys(key_dir: str | os.PathLike[str], store: ContactStore, tenant: str) -> KeyStore:
    """The key store as intake uses it: tenant keys (and other regions') from the key directory, the region's
    dossier keys in `store`, published by its relay before it sends the events of their commit."""
    dossier_keys = DatabaseDossierKeys(key_dir, store, tenant)
    store.before_sending = dossier_keys.publish
    return KeyStore(key_dir, data_keys=dossier_keys)


class DatabaseDossierKeys(LocalDataKeyStore):
    def __init__(self, key_dir: str | os.PathLike[str], store: ContactStore, tenant: str,
                 master_key: bytes | None = None):
        super().__init__(key_dir, master_key)
        self.store = store
        self.tenant = tenant
        # The region's key files, at the first start on this database file (none after that).
        if imported := store.import_dossier_keys(IMPORT_STEP, self._own_files):
            log.info("dossier key files imported into the database", extra={"keys": imported})

    def _own_files(self) -> Iterator[tuple[str, str, dt.datetime]]:
        for key_id, record, last_change in self.dossier_records(self.tenant):
            yield parse_dossier_key_id(key_id)[1], record, last_change  # type: ignore[index]

    def _own(self, key_id: str) -> str | None:
        """The dossier id of one of this region's dossier keys; None for any other key."""
        dossier = parse_dossier_key_id(key_id)
        return dossier[1] if dossier is not None and dossier[0] == self.tenant else None

    # -- DataKeyStore -------------------------------------------------------------------------

    def prepare_dossier_key(self, tenant: str, dossier_id: str,
                            last_change: dt.datetime) -> tuple[str, bytes, DossierKeyWrite | None]:
        """The dossier's key and what the contact's save writes with it: a new wrapped key, or the later change."""
        if tenant != self.tenant:
            return super().prepare_dossier_key(tenant, dossier_id, last_change)
        key_id = dossier_key_id(tenant, dossier_id)
        row = self.store.dossier_key(dossier_id)
        if row is None:
            key = AESGCM.generate_key(256)
            return key_id, key, DossierKeyWrite(dossier_id, last_change, self.wrap_dossier_key(key_id, key, last_change))
        return key_id, self._unwrapped(key_id, row), DossierKeyWrite(dossier_id, last_change, None)

    def open_dossier_key(self, tenant: str, dossier_id: str, last_change: dt.datetime) -> tuple[str, bytes]:
        if tenant != self.tenant:
            return super().open_dossier_key(tenant, dossier_id, last_change)
        key_id, key, write = self.prepare_dossier_key(tenant, dossier_id, last_change)
        assert write is not None
        self.store.write_dossier_key(write)
        if write.record is not None:
            self._remember(key_id, key)
        return key_id, key

    def create_dossier_key(self, tenant: str, dossier_id: str, last_change: dt.datetime) -> str:
        return self.open_dossier_key(tenant, dossier_id, last_change)[0]

    def touch_dossier(self, key_id: str, last_change: dt.datetime) -> None:
        dossier_id = self._own(key_id)
        if dossier_id is None:
            return super().touch_dossier(key_id, last_change)
        if self.store.dossier_key(dossier_id) is None:
            raise UnknownKey(key_id)
        self.store.write_dossier_key(DossierKeyWrite(dossier_id, last_change, None))

    def data_key(self, key_id: str) -> bytes:
        dossier_id = self._own(key_id)
        if dossier_id is None:
            return super().data_key(key_id)
        key = self._cached(key_id)
        if key is not None:
            return key
        row = self.store.dossier_key(dossier_id)
        if row is None:  # not made here: a key file, if any (UnknownKey otherwise)
            return super().data_key(key_id)
        return self._unwrapped(key_id, row)

    def _unwrapped(self, key_id: str, row: tuple[str | None]) -> bytes:
        if row[0] is None:
            raise KeyDestroyed(key_id)
        key = self._cached(key_id)
        if key is None:
            key = self.unwrap_dossier_record(key_id, row[0])
            self._remember(key_id, key)
        return key

    def destroy(self, key_id: str) -> bool:
        """The row (if the dossier's destruction did not blank it already), then the published file."""
        self._forget(key_id)
        dossier_id = self._own(key_id)
        here = dossier_id is not None and self.store.destroy_dossier_key(dossier_id, dt.datetime.now(dt.UTC))
        published = super().destroy(key_id)
        return here or published

    def expired_dossier_keys(self, before: dt.datetime) -> list[str]:
        return [dossier_key_id(self.tenant, d) for d in self.store.expired_dossier_keys(before)]

    def key_ids(self) -> list[str]:
        return sorted({*super().key_ids(), *(dossier_key_id(self.tenant, d) for d in self.store.live_dossier_keys())})

    # -- publishing ---------------------------------------------------------------------------

    def publish(self) -> int:
        """Write the keys committed here and not yet published as key files (fsynced), then note them published.
        Blocking; the relay calls it before it sends the events of their commit. How many were written."""
        written = 0
        while pending := self.store.unpublished_dossier_keys():
            written += self.publish_dossier_records([(dossier_key_id(self.tenant, d), r) for d, r in pending])
            self.store.mark_dossier_keys_published([d for d, _ in pending])
        return written
