"""A small simulator of the BRP (Basisregistratie Personen) feed the verwijsindex needs.

Publishes vt.verwijsindex.v1.HouseholdFacts records to vt.national.brp.v1 with the record
envelope, key = the youth's opaque BRP reference. The youth's BSN, the home address and the
parents' BSNs are sealed to the verwijsindex (only it can open them).

    python -m simulators.brp --bsn 111222333 --address "3511 AB 12" --municipality GM0344 \\
        --parent 123456782 [--institution] [--died 2026-11-22] [--person-ref REF]
Broker and keys come from KAFKA_BOOTSTRAP_SERVERS and VT_KEY_DIR (or --bootstrap, --key-dir).

It also answers the one BRP question the notifier asks: where does a person live (`BrpRegister.address_of`,
BSN -> street, house number, postcode, city and municipality code), for the household letter and for the
municipality notice of an RvdK request. The register is a JSON file shared by
the processes of a stack (VT_BRP_REGISTER or --register; the notifier reads NOTIFIER_BRP_REGISTER). With
--street and --city the youth's address is recorded there as well as published:

    python -m simulators.brp --bsn 111222333 --address "8901 AB 12" --street Dorpsstraat \
        --city Leeuwarden --municipality GM0080 --register var/data/brp-register.json
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import uuid
from collections.abc import Sequence

from stdnum.nl import bsn as stdnum_bsn
from vt.common.v1 import common_pb2
from vt.verwijsindex.v1 import events_pb2 as vi_events
from vtkit import topics
from vtkit.brp_register import BrpAddress, BrpRegister  # noqa: F401  (the register this simulator fills)
from vtkit.crypto import seal
from vtkit.keystore import KeyStore
from vtkit.signing import Signers

from simulators import publish_feed

SOURCE = "brp-simulator"
RECIPIENT = "verwijsindex"


def sealed_for_verwijsindex(keys: KeyStore, plaintext: bytes) -> common_pb2.SealedIdentifier:
    sealed = seal(plaintext, RECIPIENT, keys.seal_public(RECIPIENT))
    return common_pb2.SealedIdentifier(recipient=sealed.recipient, ephemeral_public_key=sealed.ephemeral_public_key,
                                       nonce=sealed.nonce, ciphertext=sealed.ciphertext)


def person_ref_for(bsn: str) -> str:
    """Stand-in for the BRP's own reference of a person: stable within one simulator process
    (so facts about one youth share a key and stay in order) and not derivable from the BSN
    elsewhere (the namespace is random per process). Pass `person_ref` to keep it across runs."""
    return str(uuid.uuid5(_RUN_NAMESPACE, bsn))


_RUN_NAMESPACE = uuid.uuid4()


def build_facts(keys: KeyStore, bsn: str, address: str, municipality_code: str, *, parents: Sequence[str] = (),
                institution: bool = False, date_of_death: dt.date | None = None, person_ref: str | None = None,
                observed_at: dt.datetime | None = None) -> vi_events.HouseholdFacts:
    bsn = stdnum_bsn.validate(bsn)
    facts = vi_events.HouseholdFacts(
        person_ref=person_ref or person_ref_for(bsn),
        youth=sealed_for_verwijsindex(keys, f"bsn:{bsn}".encode()),
        home_address=sealed_for_verwijsindex(keys, address.encode()),
        institution_address=institution,
        parents=[sealed_for_verwijsindex(keys, f"bsn:{stdnum_bsn.validate(p)}".encode()) for p in parents],
        municipality_code=municipality_code)
    if date_of_death is not None:
        facts.date_of_death.CopyFrom(common_pb2.Date(year=date_of_death.year, month=date_of_death.month,
                                                     day=date_of_death.day))
    facts.observed_at.FromDatetime(observed_at or dt.datetime.now(dt.UTC))
    return facts


async def publish_facts(bootstrap: str, facts: Sequence[vi_events.HouseholdFacts], keys: KeyStore) -> list[str]:
    """Publish facts (key = person_ref) in order, signed as the BRP (the verwijsindex acts only on signed ones),
    waiting for each ack; returns their event ids."""
    return await publish_feed(bootstrap, topics.NATIONAL_BRP, SOURCE, [(item.person_ref, item) for item in facts],
                              Signers(keys.root).headers)


async def publish_household_facts(bootstrap: str, keys: KeyStore, bsn: str, address: str, municipality_code: str,
                                  **options: object) -> str:
    """Publish the household facts of one youth (options as in `build_facts`); returns the event id."""
    facts = build_facts(keys, bsn, address, municipality_code, **options)  # type: ignore[arg-type]
    (event_id,) = await publish_facts(bootstrap, [facts], keys)
    return event_id


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m simulators.brp", description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--key-dir", default=os.environ.get("VT_KEY_DIR"))
    parser.add_argument("--bsn", required=True, help="the youth's BSN")
    parser.add_argument("--address", required=True, help='home address as "<postcode> <house number>[<addition>]"')
    parser.add_argument("--municipality", required=True, help="CBS municipality code, e.g. GM0344")
    parser.add_argument("--parent", action="append", default=[], help="a parent's BSN (repeatable)")
    parser.add_argument("--institution", action="store_true", help="the address is an institution address")
    parser.add_argument("--died", type=dt.date.fromisoformat, default=None, help="date of death, YYYY-MM-DD")
    parser.add_argument("--person-ref", default=None, help="the youth's BRP reference (the record key)")
    parser.add_argument("--street", default="", help="street of the home address (for the register)")
    parser.add_argument("--city", default="", help="city of the home address (for the register)")
    parser.add_argument("--register", default=os.environ.get("VT_BRP_REGISTER"),
                        help="also record the youth's address in this register file (needs --street and --city)")
    args = parser.parse_args(argv)
    if not args.bootstrap or not args.key_dir:
        parser.error("set KAFKA_BOOTSTRAP_SERVERS and VT_KEY_DIR (or --bootstrap and --key-dir)")
    keys = KeyStore(args.key_dir)
    facts = build_facts(keys, args.bsn, args.address, args.municipality, parents=args.parent,
                        institution=args.institution, date_of_death=args.died, person_ref=args.person_ref)
    if args.register:
        if not args.street or not args.city:
            parser.error("--register needs --street and --city")
        postcode, _, number = args.address.rpartition(" ")
        BrpRegister(args.register).register(args.bsn, BrpAddress(args.street, number, postcode, args.city,
                                                                 args.municipality))
    (event_id,) = asyncio.run(publish_facts(args.bootstrap, [facts], keys))
    print(event_id, facts.person_ref, facts.municipality_code)


if __name__ == "__main__":
    main()
