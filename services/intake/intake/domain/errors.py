"""Domain errors. Each names the field path of the request it is about and the rule it broke,
so a case system (or the meldformulier) can show the caller exactly what to fix."""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, field: str, rule: str):
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule

    def under(self, prefix: str) -> "DomainError":
        """The same error with its field path nested under `prefix` (e.g. "advies")."""
        return type(self)(f"{prefix}.{self.field}" if prefix else self.field, self.rule)


class ValidationError(DomainError):
    """The request breaks a domain rule; the caller must change it (INVALID_ARGUMENT)."""


class TooLarge(ValidationError):
    """A text, or the whole request, is larger than intake takes once encoded (INVALID_ARGUMENT)."""


class ContactNotFound(DomainError):
    """A referenced contact does not exist in this region (a foreign id looks the same)."""


class ConflictError(DomainError):
    """The request is valid on its own but conflicts with the stored state (e.g. converted twice)."""
