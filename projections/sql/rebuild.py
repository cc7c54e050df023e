"""Building a read model from the log into new tables while appends go on, then swapping.

1. Claim a new generation and create its tables, with no index yet (readers and the
   append hook go on using the active tables).
2. Bulk-load them from the log up to the head seen at the start: first the effect
   intervals of corrected events (from the corrections alone, in memory), then every
   event's rows and item, page by page, each page its own short transaction so that
   appends are never held up for long; then the slots; then build the indexes, once.
3. Catch up with what was appended meanwhile, the way the append hook does.
4. Under the append lock: catch up the last events, rename the new tables over the
   active ones, drop the old ones whole, and commit. A reader's statement sees the
   old model or the new one, never a half-built one.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, MetaData, func, inspect, select, update

from events.envelope import StoredEvent
from events.recorders import recorder_of
from events.tables import events as events_table
from projections.sql import parallel
from projections.sql.pages import effect_timeline, page_contents
from projections.sql.recorder import (
    Slots,
    insert_items,
    insert_rows,
    load_slots,
    record,
    slots_of_rows,
)
from projections.sql.tables import (
    ACTIVE,
    STATE,
    ModelTables,
    indexes,
    items_table,
    read_models,
    rows_table,
    slots_table,
)

# Catch up outside the lock until this close to the head, then take the lock for the rest.
CLOSE_ENOUGH = 2000
PAGE = 5000

Transactions = Callable[[], AbstractContextManager[Connection]]
Progress = Callable[[int, int], None]  # (events done, events to do)


class RebuildSuperseded(Exception):
    """Another rebuild claimed a newer generation while this one ran."""


def create_tables(conn: Connection, tables: ModelTables) -> None:
    meta = MetaData()
    for table in (rows_table(tables, meta), items_table(tables, meta), slots_table(tables, meta)):
        table.create(conn)


def create_indexes(conn: Connection, tables: ModelTables) -> None:
    meta = MetaData()
    built = (rows_table(tables, meta), items_table(tables, meta), slots_table(tables, meta))
    for index in indexes(tables, *built):
        index.create(conn)
    # Planned without statistics, a page of areas took a bitmap scan and a sort on
    # PostgreSQL, 67 ms for 12.
    recorder_of(conn).analyze(conn, [table.name for table in built])


def build(
    transactions: Transactions,
    tables: ModelTables,
    until: int,
    progress: Progress = lambda done, total: None,
    *,
    url: str | None,
    workers: int,
    one_writer: bool,
) -> None:
    """Load the rows, items and slots of every event up to `until` into `tables`, then index
    them. With a database `url` and several `workers`, worker processes read and compute
    the pages; on a database with `one_writer` (SQLite) this process writes them, else
    each worker writes its own (COPY on PostgreSQL takes several at once)."""
    with transactions() as conn:
        changes = effect_timeline(conn, until)
    slots: Slots = {}
    if url is not None and workers > 1 and until >= PAGE * workers and not one_writer:
        slots = parallel.build_in_workers(url, workers, tables, until, changes, PAGE, progress)
    elif url is not None and workers > 1 and until >= PAGE * workers:
        for last, rows, items in parallel.compute_in_workers(url, workers, until, changes, PAGE):
            with transactions() as conn:
                insert_rows(conn, rows, tables)
                insert_items(conn, items, tables)
            slots_of_rows(rows, slots)
            progress(last, until)
    else:
        for after in range(0, until, PAGE):
            with transactions() as conn:
                rows, items = page_contents(conn, after, min(after + PAGE, until), changes)
                insert_rows(conn, rows, tables)
                insert_items(conn, items, tables)
            slots_of_rows(rows, slots)
            progress(min(after + PAGE, until), until)
    with transactions() as conn:
        load_slots(conn, slots, tables)
        create_indexes(conn, tables)


def catch_up(conn: Connection, tables: ModelTables, after: int, until: int) -> int:
    """Apply events (after, until] as the append hook would; returns the last position applied."""
    while after < until:
        query = (
            select(events_table.c.body)
            .where(events_table.c.position > after, events_table.c.position <= until)
            .order_by(events_table.c.position)
            .limit(PAGE)
        )
        page = [StoredEvent.from_body(body) for body in conn.execute(query).scalars()]
        if not page:
            break
        record(conn, page, tables=tables)
        after = page[-1].position
    return after


def head_position(conn: Connection) -> int:
    return conn.execute(select(func.max(events_table.c.position))).scalar() or 0


@dataclass(frozen=True)
class Rebuilt:
    generation: int
    events: int
    caught_up: int  # events appended while it ran


def rebuild(
    transactions: Transactions,
    locked: Transactions,
    progress: Progress = lambda done, total: None,
    *,
    url: str | None,
    workers: int,
    one_writer: bool,
) -> Rebuilt:
    """`transactions()` opens a short write transaction; `locked()` one holding the append
    lock; `url` and `workers` let the bulk load run in worker processes."""
    with transactions() as conn:
        generation = _claim(conn)
        until = head_position(conn)
    tables = ModelTables.building(generation)
    try:
        with transactions() as conn:
            create_tables(conn, tables)
        build(transactions, tables, until, progress, url=url, workers=workers, one_writer=one_writer)
        built = until
        while True:
            with transactions() as conn:
                head = head_position(conn)
                if head - built <= CLOSE_ENOUGH:
                    break
                built = catch_up(conn, tables, built, head)
            progress(built, head)
        with locked() as conn:
            head = head_position(conn)
            built = catch_up(conn, tables, built, head)
            claimed = conn.execute(
                select(read_models.c.building).where(read_models.c.name == STATE)
            ).scalar_one()
            if claimed != generation:
                raise RebuildSuperseded(f"generation {claimed} was claimed while {generation} was built")
            swap(conn, tables)
            conn.execute(
                update(read_models)
                .where(read_models.c.name == STATE)
                .values(active=generation, building=None, stale=False)
            )
    except BaseException:
        try:
            with transactions() as conn:
                drop(conn, tables)
        except Exception:  # the database may be what failed: the next rebuild drops them
            pass
        raise
    progress(built, built)
    with transactions() as conn:
        drop_leftovers(conn)
    return Rebuilt(generation, built, built - until)


def _claim(conn: Connection) -> int:
    # FOR UPDATE: two rebuilds (say the CLI and the service) must not claim one generation.
    # SQLite needs no more: a rebuild's transactions take its write lock at BEGIN.
    state = conn.execute(select(read_models).where(read_models.c.name == STATE).with_for_update()).one()
    generation: int = max(state.active, state.building or 0) + 1
    conn.execute(update(read_models).where(read_models.c.name == STATE).values(building=generation))
    return generation


def swap(conn: Connection, tables: ModelTables) -> None:
    """The new tables take the active ones' names; the old ones are dropped whole."""
    for new, active in (
        (tables.rows, ACTIVE.rows),
        (tables.items, ACTIVE.items),
        (tables.slots, ACTIVE.slots),
    ):
        conn.exec_driver_sql(f"ALTER TABLE {active} RENAME TO {active}_old")
        conn.exec_driver_sql(f"ALTER TABLE {new} RENAME TO {active}")
        conn.exec_driver_sql(f"DROP TABLE {active}_old")


def drop(conn: Connection, tables: ModelTables) -> None:
    """A failed or superseded rebuild's own tables."""
    existing = set(inspect(conn).get_table_names())
    for name in (tables.rows, tables.items, tables.slots):
        if name in existing:
            conn.exec_driver_sql(f"DROP TABLE {name}")


def drop_leftovers(conn: Connection) -> None:
    """Tables of rebuilds that died without cleaning up (a process killed mid-build)."""
    building = conn.execute(select(read_models.c.building).where(read_models.c.name == STATE)).scalar()
    for name in inspect(conn).get_table_names():
        prefix, _, generation = name.rpartition("_g")
        ours = prefix in (ACTIVE.rows, ACTIVE.items, ACTIVE.slots) and generation.isdigit()
        if ours and (building is None or int(generation) != building):
            conn.exec_driver_sql(f"DROP TABLE {name}")


def tables_in_use(conn: Connection) -> list[str]:
    """The read model's tables in the database (for tests and the benchmarks)."""
    names = inspect(conn).get_table_names()
    return sorted(n for n in names if n.startswith("state_"))


__all__: list[Any] = ["RebuildSuperseded", "Rebuilt", "build", "catch_up", "rebuild", "swap"]
