"""The verwijsindex's refusals, each one of vtkit.errors' kinds (which give its gRPC status, vtkit.grpcerrors)."""

from __future__ import annotations

from vtkit import errors


class RuleViolation(errors.InvalidArgument, ValueError):
    """A request that breaks a rule; `field` names the offending request field (INVALID_ARGUMENT)."""

    def __init__(self, field: str, rule: str):
        super().__init__(field, rule)


class NotFound(errors.NotFound, LookupError):
    """Unknown id, or an id that belongs to another registrant (the same answer, on purpose) (NOT_FOUND)."""

    def __init__(self, signal_id: str = ""):
        super().__init__(rule="no such signal")
        self.signal_id = signal_id


class NotActive(errors.FailedPrecondition, RuntimeError):
    """The signal exists for this registrant but is archived already (FAILED_PRECONDITION)."""

    def __init__(self, signal_id: str = ""):
        super().__init__(rule="signal is archived already")
        self.signal_id = signal_id
