"""The contract every vtkit.keys.DataKeyStore keeps (the pyeventsourcing way: one abstract suite, a subclass per
backend): libs/vtkit/tests/test_data_key_stores.py runs it against the key files and an in-memory fake KMS, intake's
tests against its database of dossier keys (intake.dossier_keys)."""

from __future__ import annotations

import datetime as dt

import pytest
from vtkit.keys import DataKeyStore, KeyDestroyed, UnknownKey

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class DataKeyStoreContract:
    """Subclasses (named Test...) define the fixture `store`: a fresh, empty backend. This class is not collected."""

    def test_an_owner_without_keys_is_unknown_until_its_first_generation(self, store: DataKeyStore) -> None:
        with pytest.raises(UnknownKey):
            store.current_key_id("groningen")
        assert store.ensure_owner("groningen") == "groningen:1"
        assert store.ensure_owner("groningen") == "groningen:1"  # idempotent
        assert len(store.data_key("groningen:1")) == 32
        with pytest.raises(UnknownKey):
            store.data_key("groningen:2")

    def test_rotation_adds_a_new_newest_generation_and_keeps_the_old(self, store: DataKeyStore) -> None:
        store.ensure_owner("utrecht")
        first = store.data_key("utrecht:1")
        assert store.rotate("utrecht") == "utrecht:2"
        assert store.current_key_id("utrecht") == "utrecht:2"
        assert store.data_key("utrecht:1") == first and store.data_key("utrecht:2") != first
        assert {"utrecht:1", "utrecht:2"} <= set(store.key_ids())

    def test_a_dossier_key_is_created_once_and_destroyed_for_good(self, store: DataKeyStore) -> None:
        key_id = store.create_dossier_key("utrecht", "d-1", T0)
        assert key_id == "utrecht/dossier/d-1"
        key = store.data_key(key_id)
        assert store.create_dossier_key("utrecht", "d-1", T0 + dt.timedelta(days=1)) == key_id
        assert store.data_key(key_id) == key  # not replaced by the second create
        assert store.destroy(key_id) is True
        with pytest.raises(KeyDestroyed):
            store.data_key(key_id)
        with pytest.raises(KeyDestroyed):  # never resurrected with a fresh key
            store.create_dossier_key("utrecht", "d-1", T0)
        assert store.destroy(key_id) is False
        assert key_id not in store.key_ids()
        with pytest.raises(UnknownKey):
            store.data_key("utrecht/dossier/never-made")

    def test_tenant_keys_cannot_be_destroyed(self, store: DataKeyStore) -> None:
        store.ensure_owner("utrecht")
        with pytest.raises(ValueError):
            store.destroy("utrecht:1")
        assert store.data_key("utrecht:1")

    def test_expiry_runs_from_the_last_change(self, store: DataKeyStore) -> None:
        old = store.create_dossier_key("utrecht", "old", T0)
        touched = store.create_dossier_key("utrecht", "touched", T0)
        store.create_dossier_key("utrecht", "new", T0 + dt.timedelta(days=400))
        store.touch_dossier(touched, T0 + dt.timedelta(days=365))
        store.touch_dossier(touched, T0)  # an earlier change does not move it back
        assert store.expired_dossier_keys(T0 + dt.timedelta(days=10)) == [old]
        store.destroy(old)
        assert store.expired_dossier_keys(T0 + dt.timedelta(days=10)) == []
        assert sorted(store.expired_dossier_keys(T0 + dt.timedelta(days=500))) == sorted(
            [touched, "utrecht/dossier/new"])

    def test_opening_a_dossier_key_creates_it_once_and_records_each_later_change(self, store: DataKeyStore) -> None:
        key_id, key = store.open_dossier_key("utrecht", "d-open", T0)
        assert key_id == "utrecht/dossier/d-open" and len(key) == 32 and store.data_key(key_id) == key
        assert store.open_dossier_key("utrecht", "d-open", T0 + dt.timedelta(days=365)) == (key_id, key)
        store.open_dossier_key("utrecht", "d-open", T0)  # an earlier change does not move it back
        assert store.expired_dossier_keys(T0 + dt.timedelta(days=300)) == []
        assert store.expired_dossier_keys(T0 + dt.timedelta(days=366)) == [key_id]
        store.destroy(key_id)
        with pytest.raises(KeyDestroyed):  # never resurrected with a fresh key
            store.open_dossier_key("utrecht", "d-open", T0 + dt.timedelta(days=400))
