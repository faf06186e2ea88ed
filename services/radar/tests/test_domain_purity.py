"""The domain stays pure: no faust, gRPC, Kafka or protobuf (docs/architecture.md, "How it fits together")."""

from __future__ import annotations

import ast
import pathlib

import radar.domain

FORBIDDEN = ("faust", "mode", "grpc", "aiokafka", "vt", "google", "rocksdict", "radar.adapters", "radar.app",
             "radar.handlers", "radar.grpc_api")


def imported_modules(path: pathlib.Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_domain_imports_no_io_or_wire_formats() -> None:
    domain = pathlib.Path(radar.domain.__file__).parent
    for path in sorted(domain.glob("*.py")):
        for name in imported_modules(path):
            assert not any(name == f or name.startswith(f + ".") for f in FORBIDDEN), f"{path.name} imports {name}"
