"""The BRP register file: BSN -> current home address, a JSON file the BRP simulator (tools/simulators, `python -m
simulators.brp --register`) and a test or `make run` fill, and the notifier (notifier.adapters.brp,
NOTIFIER_BRP_REGISTER) reads. Here, not in the simulator, because a service runs with it: a service's image holds
vtkit, never tools/."""

from __future__ import annotations

import json
import os
import pathlib
from dataclasses import asdict, dataclass

from stdnum.nl import bsn as stdnum_bsn


@dataclass(frozen=True)
class BrpAddress:
    """A person's home address as the BRP has it (verblijfplaats), with its municipality (CBS code)."""
    street: str
    house_number: str
    postcode: str
    city: str
    municipality_code: str = ""


class BrpRegister:
    """The simulator's register of persons: BSN -> current home address, in a JSON file (written whole, replaced
    atomically) so a test or `make run` can fill it and the notifier, another process, reads it. Re-read on each
    look-up: small, and a move shows at once."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = pathlib.Path(path)

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return data if isinstance(data, dict) else {}

    def register(self, bsn: str, address: BrpAddress) -> None:
        data = self._read()
        data[stdnum_bsn.validate(bsn)] = asdict(address)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self.path)

    def address_of(self, bsn: str) -> BrpAddress | None:
        row = self._read().get(bsn.strip())
        if not isinstance(row, dict):
            return None
        return BrpAddress(**{k: str(row.get(k, "")) for k in ("street", "house_number", "postcode", "city",
                                                              "municipality_code")})
