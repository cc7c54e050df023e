"""The rebuild's bulk build spread over worker processes: each reads, parses and writes
its own ranges of positions, so parsing runs on every core while another writes.

Workers are spawned (not forked), so a rebuild started inside the server never
copies its threads or connections.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable

from sqlalchemy import Engine

from events.database import make_engine, write_transaction
from projections.sql.recorder import insert_rows

Changes = dict[str, list[tuple[int, bool]]]

_worker: dict[str, object] = {}


def _start(url: str, generation: int, changes: Changes) -> None:
    _worker.update(engine=make_engine(url), generation=generation, changes=changes)


def _build_range(bounds: tuple[int, int]) -> int:
    from projections.sql.rebuild import page_rows  # the worker's import, after spawn

    after, until = bounds
    engine = _worker["engine"]
    assert isinstance(engine, Engine)
    generation, changes = _worker["generation"], _worker["changes"]
    assert isinstance(generation, int) and isinstance(changes, dict)
    with engine.connect() as conn:
        rows = page_rows(conn, generation, after, until, changes)
        conn.rollback()
    with write_transaction(engine) as conn:
        insert_rows(conn, rows)
    return until - after


def build_in_workers(
    url: str,
    workers: int,
    generation: int,
    until: int,
    changes: Changes,
    page: int,
    progress: Callable[[int, int], None],
) -> None:
    """Positions 1..until are contiguous, so ranges of `page` positions cover them exactly."""
    ranges = [(start, min(start + page, until)) for start in range(0, until, page)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, _start, (url, generation, changes)) as pool:
        done = 0
        for count in pool.imap_unordered(_build_range, ranges):
            done += count
            progress(done, until)
