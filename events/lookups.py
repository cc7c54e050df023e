"""Reads of the events table for a whole batch at once, in driver SQL.

An append used to ask the log one question per event it checked (the event a
reference names, who corrects it, a subject's version): a few statements per
event, each paying SQLAlchemy's compile and, on PostgreSQL, a round trip. These
answer the questions of a whole batch in one statement each. A set of values
travels as one parameter (a JSON array on SQLite, a text array on PostgreSQL),
so the statement text, and the plan, is the same whatever the batch holds.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection


@dataclass(frozen=True)
class CorrectionRow:
    """An event that corrects another, as the correction rules need it: no body."""

    id: str
    position: int
    type: str
    corrects: str | None


def _set_of(conn: Connection, values: Collection[str]) -> tuple[str, Any]:
    """A subquery over a set of strings, and the one parameter it takes."""
    if conn.dialect.name == "postgresql":
        return "SELECT unnest(%s::text[])", list(values)
    return "SELECT value FROM json_each(?)", json.dumps(list(values))


def _rows(conn: Connection, sql: str, parameter: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.exec_driver_sql(sql, (parameter,))]


def bodies_by_id(conn: Connection, ids: Collection[str]) -> dict[str, str]:
    """The stored text of each of these events that is stored."""
    if not ids:
        return {}
    wanted, parameter = _set_of(conn, ids)
    return dict(_rows(conn, f"SELECT id, body FROM events WHERE id IN ({wanted})", parameter))


def latest_versions(conn: Connection, subjects: Collection[str]) -> dict[str, int]:
    """Each subject's version (0 for one without events).

    One max() per subject, each an index lookup on (subject, version): a GROUP BY over
    the subjects reads every version of every subject, which grows with the log.
    """
    if not subjects:
        return {}
    wanted, parameter = _set_of(conn, subjects)
    sql = (
        "SELECT wanted.subject, (SELECT max(version) FROM events WHERE events.subject = wanted.subject)"
        f" FROM ({wanted}) AS wanted(subject)"
    )
    if conn.dialect.name != "postgresql":  # SQLite names a subquery's columns only through a CTE
        sql = (
            f"WITH wanted(subject) AS ({wanted}) SELECT wanted.subject,"
            " (SELECT max(version) FROM events WHERE events.subject = wanted.subject) FROM wanted"
        )
    return {subject: version or 0 for subject, version in _rows(conn, sql, parameter)}


def corrections_around(conn: Connection, targets: Collection[str]) -> list[CorrectionRow]:
    """The targets themselves, every event that corrects one of them, every event that
    corrects one of those, and so on up: all that deciding whether the targets are live
    and in effect can ask about. Each is one row, in log order."""
    if not targets:
        return []
    wanted, parameter = _set_of(conn, targets)
    if conn.dialect.name == "postgresql":
        # Every step looks rows up by index, one outer row at a time. Planned as plain joins,
        # the recursive step is estimated at thousands of rows (a recursive CTE's guess), and
        # the plan became a sort or hash of the whole events table: 0.4 s at 10,000 events.
        # OFFSET 0 keeps each lateral subquery from being flattened into such a join.
        def lookup(column: str, outer: str, columns: str = "events.id") -> str:
            where = f"events.{column} = {outer}.id"
            return f"LATERAL (SELECT {columns} FROM events WHERE {where} OFFSET 0) AS found"

        sql = (
            f"WITH RECURSIVE named(id) AS ({wanted}),"
            f" above(id) AS (SELECT found.id FROM named, {lookup('corrects', 'named')}"
            f" UNION SELECT found.id FROM above, {lookup('corrects', 'above')})"
            " SELECT found.* FROM (SELECT id FROM above UNION SELECT id FROM named) AS near,"
            f" {lookup('id', 'near', 'events.id, events.position, events.type, events.corrects')}"
            " ORDER BY found.position"
        )
    else:
        sql = (
            f"WITH RECURSIVE named(id) AS ({wanted}),"
            " above(id) AS (SELECT events.id FROM named JOIN events ON events.corrects = named.id"
            " UNION SELECT events.id FROM above JOIN events ON events.corrects = above.id)"
            " SELECT events.id, events.position, events.type, events.corrects"
            " FROM (SELECT id FROM above UNION SELECT id FROM named) AS near"
            " JOIN events ON events.id = near.id ORDER BY events.position"
        )
    return [CorrectionRow(*row) for row in _rows(conn, sql, parameter)]


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
