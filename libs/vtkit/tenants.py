"""The VT organisations (tenants), loaded once from configuration.

VT_TENANTS_FILE points at another TOML file of the same shape (for a merger or
split); by default the bundled tenants.toml with the 25 organisations is used.
"""

from __future__ import annotations

import functools
import os
import pathlib
import re
import tomllib
from dataclasses import dataclass

_BUNDLED = pathlib.Path(__file__).with_name("tenants.toml")
_ID = re.compile(r"^[a-z][a-z0-9-]{1,48}[a-z0-9]$")


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    region: int
    # Optional: who the household letter names as contact person ("Team Noord" or a person's name); empty:
    # the letter says that a contact person will call.
    letter_contact: str = ""


class UnknownTenant(LookupError):
    pass


@functools.cache
def _load(path: str) -> dict[str, Tenant]:
    data = tomllib.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    tenants: dict[str, Tenant] = {}
    for row in data.get("tenant", []):
        tenant = Tenant(id=str(row["id"]), name=str(row["name"]), region=int(row["region"]),
                        letter_contact=str(row.get("letter_contact", "")).strip())
        if not _ID.match(tenant.id):
            raise ValueError(f"{path}: tenant id {tenant.id!r} must be a lower-case slug")
        if tenant.id in tenants:
            raise ValueError(f"{path}: tenant id {tenant.id!r} appears twice")
        tenants[tenant.id] = tenant
    if not tenants:
        raise ValueError(f"{path}: no [[tenant]] entries")
    return tenants


def all_tenants() -> dict[str, Tenant]:
    return _load(os.environ.get("VT_TENANTS_FILE", str(_BUNDLED)))


def get_tenant(tenant_id: str) -> Tenant:
    try:
        return all_tenants()[tenant_id]
    except KeyError:
        raise UnknownTenant(f"unknown tenant {tenant_id!r}") from None
