"""RadarService on a real gRPC server (mutual TLS, loopback): refusals carry a google.rpc.BadRequest naming the
field besides the message text, and ListOverdue pages through every overdue deadline exactly once
(vtkit.grpcerrors, vtkit.paging; docs/architecture.md, "Errors" and "Paging")."""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import grpc
import pytest
from radar.adapters import proto
from radar.domain.cases import CaseRecord
from radar.domain.model import PersonHistory
from radar.grpc_api import SERVICE_NAME, RadarApi
from radar.handlers import Radar
from radar.outputs import Out
from vt.common.v1 import common_pb2
from vt.radar.v1 import events_pb2
from vt.radar.v1 import radar_service_pb2 as rpb
from vt.radar.v1 import radar_service_pb2_grpc as rgrpc
from vtkit.audit import AuditLog
from vtkit.channels import client_channel
from vtkit.grpcerrors import field_violations
from vtkit.keystore import KeyStore
from vttest import serving

TENANT = "utrecht"
PAST = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)  # every deadline below has passed


class Cases:
    def __init__(self, records: Iterable[CaseRecord]):
        self.records = {r.case_id: r for r in records}

    def case(self, case_id: str) -> CaseRecord | None:
        return self.records.get(case_id)

    def person(self, pseudonym: str) -> PersonHistory | None:
        return None

    async def case_chunks(self, may_count: Callable[[dict[str, Any]], bool]) -> AsyncIterator[list[CaseRecord]]:
        records = [r for r in self.records.values() if may_count(r.to_dict())]
        for start in range(0, len(records), 2):  # small chunks: the figures of several add up
            yield records[start:start + 2]

    def open_cases(self) -> Iterable[CaseRecord]:
        return [r for r in self.records.values() if r.has_open_work]


def overdue_cases() -> list[CaseRecord]:
    """Nine overdue deadlines of utrecht: three cases due at the same moment (the case id breaks the tie), one
    with both its assessment and its onderzoek at the same moment (the kind breaks it), and later ones; and one of
    another region."""
    records = [CaseRecord(TENANT, f"same-{i}", due_at=PAST) for i in (2, 0, 1)]
    records.append(CaseRecord(TENANT, "both", due_at=PAST, onderzoek_due_at=PAST))
    records += [CaseRecord(TENANT, f"later-{i}", due_at=PAST + dt.timedelta(days=i + 1)) for i in range(4)]
    records.append(CaseRecord("drenthe", "theirs", due_at=PAST))
    return records


@pytest.fixture()
async def address(tmp_path: pathlib.Path, keys: KeyStore) -> AsyncIterator[str]:
    async def commit(outputs: list[Out]) -> None:
        raise AssertionError("no test here writes an event")

    radar = Radar(keys.seal_opener("radar"), keys.pseudonymizer(), encoding=proto)
    audit = AuditLog(tmp_path / "audit.jsonl", "radar")
    async with serving(keys, "radar", rgrpc.add_RadarServiceServicer_to_server,
                       RadarApi(Cases(overdue_cases()), audit, radar, commit), SERVICE_NAME) as served:
        yield served


async def refusal(address: str, keys: KeyStore, method: str, request: object) -> grpc.aio.AioRpcError:
    async with client_channel(address, keys, TENANT) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await getattr(rgrpc.RadarServiceStub(channel), method)(request, timeout=10)
    return err.value


async def test_refusals_carry_a_bad_request_naming_the_field_and_keep_their_message(address: str,
                                                                                    keys: KeyStore) -> None:
    err = await refusal(address, keys, "RecordDecision", rpb.RecordDecisionRequest(case_id="same-0"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == "judgement: required: acute unsafety, structural unsafety or safe"
    assert field_violations(err) == [("judgement", "required: acute unsafety, structural unsafety or safe")]

    err = await refusal(address, keys, "GetNorms", rpb.GetNormsRequest(to=common_pb2.Date(year=2026, month=2, day=30)))
    assert err.details() == "to: not a calendar date" and field_violations(err) == [("to", "not a calendar date")]

    err = await refusal(address, keys, "ListOverdue", rpb.ListOverdueRequest(page_token="bm90IGEgdG9rZW4"))
    assert field_violations(err) == [("page_token", "not a next_page_token of ListOverdue")]


async def test_list_overdue_pages_through_every_deadline_exactly_once(address: str, keys: KeyStore) -> None:
    async with client_channel(address, keys, TENANT) as channel:
        stub = rgrpc.RadarServiceStub(channel)
        seen, token, pages = [], "", 0
        while True:
            reply = await stub.ListOverdue(rpb.ListOverdueRequest(page_size=2, page_token=token), timeout=10)
            assert len(reply.overdue) <= 2
            seen += [(o.case_id, o.kind) for o in reply.overdue]
            pages += 1
            if not (token := reply.next_page_token):
                break
        whole = await stub.ListOverdue(rpb.ListOverdueRequest(), timeout=10)
    assert [(o.case_id, o.kind) for o in whole.overdue] == seen and not whole.next_page_token
    assert seen == [("both", events_pb2.DEADLINE_KIND_ASSESSMENT), ("both", events_pb2.DEADLINE_KIND_ONDERZOEK),
                    ("same-0", events_pb2.DEADLINE_KIND_ASSESSMENT), ("same-1", events_pb2.DEADLINE_KIND_ASSESSMENT),
                    ("same-2", events_pb2.DEADLINE_KIND_ASSESSMENT)] + [(f"later-{i}", events_pb2.DEADLINE_KIND_ASSESSMENT)
                                                                 for i in range(4)]
    assert pages == 5
