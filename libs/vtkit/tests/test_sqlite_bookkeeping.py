"""vtkit.groupcommit.sqlite_bookkeeping: a transaction committed without an fsync of its own (synchronous=NORMAL in
WAL mode), after which the connection is back at its own setting, also when the transaction fails; and
durable_sqlite, the connection every file of facts is opened with."""

from __future__ import annotations

import pathlib
import sqlite3

import pytest
from vtkit.groupcommit import durable_sqlite, sqlite_bookkeeping, sqlite_transaction

FULL, NORMAL = 2, 1


def synchronous(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA synchronous").fetchone()[0])


@pytest.fixture()
def db(tmp_path: pathlib.Path) -> sqlite3.Connection:
    connection = durable_sqlite(tmp_path / "store.sqlite3")
    connection.execute("CREATE TABLE outbox (seq INTEGER PRIMARY KEY, sent INTEGER NOT NULL DEFAULT 0)")
    with sqlite_transaction(connection):
        connection.executemany("INSERT INTO outbox (seq) VALUES (?)", [(1,), (2,)])
    return connection


def test_bookkeeping_commits_without_full_sync_and_restores_the_setting(db: sqlite3.Connection,
                                                                         tmp_path: pathlib.Path) -> None:
    with sqlite_bookkeeping(db):
        assert synchronous(db) == NORMAL
        db.execute("UPDATE outbox SET sent = 1 WHERE seq = 1")
    assert synchronous(db) == FULL
    other = sqlite3.connect(tmp_path / "store.sqlite3")
    assert other.execute("SELECT seq FROM outbox WHERE sent = 1").fetchall() == [(1,)]  # committed


def test_a_failed_bookkeeping_transaction_rolls_back_and_restores_the_setting(db: sqlite3.Connection) -> None:
    with pytest.raises(RuntimeError), sqlite_bookkeeping(db):
        db.execute("UPDATE outbox SET sent = 1")
        raise RuntimeError("the relay stopped")
    assert synchronous(db) == FULL
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE sent = 1").fetchone()[0] == 0


def test_a_durable_connection_syncs_every_commit_and_keeps_its_temporary_files_in_memory(tmp_path: pathlib.Path) -> None:
    db = durable_sqlite(tmp_path / "facts" / "store.sqlite3")  # its folder is made
    pragmas = {name: db.execute(f"PRAGMA {name}").fetchone()[0]
               for name in ("journal_mode", "synchronous", "foreign_keys", "temp_store")}
    assert pragmas == {"journal_mode": "wal", "synchronous": FULL, "foreign_keys": 1, "temp_store": 2}  # 2: MEMORY
    assert db.isolation_level is None  # autocommit: every write an explicit transaction
