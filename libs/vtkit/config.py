"""Environment-only configuration, parsed once into typed settings objects.

A service declares a frozen dataclass whose fields carry `env(...)` metadata (and `group(...)` for a settings
dataclass of its own, such as vtkit.kafka.KafkaSettings, read from the same environment); `vtkit.service.run_service`
calls `load_settings(cls)` at start. A missing required value stops it with a message naming every missing
variable, of the groups too; a dataclass's `__post_init__` checks what a single variable cannot (it raises
ConfigError).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")
_REQUIRED = object()


class ConfigError(SystemExit):
    """Raised (and exits the process) when the environment is incomplete or invalid."""


def env(name: str, default: Any = _REQUIRED, doc: str = "") -> Any:
    """A settings field read from environment variable `name`."""
    field_default = dataclasses.MISSING if default is _REQUIRED else default
    return dataclasses.field(default=field_default, metadata={"env": name, "doc": doc})


def group(cls: type[Any], doc: str = "") -> Any:
    """A settings field holding another settings dataclass (e.g. KafkaSettings), loaded from the same environment."""
    return dataclasses.field(metadata={"group": cls, "doc": doc})


def _convert(raw: str, kind: Any, name: str) -> Any:
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if kind in (bool, "bool"):
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(raw)
    except ValueError:
        raise ConfigError(f"configuration error: {name}={raw!r} is not a valid {getattr(kind, '__name__', kind)}") from None
    return raw


def _values(cls: type[Any], source: Mapping[str, str], missing: list[str]) -> dict[str, Any] | None:
    """The constructor arguments of `cls` from `source`; None (and the names in `missing`) when some are missing."""
    values: dict[str, Any] = {}
    complete = True
    for f in dataclasses.fields(cls):
        if (nested := f.metadata.get("group")) is not None:
            inner = _values(nested, source, missing)
            if inner is None:
                complete = False
            else:
                values[f.name] = nested(**inner)
            continue
        name = f.metadata.get("env")
        if name is None:
            continue
        if name in source:
            values[f.name] = _convert(source[name], f.type, name)
        elif f.default is dataclasses.MISSING:
            missing.append(name)
            complete = False
    return values if complete else None


def load_settings(cls: type[T], environ: Mapping[str, str] | None = None) -> T:
    source = os.environ if environ is None else environ
    missing: list[str] = []
    values = _values(cls, source, missing)  # type: ignore[arg-type]
    if values is None:
        raise ConfigError(f"configuration error: missing required environment variable(s): {', '.join(missing)}")
    return cls(**values)
