"""Break-glass through every real process (two intakes, the notifier, the fake case systems, the embedded broker): a
worker of region B reads region A's melding because it cannot wait. Only a region's system may, only with a
reason; the read is in A's access log as `emergency`, naming B's worker, and A's inbox (its privacy officer) gets an
item saying who read what, with the reason sealed under A's own key. Without a reason, B is refused as always."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import grpc
import pytest
from devstack.scenario import melding_request, random_bsn, submit_melding
from devstack.stack import Stack
from vt.intake.v1 import intake_service_pb2 as ipb
from vt.intake.v1 import intake_service_pb2_grpc
from vtkit import audit
from vtkit.auth import user_metadata
from vtkit.channels import Org, client_channel
from vtkit.keystore import KeyStore
from vttest import eventually

A, B = "gelderland-zuid", "twente"
REASON = "Kind nu in acuut gevaar bij opvang in onze regio; regio A niet bereikbaar in de nacht."


def inbox_items(record: pathlib.Path, case_id: str) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in record.read_text().splitlines() if line.strip()] if record.exists() else []
    return [r for r in rows if r.get("method") == "DeliverInboxItem" and r.get("case_id") == case_id
            and r.get("kind") == "EMERGENCY_ACCESS" and r.get("status") == "OK"]


async def test_another_region_reads_by_break_glass_only_with_a_reason_audited_and_told(
        kafka: str, tmp_path: pathlib.Path) -> None:
    stack = Stack(kafka, tmp_path / "var", tenants=(A, B))
    stack.plan()
    try:
        await stack.start()
        keys = KeyStore(stack.key_dir)
        intake_a = stack.processes[f"intake-{A}"].address
        case_id = (await submit_melding(intake_a, Org(keys, A), melding_request(random_bsn()))).contact_id

        async def get(tenant: str, reason: str, role: str = "region") -> ipb.GetContactResponse:
            async with client_channel(intake_a, keys, tenant, role) as channel:
                reply: ipb.GetContactResponse = await intake_service_pb2_grpc.IntakeServiceStub(channel).GetContact(
                    ipb.GetContactRequest(contact_id=case_id, purpose="spoed", emergency_reason=reason),
                    metadata=user_metadata("w-2207", "jeugdarts"), timeout=10)
                return reply

        for tenant, role, reason, code in ((B, "region", "", grpc.StatusCode.PERMISSION_DENIED),
                                           (B, "region", "te kort", grpc.StatusCode.INVALID_ARGUMENT),
                                           ("national", "operations", REASON, grpc.StatusCode.PERMISSION_DENIED)):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await get(tenant, reason, role)
            assert err.value.code() == code, (tenant, role, reason)
        contact = await get(B, REASON)
        assert contact.contact_id == case_id and contact.kind == ipb.CONTACT_KIND_MELDING

        record = tmp_path / "var" / "data" / f"regional-system-{A}.jsonl"
        [item] = await eventually(lambda: _found(lambda: inbox_items(record, case_id)), timeout=60, truthy=False)
    finally:
        stack.stop()
    assert (item["by_tenant"], item["by_user"], item["tenant_id"]) == (B, "w-2207", A)
    assert item["reason_key_id"].startswith(f"{A}:")  # sealed under A's own key, not readable by B or the notifier
    log = tmp_path / "var" / "data" / f"audit-intake-{A}.jsonl"
    records = [r for r in audit.read(log) if r["subject"].get("contact_id") == case_id]
    emergency = [r for r in records if r["action"] == "emergency"]
    assert len(emergency) == 1 and emergency[0]["who"]["user"] == "w-2207/jeugdarts@" + B
    assert emergency[0]["purpose"] == REASON and emergency[0]["who"]["tenant"] == B
    denied = [(r["who"]["tenant"], r["detail"]) for r in records if r["action"] == "denied"]
    assert (B, "permission_denied") in denied and ("national", "permission_denied") in denied
    assert audit.verify(log, keys).ok


async def _found(check: Any) -> Any:
    found = check()
    assert found, "not yet"
    return found
