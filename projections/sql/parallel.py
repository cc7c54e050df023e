"""The rebuild's bulk load spread over worker processes: each reads, parses and writes its
own ranges of positions, so parsing runs on every core while another writes.

Workers are spawned (not forked), so a rebuild started inside the server never copies
its threads or connections. Each returns the slots its rows fill; the parent writes them.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator

from sqlalchemy import Engine

from events.recorders import make_engine
from events.recorders.sql import write_transaction
from projections.sql.pages import page_contents
from projections.sql.recorder import ItemRow, Slots, StateRow, insert_items, insert_rows, slots_of_rows
from projections.sql.tables import ModelTables

Changes = dict[str, list[tuple[int, bool]]]

_worker: dict[str, object] = {}


def _start(url: str, tables: ModelTables | None, changes: Changes) -> None:
    """A worker's start: `tables` to write into, or None for a worker that only computes."""
    _worker.update(engine=make_engine(url), tables=tables, changes=changes)


def _build_range(bounds: tuple[int, int]) -> tuple[int, Slots]:

    after, until = bounds
    engine, tables, changes = _worker["engine"], _worker["tables"], _worker["changes"]
    assert isinstance(engine, Engine) and isinstance(tables, ModelTables) and isinstance(changes, dict)
    with engine.connect() as conn:
        rows, items = page_contents(conn, after, until, changes)
        conn.rollback()
    with write_transaction(engine) as conn:
        insert_rows(conn, rows, tables)
        insert_items(conn, items, tables)
    return until - after, slots_of_rows(rows)


def build_in_workers(
    url: str,
    workers: int,
    tables: ModelTables,
    until: int,
    changes: Changes,
    page: int,
    progress: Callable[[int, int], None],
) -> Slots:
    """Positions 1..until are contiguous, so ranges of `page` positions cover them exactly."""
    ranges = [(start, min(start + page, until)) for start in range(0, until, page)]
    context = multiprocessing.get_context("spawn")
    slots: Slots = {}
    with context.Pool(workers, _start, (url, tables, changes)) as pool:
        done = 0
        for count, found in pool.imap_unordered(_build_range, ranges):
            done += count
            for key, (first_from, first_position) in found.items():
                known = slots.get(key, (first_from, first_position))
                slots[key] = (min(first_from, known[0]), min(first_position, known[1]))
            progress(done, until)
    return slots


def _compute_range(bounds: tuple[int, int]) -> tuple[list[StateRow], list[ItemRow]]:

    engine, changes = _worker["engine"], _worker["changes"]
    assert isinstance(engine, Engine) and isinstance(changes, dict)
    with engine.connect() as conn:
        found = page_contents(conn, *bounds, changes)
        conn.rollback()
    return found


def compute_in_workers(
    url: str, workers: int, until: int, changes: Changes, page: int
) -> Iterator[tuple[int, list[StateRow], list[ItemRow]]]:
    """For a database with one writer (SQLite): workers read and compute the pages, in
    log order, and the caller writes them; (last position, rows, items) per page."""
    ranges = [(start, min(start + page, until)) for start in range(0, until, page)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, _start, (url, None, changes)) as pool:
        for (_, last), (rows, items) in zip(ranges, pool.imap(_compute_range, ranges), strict=True):
            yield last, rows, items
