"""The BRP as the notifier's AddressBook: here the BRP simulator's register (vtkit.brp_register.BrpRegister,
a JSON file the BRP simulator fills; NOTIFIER_BRP_REGISTER). A real BRP client (e.g. the Haal Centraal BRP API)
would be another class with the same `address_of` (the address and its municipality code, for the household
letter and the municipality notice of an RvdK request)."""

from __future__ import annotations

import os

from vtkit.brp_register import BrpRegister

from notifier.domain.letter import Address


class BrpAddressBook:
    def __init__(self, path: str | os.PathLike[str]):
        self.register = BrpRegister(path)

    def address_of(self, bsn: str) -> Address | None:
        found = self.register.address_of(bsn)
        if found is None:
            return None
        return Address(found.street, found.house_number, found.postcode, found.city, source="brp",
                       municipality_code=found.municipality_code)
