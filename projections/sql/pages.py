"""What a page of the log puts in the read model: each event's rows (one per slot and
interval in effect) and its rendered item, given when each corrected event's effect
changed. Shared by the rebuild and its worker processes, which run it on their own
connections."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from events.recorders import mark
from events.tables import events as events_table
from events.types import RETRACTED
from projections.effect_changes import Corrector, effect_changes
from projections.facts import Fact, fact_of_columns
from projections.sql.recorder import ItemRow, StateRow, intervals, item_of, rows_of

# The columns a fact is made of, in `fact_of_columns` order.
FACT_COLUMNS = (
    events_table.c.position,
    events_table.c.id,
    events_table.c.type,
    events_table.c.subject,
    events_table.c.occurred_from,
    events_table.c.occurred_until,
    events_table.c.recorded_at,
    events_table.c.supersedes,
    events_table.c.body,
)


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


def _facts(conn: Connection, after: int, until: int) -> Iterator[Fact]:
    # Driver SQL, all rows at once: SQLAlchemy's row handling cost a third of the load.
    m = mark(conn)
    columns = ", ".join(column.name for column in FACT_COLUMNS)
    sql = f"SELECT {columns} FROM events WHERE position > {m} AND position <= {m} ORDER BY position"
    for row in conn.exec_driver_sql(sql, (after, until)).fetchall():
        yield fact_of_columns(*row)


def page_contents(
    conn: Connection, after: int, until: int, changes: Mapping[str, Sequence[tuple[int, bool]]]
) -> tuple[list[StateRow], list[ItemRow]]:
    """The rows and items of the events (after, until]: a page, as the caller bounds it."""
    rows: list[StateRow] = []
    items: list[ItemRow] = []
    for fact in _facts(conn, after, until):
        for start, end in intervals(fact.position, changes.get(fact.id, ())):
            rows += rows_of(fact, start, end)
        item = item_of(fact)
        if item is not None:
            items.append(item)
    return rows, items
