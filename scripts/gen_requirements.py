"""Writes requirements/<service>.txt: what one service's image installs, pinned as in requirements/dev.lock.

A service's runtime set is the distributions of the third-party imports of its package (services/<s>/<s>), of
libs/vtkit and of the generated protos (libs/vtproto), plus what it loads without an import (RUNTIME_EXTRA), and
every dependency of those (their metadata, markers evaluated for this interpreter), at the dev lock's versions.
Test and tool packages (pytest, hypothesis, mypy, playwright, ...) never get in: nothing at run time imports them.

    python scripts/gen_requirements.py           write the files
    python scripts/gen_requirements.py --check   exit 1 when a file differs from what would be written

Run it in the venv `make venv` built (the distributions' metadata comes from there).
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import pathlib
import re
import sys

from packaging.requirements import Requirement

ROOT = pathlib.Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "dev.lock"
SERVICES = ("intake", "radar", "verwijsindex", "notifier", "ops")
# Loaded by name, not imported: radar's faust table store rocksdb:// runs on the rocksdict driver (radar.settings).
RUNTIME_EXTRA = {"radar": ("rocksdict",)}
# vtkit imports these inside a function, for one service only (never at module level): not every image needs them.
VTKIT_OPTIONAL = {"faust": "radar"}  # vtkit.kafka.KafkaSettings.faust_credentials


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins() -> dict[str, str]:
    """canonical name -> the lock's line (name==version, spelt as in the lock)."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, _ = line.partition("==")
            pins[canonical(name)] = line
    return pins


def imports(path: pathlib.Path, module_level_only: bool = False) -> set[str]:
    """Top-level names of the absolute imports in a file (only the module-level ones if asked)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    names = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def runtime_files(package: pathlib.Path) -> list[pathlib.Path]:
    return [f for f in sorted(package.rglob("*.py")) if "tests" not in f.relative_to(package).parts]


def third_party(names: set[str]) -> set[str]:
    """The names that are neither the standard library nor the suite's own packages (vtkit, vt, the services)."""
    own = {"vtkit", "vt", "__future__", *SERVICES}
    return {n for n in names if n not in sys.stdlib_module_names and n not in own}


def imported_by(service: str) -> set[str]:
    """The third-party top-level modules `service` imports at run time, through vtkit and the protos too."""
    vtkit: set[str] = set()
    for f in runtime_files(ROOT / "libs" / "vtkit"):
        vtkit |= imports(f)
    names = vtkit - {m for m, user in VTKIT_OPTIONAL.items() if user != service}
    for f in runtime_files(ROOT / "services" / service / service):
        names |= imports(f)
    for f in sorted((ROOT / "libs" / "vtproto").rglob("*.py")):
        names |= imports(f)
    return third_party(names)


def distributions_of(modules: set[str]) -> set[str]:
    """Canonical distribution names providing the modules (every one, for a shared namespace such as google)."""
    mapping = md.packages_distributions()
    missing = sorted(m for m in modules if m not in mapping)
    if missing:
        raise SystemExit(f"no installed distribution provides {missing}: run `make venv`")
    return {canonical(d) for m in modules for d in mapping[m]}


def closure(roots: set[str]) -> set[str]:
    """The roots and all their dependencies (markers evaluated here, no extras)."""
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for spec in md.requires(name) or []:
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            todo.append(canonical(req.name))
    return seen


def runtime_set(service: str) -> list[str]:
    pins = lock_pins()
    names = closure(distributions_of(imported_by(service)) | {canonical(n) for n in RUNTIME_EXTRA.get(service, ())})
    unpinned = sorted(n for n in names if n not in pins)
    if unpinned:
        raise SystemExit(f"{service}: {unpinned} not pinned in {LOCK.relative_to(ROOT)}")
    return sorted((pins[n] for n in names), key=str.lower)


def render(service: str) -> str:
    return (f"# {service}'s runtime set: what services/{service}/Dockerfile installs. Generated by\n"
            f"# scripts/gen_requirements.py from the imports of services/{service}/{service}, libs/vtkit and libs/vtproto,\n"
            "# pinned as in requirements/dev.lock; do not edit by hand.\n"
            + "\n".join(runtime_set(service)) + "\n")


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for service in SERVICES:
        path = ROOT / "requirements" / f"{service}.txt"
        text = render(service)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.write_text(text)
    if stale:
        print(f"out of date (run `python scripts/gen_requirements.py`): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
