"""Who may import whom, read from the source with `ast` (every import statement, also those inside functions).

    libs/vtkit                 the runtime library every image carries: imports only itself, the generated protos
                               (vt.*) and third-party packages; never a service, a tool or test support.
    services/<s>/<s>           a service's runtime package (what its image holds): vtkit, vt.* and itself; never
                               another service, a tool (tools/*) or test support (vttest).
    tools/<t>/<t>              apps for development and measurement (devstack, loadgen, simulators): vtkit, vt.* and
                               other tools; they talk to services over gRPC and Kafka only, so they import no
                               service package and no test support.
    libs/vttest                test support: may import anything; nothing above imports it.
    tests, services/<s>/tests, tools/<t>/tests, libs/vtkit/tests
                               test code: may import anything.
"""

from __future__ import annotations

import pathlib

import pytest
from vttest.imports import imports, runtime_files

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _packages(parent: str) -> dict[str, pathlib.Path]:
    """<parent>/<name>/<name>/__init__.py: the deployable (or runnable) package of each service or tool."""
    return {p.parent.name: p.parent for p in sorted(ROOT.glob(f"{parent}/*/*/__init__.py"))
            if p.parent.name == p.parent.parent.name}


SERVICES = _packages("services")
TOOLS = _packages("tools")
TEST_SUPPORT = {"vttest"}


def violations(package: pathlib.Path, forbidden: set[str]) -> list[str]:
    return [f"{f.relative_to(ROOT)} imports {name}" for f in runtime_files(package)
            for name in sorted(imports(f) & forbidden)]


def test_the_layout_is_what_this_test_assumes() -> None:
    assert set(SERVICES) == {"intake", "radar", "verwijsindex", "notifier", "ops"}
    assert set(TOOLS) == {"devstack", "loadgen", "simulators"}
    assert (ROOT / "libs" / "vttest" / "__init__.py").exists()


def test_vtkit_imports_no_service_tool_or_test_support() -> None:
    assert violations(ROOT / "libs" / "vtkit", set(SERVICES) | set(TOOLS) | TEST_SUPPORT) == []


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_a_service_imports_no_other_service_no_tool_and_no_test_support(service: str) -> None:
    others = set(SERVICES) - {service}
    assert violations(SERVICES[service], others | set(TOOLS) | TEST_SUPPORT) == []


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_a_tool_imports_no_service_and_no_test_support(tool: str) -> None:
    assert violations(TOOLS[tool], set(SERVICES) | TEST_SUPPORT) == []


def test_the_check_sees_imports_inside_functions(tmp_path: pathlib.Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from vttest.radar import Watcher\n    import ops.cli\n")
    assert imports(module) == {"os", "vttest", "ops"}
