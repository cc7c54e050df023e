"""The log on PostgreSQL (psycopg 3): what it does differently from the shared SQL (`sql.py`).

- The append lock is a transaction-level advisory lock, taken in the first statement of
  the append's one round trip: several API processes append to one log.
- Statements that do not wait on each other go in one pipeline: one round trip.
- A set of values is one text array parameter, read with `unnest`.
- Bulk inserts are COPY.
- The correction walks look rows up by index through LATERAL subqueries.
- Appends are announced with NOTIFY (`events.notifications`), delivered on commit.
- New tables are ANALYZEd: planned blind, a page of areas took a bitmap scan and a sort.
- Several writers: a rebuild's worker processes write their own pages.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, StatementError

from events.envelope import StoredEvent
from events.notifications import CHANNEL
from events.recorders.sql import Rows, SqlRecorder, Statement

# Any constant works; it only has to be the same for every process.
APPEND_LOCK_KEY = 0x71AE11E  # "timeline"


class PostgresRecorder(SqlRecorder):
    name = "postgresql"
    mark = "%s"
    one_writer = False
    notifies = True
    lateral_reads = True

    @staticmethod
    def make_engine(url: str, *, application_name: str, **kwargs: Any) -> Engine:
        return create_engine(
            url,
            # JIT compiles a query whose estimated cost is high, which a recursive query's
            # guessed row counts always are: 200 to 400 ms of compiling for a 2 ms lookup in
            # an append. Every query here is an index lookup or a range read, which JIT does
            # not speed up.
            connect_args={
                "application_name": application_name,
                "connect_timeout": 5,
                "options": "-c jit=off",
            },
            pool_pre_ping=True,
            **kwargs,
        )

    def lock_statements(self) -> list[Statement]:
        return [("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY,))]

    def set_of(self, values: Collection[str]) -> tuple[str, Any]:
        return "SELECT unnest(%s::text[])", list(values)

    def run_together(self, conn: Connection, statements: Sequence[Statement]) -> list[Rows]:
        if len(statements) < 2:
            return super().run_together(conn, statements)
        raw = conn.connection.driver_connection
        assert raw is not None
        try:
            with raw.pipeline():
                cursors = [raw.execute(sql, params) for sql, params in statements]
            return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _as_sqlalchemy(conn, "; ".join(sql for sql, _ in statements), exc) from exc

    def bulk_insert(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        if not rows:
            return
        raw = conn.connection.driver_connection
        assert raw is not None
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        try:
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        except conn.dialect.loaded_dbapi.Error as exc:
            raise _as_sqlalchemy(conn, sql, exc) from exc

    def corrections_statement(self, targets: Collection[str], *, below: bool) -> Statement:
        wanted, parameter = self.set_of(targets)

        # Every step looks rows up by index, one outer row at a time. Planned as plain joins,
        # the recursive step is estimated at thousands of rows (a recursive CTE's guess), and
        # the plan became a sort or hash of the whole events table: 0.4 s at 10,000 events.
        # OFFSET 0 keeps each lateral subquery from being flattened into such a join.
        def lookup(column: str, outer: str, columns: str = "events.id", more: str = "") -> str:
            where = f"events.{column} = {outer}.id{more}"
            return f"LATERAL (SELECT {columns} FROM events WHERE {where} OFFSET 0) AS found"

        start = "named"
        steps = f"WITH RECURSIVE named(id) AS ({wanted}),"
        if below:
            down = lookup("id", "under", "events.corrects AS id", " AND events.corrects IS NOT NULL")
            steps += f" under(id) AS (SELECT id FROM named UNION SELECT found.id FROM under, {down}),"
            start = "under"
        sql = (
            f"{steps} above(id) AS (SELECT found.id FROM {start}, {lookup('corrects', start)}"
            f" UNION SELECT found.id FROM above, {lookup('corrects', 'above')})"
            f" SELECT found.* FROM (SELECT id FROM above UNION SELECT id FROM {start}) AS near,"
            f" {lookup('id', 'near', 'events.id, events.position, events.type, events.corrects')}"
            " ORDER BY found.position"
        )
        return sql, (parameter,)

    def announce(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        # NOTIFY is delivered on commit and only then, so a listener never hears of an event
        # it cannot read yet; the payload is the last new position.
        conn.execute(
            text("SELECT pg_notify(:channel, :position)"),
            {"channel": CHANNEL, "position": str(events[-1].position)},
        )

    def analyze(self, conn: Connection, tables: Sequence[str]) -> None:
        # New tables have no statistics until autovacuum comes by (never, where it is off).
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")

    def rebuild_workers(self) -> int:
        # One per core, up to 4: each reads, computes and writes its pages (30,400 events/s
        # with 2 on 2 cores against 24,900 with one, at 200,000 events).
        return max(1, min(os.cpu_count() or 1, 4))


def _as_sqlalchemy(conn: Connection, sql: str, exc: Exception) -> StatementError:
    """A driver error raised past SQLAlchemy (the pipeline, COPY), as SQLAlchemy would have
    raised it: the service answers an OperationalError (the database gone) with a 503,
    where a bare psycopg error would be a 500."""
    return DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error)
