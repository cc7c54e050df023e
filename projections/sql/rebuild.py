"""Building a read model from the log into a new generation while appends go on, then swapping.

1. Claim a new generation (readers go on using the active one).
2. Bulk-build it from the log up to the head seen at the start: first the
   effect intervals of corrected events (from the corrections alone, in
   memory), then every event's rows, page by page, each page its own short
   transaction so appends are never held up for long.
3. Catch up with what was appended meanwhile, the way the append hook does.
4. Under the append lock: catch up the last events, make the new generation
   active, and commit. Readers see the old model or the new one, never a
   half-built one: each query reads the active generation in its own statement.
5. Delete the rows of older generations, page by page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, and_, delete, func, select, update

from events.envelope import StoredEvent
from events.tables import events as events_table
from events.types import RETRACTED
from projections.effect_changes import Corrector, effect_changes
from projections.facts import fact_of_columns
from projections.sql import parallel
from projections.sql.reader import FACT_COLUMNS
from projections.sql.recorder import StateRow, insert_rows, intervals, record, rows_of
from projections.sql.tables import STATE, read_models, state_rows

PAGE = 5000
# Catch up outside the lock until this close to the head, then take the lock for the rest.
CLOSE_ENOUGH = 2000

Transactions = Callable[[], AbstractContextManager[Connection]]
Progress = Callable[[int, int], None]  # (events done, events to do)


class RebuildSuperseded(Exception):
    """Another rebuild claimed a newer generation while this one ran."""


@dataclass
class Corrections:
    """Who corrects whom, in memory: the CorrectionView of the bulk build."""

    correctors: dict[str, list[Corrector]] = field(default_factory=lambda: defaultdict(list))
    targets: dict[str, str] = field(default_factory=dict)

    def correctors_of(self, event_id: str) -> list[Corrector]:
        return self.correctors.get(event_id, [])

    def target_of(self, event_id: str) -> str | None:
        return self.targets.get(event_id)


def effect_timeline(conn: Connection, until: int) -> dict[str, list[tuple[int, bool]]]:
    """For every event whose effect changed by position `until`: (position, in effect now)."""
    query = (
        select(events_table.c.id, events_table.c.position, events_table.c.type, events_table.c.corrects)
        .where(events_table.c.corrects.is_not(None), events_table.c.position <= until)
        .order_by(events_table.c.position)
    )
    correcting = conn.execute(query).all()
    view = Corrections()
    for row in correcting:
        view.correctors[row.corrects].append(Corrector(row.id, row.position, row.type == RETRACTED))
        view.targets[row.id] = row.corrects
    changes: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for row in correcting:
        for event_id, now in effect_changes(row.id, row.position, view):
            changes[event_id].append((row.position, now))
    return changes


def _bodies(conn: Connection, after: int, until: int) -> list[str]:
    query = (
        select(events_table.c.body)
        .where(events_table.c.position > after, events_table.c.position <= until)
        .order_by(events_table.c.position)
        .limit(PAGE)
    )
    return list(conn.execute(query).scalars().all())


def _columns(conn: Connection, after: int, until: int) -> Sequence[Any]:
    query = (
        select(events_table.c.position, *FACT_COLUMNS)
        .where(events_table.c.position > after, events_table.c.position <= until)
        .order_by(events_table.c.position)
        .limit(PAGE)
    )
    return conn.execute(query).all()


def _pages(conn: Connection, after: int, until: int) -> Iterator[list[StoredEvent]]:
    while after < until:
        page = [StoredEvent.from_body(body) for body in _bodies(conn, after, until)]
        if not page:
            return
        yield page
        after = page[-1].position


def page_rows(
    conn: Connection,
    generation: int,
    after: int,
    until: int,
    changes: Mapping[str, Sequence[tuple[int, bool]]],
) -> list[StateRow]:
    """The rows of the events (after, after + PAGE], up to `until`."""
    rows: list[StateRow] = []
    for fact in (fact_of_columns(*row) for row in _columns(conn, after, until)):
        for start, end in intervals(fact.position, changes.get(fact.id, ())):
            rows += rows_of(fact, generation, start, end)
    return rows


def build(
    transactions: Transactions,
    generation: int,
    until: int,
    progress: Progress = lambda done, total: None,
    *,
    url: str | None = None,
    workers: int = 1,
) -> None:
    """Write the rows of every event up to `until` into `generation`; with a database
    `url` and several `workers`, large logs are built in worker processes."""
    with transactions() as conn:
        changes = effect_timeline(conn, until)
    if url is not None and workers > 1 and until >= PAGE * workers:
        parallel.build_in_workers(url, workers, generation, until, changes, PAGE, progress)
        return
    for after in range(0, until, PAGE):
        with transactions() as conn:
            insert_rows(conn, page_rows(conn, generation, after, until, changes))
        progress(min(after + PAGE, until), until)


def catch_up(conn: Connection, generation: int, after: int, until: int) -> int:
    """Apply events (after, until] as the append hook would; returns the last position applied."""
    for page in _pages(conn, after, until):
        record(conn, generation, page)
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
    url: str | None = None,
    workers: int = 1,
) -> Rebuilt:
    """`transactions()` opens a short write transaction; `locked()` one holding the append
    lock; `url` and `workers` let the bulk build run in worker processes."""
    with transactions() as conn:
        generation = _claim(conn)
        until = head_position(conn)
    build(transactions, generation, until, progress, url=url, workers=workers)
    built = until
    while True:
        with transactions() as conn:
            head = head_position(conn)
            if head - built <= CLOSE_ENOUGH:
                break
            built = catch_up(conn, generation, built, head)
        progress(built, head)
    with locked() as conn:
        head = head_position(conn)
        built = catch_up(conn, generation, built, head)
        claimed = conn.execute(select(read_models.c.building).where(read_models.c.name == STATE)).scalar_one()
        if claimed != generation:
            raise RebuildSuperseded(f"generation {claimed} was claimed while {generation} was built")
        conn.execute(
            update(read_models).where(read_models.c.name == STATE).values(active=generation, building=None)
        )
    progress(built, built)
    drop_older(transactions, generation, built)
    return Rebuilt(generation, built, built - until)


def _claim(conn: Connection) -> int:
    # FOR UPDATE: two rebuilds (say the CLI and the service) must not claim one generation.
    # SQLite needs no more: a rebuild's transactions take its write lock at BEGIN.
    state = conn.execute(select(read_models).where(read_models.c.name == STATE).with_for_update()).one()
    newest = conn.execute(select(func.max(state_rows.c.generation))).scalar() or 0
    generation: int = max(state.active, state.building or 0, newest) + 1
    conn.execute(update(read_models).where(read_models.c.name == STATE).values(building=generation))
    return generation


def drop_older(transactions: Transactions, generation: int, until: int) -> None:
    """Delete older generations' rows a page of positions at a time."""
    for start in range(0, until + 1, PAGE * 4):
        with transactions() as conn:
            conn.execute(
                delete(state_rows).where(
                    and_(
                        state_rows.c.generation < generation,
                        state_rows.c.position > start,
                        state_rows.c.position <= start + PAGE * 4,
                    )
                )
            )
