"""NotifierService on a real gRPC server (mutual TLS, loopback): refusals carry a google.rpc.BadRequest naming the
field besides the message text, and ListDeliveries pages through every delivery exactly once (vtkit.grpcerrors,
vtkit.paging; docs/architecture.md, "Errors" and "Paging")."""

from __future__ import annotations

import datetime as dt
import pathlib

import grpc
import pytest
from notifier.domain import Delivery, DeliveryKind
from notifier.grpc_api import SERVICE_NAME, NotifierApi
from notifier.store import Store
from vt.notifier.v1 import notifier_service_pb2 as npb
from vt.notifier.v1 import notifier_service_pb2_grpc
from vtkit.channels import client_channel
from vtkit.grpcerrors import field_violations
from vtkit.keystore import KeyStore
from vttest import serving

TENANT = "utrecht"
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def delivery(key: str, tenant: str = TENANT, created_at: dt.datetime = NOW) -> Delivery:
    return Delivery(key=key, kind=DeliveryKind.MELDER_CALLBACK, tenant_id=tenant, case_id=f"case-{key}",
                    cause_event_id=f"e-{key}", due_date=dt.date(2026, 3, 9), created_at=created_at,
                    deliver_after=created_at, body=b"\x00body")


@pytest.fixture()
def store(tmp_path: pathlib.Path) -> Store:
    return Store(tmp_path / "notifier.sqlite3")


async def call(keys: KeyStore, store: Store, method: str, request: object) -> object:
    async with serving(keys, "notifier", notifier_service_pb2_grpc.add_NotifierServiceServicer_to_server,
                       NotifierApi(store), SERVICE_NAME) as address, client_channel(address, keys, TENANT) as channel:
        return await getattr(notifier_service_pb2_grpc.NotifierServiceStub(channel), method)(request, timeout=10)


async def refusal(keys: KeyStore, store: Store, method: str, request: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(keys, store, method, request)
    return err.value


async def test_an_invalid_argument_carries_a_bad_request_naming_the_field_and_keeps_its_message(
        keys: KeyStore, store: Store) -> None:
    err = await refusal(keys, store, "PostponeLetter", npb.PostponeLetterRequest(case_id="c1", weeks=5, reason="x"))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.details() == "a postponement is 1 to 2 weeks, not 5"  # the text clients read is unchanged
    assert field_violations(err) == [("weeks", "a postponement is 1 to 2 weeks, not 5")]

    err = await refusal(keys, store, "ConfirmMelderContacted", npb.ConfirmMelderContactedRequest(case_id="c1"))
    assert err.details() == "outcome: required: contacted or not reached"
    assert field_violations(err) == [("outcome", "required: contacted or not reached")]


@pytest.mark.parametrize("method,request_", [
    ("ListDeliveries", npb.ListDeliveriesRequest(page_token="not-a-token")),
    ("ListInbox", npb.ListInboxRequest(page_token="not-a-token")),
])
async def test_a_bad_page_token_names_the_field(keys: KeyStore, store: Store, method: str, request_: object) -> None:
    err = await refusal(keys, store, method, request_)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and (err.details() or "").startswith("page_token: ")
    [(field, rule)] = field_violations(err)
    assert field == "page_token" and rule == f"not a next_page_token of {method}"


async def test_a_page_size_over_the_maximum_names_the_field(keys: KeyStore, store: Store) -> None:
    err = await refusal(keys, store, "ListDeliveries", npb.ListDeliveriesRequest(page_size=501))
    assert [f for f, _ in field_violations(err)] == ["page_size"]


async def test_list_deliveries_pages_through_every_delivery_exactly_once(keys: KeyStore, store: Store) -> None:
    # Seven share one created_at (the key breaks the tie), three are later; another region's never shows.
    keys_made = [f"k{i}" for i in range(7)]
    for key in reversed(keys_made):
        store.add(delivery(key))
    for i in range(3):
        store.add(delivery(f"later-{i}", created_at=NOW + dt.timedelta(seconds=i + 1)))
        store.add(delivery(f"other-{i}", tenant="drenthe"))
    seen: list[str] = []
    token, pages = "", 0
    async with serving(keys, "notifier", notifier_service_pb2_grpc.add_NotifierServiceServicer_to_server,
                       NotifierApi(store), SERVICE_NAME) as address, client_channel(address, keys, TENANT) as channel:
        stub = notifier_service_pb2_grpc.NotifierServiceStub(channel)
        while True:
            reply = await stub.ListDeliveries(npb.ListDeliveriesRequest(page_size=3, page_token=token), timeout=10)
            assert len(reply.deliveries) <= 3
            seen += [d.case_id.removeprefix("case-") for d in reply.deliveries]
            pages += 1
            if not (token := reply.next_page_token):
                break
            store.add(delivery(f"new-{pages}", created_at=NOW - dt.timedelta(days=1)))  # before the cursor: not shown
        whole = await stub.ListDeliveries(npb.ListDeliveriesRequest(), timeout=10)  # page_size 0: the default, 100
    assert seen == sorted(keys_made) + ["later-0", "later-1", "later-2"] and pages == 4
    assert len(whole.deliveries) == 10 + pages - 1 and not whole.next_page_token
