"""What the store's batch append is measured against in bench.append, each writing
into its own fresh database: a plain events table, `eventsourcing`, and the rows the
store wrote, copied by Core or by the store's own bulk write."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy import Engine, MetaData, bindparam, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import quoted_name

from events.recorders import mark, recorder_of
from events.recorders.sql import write_transaction
from events.tables import events as events_table
from events.tables import merkle_nodes
from projections.sql.recorder import ROW_COLUMNS, Slots, insert_slots, slots_of_rows
from projections.sql.tables import state_items, state_rows, state_slots

Row = dict[str, Any]


def plain_table(engine: Engine) -> Callable[[list[dict[str, Any]]], None]:
    """The events table's shape (columns, keys, indexes), without the store around it."""
    metadata = MetaData()
    table = events_table.to_metadata(metadata, name="plain_events")
    for index in table.indexes:  # index names are database-wide
        if isinstance(index.name, str):
            index.name = quoted_name(index.name.replace("_events", "_plain_events"), None)
    for constraint in table.constraints:
        if isinstance(constraint.name, str):
            constraint.name = constraint.name.replace("_events", "_plain_events")
    metadata.create_all(engine)

    def insert_rows(rows: list[dict[str, Any]]) -> None:
        with write_transaction(engine) as conn:  # as the store's: BEGIN IMMEDIATE on SQLite
            conn.execute(insert(table), rows)

    return insert_rows


class Report(Aggregate):
    """One aggregate per saved batch: its creation and 99 reports are 100 events."""

    @event("Reported")
    def report(self, envelope: dict[str, Any]) -> None:
        pass


class EventsourcingSaves:
    """The `eventsourcing` library's application saving one aggregate of 100 events a
    call. `prepare` creates the aggregate's events untimed, as its command methods would
    before a save; the store's timed append includes building and hashing its events."""

    def __init__(self, url: str, folder: str) -> None:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder}/es.db"}
        else:
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_DBNAME": str(parsed.database),
                "POSTGRES_HOST": str(parsed.host or "127.0.0.1"),
                "POSTGRES_PORT": str(parsed.port or 5432),
                "POSTGRES_USER": str(parsed.username or "postgres"),
                "POSTGRES_PASSWORD": str(parsed.password or ""),
            }
        self.app: Application[Any] = Application(env=env)
        self.pending: list[Report] = []

    def prepare(self, batch: list[dict[str, Any]]) -> None:
        aggregate = Report()  # its creation is the first of the 100 events
        for envelope in batch[1:]:
            aggregate.report(envelope)
        self.pending.append(aggregate)

    def __call__(self, batch: list[dict[str, Any]]) -> None:
        self.app.save(self.pending.pop())


@dataclass(frozen=True)
class WrittenRows:
    """What the store wrote for one batch. A state row inserted and closed within the
    batch appears once, closed (the store inserts it, then updates it)."""

    events: list[Row]
    nodes: list[Row]  # Merkle nodes the batch completed, leaves included
    state_rows: list[Row]  # inserted by the batch, reopened ones included
    closed: list[Row]  # earlier state rows the batch's corrections closed
    items: list[Row]  # the batch's events' rendered items
    slots: Slots  # the slots its rows fill (new ones are inserted, known ones kept)


class StoreRows:
    """Reads back, untimed, what the store wrote for a batch's positions."""

    def __init__(self, store_engine: Engine) -> None:
        self.engine = store_engine
        self.merkle_seen: dict[int, int] = {}  # level -> highest idx already read

    def __call__(self, first: int, last: int) -> WrittenRows:
        with self.engine.connect() as conn:
            events = conn.execute(select(events_table).where(events_table.c.position.between(first, last)))
            nodes: list[Row] = []
            level = 0
            # A node at level L + 1 is only ever completed with one at level L.
            while found := _rows(
                conn.execute(
                    select(merkle_nodes).where(
                        merkle_nodes.c.level == level, merkle_nodes.c.idx > self.merkle_seen.get(level, -1)
                    )
                )
            ):
                self.merkle_seen[level] = max(r["idx"] for r in found)
                nodes += found
                level += 1
            added = _rows(conn.execute(select(state_rows).where(state_rows.c.sys_from.between(first, last))))
            closed = conn.execute(
                select(state_rows).where(
                    state_rows.c.sys_until.between(first, last), state_rows.c.sys_from < first
                )
            )
            items = conn.execute(select(state_items).where(state_items.c.position.between(first, last)))
            # The slots as the store fills them; it writes them with the same statement.
            slots = slots_of_rows([tuple(r[k] for k in ROW_COLUMNS) for r in added])
            return WrittenRows(_rows(events), nodes, added, _rows(closed), _rows(items), slots)


class RowCopy:
    """Writes the rows the store wrote into a database migrated like the store's: what
    those writes cost without the reads, rules and hashing that decide them. By
    SQLAlchemy Core, or with `bulk` by the store's own fastest write (COPY on PostgreSQL,
    one prepared statement on SQLite): a floor for any append that writes these rows."""

    def __init__(self, engine: Engine, *, bulk: bool = False) -> None:
        self.engine, self.bulk = engine, bulk

    def __call__(self, rows: WrittenRows) -> None:
        tables = (
            (events_table, rows.events),
            (merkle_nodes, rows.nodes),
            (state_rows, rows.state_rows),
            (state_items, rows.items),
        )
        with write_transaction(self.engine) as conn:
            for table, found in tables:
                if found and self.bulk:
                    recorder_of(conn).bulk_insert(
                        conn, table.name, list(found[0]), [tuple(row.values()) for row in found]
                    )
                elif found:
                    conn.execute(insert(table), found)
            insert_slots(conn, rows.slots)
            if rows.closed and self.bulk:
                m = mark(conn)
                where = " AND ".join(f"{k} = {m}" for k in _STATE_KEY)
                conn.exec_driver_sql(
                    f"UPDATE state_rows SET sys_until = {m} WHERE {where}",
                    [(row["sys_until"], *(row[k] for k in _STATE_KEY)) for row in rows.closed],
                )
            elif rows.closed:
                keys = (*_STATE_KEY, "sys_until")
                conn.execute(_CLOSE, [{f"k_{k}": row[k] for k in keys} for row in rows.closed])

    def check(self, store_engine: Engine) -> None:
        """The copy must hold the very rows the store's database holds, or its figure
        means nothing."""
        for table in (events_table, merkle_nodes, state_rows, state_items, state_slots):
            query = select(table).order_by(*(table.primary_key.columns or table.columns))
            with store_engine.connect() as ours, self.engine.connect() as copy:
                if ours.execute(query).all() != copy.execute(query).all():
                    raise RuntimeError(f"the copy's {table.name} differ from the store's")


def _rows(result: Any) -> list[Row]:
    return [dict(row) for row in result.mappings()]


_STATE_KEY = ("position", "kind", "sys_from")
_CLOSE = (
    update(state_rows)
    .where(*(state_rows.c[k] == bindparam(f"k_{k}") for k in _STATE_KEY))
    .values(sys_until=bindparam("k_sys_until"))
)
