"""What a package imports, read from its source with `ast` (every import statement, also those inside functions):
the one scanner behind the layering test and scripts/gen_requirements.py."""

from __future__ import annotations

import ast
import pathlib


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
    """A package's modules without its tests (libs/vtkit/tests is test code next to the package)."""
    return [f for f in sorted(package.rglob("*.py")) if "tests" not in f.relative_to(package).parts]
