"""vtkit.grpcerrors and vtkit.paging without a server: the trailer round-trips, tokens are refused by field."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from vtkit.grpcerrors import bad_request_status, split_message
from vtkit.paging import MAX_PAGE, PageError, decode_token, encode_token, page_size


def test_the_status_carries_one_violation_per_field_in_the_standard_trailer() -> None:
    status = bad_request_status(grpc.StatusCode.INVALID_ARGUMENT, "a: x; b.c: y", [("a", "x"), ("b.c", "y")])
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT and status.details == "a: x; b.c: y"
    [(key, value)] = status.trailing_metadata
    assert key == "grpc-status-details-bin"
    rich = status_pb2.Status.FromString(value)
    bad = error_details_pb2.BadRequest()
    assert rich.code == 3 and rich.message == "a: x; b.c: y" and rich.details[0].Unpack(bad)
    assert [(v.field, v.description) for v in bad.field_violations] == [("a", "x"), ("b.c", "y")]


def test_split_message_finds_the_field_only_when_the_message_names_one() -> None:
    assert split_message("melding.melder.phone: a melding needs: details") == ("melding.melder.phone",
                                                                              "a melding needs: details")
    assert split_message("the letter is already sent") == ("", "the letter is already sent")
    assert split_message("case is being decided already: differently") == ("", "case is being decided already: "
                                                                                "differently")


def test_page_sizes_and_tokens() -> None:
    assert page_size(0) == 100 and page_size(MAX_PAGE) == MAX_PAGE
    for wrong in (-1, MAX_PAGE + 1):
        with pytest.raises(PageError) as err:
            page_size(wrong)
        assert err.value.field == "page_size"
    token = encode_token("ListOverdue", ("2026-01-05T09:00:00+00:00", "case", "assessment"))
    assert decode_token("ListOverdue", token, (str, str, str)) == ("2026-01-05T09:00:00+00:00", "case", "assessment")
    assert decode_token("ListOverdue", "", (str, str, str)) is None
    for bad, rpc in ((token, "ListMySignals"), ("%%%", "ListOverdue"), (encode_token("ListOverdue", (1,)), "ListOverdue")):
        with pytest.raises(PageError) as err:
            decode_token(rpc, bad, (str, str, str))
        assert (err.value.field, err.value.rule) == ("page_token", f"not a next_page_token of {rpc}")
    # A forged key the store could not compare (SQLite integers are 64-bit) is refused like any other bad token.
    with pytest.raises(PageError):
        decode_token("ListLogbook", encode_token("ListLogbook", (2**70,)), (int,))
    assert decode_token("ListLogbook", encode_token("ListLogbook", (42,)), (int,)) == (42,)


def test_a_domain_error_answers_with_the_status_of_its_kind() -> None:
    from vtkit import errors
    from vtkit.grpcerrors import outcome_of, status_of

    class Archived(errors.FailedPrecondition, RuntimeError):
        pass

    assert status_of(errors.InvalidArgument("melding.bsn", "not a BSN")) == grpc.StatusCode.INVALID_ARGUMENT
    assert status_of(errors.NotFound(rule="no such signal")) == grpc.StatusCode.NOT_FOUND
    assert status_of(errors.PermissionDenied(rule="inspector only")) == grpc.StatusCode.PERMISSION_DENIED
    assert status_of(Archived(rule="archived")) == grpc.StatusCode.FAILED_PRECONDITION
    assert status_of(errors.DomainError("case_id", "closed")) == grpc.StatusCode.FAILED_PRECONDITION
    assert status_of(PageError("page_size", "too large")) == grpc.StatusCode.INVALID_ARGUMENT
    assert outcome_of(errors.InvalidArgument("x", "y")) == "invalid_argument"
    # The message: "field: rule", the rule alone, or the text a service answered before.
    assert str(errors.InvalidArgument("melding.bsn", "not a BSN")) == "melding.bsn: not a BSN"
    assert str(errors.NotFound(rule="no such signal")) == "no such signal"
    assert str(errors.InvalidArgument("weeks", "1 to 2 weeks", message="1 to 2 weeks")) == "1 to 2 weeks"
