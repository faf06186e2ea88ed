"""Store.group: the consumer's batch of writes as one transaction on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest
from notifier.domain import Delivery, DeliveryKind
from notifier.store import Store

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def delivery(key: str) -> Delivery:
    return Delivery(key=key, kind=DeliveryKind.MELDER_CALLBACK, tenant_id="utrecht", case_id=f"case-{key}",
                    cause_event_id="e1", due_date=dt.date(2026, 3, 9), created_at=NOW, deliver_after=NOW, body=b"b")


def test_writes_of_a_group_are_invisible_to_other_connections_until_it_ends(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "notifier.sqlite3"
    store, reader = Store(path), Store(path)
    with store.group():
        assert store.add(delivery("a")) and store.add(delivery("b"))
        assert not store.add(delivery("a"))  # the group sees its own writes
        assert reader.get("a") is None
    assert reader.get("a") is not None and reader.get("b") is not None
    assert len(reader.unsent()) == 2


def test_an_error_in_the_group_undoes_every_write(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "notifier.sqlite3"
    store = Store(path)
    with pytest.raises(RuntimeError), store.group():
        store.add(delivery("a"))
        raise RuntimeError("the consumer crashed mid-batch")
    assert store.get("a") is None and store.unsent() == []
    assert store.add(delivery("a"))  # the store is usable afterwards (no transaction left open)
    assert Store(path).get("a") is not None


def test_a_failed_write_inside_the_group_is_undone_alone(tmp_path: pathlib.Path) -> None:
    store = Store(tmp_path / "notifier.sqlite3")
    with store.group():
        store.add(delivery("a"))
        with pytest.raises(RuntimeError), store._tx() as db:
            db.execute("INSERT INTO outbox (event_id, event, delivery_key, created_at) VALUES ('x', 'requested', 'a', 0)")
            raise RuntimeError("one record failed")
        store.add(delivery("b"))
    assert store.get("a") is not None and store.get("b") is not None
    assert sorted(e.delivery.key for e in store.unsent()) == ["a", "b"]
