"""Intake's database of dossier keys keeps the contract of every vtkit.keys.DataKeyStore (vttest.data_keys)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest
from intake.dossier_keys import DatabaseDossierKeys
from intake.store import ContactStore
from vtkit.keys import DataKeyStore
from vttest.data_keys import DataKeyStoreContract


class TestDatabaseDossierKeys(DataKeyStoreContract):
    @pytest.fixture()
    def store(self, tmp_path: pathlib.Path) -> Iterator[DataKeyStore]:
        contacts = ContactStore(tmp_path / "intake.sqlite3")
        yield DatabaseDossierKeys(tmp_path, contacts, "utrecht", master_key=bytes(range(32)))
        contacts.close()
