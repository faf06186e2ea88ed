"""A fake regional case system: a real gRPC server implementing vt.notifier.v1.RegionalCallbackService.

It stands in for a VT region's own case system in tests and in the local stack. Every call is
recorded (in memory in `.calls`, and as one JSON line appended to RECORD_FILE when set), so a test
can count what actually arrived. A repeated idempotency key is acknowledged, as a real receiver
must do, but recorded with "duplicate": true so tests can see redeliveries.

Failure injection (env or constructor): FAIL_FIRST=N answers UNAVAILABLE to the first N calls of each method for
each case (other cases' calls, e.g. of other tests on a shared broker, do not use them up),
FAIL_PERMANENT=1 answers INVALID_ARGUMENT to every call. Failed calls are recorded too, with
"status" set to the code name, so a test can see the retries. DELAY_SECONDS=x records an accepted
call at once but answers only after x seconds, so a test can kill the caller mid-call.

A decision's callback (a DeliverCallback without due date) is a conversation the region's worker has with the melder;
with CONFIRM_VIA_NOTIFIER=<address> (constructor `confirm_via`) the fake plays that worker and confirms it at once with
NotifierService.ConfirmMelderContacted, as the region, retried while the notifier is away; the household letter
waits for that confirmation. The confirmation is recorded as a call of method "ConfirmMelderContacted".

DeliverInboxItem (the region inbox) is recorded with the item's kind, person ids and what it says (source of a
monitoring alert, the changes of an assessment input, the deadline); the team lead's escalated copy too.

DeliverBatch takes each of its deliveries as the single call of its kind (recorded as that method, with "batch": the
number of deliveries in the call) and answers one result per delivery; `batched=False` plays a receiver that does not
implement it yet (UNIMPLEMENTED), so the notifier's single calls can be seen.

Run standalone: `python -m simulators.regional_system` (env GRPC_PORT, RECORD_FILE, TENANT,
FAIL_FIRST, FAIL_PERMANENT, CONFIRM_VIA_NOTIFIER; VT_KEY_DIR for its certificates). Like every server of the suite it
requires mutual TLS (vtkit.grpcserver); the notifier, its only caller, calls as national/notifier. Any other
caller is refused with PERMISSION_DENIED, as the receiver contracts say (proto/vt/notifier/v1/receivers.proto), and
the refusal is recorded ("status": "PERMISSION_DENIED", "caller": who) like every other call.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import pathlib
from typing import Any, TextIO

import grpc
from vt.notifier.v1 import notifier_service_pb2, notifier_service_pb2_grpc, receivers_pb2, receivers_pb2_grpc
from vtkit.auth import caller
from vtkit.channels import OrgStubs
from vtkit.grpcserver import GrpcServer
from vtkit.keystore import KeyStore

log = logging.getLogger("regional_system")
SERVICE_NAME = "vt.notifier.v1.RegionalCallbackService"


def _date_iso(date: Any) -> str:
    if not date.year:
        return ""
    return dt.date(date.year, date.month, date.day).isoformat()


# Answers after which the worker tries the confirmation again (it is idempotent): the notifier was away, busy, or
# stopping (a stopping server ends the calls it still has with CANCELLED; a make chaos run once lost a household letter
# when the confirmation was given up after one).
CONFIRM_AGAIN = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.CANCELLED,
                           grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.ABORTED})


class FakeRegionalSystem(receivers_pb2_grpc.RegionalCallbackServiceServicer):
    # Subclasses playing another receiver (letter gateway, professional endpoint) override these.
    service_name = SERVICE_NAME
    add_to_server = staticmethod(receivers_pb2_grpc.add_RegionalCallbackServiceServicer_to_server)
    server_name = "regional-system"  # its certificate in <key_dir>/pki/servers/
    # Who may call a receiver (receivers.proto): the notifier's certificate only (O=national, OU=notifier).
    allowed_callers = frozenset({("national", "notifier")})

    def __init__(self, port: int = 0, record_file: str | os.PathLike[str] | None = None, tenant: str = "",
                 fail_first: int = 0, fail_permanent: bool = False, delay_seconds: float = 0.0,
                 keys: KeyStore | None = None, confirm_via: str = "", batched: bool = True):
        self.port = port
        self.batched = batched
        self.keys = keys  # None: the key dir of VT_KEY_DIR
        self.record_file = pathlib.Path(record_file) if record_file else None
        self.tenant = tenant
        self.fail_first = fail_first
        self.fail_permanent = fail_permanent
        self.delay_seconds = delay_seconds
        self.calls: list[dict[str, Any]] = []
        self._seen: set[str] = set()
        self._attempts: dict[tuple[str, str], int] = {}  # per method and case
        self._server: GrpcServer | None = None
        self.confirm_via = confirm_via
        # Accepted DeliverCallback requests as received (sealed fields included), for tests that open them.
        self.callbacks: list[receivers_pb2.DeliverCallbackRequest] = []
        self._confirming: set[asyncio.Task[None]] = set()
        self._records: TextIO | None = None  # the record file, opened at the first call

    @classmethod
    def from_env(cls) -> "FakeRegionalSystem":
        return cls(port=int(os.environ.get("GRPC_PORT", "0")), record_file=os.environ.get("RECORD_FILE") or None,
                   tenant=os.environ.get("TENANT", ""), fail_first=int(os.environ.get("FAIL_FIRST", "0")),
                   fail_permanent=os.environ.get("FAIL_PERMANENT", "") in ("1", "true", "yes"),
                   delay_seconds=float(os.environ.get("DELAY_SECONDS", "0")),
                   confirm_via=os.environ.get("CONFIRM_VIA_NOTIFIER", ""))

    async def start(self) -> str:
        self._server = GrpcServer(self.port, self.keys, self.server_name)
        self._server.add(self.add_to_server, self, [self.service_name])
        await self._server.start()
        log.info("listening", extra={"address": self.address, "tenant": self.tenant})
        return self.address

    @property
    def address(self) -> str:
        if self._server is None:
            raise RuntimeError("not started")
        return self._server.address

    async def stop(self, grace: float = 1.0) -> None:
        for task in self._confirming:
            task.cancel()
        await asyncio.gather(*self._confirming, return_exceptions=True)
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None
        if self._records is not None:
            self._records.close()
            self._records = None

    # -- queries for tests ------------------------------------------------------------------

    def accepted(self, case_id: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """Calls that were acknowledged (first deliveries and duplicates), optionally of one method."""
        return [c for c in self.calls if c["status"] == "OK" and (case_id is None or c["case_id"] == case_id)
                and method in (None, c["method"])]

    def attempts_of(self, case_id: str, method: str | None = None) -> list[dict[str, Any]]:
        """Every call for the case, failed ones included."""
        return [c for c in self.calls if c["case_id"] == case_id and method in (None, c["method"])]

    def distinct(self, case_id: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        """Acknowledged first deliveries only: what a real case system would have acted on."""
        return [c for c in self.accepted(case_id, method) if not c["duplicate"]]

    # -- RPCs -------------------------------------------------------------------------------

    async def DeliverCallback(self, request: receivers_pb2.DeliverCallbackRequest,
                              context: grpc.aio.ServicerContext) -> receivers_pb2.DeliverCallbackResponse:
        call = await self._receive("DeliverCallback", request, context, **_callback_fields(request))
        self._took_callback(request, call)
        return receivers_pb2.DeliverCallbackResponse()

    def _took_callback(self, request: receivers_pb2.DeliverCallbackRequest, call: dict[str, Any]) -> None:
        self.callbacks.append(request)
        # The worker calls the melder once, at the first delivery of the callback (not at a repeat of it). Decided
        # from this call's own record: scanning every earlier call made the fake's cost grow with its history.
        if self.confirm_via and not request.due_date.year and not call["duplicate"]:
            task = asyncio.create_task(self._confirm(request.tenant_id, request.case_id))
            self._confirming.add(task)
            task.add_done_callback(self._confirming.discard)

    async def _confirm(self, tenant: str, case_id: str) -> None:
        """The worker called the melder: tell the notifier, as the region (its certificate), until it answers."""
        keys = self.keys or KeyStore(os.environ["VT_KEY_DIR"])
        request = notifier_service_pb2.ConfirmMelderContactedRequest(
            case_id=case_id, outcome=notifier_service_pb2.MELDER_CONTACT_OUTCOME_CONTACTED)
        async with OrgStubs(self.confirm_via, keys, notifier_service_pb2_grpc.NotifierServiceStub) as stubs:
            for attempt in range(1, 10_000):
                # Recorded as the moment the call left (the notifier may send the letter before the answer is back).
                started = dt.datetime.now(dt.UTC).isoformat()
                try:
                    await stubs(tenant).ConfirmMelderContacted(request, timeout=10)
                    status = "OK"
                except grpc.aio.AioRpcError as exc:
                    status = exc.code().name
                    if exc.code() in CONFIRM_AGAIN:
                        await asyncio.sleep(min(0.5 * attempt, 5.0))
                        continue
                self._record({"method": "ConfirmMelderContacted", "caller": f"{tenant}/region", "idempotency_key": "",
                              "tenant_id": tenant, "case_id": case_id, "status": status, "duplicate": False,
                              "received": started})
                return

    async def DeliverRegisterMatch(self, request: receivers_pb2.DeliverRegisterMatchRequest,
                                   context: grpc.aio.ServicerContext) -> receivers_pb2.DeliverRegisterMatchResponse:
        await self._receive("DeliverRegisterMatch", request, context, **_register_match_fields(request))
        return receivers_pb2.DeliverRegisterMatchResponse()

    async def DeliverInboxItem(self, request: receivers_pb2.DeliverInboxItemRequest,
                               context: grpc.aio.ServicerContext) -> receivers_pb2.DeliverInboxItemResponse:
        key, fields = _inbox_fields(request.item)
        await self._receive("DeliverInboxItem", request.item, context, key=key, **fields)
        return receivers_pb2.DeliverInboxItemResponse()

    async def DeliverBatch(self, request: receivers_pb2.DeliverBatchRequest,
                           context: grpc.aio.ServicerContext) -> receivers_pb2.DeliverBatchResponse:
        """Each delivery as its single call would be taken, with one result each, in the order asked."""
        if not self.batched:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "Method not implemented!")
        await self._check_caller("DeliverBatch", request, context)
        size = len(request.deliveries)
        results = []
        for one in request.deliveries:
            kind = one.WhichOneof("delivery")
            if kind == "callback":
                call, detail = self._admit("DeliverCallback", one.callback, batch=size, **_callback_fields(one.callback))
                if call["status"] == "OK":
                    self._took_callback(one.callback, call)
            elif kind == "register_match":
                call, detail = self._admit("DeliverRegisterMatch", one.register_match, batch=size,
                                           **_register_match_fields(one.register_match))
            elif kind == "inbox_item":
                key, fields = _inbox_fields(one.inbox_item.item)
                call, detail = self._admit("DeliverInboxItem", one.inbox_item.item, key=key, batch=size, **fields)
            else:
                results.append(receivers_pb2.DeliveryResult(code=grpc.StatusCode.INVALID_ARGUMENT.value[0],
                                                            message="a delivery of no kind"))
                continue
            results.append(receivers_pb2.DeliveryResult(code=getattr(grpc.StatusCode, call["status"]).value[0],
                                                        message=detail))
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        return receivers_pb2.DeliverBatchResponse(results=results)

    def inbox(self, case_id: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Inbox items acknowledged at first delivery (no repeats), optionally of one case and kind."""
        return [c for c in self.distinct(case_id, "DeliverInboxItem") if kind in (None, c["kind"])]

    async def _receive(self, method: str, request: Any, context: grpc.aio.ServicerContext, key: str = "",
                       **fields: Any) -> dict[str, Any]:
        """Records the call and answers it: aborts the call (the status recorded) unless it is accepted; returns the
        accepted call's record."""
        await self._check_caller(method, request, context)
        call, detail = self._admit(method, request, key, **fields)
        if call["status"] != "OK":
            await context.abort(getattr(grpc.StatusCode, call["status"]), detail)
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        return call

    def refusal(self, method: str, request: Any) -> tuple[str, str] | None:
        """A status name and why, for a delivery this system refuses whatever the attempt (a test's case system
        that does not know a person); None: decided as usual. Refusals do not use up FAIL_FIRST."""
        return None

    async def _check_caller(self, method: str, request: Any, context: grpc.aio.ServicerContext) -> None:
        """Aborts the call of anyone but the allowed callers, recorded."""
        who = caller()  # from the caller's client certificate (mTLS): recorded so tests can check it
        if (who.tenant, who.role) not in self.allowed_callers:
            self._record({"method": method, "caller": f"{who.tenant}/{who.role}",
                          "idempotency_key": getattr(request, "idempotency_key", ""),
                          "tenant_id": getattr(request, "tenant_id", ""), "case_id": getattr(request, "case_id", ""),
                          "status": "PERMISSION_DENIED", "duplicate": False,
                          "received": dt.datetime.now(dt.UTC).isoformat()})
            await context.abort(grpc.StatusCode.PERMISSION_DENIED,
                                f"{self.service_name} takes calls from the notifier only, not from {who.tenant}/{who.role}")

    def _admit(self, method: str, request: Any, key: str = "", **fields: Any) -> tuple[dict[str, Any], str]:
        """Decides and records one delivery of an allowed caller: its record (status "OK" when accepted) and, when
        refused, why."""
        who = caller()
        refusal = self.refusal(method, request)
        per = (method, getattr(request, "case_id", ""))
        attempt = self._attempts[per] = self._attempts.get(per, 0) + (refusal is None)
        status, detail = "OK", ""
        if refusal is not None:
            status, detail = refusal
        elif self.fail_permanent:
            status, detail = "INVALID_ARGUMENT", "injected permanent failure"
        elif attempt <= self.fail_first:
            status, detail = "UNAVAILABLE", f"injected failure {attempt} of {self.fail_first}"
        elif not request.idempotency_key:
            status, detail = "INVALID_ARGUMENT", "idempotency_key is required"
        elif self.tenant and getattr(request, "tenant_id", "") != self.tenant:
            # A region's case system only takes its own region's work: a misrouted delivery is refused.
            status, detail = "PERMISSION_DENIED", f"this system serves {self.tenant}"
        key = key or request.idempotency_key
        duplicate = status == "OK" and key in self._seen
        if status == "OK":
            self._seen.add(key)
        call = {"method": method, "caller": f"{who.tenant}/{who.role}", "idempotency_key": request.idempotency_key,
                "tenant_id": getattr(request, "tenant_id", ""), "case_id": getattr(request, "case_id", ""),
                **fields, "status": status, "duplicate": duplicate, "received": dt.datetime.now(dt.UTC).isoformat()}
        self._record(call)
        return call, detail

    def _record(self, call: dict[str, Any]) -> None:
        self.calls.append(call)
        if self.record_file is not None:
            if self._records is None:
                self.record_file.parent.mkdir(parents=True, exist_ok=True)
                self._records = self.record_file.open("a", encoding="utf-8")
            # Flushed per call: tests in another process read the file while the fake runs.
            self._records.write(json.dumps(call) + "\n")
            self._records.flush()
        log.debug("received", extra={k: call[k] for k in ("method", "idempotency_key", "case_id", "status", "duplicate")})


