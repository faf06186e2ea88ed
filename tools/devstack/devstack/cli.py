"""`vt`: a small command line for the local stack (`make run` must be running).

  python -m devstack.cli demo                      the cross-region melding, step by step
  python -m devstack.cli melding --tenant T --bsn N  submit one melding to a region's intake
  python -m devstack.cli status                    where each service listens
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import pathlib
import sys

import grpc
from aiokafka.errors import KafkaConnectionError
from vtkit.keystore import KeyStore

from devstack.processes import ROOT


def _stack(var_dir: pathlib.Path) -> dict[str, object]:
    path = var_dir / "stack.json"
    if not path.exists():
        sys.exit(f"{path} not found: start the suite first with `make run` (in another terminal)")
    return dict(json.loads(path.read_text()))


async def _demo(info: dict[str, object], var_dir: pathlib.Path) -> None:
    from devstack.demo import cross_region_scenario

    tenants = list(info["tenants"])  # type: ignore[call-overload]
    if len(tenants) < 2:
        sys.exit("the demo needs two regions (VT_DEMO_TENANTS)")
    a, b = tenants[0], tenants[1]
    services: dict[str, str] = info["services"]  # type: ignore[assignment]
    print(f"Region A = {a}, region B = {b}; one child, one BSN, two meldingen.")
    result = await cross_region_scenario(
        str(info["kafka"]), KeyStore(str(info["key_dir"])), a, b, services[f"intake-{a}"], services[f"intake-{b}"],
        str(var_dir / "data" / f"regional-system-{a}.jsonl"),
        report=lambda text, seconds: print(f"  [{seconds:6.2f}s] {text}"), radar=services["radar"])
    print(f"From region A's submission to the callback at its regional system: {result.seconds_to_callback:.2f}s")


async def _melding(info: dict[str, object], tenant: str, bsn: str, acute: bool) -> None:
    from vtkit.channels import Org

    from devstack.scenario import melding_request, submit_melding

    services: dict[str, str] = info["services"]  # type: ignore[assignment]
    if f"intake-{tenant}" not in services:
        sys.exit(f"no intake for {tenant!r} in this stack; running: {sorted(services)}")
    reply = await submit_melding(services[f"intake-{tenant}"], Org(KeyStore(str(info["key_dir"])), tenant),
                                 melding_request(bsn, acute=acute))
    print(json.dumps({"contact_id": reply.contact_id, "reference": reply.reference, "same_day": reply.same_day,
                      "person_ids": list(reply.person_ids)}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vt", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--var-dir", default=str(ROOT / "var"))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo")
    sub.add_parser("status")
    melding = sub.add_parser("melding")
    melding.add_argument("--tenant", required=True)
    melding.add_argument("--bsn", required=True)
    melding.add_argument("--acute", action="store_true")
    args = parser.parse_args(argv)
    var_dir = pathlib.Path(args.var_dir)
    info = _stack(var_dir)
    if args.command == "status":
        print(json.dumps(info, indent=2))
    elif args.command == "demo":
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a broker that is gone is told below, once
        try:
            asyncio.run(_demo(info, var_dir))
        except KafkaConnectionError:
            # var/stack.json outlives the suite it describes: say so in one line, not a traceback.
            sys.exit(f"cannot reach the broker at {info.get('kafka')}: is `make run` still running?")
        except grpc.aio.AioRpcError as exc:
            sys.exit(f"the suite answered {exc.code().name}: {exc.details()} (is `make run` still running?)")
    else:
        try:
            asyncio.run(_melding(info, args.tenant, args.bsn, args.acute))
        except grpc.aio.AioRpcError as exc:
            sys.exit(f"refused: {exc.code().name}: {exc.details()}")


if __name__ == "__main__":
    main()
