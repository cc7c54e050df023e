"""Reads of the events table for a whole batch at once, in driver SQL.

An append used to ask the log one question per event it checked (the event a
reference names, who corrects it, a subject's version): a few statements per
event, each paying SQLAlchemy's compile and, on PostgreSQL, a round trip. These
answer the questions of a whole batch in one statement each, and `run_together`
sends statements that do not wait on each other in one round trip. A set of
values travels as one parameter (a JSON array on SQLite, a text array on
PostgreSQL), so the statement text, and the plan, is the same whatever the batch holds.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

Statement = tuple[str, tuple[Any, ...]]
Rows = list[tuple[Any, ...]]

HEAD = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"


@dataclass(frozen=True)
class CorrectionRow:
    """An event that corrects another, as the correction rules need it: no body."""

    id: str
    position: int
    type: str
    corrects: str | None


def run_together(conn: Connection, statements: Sequence[Statement]) -> list[Rows]:
    """The rows of each statement, run in order. On PostgreSQL they go in one pipeline:
    one round trip rather than one each, so no statement may need another's result
    (each still sees what those before it did, and takes its snapshot after them)."""
    if conn.dialect.name != "postgresql" or len(statements) < 2:
        return [[tuple(row) for row in conn.exec_driver_sql(sql, params)] for sql, params in statements]
    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.pipeline():
            cursors = [raw.execute(sql, params) for sql, params in statements]
        return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
    except conn.dialect.loaded_dbapi.Error as exc:
        # As SQLAlchemy would have raised it (an OperationalError is a 503, not a 500).
        sql = "; ".join(sql for sql, _ in statements)
        raise DBAPIError.instance(sql, None, exc, conn.dialect.loaded_dbapi.Error) from exc


def _set_of(conn: Connection, values: Collection[str]) -> tuple[str, Any]:
    """A subquery over a set of strings, and the one parameter it takes."""
    if conn.dialect.name == "postgresql":
        return "SELECT unnest(%s::text[])", list(values)
    return "SELECT value FROM json_each(?)", json.dumps(list(values))


def bodies_statement(conn: Connection, ids: Collection[str]) -> Statement:
    """(id, body) of each of these events that is stored."""
    wanted, parameter = _set_of(conn, ids)
    return f"SELECT id, body FROM events WHERE id IN ({wanted})", (parameter,)


def versions_statement(
    conn: Connection, subjects: Collection[str], of_events: Collection[str] = ()
) -> Statement:
    """(subject, version or NULL) of these subjects and of the subjects of these events.

    One max() per subject, each an index lookup on (subject, version): a GROUP BY over
    the subjects reads every version of every subject, which grows with the log.
    """
    named, subjects_parameter = _set_of(conn, subjects)
    events, events_parameter = _set_of(conn, of_events)
    wanted = f"{named} UNION SELECT events.subject FROM events WHERE events.id IN ({events})"
    latest = "(SELECT max(version) FROM events WHERE events.subject = wanted.subject)"
    # SQLite names a subquery's columns only through a CTE; PostgreSQL plans both alike.
    sql = f"WITH wanted(subject) AS ({wanted}) SELECT wanted.subject, {latest} FROM wanted"
    return sql, (subjects_parameter, events_parameter)


def corrections_statement(conn: Connection, targets: Collection[str], *, below: bool = False) -> Statement:
    """The targets themselves, every event that corrects one of them, every event that
    corrects one of those, and so on up: all that deciding whether the targets are live
    and in effect can ask about. With `below`, the events the targets correct too, down
    to the first of each chain, and all that corrects those: what a walk down a chain of
    corrections asks about (a chain of retractions of retractions is walked to its foot
    on every append to it, so it is read in one statement, not one per step).
    Rows of (id, position, type, corrects), in log order."""
    wanted, parameter = _set_of(conn, targets)
    if conn.dialect.name == "postgresql":
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
    else:
        start = "named"
        steps = f"WITH RECURSIVE named(id) AS ({wanted}),"
        if below:
            steps += (
                " under(id) AS (SELECT id FROM named UNION SELECT events.corrects FROM under"
                " JOIN events ON events.id = under.id WHERE events.corrects IS NOT NULL),"
            )
            start = "under"
        sql = (
            f"{steps} above(id) AS (SELECT events.id FROM {start} JOIN events ON events.corrects = {start}.id"
            " UNION SELECT events.id FROM above JOIN events ON events.corrects = above.id)"
            " SELECT events.id, events.position, events.type, events.corrects"
            f" FROM (SELECT id FROM above UNION SELECT id FROM {start}) AS near"
            " JOIN events ON events.id = near.id ORDER BY events.position"
        )
    return sql, (parameter,)


def bodies_by_id(conn: Connection, ids: Collection[str]) -> dict[str, str]:
    """The stored text of each of these events that is stored."""
    if not ids:
        return {}
    return dict(run_together(conn, [bodies_statement(conn, ids)])[0])


def latest_versions(conn: Connection, subjects: Collection[str]) -> dict[str, int]:
    """Each subject's version (0 for one without events)."""
    if not subjects:
        return {}
    return versions_of(run_together(conn, [versions_statement(conn, subjects)])[0])


def versions_of(rows: Rows) -> dict[str, int]:
    return {subject: version or 0 for subject, version in rows}


def corrections_around(
    conn: Connection, targets: Collection[str], *, below: bool = False
) -> list[CorrectionRow]:
    """The rows of `corrections_statement`."""
    if not targets:
        return []
    return corrections_of(run_together(conn, [corrections_statement(conn, targets, below=below)])[0])


def corrections_of(rows: Rows) -> list[CorrectionRow]:
    return [CorrectionRow(*row) for row in rows]


def correctors_by_target(
    rows: Iterable[CorrectionRow], targets: Iterable[str]
) -> dict[str, list[CorrectionRow]]:
    """Who corrects whom among `rows` (from `corrections_around`), in log order: complete
    for every target and every row, since the rows hold all that corrects them."""
    found: dict[str, list[CorrectionRow]] = {target: [] for target in targets}
    for row in rows:
        found.setdefault(row.id, [])
        if row.corrects is not None and row.corrects in found:
            found[row.corrects].append(row)
    # A corrector may come before the row of what it corrects only if the log is out of
    # order, which the chain rules out; rows are in log order, so one pass suffices.
    return found
