"""NotifierService: delivery queries, always limited to the authenticated caller's tenant."""

from __future__ import annotations

import datetime as dt

import grpc
from vt.notifier.v1 import notifier_service_pb2, notifier_service_pb2_grpc
from vtkit.auth import caller
from vtkit.calendar import AMSTERDAM

from notifier.adapters import proto
from notifier.store import Store

SERVICE_NAME = "vt.notifier.v1.NotifierService"


class NotifierApi(notifier_service_pb2_grpc.NotifierServiceServicer):
    def __init__(self, store: Store):
        self.store = store

    async def ListDeliveries(self, request: notifier_service_pb2.ListDeliveriesRequest,
                             context: grpc.aio.ServicerContext) -> notifier_service_pb2.ListDeliveriesResponse:
        # The tenant comes from the credential, never from the request (design.md, tenancy).
        tenant = caller().tenant
        rows = self.store.list_for_tenant(tenant, proto.states_from_proto(request.state), request.case_id)
        # Deadlines are Amsterdam calendar days: "overdue" flips at local midnight, not UTC midnight.
        today = dt.datetime.now(AMSTERDAM).date()
        return proto.list_response(rows, today)
