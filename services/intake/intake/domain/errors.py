"""Domain errors. Each names the field path of the request it is about and the rule it broke,
so a case system (or the meldformulier) can show the caller exactly what to fix. Each is one of vtkit.errors'
kinds, which give its status (vtkit.grpcerrors.STATUS)."""

from __future__ import annotations

from vtkit import errors


class DomainError(errors.DomainError):
    def __init__(self, field: str, rule: str):
        super().__init__(field, rule)

    def under(self, prefix: str) -> "DomainError":
        """The same error with its field path nested under `prefix` (e.g. "advies")."""
        return type(self)(f"{prefix}.{self.field}" if prefix else self.field, self.rule)


class ValidationError(DomainError, errors.InvalidArgument):
    """The request breaks a domain rule; the caller must change it (INVALID_ARGUMENT)."""


class TooLarge(ValidationError):
    """A text, or the whole request, is larger than intake takes once encoded (INVALID_ARGUMENT)."""


class ContactNotFound(DomainError, errors.NotFound):
    """A referenced contact does not exist in this region (a foreign id looks the same) (NOT_FOUND)."""


class ConflictError(DomainError, errors.FailedPrecondition):
    """The request is valid on its own but conflicts with the stored state (e.g. converted twice)
    (FAILED_PRECONDITION)."""
