"""Bot friction for the public form without a third party: a small proof of work (hashcash style).

Every form page carries a challenge the server signed (HMAC-SHA256 under the process's form secret):
`<issued>.<nonce>.<bits>.<mac>`. A few lines of JavaScript on the page (templates/bewijs.js) find a number n
such that SHA-256("<challenge>:<n>") starts with `bits` zero bits (12 bits: about 4,000 hashes, a fraction of
a second on a phone; it runs while the visitor types) and put it in the hidden field `bewijs`.

On submit the server verifies it. A form without a solution (no JavaScript, an old browser, or a challenge
that expired while the page was open) is still taken, under a stricter rate limit (intake.web.limits): people
who cannot run the script can still report, a bot without the work gets the lower rate. A challenge the server
did not sign, a wrong solution, or a solved challenge sent again with another form is refused: one solution
buys one submission, so the work cannot be done once and replayed.

Pure Python on an injected clock (tests need no waiting); the set of used challenges lives in memory, bounded
by the challenge lifetime and `max_used` (the rate limits bound how fast it can grow)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from enum import Enum

DEFAULT_BITS = 12
# A visitor may take long over a melding; a challenge older than this counts as no solution (stricter limit),
# never as a refusal.
DEFAULT_LIFETIME_SECONDS = 6 * 3600
MAX_SOLUTION_DIGITS = 12


class Proof(Enum):
    SOLVED = "solved"      # a fresh challenge of ours with a valid solution
    NONE = "none"          # no solution (no JavaScript) or an expired challenge: taken at the stricter rate
    FORGED = "forged"      # not signed by us, or a solution that does not solve it: refused
    REPLAYED = "replayed"  # a solved challenge already used by another form: refused


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def solves(challenge: str, solution: str, bits: int) -> bool:
    return leading_zero_bits(hashlib.sha256(f"{challenge}:{solution}".encode()).digest()) >= bits


def solve(challenge: str) -> str:
    """What the page's script does, in Python (for tests and scripted clients that do the work)."""
    bits = int(challenge.split(".")[2])
    n = 0
    while not solves(challenge, str(n), bits):
        n += 1
    return str(n)


class ProofOfWork:
    def __init__(self, secret: bytes, bits: int = DEFAULT_BITS, lifetime: float = DEFAULT_LIFETIME_SECONDS,
                 clock: Callable[[], float] = time.time, max_used: int = 100_000):
        if not 0 <= bits <= 32:
            raise ValueError("proof-of-work difficulty must be 0..32 bits")
        self.bits, self.lifetime, self.clock, self.max_used = bits, lifetime, clock, max_used
        self._key = hmac.new(secret, b"vt form proof of work", hashlib.sha256).digest()  # not the CSRF key itself
        self._used: OrderedDict[str, tuple[str, float]] = OrderedDict()  # nonce -> (form key, expires)

    def _mac(self, issued: str, nonce: str, bits: str) -> str:
        return hmac.new(self._key, f"{issued}.{nonce}.{bits}".encode(), hashlib.sha256).hexdigest()[:32]

    def issue(self) -> str:
        issued, nonce, bits = str(int(self.clock())), secrets.token_hex(12), str(self.bits)
        return f"{issued}.{nonce}.{bits}.{self._mac(issued, nonce, bits)}"

    def check(self, challenge: str, solution: str, form_key: str) -> Proof:
        """The verdict on one submission; a SOLVED challenge is spent on `form_key` (the same form sent again,
        e.g. a double click, stays SOLVED)."""
        challenge, solution = challenge.strip(), solution.strip()
        if not challenge or not solution:
            return Proof.NONE
        parts = challenge.split(".")
        if len(parts) != 4 or not all(parts):
            return Proof.FORGED
        issued, nonce, bits, mac = parts
        if not hmac.compare_digest(mac, self._mac(issued, nonce, bits)):
            return Proof.FORGED
        well_formed = solution.isascii() and solution.isdigit() and len(solution) <= MAX_SOLUTION_DIGITS
        if not well_formed or int(bits) < self.bits or not solves(challenge, solution, int(bits)):
            return Proof.FORGED
        now = self.clock()
        if int(issued) > now + 60:
            return Proof.FORGED
        self._forget_expired(now)
        spent = self._used.get(nonce)
        if spent is not None and spent[0] != form_key:
            return Proof.REPLAYED
        if int(issued) + self.lifetime < now:
            return Proof.NONE
        if spent is None:
            self._used[nonce] = (form_key, int(issued) + self.lifetime)
            while len(self._used) > self.max_used:
                self._used.popitem(last=False)
        return Proof.SOLVED

    def _forget_expired(self, now: float) -> None:
        # Entries are kept in the order they were spent, roughly the order they expire in: stop at the first one
        # still valid (one that expires earlier behind it goes on the next pass, or by max_used).
        while self._used:
            nonce, (_, expires) = next(iter(self._used.items()))
            if expires >= now:
                return
            del self._used[nonce]
