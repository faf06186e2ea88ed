"""The notifier's use cases (notifier/consumer.py for the consumed events, notifier/scheduler.py for the deliveries)
know no wire format (docs/architecture.md, "How it fits together"): adapters/events.py reads the consumed events into
facts, adapters/proto.py builds the receivers' requests and adapters/regional.py sends them."""

from __future__ import annotations

import pathlib

import pytest
from vttest.imports import imports

ROOT = pathlib.Path(__file__).resolve().parents[2]
USE_CASES = ("consumer.py", "scheduler.py")
# google.protobuf, grpc and the generated code (vt.*), by their top-level name.
WIRE_FORMATS = frozenset({"google", "grpc", "vt"})


@pytest.mark.parametrize("module", USE_CASES)
def test_notifier_use_cases_import_no_wire_format(module: str) -> None:
    path = ROOT / "services" / "notifier" / "notifier" / module
    assert not imports(path) & WIRE_FORMATS, f"{path.relative_to(ROOT)} imports {sorted(imports(path) & WIRE_FORMATS)}"
