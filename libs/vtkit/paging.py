"""Paging of every List RPC that can grow, in one shape (the one ListInbox has had from the start):

* `page_size`: 0 means DEFAULT_PAGE, at most MAX_PAGE; anything else is INVALID_ARGUMENT naming `page_size`;
* `page_token`: empty for the first page, else the `next_page_token` of the previous answer, opaque to the
  caller; a token that is not one of this RPC's is INVALID_ARGUMENT naming `page_token`;
* `next_page_token`: empty on the last page.

Each RPC pages by a key that orders its rows totally and never changes for a row (a sequence number, or a time
plus a unique id), and the token carries the last key answered: the next page starts after it. So paging never
skips or repeats a row, also when rows are added meanwhile (docs/architecture.md, "Paging").
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Sequence

from vtkit.errors import InvalidArgument

DEFAULT_PAGE, MAX_PAGE = 100, 500


class PageError(InvalidArgument, ValueError):
    """A page_size or page_token the RPC cannot take; `field` and `rule` as in every refusal."""

    def __init__(self, field: str, rule: str):
        super().__init__(field, rule)


def page_size(requested: int) -> int:
    if requested == 0:
        return DEFAULT_PAGE
    if not 1 <= requested <= MAX_PAGE:
        raise PageError("page_size", f"must be between 1 and {MAX_PAGE} (0 means {DEFAULT_PAGE})")
    return requested


def _storable(value: object) -> bool:
    """A forged token must not reach a store as a value it cannot compare (SQLite integers are 64-bit)."""
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    return True


def encode_token(rpc: str, key: Sequence[str | int | float]) -> str:
    """An opaque token for the row key `key` of `rpc`'s order."""
    body = json.dumps([rpc, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


def decode_token(rpc: str, token: str, types: Sequence[type]) -> tuple[str | int | float, ...] | None:
    """The row key a token of `rpc` carries (None for an empty token, the first page); PageError for anything
    that is not a token of this RPC with a key of these types."""
    if not token:
        return None
    try:
        parts = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        parts = None
    if (not isinstance(parts, list) or len(parts) != len(types) + 1 or parts[0] != rpc
            or not all(type(p) is t and _storable(p) for p, t in zip(parts[1:], types, strict=True))):
        raise PageError("page_token", f"not a next_page_token of {rpc}")
    return tuple(parts[1:])
