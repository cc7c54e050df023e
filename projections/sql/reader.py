"""Answering from the read model: the newest row per slot, in effect at a log position."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Row, and_, func, or_, select

from events.tables import events as events_table
from projections.facts import Fact, fact_of_columns
from projections.selection import Entry, newest_per_slot
from projections.sql.tables import STATE, read_models, state_rows
from projections.state import World, fold

COLUMNS = (state_rows.c.part, state_rows.c.scope, state_rows.c.kind, state_rows.c.slot, state_rows.c.position)
# The event's columns, in `fact_of_columns` order after the position: only its data is parsed.
FACT_COLUMNS = (
    events_table.c.id,
    events_table.c.type,
    events_table.c.subject,
    events_table.c.occurred_from,
    events_table.c.occurred_until,
    events_table.c.recorded_at,
    events_table.c.supersedes,
    events_table.c.body,
)


def _in_effect(position: int) -> ColumnElement[bool]:
    # One statement reads the active generation and its rows, so a rebuild's swap
    # between two statements cannot mix two generations.
    active = select(read_models.c.active).where(read_models.c.name == STATE).scalar_subquery()
    return and_(
        state_rows.c.generation == active,
        state_rows.c.sys_from <= position,
        or_(state_rows.c.sys_until.is_(None), state_rows.c.sys_until > position),
    )


def _scoped(part: str, scope: str | None) -> ColumnElement[bool]:
    if scope is None:
        return state_rows.c.part == part
    return and_(state_rows.c.part == part, state_rows.c.scope == scope)


def _entries(rows: Sequence[Row[Any]] | Sequence[Any]) -> list[Entry]:
    """Rows (with the event's body) as entries; an event with two slots is parsed once."""
    facts: dict[int, Fact] = {}
    found = []
    for row in rows:
        fact = facts.get(row.position)
        if fact is None:
            fact = facts[row.position] = fact_of_columns(*tuple(row)[len(COLUMNS) - 1 :])
        found.append(Entry(row.part, row.scope, row.kind, row.slot, fact))
    return found


class StateReader:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def world(self, as_of: str, position: int, scopes: Mapping[str, str | None]) -> World:
        """The state at (as_of, the log cut at `position`) of the parts named in `scopes`,
        each whole (None) or one area or track."""
        entries: list[Entry] = []
        if position > 0:
            with self.engine.connect() as conn:
                for part, scope in scopes.items():
                    entries += _entries(_newest(conn, as_of, position, part, scope))
        return fold(newest_per_slot(entries))

    def area_facts(self, position: int, area: str) -> list[Fact]:
        """Every event of one area in effect at `position`, whatever its valid time."""
        if position == 0:
            return []
        query = (
            select(*COLUMNS, *FACT_COLUMNS)
            .join(events_table, events_table.c.position == state_rows.c.position)
            .where(_in_effect(position), _scoped("territory", area))
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return list({entry.fact.position: entry.fact for entry in _entries(rows)}.values())


def _newest(conn: Connection, as_of: str, position: int, part: str, scope: str | None) -> Sequence[Any]:
    ranked = (
        select(
            *COLUMNS,
            func.row_number()
            .over(
                partition_by=(state_rows.c.scope, state_rows.c.kind, state_rows.c.slot),
                order_by=(state_rows.c.valid_from.desc(), state_rows.c.position.desc()),
            )
            .label("rank"),
        )
        .where(_in_effect(position), _scoped(part, scope), state_rows.c.valid_from <= as_of)
        .subquery()
    )
    newest = (
        select(
            ranked.c.part,
            ranked.c.scope,
            ranked.c.kind,
            ranked.c.slot,
            ranked.c.position,
            *FACT_COLUMNS,
        )
        .join(events_table, events_table.c.position == ranked.c.position)
        .where(ranked.c.rank == 1)
    )
    return conn.execute(newest).all()
