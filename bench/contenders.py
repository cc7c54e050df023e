"""What the store's batch append is measured against in bench.append: each is a
callable that writes one batch of 100, built on its own fresh database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from sqlalchemy import Engine, MetaData, Table, bindparam, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import quoted_name

from events.database import bulk_insert, mark, write_transaction
from events.tables import events as events_table
from events.tables import merkle_nodes
from projections.sql.tables import state_rows


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
        with engine.begin() as conn:
            conn.execute(insert(table), rows)

    return insert_rows


class Report(Aggregate):
    """One aggregate per saved batch: its creation and 99 reports are 100 events."""

    @event("Reported")
    def report(self, envelope: dict[str, Any]) -> None:
        pass


def eventsourcing_app(url: str, folder: str) -> Callable[[list[dict[str, Any]]], None]:
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
    app: Application[Any] = Application(env=env)
    pending: list[Report] = []

    def prepare(batch: list[dict[str, Any]]) -> None:
        aggregate = Report()  # its creation is the first of the 100 events
        for envelope in batch[1:]:
            aggregate.report(envelope)
        pending.append(aggregate)

    def save(batch: list[dict[str, Any]]) -> None:
        app.save(pending.pop())

    save.prepare = prepare  # type: ignore[attr-defined]
    return save


class EveryRow:
    """SQLAlchemy Core writing every row the store wrote for a batch (its events, the
    Merkle nodes they complete, their state rows, and the closing of the state rows a
    correction ends) into a database migrated like the store's: what those writes cost
    without the reads, rules and hashing that decide them. With `bulk`, the store's own
    fastest write instead (COPY on PostgreSQL, one prepared statement on SQLite): a floor
    for any append that writes these rows."""

    def __init__(self, store_engine: Engine, engine: Engine, *, bulk: bool = False) -> None:
        self.source, self.engine, self.bulk = store_engine, engine, bulk
        self.merkle_seen: dict[int, int] = {}  # level -> highest idx already copied

    def written(self, first: int, last: int) -> list[tuple[Table, list[dict[str, Any]]]]:
        """Read back, untimed, what the store wrote for positions first..last."""
        with self.source.connect() as conn:
            events = conn.execute(
                select(events_table).where(events_table.c.position.between(first, last))
            ).mappings()
            found: list[tuple[Table, list[dict[str, Any]]]] = [(events_table, [dict(r) for r in events])]
            nodes: list[dict[str, Any]] = []
            level = 0
            while True:
                rows = (
                    conn.execute(
                        select(merkle_nodes).where(
                            merkle_nodes.c.level == level,
                            merkle_nodes.c.idx > self.merkle_seen.get(level, -1),
                        )
                    )
                    .mappings()
                    .all()
                )
                if not rows:
                    break
                self.merkle_seen[level] = max(r["idx"] for r in rows)
                nodes += [dict(r) for r in rows]
                level += 1
            found.append((merkle_nodes, nodes))
            added = conn.execute(
                select(state_rows).where(state_rows.c.sys_from.between(first, last))
            ).mappings()
            found.append((state_rows, [dict(r) for r in added]))
            closed = conn.execute(
                select(state_rows).where(
                    state_rows.c.sys_until.between(first, last), state_rows.c.sys_from < first
                )
            ).mappings()
            found.append((_CLOSING, [dict(r) for r in closed]))
        return found

    def check(self) -> None:
        """The copy must hold what the store's database holds, or its figure means nothing."""
        counts = [
            select(func.count()).select_from(events_table),
            select(func.count()).select_from(merkle_nodes),
            select(func.count()).select_from(state_rows),
            select(func.count()).select_from(state_rows).where(state_rows.c.sys_until.is_(None)),
        ]
        with self.source.connect() as ours, self.engine.connect() as theirs:
            found = [(ours.scalar(q), theirs.scalar(q)) for q in counts]
        if any(a != b for a, b in found):
            raise RuntimeError(f"the every-row copy differs from the store's rows: {found}")

    def __call__(self, written: list[tuple[Table, list[dict[str, Any]]]]) -> None:
        if self.bulk:
            self._write_bulk(written)
            return
        with self.engine.begin() as conn:
            for table, rows in written:
                if rows and table is _CLOSING:
                    conn.execute(_CLOSE, [{f"k_{k}": row[k] for k in _KEY_AND_END} for row in rows])
                elif rows:
                    conn.execute(insert(table), rows)

    def _write_bulk(self, written: list[tuple[Table, list[dict[str, Any]]]]) -> None:
        with write_transaction(self.engine) as conn:
            for table, rows in written:
                if rows and table is _CLOSING:
                    m = mark(conn)
                    where = " AND ".join(f"{k} = {m}" for k in _KEY_AND_END[:4])
                    conn.exec_driver_sql(
                        f"UPDATE state_rows SET sys_until = {m} WHERE {where}",
                        [(row["sys_until"], *(row[k] for k in _KEY_AND_END[:4])) for row in rows],
                    )
                elif rows:
                    bulk_insert(conn, table.name, list(rows[0]), [tuple(row.values()) for row in rows])


_KEY_AND_END = ("position", "generation", "kind", "sys_from", "sys_until")
_CLOSING = Table("closing", MetaData())  # a marker: these state rows are updated, not inserted
_CLOSE = (
    update(state_rows)
    .where(*(state_rows.c[k] == bindparam(f"k_{k}") for k in _KEY_AND_END[:4]))
    .values(sys_until=bindparam("k_sys_until"))
)