def _callback_fields(request: receivers_pb2.DeliverCallbackRequest) -> dict[str, Any]:
    return {"due_date": _date_iso(request.due_date), "acute": request.acute, "has_melder": request.HasField("melder"),
            "melder_key_id": request.melder.key_id, "has_agreements": request.HasField("agreements"),
            "agreements_key_id": request.agreements.key_id, "has_feedback": request.HasField("feedback")}


def _register_match_fields(request: receivers_pb2.DeliverRegisterMatchRequest) -> dict[str, Any]:
    return {"due_date": "", "person_id": request.person_id, "other_tenant": request.other.tenant_id}


def _inbox_fields(item: receivers_pb2.InboxItem) -> tuple[str, dict[str, Any]]:
    """The key an inbox item is deduped on, and what is recorded of it."""
    detail = item.WhichOneof("detail") or ""
    fields: dict[str, Any] = {"due_date": "",
                              "kind": receivers_pb2.InboxItemKind.Name(item.kind).removeprefix("INBOX_ITEM_KIND_"),
                              "person_ids": list(item.person_ids), "escalated": item.escalated, "acute": item.acute,
                              "acknowledge_before": item.acknowledge_before.ToDatetime(dt.UTC).isoformat()}
    if detail == "monitoring_alert":
        signal = item.monitoring_alert.signal
        fields.update(source=receivers_pb2.InboxSource.Name(signal.source).removeprefix("INBOX_SOURCE_"),
                      organisation=signal.organisation.tenant_id)
    elif detail == "assessment_input":
        fields.update(first=item.assessment_input.first,
                      changes=[receivers_pb2.InboxSource.Name(c.source).removeprefix("INBOX_SOURCE_")
                               for c in item.assessment_input.changes])
    elif detail == "emergency_access":
        fields.update(by_tenant=item.emergency_access.by_tenant_id, by_user=item.emergency_access.by_user,
                      reason_key_id=item.emergency_access.reason.key_id)
    elif detail == "deadline_overdue":
        fields.update(deadline=receivers_pb2.InboxDeadline.Name(item.deadline_overdue.deadline)
                      .removeprefix("INBOX_DEADLINE_"), resolved=item.deadline_overdue.resolved)
    # The team lead's copy of an item carries the item's own key: a separate delivery, not a repeat.
    return item.idempotency_key + ("/escalated" if item.escalated else ""), fields


def read_records(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The calls recorded by a (possibly out-of-process) fake in RECORD_FILE."""
    file = pathlib.Path(path)
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]


async def _main(stop: asyncio.Event) -> None:
    fake = FakeRegionalSystem.from_env()
    await fake.start()
    await stop.wait()
    await fake.stop()


if __name__ == "__main__":
    from vtkit.service import run

    run("regional_system", _main)
