"""Domain errors: the one base class every service's refusals derive from, and its four kinds.

A domain module raises them (this module is pure: no gRPC, no I/O, so `domain/` may import it); the one place that
turns them into a gRPC status is `vtkit.grpcerrors` (`status_of`, `abort_domain`), which also adds the
google.rpc.BadRequest naming the field. A service subclasses the kind that fits (intake's ContactNotFound is a
NotFound, radar's LifecycleConflict a FailedPrecondition) and keeps its own names and messages.

    field    the request field the refusal is about ("case_id", "melding.persons[0].bsn"), "" when none
    rule     what the request broke, for a person to read
    str()    "field: rule", or the rule alone when no field is named (a service that answered another text before
             passes `message`, so its callers see no change)
"""

from __future__ import annotations


class DomainError(Exception):
    """A request (or an event) refused by a domain rule. Not one of the kinds below: FAILED_PRECONDITION."""

    def __init__(self, field: str = "", rule: str = "", *, message: str | None = None):
        if message is None:
            message = f"{field}: {rule}" if field else rule
        super().__init__(message)
        self.field = field
        self.rule = rule


class InvalidArgument(DomainError):
    """The request breaks a rule on its own; the caller must change it (INVALID_ARGUMENT)."""


class NotFound(DomainError):
    """What the request names does not exist for this caller; another organisation's looks the same (NOT_FOUND)."""


class FailedPrecondition(DomainError):
    """The request is valid on its own but not in the state the thing is in (FAILED_PRECONDITION): decided
    already, converted twice, archived."""


class PermissionDenied(DomainError):
    """The caller may not do this, whatever the request says (PERMISSION_DENIED)."""
