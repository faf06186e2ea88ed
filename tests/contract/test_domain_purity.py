"""Every service's domain stays pure (docs/architecture.md, "Where things are"): the modules under
services/<name>/<name>/domain/ compute; they do no I/O and know no wire format. Read from the source with `ast`
(every import statement, also those inside functions; relative imports resolved), like test_layering.py.

Forbidden in a domain module:
    grpc, google.protobuf and the generated code (vt.*)   the wire formats: adapters/proto.py translates
    aiokafka, faust (and its mode), rocksdict             Kafka and radar's tables
    sqlite3, socket, http, urllib, aiohttp, subprocess    storage and the network
    vtkit, except PURE_VTKIT                              vtkit's other modules do I/O (keys, Kafka, gRPC, files)
    the service's own modules outside domain/             handlers, adapters, store, grpc_api, bootstrap call it,
                                                          never the other way round

The use cases (handlers.py; in the notifier consumer.py and scheduler.py) and radar's events (inputs.py, outputs.py)
work on domain objects too: they may do I/O through vtkit, but import no wire format (grpc, google.protobuf, vt.*).
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SERVICES_WITH_A_DOMAIN = ("intake", "notifier", "radar", "verwijsindex")  # ops has no rules of its own
FORBIDDEN = frozenset({"grpc", "grpc_health", "grpc_reflection", "grpc_status", "google", "vt", "aiokafka", "kafka",
                       "faust", "mode", "rocksdict", "sqlite3", "socket", "http", "urllib", "aiohttp", "subprocess",
                       "requests"})
# The vtkit modules a domain may use, and why each is pure.
PURE_VTKIT = {
    "vtkit.calendar": "working days, holidays and Amsterdam time: date arithmetic (the holidays package, zoneinfo)",
    "vtkit.errors": "the domain error base class and its kinds (vtkit.grpcerrors maps them to gRPC statuses)",
}
# A domain module that legitimately needs more names it here with the reason. None does today.
ALLOWED: dict[str, dict[str, str]] = {}


def imports(path: pathlib.Path, package: str) -> set[str]:
    """The full dotted name of every module `path` imports (`from a import b` gives a.b as well as a, since b may be
    a module); `package` is the dotted name of the package `path` is in, for relative imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def refused(name: str, service: str) -> str | None:
    """Why a domain module of `service` may not import `name`; None when it may."""
    top = name.split(".")[0]
    if top in FORBIDDEN:
        return "I/O or a wire format"
    if top == "vtkit" and name != "vtkit":
        module = ".".join(name.split(".")[:2])
        if module not in PURE_VTKIT and not any(p.startswith(name + ".") for p in PURE_VTKIT):
            return "a vtkit module that is not pure (PURE_VTKIT)"
    if top == service and name != service and not name.startswith(f"{service}.domain"):
        return "the service's own layer above the domain"
    return None


def violations(service: str) -> list[str]:
    domain = ROOT / "services" / service / service / "domain"
    found = []
    for path in sorted(domain.rglob("*.py")):
        package = ".".join(path.relative_to(ROOT / "services" / service).with_suffix("").parts[:-1])
        allowed = ALLOWED.get(f"{service}/{path.relative_to(domain)}", {})
        for name in sorted(imports(path, package)):
            why = refused(name, service)
            if why and name not in allowed:
                found.append(f"{path.relative_to(ROOT)} imports {name}: {why}")
    return found


@pytest.mark.parametrize("service", SERVICES_WITH_A_DOMAIN)
def test_the_domain_imports_no_io_no_wire_format_and_nothing_above_it(service: str) -> None:
    assert (ROOT / "services" / service / service / "domain" / "__init__.py").exists()
    assert violations(service) == []


def test_every_service_with_rules_is_checked() -> None:
    with_domain = {p.parent.parent.name for p in ROOT.glob("services/*/*/domain/__init__.py")}
    assert with_domain == set(SERVICES_WITH_A_DOMAIN)


USE_CASES = ("intake/intake/handlers.py", "verwijsindex/verwijsindex/handlers.py", "radar/radar/handlers.py",
             "radar/radar/inputs.py", "radar/radar/outputs.py", "notifier/notifier/consumer.py",
             "notifier/notifier/scheduler.py")
WIRE_FORMATS = frozenset({"grpc", "google", "vt"})


def wire_formats(path: pathlib.Path) -> list[str]:
    return sorted(name for name in imports(path, path.parent.name) if name.split(".")[0] in WIRE_FORMATS)


@pytest.mark.parametrize("module", USE_CASES)
def test_the_use_cases_import_no_wire_format(module: str) -> None:
    assert wire_formats(ROOT / "services" / module) == []


def test_the_use_case_check_finds_protobuf(tmp_path: pathlib.Path) -> None:
    module = tmp_path / "handlers.py"
    module.write_text("from vtkit import topics\n\ndef f():\n    from google.protobuf import message\n"
                      "from vt.radar.v1 import events_pb2\n")
    assert wire_formats(module) == ["google.protobuf", "google.protobuf.message", "vt.radar.v1",
                                    "vt.radar.v1.events_pb2"]


@pytest.mark.parametrize(("source", "why"), [
    ("import grpc\n", "I/O or a wire format"),
    ("from google.protobuf import timestamp_pb2\n", "I/O or a wire format"),
    ("from vt.radar.v1 import events_pb2\n", "I/O or a wire format"),
    ("def f():\n    import sqlite3\n", "I/O or a wire format"),
    ("from vtkit.kafka import Publisher\n", "a vtkit module that is not pure (PURE_VTKIT)"),
    ("from vtkit import keystore\n", "a vtkit module that is not pure (PURE_VTKIT)"),
    ("from ..handlers import Radar\n", "the service's own layer above the domain"),
    ("from radar.adapters import proto\n", "the service's own layer above the domain"),
])
def test_the_check_finds_what_it_forbids(tmp_path: pathlib.Path, source: str, why: str) -> None:
    module = tmp_path / "m.py"
    module.write_text(source)
    assert any(refused(name, "radar") == why for name in imports(module, "radar.domain"))


def test_the_check_lets_pure_imports_pass(tmp_path: pathlib.Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import datetime as dt\nfrom vtkit import calendar\nfrom vtkit.errors import NotFound\n"
                      "from .model import Case\nfrom radar.domain.ids import derived_event_id\n")
    assert [name for name in imports(module, "radar.domain") if refused(name, "radar")] == []
