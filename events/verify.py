"""Checking the hash chain of a log, from the database or from an export file.

Pure: it is fed (position, body) pairs in order and needs no database, so an
export can be checked offline with exactly the code that checks the live log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from events.canonical import loads_noting_form
from events.envelope import GENESIS_HASH, hash_of
from events.merkle import RootBuilder, leaf_hash


@dataclass(frozen=True)
class Verdict:
    ok: bool
    count: int
    head_position: int | None
    head_hash: str | None
    first_bad_position: int | None = None
    reason: str | None = None
    detail: str | None = None
    root_hash: str | None = None  # of the Merkle tree over the events checked

    def as_dict(self) -> dict[str, Any]:
        if self.ok:
            head = {"position": self.head_position or 0, "hash": self.head_hash or GENESIS_HASH}
            return {"ok": True, "count": self.count, "head": head, "root_hash": self.root_hash}
        return {
            "ok": False,
            "count": self.count,
            "first_bad_position": self.first_bad_position,
            "reason": self.reason,
            "detail": self.detail,
        }


class ChainVerifier:
    """Feed it each event in log order; it stops at the first departure from a valid chain.

    Reasons: `malformed` (not a JSON object of the stored shape),
    `hash_mismatch` (the content does not hash to its `hash`), `position_gap`
    (a position is missing or out of order), `broken_link` (`prev_hash` is not
    the previous event's hash), `duplicate_id`.
    """

    def __init__(
        self,
        *,
        check_ids: bool = True,
        first_position: int = 1,
        prev_hash: str | None = GENESIS_HASH,
        build_root: bool = True,
    ) -> None:
        """`first_position` and `prev_hash` start the check in the middle of a log; a
        `prev_hash` of None takes the first event's link on trust and keeps it in
        `first_prev_hash`, for whoever checks the part before to compare."""
        self.expected = first_position
        self.prev_hash = prev_hash
        self.first_prev_hash: str | None = None
        self.count = 0
        # The database's unique constraint already guarantees distinct ids; a file has none.
        self.check_ids = check_ids
        self.ids: set[str] = set()
        self.failure: Verdict | None = None
        self.tree = RootBuilder() if build_root else None

    def feed(self, body: str, row_position: int | None = None) -> bool:
        """Check the next event; False (and `failure` set) at the first bad one."""
        if self.failure:
            return False
        at = self.expected
        try:
            event, fast_form = loads_noting_form(body)
            if not isinstance(event, dict):
                raise ValueError("not an object")
            position, recorded_hash, prev = event["position"], event["hash"], event["prev_hash"]
            event_id = event["id"]
        except (ValueError, KeyError, TypeError) as exc:
            return self._fail(at, "malformed", f"the event is not a stored event: {exc}")
        if row_position is not None and row_position != position:
            return self._fail(
                min(at, row_position),
                "position_gap",
                f"row {row_position} holds the event of position {position}",
            )
        try:
            computed = hash_of(event, fast_form_known=fast_form)
        except (ValueError, TypeError) as exc:  # values JCS cannot carry, such as integers over 2^53
            return self._fail(at, "malformed", f"the event cannot be canonicalised: {exc}")
        if computed != recorded_hash:
            return self._fail(
                at,
                "hash_mismatch",
                "the event does not hash to its recorded hash",
            )
        if position != at:
            return self._fail(at, "position_gap", f"expected position {at}, found {position}")
        if self.prev_hash is None:
            self.first_prev_hash = prev
        elif prev != self.prev_hash:
            return self._fail(at, "broken_link", "prev_hash is not the previous event's hash")
        if self.check_ids:
            if event_id in self.ids:
                return self._fail(at, "duplicate_id", f"the id {event_id} appears earlier in the log")
            self.ids.add(event_id)
        if self.tree is not None:
            self.tree.add(leaf_hash(body.rstrip("\r\n").encode("utf-8")))
        self.prev_hash = recorded_hash
        self.expected += 1
        self.count += 1
        return True

    def _fail(self, position: int, reason: str, detail: str) -> bool:
        self.failure = Verdict(False, self.count, None, None, position, reason, detail)
        return False

    def verdict(self) -> Verdict:
        if self.failure:
            return self.failure
        last = self.expected - 1
        return Verdict(
            True,
            self.count,
            last if self.count else None,
            self.prev_hash if self.count else None,
            root_hash=self.tree.root().hex() if self.tree is not None else None,
        )


def verify_bodies(bodies: Iterable[str]) -> Verdict:
    verifier = ChainVerifier()
    for body in bodies:
        if not verifier.feed(body):
            break
    return verifier.verdict()
