"""Refusals that name a request field, machine-readable as well as readable.

Every service answers a broken rule with a status and the message `field.path: rule` (docs/api.md, "Errors"). A
client that wants to put the error next to the right input should not have to parse that text, so the same
refusal also carries a `google.rpc.BadRequest` with one FieldViolation per offending field (`field` the path as
in the request, `description` the rule) in the standard `grpc-status-details-bin` trailer (google.rpc.Status,
the rich error model of https://grpc.io/docs/guides/error/). Clients read it with grpcio-status:

    status = rpc_status.from_call(err)   # err: the grpc.RpcError / grpc.aio.AioRpcError
    [violation] = BadRequest.FromString(status.details[0].value).field_violations

The message text stays exactly what it was: existing clients and tests read it. All four services go through
this module (docs/architecture.md, "Errors"), so the mapping cannot drift apart per service: a domain error
(vtkit.errors) answers with the status of its kind, `STATUS`, through `abort_domain`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from vtkit.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied

# The codes whose refusal is about a request field (a FAILED_PRECONDITION that names no field carries nothing).
FIELD_CODES = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                         grpc.StatusCode.OUT_OF_RANGE})


def split_message(message: str) -> tuple[str, str]:
    """("field.path", "rule") of a message `field.path: rule`; ("", message) when it names no field."""
    field, sep, rule = message.partition(": ")
    if not sep or not field or " " in field:
        return "", message
    return field, rule


def bad_request_status(code: grpc.StatusCode, message: str, violations: Iterable[tuple[str, str]]) -> grpc.Status:
    """The grpc.Status (code, message, trailer) of a refusal with these (field, rule) violations."""
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.BadRequest(field_violations=[
        error_details_pb2.BadRequest.FieldViolation(field=field, description=rule) for field, rule in violations]))
    # code_pb2 numbers are grpc's status numbers (google/rpc/code.proto).
    number = code.value[0]
    assert code_pb2.Code.Name(number)  # a known code: rpc_status.to_status checks the pair as well
    return rpc_status.to_status(status_pb2.Status(code=number, message=message, details=[detail]))


async def abort_invalid(context: grpc.aio.ServicerContext, field: str, rule: str,
                        code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT) -> NoReturn:
    """End the call with `code`, the message `field: rule` and a BadRequest naming `field`."""
    await context.abort_with_status(bad_request_status(code, f"{field}: {rule}", [(field, rule)]))
    raise AssertionError("abort_with_status returns only by raising")


async def abort_violations(context: grpc.aio.ServicerContext, violations: list[tuple[str, str]],
                           code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT, message: str = "") -> NoReturn:
    """Several offending fields at once: one FieldViolation each; the message joins them with "; " unless given
    (a message clients already read stays as it was)."""
    message = message or "; ".join(f"{field}: {rule}" for field, rule in violations)
    await context.abort_with_status(bad_request_status(code, message, violations))
    raise AssertionError("abort_with_status returns only by raising")


async def abort_message(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    """End the call with `code` and `message` (a domain error's text `field: rule`), adding the BadRequest when the
    code is about a request field and the message names one; otherwise a plain abort."""
    field, rule = split_message(message)
    if code in FIELD_CODES and field:
        await context.abort_with_status(bad_request_status(code, message, [(field, rule)]))
    else:
        await context.abort(code, message)
    raise AssertionError("abort returns only by raising")


async def abort_error(context: grpc.aio.ServicerContext, code: grpc.StatusCode, error: Any) -> NoReturn:
    """End the call for a domain error that knows its `field` (and perhaps its `rule`): the message stays str(error)."""
    field = getattr(error, "field", "") or ""
    message = str(error)
    if code in FIELD_CODES and field:
        rule = getattr(error, "rule", None)
        if rule is None:
            named, rest = split_message(message)
            rule = rest if named == field else message
        await context.abort_with_status(bad_request_status(code, message, [(field, rule)]))
    await abort_message(context, code, message)


# The status of each kind of domain error; a DomainError of no kind is a refusal by a rule: FAILED_PRECONDITION.
STATUS: dict[type[DomainError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    DomainError: grpc.StatusCode.FAILED_PRECONDITION,
}


def status_of(error: DomainError) -> grpc.StatusCode:
    """The status code of a domain error: that of the first kind in its class hierarchy."""
    return next(STATUS[kind] for kind in type(error).__mro__ if kind in STATUS)


def outcome_of(error: DomainError) -> str:
    """The access log's outcome of a call refused with `error` ("invalid_argument", "failed_precondition", ...)."""
    return status_of(error).name.lower()


async def abort_domain(context: grpc.aio.ServicerContext, error: DomainError) -> NoReturn:
    """End the call for a domain error: the status of its kind, the message str(error), and a BadRequest naming its
    field when the code is about a request field (abort_error)."""
    await abort_error(context, status_of(error), error)


def field_violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    """(field, description) of every FieldViolation a failed call carries; [] when it carries none."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return []
    found = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            found += [(v.field, v.description) for v in request.field_violations]
    return found
