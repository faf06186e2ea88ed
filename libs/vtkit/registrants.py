"""Registrant organisations of the verwijsindex: the professionals' organisations (school, GP, police, youth
care...) that register signals (docs/domain.md section 6), each with its own client certificate (vtkit.pki).

How a certificate names one (vtkit.pki.identity_subject):
  O=<organisation id>   "<register>-<code>": the organisation's number in a Dutch identifier register
                        (REGISTERS), e.g. "brin-01ab" for a school. It is the caller's tenant and the
                        verwijsindex's registrant id. The register prefix and the digit keep it apart from every
                        VT region's id, so no service that scopes by tenant can mistake a school for a region
                        (vtkit.pki.identity_from_pem refuses the overlap besides).
  OU=registrant         the role
  CN=<id>/registrant    as for every organisation certificate
  businessCategory=<sector>
                        X.520's attribute for the kind of business an organisation does (OID 2.5.4.15): one of
                        SECTORS, the seven sectors of Jeugdwet 7.1.4.1. An attribute of its own, not part of the
                        id, so the id stays the organisation's register number and the sector is read, never
                        parsed.

The example organisations `make certs` issues are configuration (registrants.toml, or VT_REGISTRANTS_FILE).
"""

from __future__ import annotations

import functools
import os
import pathlib
import re
import tomllib
from dataclasses import dataclass

REGISTRANT_ROLE = "registrant"
# The seven sectors whose officials may register (Jeugdwet 7.1.4.1; the verwijsindex's Sector values).
SECTORS = ("youth_care", "youth_health_care", "health_care", "education", "social_support", "work_and_income",
           "police_and_justice")
# brin: DUO (schools), agb: Vektis (care providers), kvk: Kamer van Koophandel, oin: Logius (public bodies).
REGISTERS = ("brin", "agb", "kvk", "oin")
_ID = re.compile(r"^(?:" + "|".join(REGISTERS) + r")-(?=[a-z0-9]*[0-9])[a-z0-9]{2,32}$")
_BUNDLED = pathlib.Path(__file__).with_name("registrants.toml")


@dataclass(frozen=True)
class RegistrantOrganisation:
    id: str
    sector: str
    name: str


def valid_organisation_id(value: str) -> bool:
    return bool(_ID.match(value))


@functools.cache
def _load(path: str) -> tuple[RegistrantOrganisation, ...]:
    data = tomllib.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    found: dict[str, RegistrantOrganisation] = {}
    for row in data.get("registrant", []):
        org = RegistrantOrganisation(id=str(row["id"]), sector=str(row["sector"]), name=str(row.get("name", "")))
        if not valid_organisation_id(org.id):
            raise ValueError(f"{path}: registrant id {org.id!r} must be <register>-<code> with register one of "
                             f"{', '.join(REGISTERS)} and a code of lower-case letters and digits")
        if org.sector not in SECTORS:
            raise ValueError(f"{path}: registrant {org.id!r} has sector {org.sector!r}, not one of {', '.join(SECTORS)}")
        if org.id in found:
            raise ValueError(f"{path}: registrant id {org.id!r} appears twice")
        found[org.id] = org
    return tuple(found.values())


def registrant_organisations() -> tuple[RegistrantOrganisation, ...]:
    return _load(os.environ.get("VT_REGISTRANTS_FILE", str(_BUNDLED)))


def example(sector: str, n: int = 0) -> RegistrantOrganisation:
    """The n-th configured organisation of `sector` (for tests, the demo and the load generator)."""
    return [o for o in registrant_organisations() if o.sector == sector][n]
