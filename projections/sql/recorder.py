"""Keeping the read model current inside the append transaction, so that a query without
known_at sees the last committed event: no projector lags behind the log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, update

from events.database import bulk_insert
from events.envelope import StoredEvent
from events.tables import events as events_table
from events.types import RETRACTED
from projections.effect_changes import Corrector, effect_changes
from projections.facts import Fact, fact_of, fact_of_body
from projections.selection import part_of, slots_of
from projections.sql.tables import STATE, read_models, state_rows

StateRow = tuple[int, int, str, int, int | None, str, str, str, str]
ROW_COLUMNS = (
    "generation",
    "position",
    "kind",
    "sys_from",
    "sys_until",
    "part",
    "scope",
    "slot",
    "valid_from",
)


def active_generation(conn: Connection) -> int:
    active: int = conn.execute(select(read_models.c.active).where(read_models.c.name == STATE)).scalar_one()
    return active


def rows_of(fact: Fact, generation: int, sys_from: int, sys_until: int | None = None) -> list[StateRow]:
    """The rows of `entries_of(fact)`, built without the entries: the rebuild's inner loop."""
    part = part_of(fact.type)
    if part is None:
        return []
    position, scope, since = fact.position, fact.subject, fact.occurred_from
    return [
        (generation, position, kind, sys_from, sys_until, part, scope, slot, since)
        for kind, slot in slots_of(fact)
    ]


def insert_rows(conn: Connection, rows: Sequence[StateRow]) -> None:
    bulk_insert(conn, "state_rows", ROW_COLUMNS, rows)


class LogCorrections:
    """Who corrects whom, from the events table, for one append transaction (which sees
    its own rows). Answers are kept: within the transaction they cannot change."""

    def __init__(self, conn: Connection, appended: Sequence[StoredEvent]) -> None:
        self.conn = conn
        self.targets: dict[str, str | None] = {e.id: e.corrects for e in appended}
        self.correctors: dict[str, list[Corrector]] = {}

    def correctors_of(self, event_id: str) -> list[Corrector]:
        if event_id not in self.correctors:
            rows = self.conn.execute(
                select(events_table.c.id, events_table.c.position, events_table.c.type).where(
                    events_table.c.corrects == event_id
                )
            )
            self.correctors[event_id] = [Corrector(r.id, r.position, r.type == RETRACTED) for r in rows]
        return self.correctors[event_id]

    def target_of(self, event_id: str) -> str | None:
        if event_id not in self.targets:
            self.targets[event_id] = self.conn.execute(
                select(events_table.c.corrects).where(events_table.c.id == event_id)
            ).scalar_one_or_none()
        return self.targets[event_id]


def record(conn: Connection, generation: int, appended: Sequence[StoredEvent]) -> None:
    """Add the rows of newly appended events, then apply what their corrections change."""
    insert_rows(
        conn, [row for event in appended for row in rows_of(fact_of(event), generation, event.position)]
    )
    corrections = LogCorrections(conn, appended)
    for event in appended:
        if event.corrects is None:
            continue
        for event_id, now_in_effect in effect_changes(event.id, event.position, corrections):
            _set_effect(conn, generation, event_id, now_in_effect, event.position)


def _set_effect(conn: Connection, generation: int, event_id: str, in_effect: bool, at: int) -> None:
    target = conn.execute(
        select(events_table.c.position, events_table.c.body).where(events_table.c.id == event_id)
    ).one()
    if in_effect:
        insert_rows(conn, rows_of(fact_of_body(target.body), generation, at))
        return
    conn.execute(
        update(state_rows)
        .where(
            state_rows.c.position == target.position,
            # `+ 0` keeps SQLite off the lookup index, which it would otherwise scan for a
            # whole generation, rather than find the position on the primary key.
            state_rows.c.generation + 0 == generation,
            state_rows.c.sys_until.is_(None),
        )
        .values(sys_until=at)
    )


class StateRows:
    """The append hook: the active read model follows every append."""

    def __call__(self, conn: Connection, appended: Sequence[StoredEvent]) -> None:
        record(conn, active_generation(conn), appended)


def intervals(position: int, changes: Sequence[tuple[int, bool]]) -> list[tuple[int, int | None]]:
    """[sys_from, sys_until) intervals of an event appended at `position` (in effect from
    there), given its later changes of effect as (position, in effect now)."""
    if not changes:
        return [(position, None)]
    found: list[tuple[int, int | None]] = []
    start: int | None = position
    for at, now in sorted(changes):
        if not now and start is not None:
            found.append((start, at))
            start = None
        elif now and start is None:
            start = at
    if start is not None:
        found.append((start, None))
    return found
