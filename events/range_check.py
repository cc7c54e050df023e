"""Checking one aligned range of the stored log on its own: its chain and its Merkle nodes.

A range starts at a multiple of its length, a power of two, so every tree node inside it
depends on its events alone: ranges can be checked in any order, in any process, and
their summaries joined in log order (service.verification does so).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select

from events import merkle
from events.tables import events as events_table
from events.verify import ChainVerifier


@dataclass(frozen=True)
class Failure:
    position: int
    reason: str
    detail: str


@dataclass(frozen=True)
class RangeCheck:
    """What the join needs of positions after..until: how many events were good, the link
    into the range and the hash out of it, the first failure of the chain, the first
    position under a stored node that does not match (checked when the chain holds), and
    the hash of the range's whole subtree when the range is complete."""

    after: int
    count: int
    first_prev_hash: str | None
    last_hash: str | None
    failure: Failure | None
    bad_node_position: int | None
    top: bytes | None


def check_range(engine: Engine, after: int, until: int, level: int) -> RangeCheck:
    """Positions after+1..until, where `after` is a multiple of 2**level and the range no longer."""
    assert after % (1 << level) == 0 and until - after <= 1 << level
    verifier = ChainVerifier(check_ids=False, first_position=after + 1, prev_hash=None, build_root=False)
    leaves: list[bytes] = []
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                select(events_table.c.position, events_table.c.body)
                .where(events_table.c.position > after, events_table.c.position <= until)
                .order_by(events_table.c.position)
            )
        )
        if len(rows) < until - after:
            # Rows are missing: a single pass would meet the next row instead, so feed it
            # that row and let the verifier say what is wrong, as it would there.
            rows += conn.execute(
                select(events_table.c.position, events_table.c.body)
                .where(events_table.c.position > until)
                .order_by(events_table.c.position)
                .limit(1)
            ).all()
    for position, body in rows:
        if not verifier.feed(body, row_position=position):
            return _failed(after, verifier)
        leaves.append(merkle.leaf_hash(body.encode("utf-8")))
    if verifier.count < until - after:  # nothing came after the missing rows
        missing = after + verifier.count + 1
        gap = Failure(missing, "position_gap", f"expected position {missing}, found none")
        return RangeCheck(
            after, verifier.count, verifier.first_prev_hash, verifier.prev_hash, gap, None, None
        )
    levels = merkle.complete_levels(leaves)
    bad = first_bad_node(engine, {lv: (after >> lv, hashes) for lv, hashes in enumerate(levels)})
    top = levels[level][0] if len(levels) > level else None
    return RangeCheck(after, verifier.count, verifier.first_prev_hash, verifier.prev_hash, None, bad, top)


TREE_MISMATCH = "a stored Merkle node does not match the one rebuilt from the events"


Runs = dict[int, tuple[int, list[bytes]]]  # level -> (first index, hashes of consecutive nodes)


def first_bad_node(engine: Engine, rebuilt: Runs) -> int | None:
    """The first position under a stored node that differs from (or lacks) its rebuilt one:
    one range read a level, on the driver's cursor (a row object per node costs more than
    its hash; the bounds are our integers, so the SQL needs no parameters)."""
    bad: list[int] = []
    with engine.connect() as conn:
        cursor = conn.connection.cursor()
        for lv, (first, hashes) in rebuilt.items():
            if not hashes:
                continue
            last = first + len(hashes) - 1
            cursor.execute(
                f"SELECT hash FROM merkle_nodes WHERE level = {int(lv)}"
                f" AND idx BETWEEN {int(first)} AND {int(last)} ORDER BY idx"
            )
            # (level, idx) is the key: as many rows as hashes means one for every index.
            stored: list[bytes | None] = [bytes(h) for (h,) in cursor.fetchall()]
            if stored == hashes:
                continue
            if len(stored) != len(hashes):
                stored = _by_index(cursor, lv, first, last)
            wrong = next(i for i, h in enumerate(hashes) if stored[i] != h)
            bad.append(((first + wrong) << lv) + 1)
        cursor.close()
    return min(bad, default=None)


def _by_index(cursor: Any, level: int, first: int, last: int) -> list[bytes | None]:
    cursor.execute(
        f"SELECT idx, hash FROM merkle_nodes WHERE level = {int(level)}"
        f" AND idx BETWEEN {int(first)} AND {int(last)}"
    )
    found = {index: bytes(h) for index, h in cursor.fetchall()}
    return [found.get(index) for index in range(first, last + 1)]


def _failed(after: int, verifier: ChainVerifier) -> RangeCheck:
    verdict = verifier.verdict()
    assert verdict.first_bad_position is not None and verdict.reason and verdict.detail
    failure = Failure(verdict.first_bad_position, verdict.reason, verdict.detail)
    last = verifier.prev_hash if verifier.count else None
    return RangeCheck(after, verifier.count, verifier.first_prev_hash, last, failure, None, None)
