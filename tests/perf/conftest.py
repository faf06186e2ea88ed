"""Benchmarks live in bench_*.py (collected here, marked `bench`, so `make test` deselects them)."""

from __future__ import annotations

import pathlib

import pytest


def pytest_collect_file(file_path: pathlib.Path, parent: pytest.Collector) -> pytest.Module | None:
    if file_path.suffix == ".py" and file_path.name.startswith("bench_"):
        return pytest.Module.from_parent(parent, path=file_path)
    return None
