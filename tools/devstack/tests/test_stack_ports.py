"""`make run` listens on fixed, documented ports (README "Set-up"), so the examples of docs/api.md reach the services;
a port that is taken is said in one line. Plans the stack without starting anything."""

from __future__ import annotations

import pathlib
import socket

import pytest
from devstack.broker import free_port
from devstack.stack import PortInUse, Stack


def planned(tmp_path: pathlib.Path, base: int) -> Stack:
    stack = Stack("127.0.0.1:1", tmp_path / "var", ("amsterdam-amstelland", "rotterdam-rijnmond", "utrecht"),
                  base_port=base)
    stack.plan()
    return stack


def test_the_fixed_layout(tmp_path: pathlib.Path) -> None:
    stack = planned(tmp_path, 50050)  # make run's default: the README's addresses
    ports = {name: p.grpc_port for name, p in stack.processes.items()}
    assert [ports[f"intake-{t}"] for t in stack.tenants] == [50051, 50052, 50053]
    assert (ports["radar"], ports["verwijsindex"], ports["notifier"]) == (50061, 50062, 50063)
    assert ports["regional-system-utrecht"] == 50073
    assert stack.forms["utrecht"] == "http://127.0.0.1:8083/" and stack.web["ops"] == "http://127.0.0.1:8080/"
    assert len(set(stack.fixed_ports)) == len(stack.fixed_ports) == len(ports) * 2 + 4  # grpc, metrics, forms, ops


def test_a_taken_port_is_said_in_one_line(tmp_path: pathlib.Path) -> None:
    base = free_port()
    stack = planned(tmp_path, base)
    assert stack.forms["utrecht"] == f"http://127.0.0.1:{base + 83}/"  # another base: HTTP next to it
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 11))
        taken.listen()
        with pytest.raises(PortInUse, match=rf"^in use: port .*{base + 11} \(radar\).*; .*VT_BASE_PORT=0"):
            stack.check_fixed_ports()


def test_free_ports_without_a_base(tmp_path: pathlib.Path) -> None:
    """What the tests use: nothing of the fixed layout, so they run next to a `make run`."""
    stack = planned(tmp_path, 0)
    assert stack.forms["utrecht"] != "http://127.0.0.1:8083/" and stack.web["ops"] != "http://127.0.0.1:8080/"
    assert not {p.grpc_port for p in stack.processes.values()} & set(range(50050, 50200))
