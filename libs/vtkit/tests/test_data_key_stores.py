"""One contract suite for every vtkit.keys.DataKeyStore (the pyeventsourcing way, vttest.data_keys): the embedded
file store and an in-memory fake KMS must behave the same, so a real KMS/HSM adapter can be checked by adding one
subclass here (intake's database of dossier keys has its own in services/intake/tests)."""

from __future__ import annotations

import datetime as dt
import json
import os
import pathlib
import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidTag
from vtkit.crypto import DecryptionError, TenantCipher
from vtkit.keys import (
    DataKeyStore,
    KeyDestroyed,
    LocalDataKeyStore,
    UnknownKey,
    dossier_key_id,
    parse_dossier_key_id,
    retention_cutoff,
)
from vtkit.keystore import KeyStore, init_keys, rotate_key
from vttest.data_keys import T0, DataKeyStoreContract


# An in-memory stand-in for a KMS/HSM: keys never touch a disk (wrapping is the KMS's business). It shows
# the interface is implementable without files and is the second backend of the contract suite.
class InMemoryKms(DataKeyStore):
    def __init__(self) -> None:
        self._keys: dict[str, bytes] = {}
        self._generations: dict[str, int] = {}
        self._last_change: dict[str, dt.datetime] = {}
        self._destroyed: set[str] = set()

    def data_key(self, key_id: str) -> bytes:
        if key_id in self._destroyed:
            raise KeyDestroyed(key_id)
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownKey(key_id) from None

    def current_key_id(self, owner: str) -> str:
        if owner not in self._generations:
            raise UnknownKey(owner)
        return f"{owner}:{self._generations[owner]}"

    def rotate(self, owner: str) -> str:
        self._generations[owner] = self._generations.get(owner, 0) + 1
        key_id = f"{owner}:{self._generations[owner]}"
        self._keys[key_id] = os.urandom(32)
        return key_id

    def create_dossier_key(self, tenant: str, dossier_id: str, last_change: dt.datetime) -> str:
        key_id = dossier_key_id(tenant, dossier_id)
        if key_id in self._destroyed:
            raise KeyDestroyed(key_id)
        if key_id not in self._keys:
            self._keys[key_id] = os.urandom(32)
            self._last_change[key_id] = last_change
        return key_id

    def touch_dossier(self, key_id: str, last_change: dt.datetime) -> None:
        if key_id in self._destroyed:
            raise KeyDestroyed(key_id)
        if key_id not in self._last_change:
            raise UnknownKey(key_id)
        self._last_change[key_id] = max(self._last_change[key_id], last_change)

    def destroy(self, key_id: str) -> bool:
        if parse_dossier_key_id(key_id) is None:
            raise ValueError(f"only dossier keys are destroyed, not {key_id}")
        self._destroyed.add(key_id)
        self._last_change.pop(key_id, None)
        return self._keys.pop(key_id, None) is not None

    def expired_dossier_keys(self, before: dt.datetime) -> list[str]:
        return sorted(k for k, when in self._last_change.items() if when < before)

    def key_ids(self) -> list[str]:
        return sorted(self._keys)



