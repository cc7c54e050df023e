"""Keeping the read model current inside the append transaction, so that a query without
known_at sees the last committed event: no projector lags behind the log."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, update

from events.envelope import StoredEvent
from events.tables import events as events_table
from events.types import RETRACTED
from projections.effect_changes import Corrector, effect_changes
from projections.facts import Fact, fact_of
from projections.selection import entries_of
from projections.sql.tables import STATE, read_models, state_rows


def active_generation(conn: Connection) -> int:
    active: int = conn.execute(select(read_models.c.active).where(read_models.c.name == STATE)).scalar_one()
    return active


def rows_of(fact: Fact, generation: int, sys_from: int, sys_until: int | None = None) -> list[dict[str, Any]]:
    data = json.dumps(fact.data, ensure_ascii=False, separators=(",", ":"))
    return [
        {
            "generation": generation,
            "position": fact.position,
            "kind": entry.kind,
            "sys_from": sys_from,
            "sys_until": sys_until,
            "part": entry.part,
            "scope": entry.scope,
            "slot": entry.slot,
            "valid_from": fact.occurred_from,
            "occurred_until": fact.occurred_until,
            "event_id": fact.id,
            "type": fact.type,
            "data": data,
        }
        for entry in entries_of(fact)
    ]


class LogCorrections:
    """Who corrects whom, from the events table (the current transaction sees its own rows)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def correctors_of(self, event_id: str) -> list[Corrector]:
        rows = self.conn.execute(
            select(events_table.c.id, events_table.c.position, events_table.c.type).where(
                events_table.c.corrects == event_id
            )
        )
        return [Corrector(r.id, r.position, r.type == RETRACTED) for r in rows]

    def target_of(self, event_id: str) -> str | None:
        return self.conn.execute(
            select(events_table.c.corrects).where(events_table.c.id == event_id)
        ).scalar_one_or_none()


def record(conn: Connection, generation: int, appended: Sequence[StoredEvent]) -> None:
    """Add the rows of newly appended events, then apply what their corrections change."""
    rows = [row for event in appended for row in rows_of(fact_of(event), generation, event.position)]
    if rows:
        conn.execute(insert(state_rows), rows)
    corrections = LogCorrections(conn)
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
        rows = rows_of(fact_of(StoredEvent.from_body(target.body)), generation, at)
        if rows:
            conn.execute(insert(state_rows), rows)
        return
    conn.execute(
        update(state_rows)
        .where(
            state_rows.c.generation == generation,
            state_rows.c.position == target.position,
            state_rows.c.sys_until.is_(None),
        )
        .values(sys_until=at)
    )


class StateRows:
    """The append hook: the active read model follows every append."""

    def __call__(self, conn: Connection, appended: Sequence[StoredEvent]) -> None:
        record(conn, active_generation(conn), appended)


def intervals(position: int, changes: Iterable[tuple[int, bool]]) -> list[tuple[int, int | None]]:
    """[sys_from, sys_until) intervals of an event appended at `position` (in effect from
    there), given its later changes of effect as (position, in effect now)."""
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