class TestLocalDataKeyStore(DataKeyStoreContract):
    @pytest.fixture()
    def store(self, tmp_path: pathlib.Path) -> DataKeyStore:
        return LocalDataKeyStore(tmp_path, master_key=bytes(range(32)))

    def test_files_hold_only_wrapped_keys_that_need_the_master_key(self, tmp_path: pathlib.Path,
                                                                   store: DataKeyStore) -> None:
        key_id = store.create_dossier_key("utrecht", "d-2", T0)
        key = store.data_key(key_id)
        texts = [p.read_bytes() for p in tmp_path.rglob("*.json")]
        assert texts and not any(key in t or key.hex().encode() in t for t in texts)
        with pytest.raises(InvalidTag):
            LocalDataKeyStore(tmp_path, master_key=bytes(32)).data_key(key_id)

    def test_another_process_opens_the_dossier_key_as_written_and_sees_its_last_change(
            self, tmp_path: pathlib.Path, store: DataKeyStore) -> None:
        key_id, key = store.open_dossier_key("utrecht", "d-shared", T0)
        other = LocalDataKeyStore(tmp_path, master_key=bytes(range(32)))
        assert other.open_dossier_key("utrecht", "d-shared", T0 + dt.timedelta(days=30)) == (key_id, key)
        assert store.expired_dossier_keys(T0 + dt.timedelta(days=29)) == []

    def test_a_wrapped_key_renamed_to_another_id_does_not_open(self, tmp_path: pathlib.Path,
                                                               store: DataKeyStore) -> None:
        store.create_dossier_key("utrecht", "a", T0)
        source = tmp_path / "data-keys/dossiers/utrecht/a.json"
        (tmp_path / "data-keys/dossiers/utrecht/b.json").write_text(source.read_text())
        with pytest.raises(InvalidTag):
            store.data_key("utrecht/dossier/b")

    def test_the_destroyed_key_file_is_gone_and_only_a_tombstone_remains(self, tmp_path: pathlib.Path,
                                                                        store: DataKeyStore) -> None:
        key_id = store.create_dossier_key("utrecht", "gone", T0)
        store.destroy(key_id)
        folder = tmp_path / "data-keys/dossiers/utrecht"
        assert sorted(p.name for p in folder.iterdir()) == ["gone.destroyed"]
        assert set(json.loads((folder / "gone.destroyed").read_text())) == {"key_id", "destroyed_at"}

    def test_a_cached_key_still_follows_another_process_s_destruction_and_rotation(
            self, tmp_path: pathlib.Path, store: DataKeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
        """Keys are unwrapped once per process (radar reads a dossier key per record), yet a destruction or a
        rotation by another process (intake, the rotate command: here a second store on the same directory)
        is seen at this process's next call."""
        other = LocalDataKeyStore(tmp_path, master_key=bytes(range(32)))
        key_id = other.create_dossier_key("utrecht", "d-cached", T0)
        owner_key = other.ensure_owner("utrecht")
        unwraps: list[str] = []
        unwrap = LocalDataKeyStore._unwrap

        def counted(self: LocalDataKeyStore, kid: str, path: pathlib.Path) -> bytes:
            unwraps.append(kid)
            return unwrap(self, kid, path)

        monkeypatch.setattr(LocalDataKeyStore, "_unwrap", counted)
        for _ in range(3):
            store.data_key(key_id)
            store.data_key(store.current_key_id("utrecht"))
        assert unwraps == [key_id, owner_key]
        other.destroy(key_id)
        with pytest.raises(KeyDestroyed):
            store.data_key(key_id)
        rotated = other.rotate("utrecht")
        assert store.current_key_id("utrecht") == rotated


class TestInMemoryKms(DataKeyStoreContract):
    @pytest.fixture()
    def store(self, tmp_path: pathlib.Path) -> DataKeyStore:
        return InMemoryKms()


def test_retention_cutoff_is_twenty_years_back_and_handles_leap_days() -> None:
    assert retention_cutoff(T0) == dt.datetime(2006, 3, 1, 12, 0, tzinfo=dt.UTC)
    assert retention_cutoff(dt.datetime(2028, 2, 29, tzinfo=dt.UTC), years=1) == dt.datetime(2027, 2, 28, tzinfo=dt.UTC)


@pytest.mark.parametrize("backend", ["local", "kms"])
def test_keystore_ciphers_follow_rotation_and_shredding(tmp_path: pathlib.Path, backend: str) -> None:
    """The KeyStore facade the services use works the same over either backend."""
    if backend == "local":
        keys = init_keys(tmp_path)
    else:
        kms = InMemoryKms()
        kms.ensure_owner("utrecht")
        keys = KeyStore(tmp_path, data_keys=kms)
    before = keys.tenant_cipher("utrecht").encrypt(b"oud", event_id="e1", field="content")
    reader = keys.tenant_reader("utrecht")  # made before the rotation, kept: it opens both generations
    keys.data_keys.rotate("utrecht")
    cipher = keys.tenant_cipher("utrecht")
    after = cipher.encrypt(b"nieuw", event_id="e2", field="content")
    assert (before.key_id, after.key_id) == ("utrecht:1", "utrecht:2")
    assert cipher.decrypt(before, event_id="e1", field="content") == b"oud"
    dossier = keys.data_keys.create_dossier_key("utrecht", "d", T0)
    secret = keys.dossier_cipher("utrecht", dossier).encrypt(b"gezin", event_id="e3", field="person:1")
    assert keys.tenant_cipher("utrecht").decrypt(secret, event_id="e3", field="person:1") == b"gezin"
    assert keys.tenant_reader("utrecht") is reader
    assert [reader.decrypt(c, event_id=e, field=f) for c, e, f in
            [(before, "e1", "content"), (after, "e2", "content"), (secret, "e3", "person:1")]] == [b"oud", b"nieuw", b"gezin"]
    foreign = TenantCipher("groningen", "groningen:1", bytes(32), resolve=keys.data_keys.data_key)
    with pytest.raises(DecryptionError):  # another tenant's cipher never resolves this tenant's keys
        foreign.decrypt(secret, event_id="e3", field="person:1")
    keys.data_keys.destroy(dossier)
    for opener in (keys.tenant_cipher("utrecht"), reader):
        with pytest.raises(DecryptionError):
            opener.decrypt(secret, event_id="e3", field="person:1")


def test_rotate_command_makes_generation_two_and_a_running_keystore_sees_it(tmp_path: pathlib.Path) -> None:
    keys = init_keys(tmp_path)
    assert keys.tenant_cipher("groningen").key_id == "groningen:1"
    done = subprocess.run([sys.executable, "-m", "vtkit.keystore", "rotate", str(tmp_path), "groningen"],
                          capture_output=True, text=True, check=True)
    assert "groningen:2" in done.stdout
    assert keys.tenant_cipher("groningen").key_id == "groningen:2"  # same object, no restart
    refused = subprocess.run([sys.executable, "-m", "vtkit.keystore", "rotate", str(tmp_path), "atlantis"],
                             capture_output=True, text=True)
    assert refused.returncode != 0 and "unknown key owner" in refused.stderr


def test_a_field_cipher_kept_across_a_rotation_encrypts_under_the_new_key(tmp_path: pathlib.Path) -> None:
    """The verwijsindex holds its field cipher for its lifetime: a rotation still takes effect without a restart."""
    keys = init_keys(tmp_path)
    cipher = keys.field_cipher("verwijsindex")
    before = cipher.encrypt(b"contact", event_id="e1", field="registrant_contact/r1")
    rotate_key(tmp_path, "verwijsindex")
    after = cipher.encrypt(b"contact", event_id="e2", field="registrant_contact/r1")
    assert (before.key_id, after.key_id) == ("verwijsindex:1", "verwijsindex:2")
    assert cipher.decrypt(before, event_id="e1", field="registrant_contact/r1") == b"contact"
    assert keys.field_cipher("verwijsindex").decrypt(after, event_id="e2", field="registrant_contact/r1") == b"contact"
