"""Answering from the read model: the newest row per slot, in effect at a log position,
and every row of the kinds every one of which is shown; assembled as JSON text.

A whole part is answered by one index seek per slot (the slots are listed in
`state_slots`), not by a scan of all its rows, so its cost grows with the number of
slots (areas times claimants, assessors, ...), not with the log.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from events.recorders import mark, recorder_of
from events.recorders.sql import fetch_all
from projections import assemble, territory
from projections.assemble import EVERY_ONE, Selected
from projections.parts import PARTS, TERRITORY
from projections.sql.tables import ACTIVE, STATE, ModelTables
from projections.windows import NO_PAGE, NO_WINDOW, Page, Window, page_of

ITEM = "i.event_id, i.last_instant, i.item, i.control, i.within, i.starts, i.ends"
KINDS = {part.name: part.kinds for part in PARTS}
# How many areas or tracks one statement reads while a page is being filled, at most.
PAGE_CHUNK = 200
# Up to this many areas or tracks, a limit is applied in the statement, to each one.
MAX_LIMITED_SCOPES = 64


class ModelNotBuilt(Exception):
    """The read model is stale: a migration changed it, and it has not been rebuilt yet."""


def _in_effect(m: str) -> str:
    return f"r.sys_from <= {m} AND (r.sys_until IS NULL OR r.sys_until > {m})"


def _newest(
    conn: Connection, tables: ModelTables, part: str, scopes: Sequence[str] | None, as_of: str, position: int
) -> list[Selected]:
    """The newest counting row of each slot of the part (of the given areas or tracks); for
    talks, with the counting rejections of the offers among them (a rejection has no slot
    of its own in `state_slots`: only those of current offers matter, and rejections
    grow with the log)."""
    m = mark(conn)
    every_one = ", ".join(f"'{kind}'" for kind in EVERY_ONE)
    # A slot whose first row begins after as_of, or comes after the cut, has nothing to show.
    where = [f"s.part = {m}", f"s.kind NOT IN ({every_one})"]
    where += [f"s.first_from <= {m}", f"s.first_position <= {m}"]
    params: list[Any] = [part, as_of, position]
    if scopes is not None:
        where.append(f"s.scope IN ({', '.join([m] * len(scopes))})")
        params += list(scopes)
    sql = (
        # Materialized: inlined, the scalar subquery would run twice a slot (join and column).
        f"WITH winners AS MATERIALIZED (SELECT s.scope, s.kind, s.slot, ("
        f"SELECT r.position FROM {tables.rows} r WHERE r.part = s.part AND r.scope = s.scope"
        f" AND r.kind = s.kind AND r.slot = s.slot AND r.valid_from <= {m} AND {_in_effect(m)}"
        f" ORDER BY r.valid_from DESC, r.position DESC LIMIT 1) AS position"
        f" FROM {tables.slots} s WHERE {' AND '.join(where)})"
        f" SELECT w.scope, w.kind, w.slot, i.valid_from, w.position, {ITEM}"
        f" FROM winners w JOIN {tables.items} i ON i.position = w.position"
    )
    values: list[Any] = [as_of, position, position, *params]
    if part == "talks":
        sql += (
            " UNION ALL SELECT r.scope, r.kind, r.slot, r.valid_from, r.position,"
            " NULL, NULL, NULL, NULL, NULL, NULL, NULL"
            f" FROM winners w JOIN {tables.items} i ON i.position = w.position"
            f" JOIN {tables.rows} r ON r.part = 'talks' AND r.scope = w.scope AND r.kind = 'offer_rejected'"
            f" AND r.slot = i.event_id AND r.valid_from <= {m} AND {_in_effect(m)}"
            " WHERE w.kind = 'offer_made'"
        )
        values += [as_of, position, position]
    return [Selected._make(row) for row in fetch_all(conn, sql, values)]


def _every_one(
    conn: Connection,
    tables: ModelTables,
    part: str,
    scopes: Sequence[str] | None,
    as_of: str,
    position: int,
    window: Window,
) -> list[Selected]:
    """Every counting row of the kinds every one of which is shown, within the window's
    valid-time bounds; with a limit and a few areas or tracks, only the latest limit + 1
    of each kind of each (enough to say whether the limit shortened it), each read by
    one backward range of the index."""
    m = mark(conn)
    select_from = (
        f"SELECT r.scope, r.kind, r.slot, r.valid_from, r.position, {ITEM} FROM {tables.rows} r"
        f" JOIN {tables.items} i ON i.position = r.position"
    )
    limited = window.limit is not None and scopes is not None and len(scopes) <= MAX_LIMITED_SCOPES
    if limited and recorder_of(conn).lateral_reads:
        assert scopes is not None
        return _latest_lateral(conn, tables, part, scopes, as_of, position, window)
    groups: list[Sequence[str] | None] = [[scope] for scope in scopes or ()] if limited else [scopes]
    selects: list[str] = []
    params: list[Any] = []
    for kind in (k for k in KINDS[part] if k in EVERY_ONE):
        for group in groups:
            where = [f"r.part = {m}", f"r.kind = {m}", "r.slot = ''", f"r.valid_from <= {m}", _in_effect(m)]
            values: list[Any] = [part, kind, as_of, position, position]
            if group is not None:
                where.append(f"r.scope IN ({', '.join([m] * len(group))})")
                values += list(group)
            if kind == "ceasefire_declared":  # those in force at as_of
                where.append(f"i.starts <= {m} AND (i.ends IS NULL OR i.ends > {m})")
                values += [as_of, as_of]
            if kind == "clash_reported":  # those of the 30 days up to as_of
                where.append(f"r.valid_from >= {m}")
                values.append(territory.clashes_from(as_of))
            if window.since is not None:
                where.append(f"r.valid_from >= {m}")
                values.append(window.since)
            if window.until is not None:
                where.append(f"r.valid_from < {m}")
                values.append(window.until)
            select = f"{select_from} WHERE {' AND '.join(where)}"
            if limited:
                latest = f"ORDER BY r.valid_from DESC, r.position DESC LIMIT {(window.limit or 0) + 1}"
                select = f"SELECT * FROM ({select} {latest}) latest"
            selects.append(select)
            params += values
    if not selects:
        return []
    return [Selected._make(row) for row in fetch_all(conn, " UNION ALL ".join(selects), params)]


def _latest_lateral(
    conn: Connection,
    tables: ModelTables,
    part: str,
    scopes: Sequence[str],
    as_of: str,
    position: int,
    window: Window,
) -> list[Selected]:
    """`_every_one` with a limit, on PostgreSQL: the same backward range per (kind, area or
    track), as one lateral join over their list rather than a UNION ALL of one subquery
    each. Planning a union of 60 subqueries took 31 ms for an 8 ms read (20 tracks)."""
    pairs = [(kind, scope) for kind in KINDS[part] if kind in EVERY_ONE for scope in scopes]
    if not pairs:
        return []
    where = [
        "r.part = %s", "r.kind = w.kind", "r.slot = ''", "r.scope = w.scope", "r.valid_from <= %s",
        _in_effect("%s"),
        # Ceasefires: those in force at as_of.
        "(w.kind <> 'ceasefire_declared' OR (i.starts <= %s AND (i.ends IS NULL OR i.ends > %s)))",
    ]  # fmt: skip
    params: list[Any] = [[k for k, _ in pairs], [s for _, s in pairs], part, as_of, position, position]
    params += [as_of, as_of]
    if window.since is not None:
        where.append("r.valid_from >= %s")
        params.append(window.since)
    if window.until is not None:
        where.append("r.valid_from < %s")
        params.append(window.until)
    sql = (
        "SELECT x.* FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS w(kind, scope, n)"
        f" CROSS JOIN LATERAL (SELECT r.scope, r.kind, r.slot, r.valid_from, r.position, {ITEM}"
        f" FROM {tables.rows} r JOIN {tables.items} i ON i.position = r.position"
        f" WHERE {' AND '.join(where)} ORDER BY r.valid_from DESC, r.position DESC"
        f" LIMIT {(window.limit or 0) + 1}) x ORDER BY w.n, x.valid_from DESC, x.position DESC"
    )
    return [Selected._make(row) for row in fetch_all(conn, sql, params)]


def present(
    conn: Connection,
    part: str,
    scopes: Sequence[str] | None,
    as_of: str,
    position: int,
    tables: ModelTables = ACTIVE,
) -> set[tuple[str, str]]:
    """(scope, kind) of every kind every event of which is shown that has a counting event,
    whatever a window shows: a track's status and whether it appears are the full answer's."""
    m = mark(conn)
    kinds = [k for k in KINDS[part] if k in EVERY_ONE]
    where = [f"r.part = {m}", f"r.kind IN ({', '.join([m] * len(kinds))})", "r.slot = ''"]
    where += [f"r.valid_from <= {m}", _in_effect(m)]
    params: list[Any] = [part, *kinds, as_of, position, position]
    if scopes is not None:
        where.append(f"r.scope IN ({', '.join([m] * len(scopes))})")
        params += list(scopes)
    # A ceasefire counts for the status only while in force.
    in_force = f"(r.kind <> 'ceasefire_declared' OR (i.starts <= {m} AND (i.ends IS NULL OR i.ends > {m})))"
    params += [as_of, as_of]
    joined = f"{tables.rows} r JOIN {tables.items} i ON i.position = r.position"
    sql = f"SELECT DISTINCT r.scope, r.kind FROM {joined} WHERE {' AND '.join(where)} AND {in_force}"
    return {(scope, kind) for scope, kind in conn.exec_driver_sql(sql, tuple(params))}


def selected(
    conn: Connection,
    part: str,
    scopes: Sequence[str] | None,
    as_of: str,
    position: int,
    window: Window = NO_WINDOW,
    tables: ModelTables = ACTIVE,
) -> list[Selected]:
    """What the answer of a part (or of some of its areas or tracks) is assembled from."""
    if position == 0 or (scopes is not None and not scopes):
        return []
    return _newest(conn, tables, part, scopes, as_of, position) + _every_one(
        conn, tables, part, scopes, as_of, position, window
    )


def check_built(conn: Connection) -> None:
    stale = conn.exec_driver_sql(
        f"SELECT stale FROM read_models WHERE name = {mark(conn)}", (STATE,)
    ).scalar()
    if stale:
        raise ModelNotBuilt("the read model is being rebuilt after an upgrade: run `timeline migrate`")


def _scopes_after(
    conn: Connection, part: str, after: str | None, limit: int, as_of: str, position: int
) -> list[str]:
    """Areas or tracks in name order that may have something to show at (as_of, position):
    those with a slot whose first row begins by as_of and comes by the cut."""
    m = mark(conn)
    sql = f"SELECT DISTINCT scope FROM state_slots WHERE part = {m} AND first_from <= {m}"
    sql += f" AND first_position <= {m}"
    params: list[Any] = [part, as_of, position]
    if after is not None:
        sql += f" AND scope > {m}"
        params.append(after)
    sql += f" ORDER BY scope LIMIT {limit}"
    return [row[0] for row in conn.exec_driver_sql(sql, tuple(params))]


def _assembled(
    conn: Connection,
    part: str,
    scopes: Sequence[str] | None,
    as_of: str,
    position: int,
    window: Window,
) -> dict[str, str | None]:
    if part == TERRITORY.name:  # no list of an area is windowed (`windows.WINDOWED`)
        rows = selected(conn, part, scopes, as_of, position)
        return {scope: assemble.area(found, as_of) for scope, found in assemble.scoped(rows).items()}
    rows = selected(conn, part, scopes, as_of, position, window)
    bounded = window.since is not None or window.until is not None
    kinds = present(conn, part, scopes, as_of, position) if bounded and position > 0 else set()
    by_scope = assemble.scoped(rows)
    for scope, _ in kinds:  # a track whose shown lists the window emptied
        by_scope.setdefault(scope, [])
    return {
        scope: assemble.track(found, as_of, window, {kind for s, kind in kinds if s == scope})
        for scope, found in sorted(by_scope.items())
    }


def scoped_part(
    conn: Connection,
    part: str,
    as_of: str,
    position: int,
    only: str | None = None,
    window: Window = NO_WINDOW,
    page: Page = NO_PAGE,
) -> tuple[str, str | None]:
    """Territory's areas or talks' tracks as `{"name": {...}, ...}`; one exactly (`only`), a
    page of them, or all. Returns the map's JSON and the name after which the next page
    starts (None at the end, or without a page)."""
    if only is not None:
        shown = _assembled(conn, part, [only], as_of, position, window)
        return assemble.shown_map(shown.items()), None
    if not page.given:
        shown = _assembled(conn, part, None, as_of, position, window)
        return assemble.shown_map(shown.items()), None
    # A page of what has something to show: read chunks of names until it is full (an
    # area may be listed in the slots and yet show nothing at this as_of).
    found: dict[str, str] = {}
    after = page.after
    wanted = (page.limit or 0) + 1  # one more than the page: is there a next one?
    while page.limit is None or len(found) < wanted:
        chunk = min(PAGE_CHUNK, wanted - len(found)) if page.limit else PAGE_CHUNK
        names = _scopes_after(conn, part, after, chunk, as_of, position)
        if not names:
            break
        shown = _assembled(conn, part, names, as_of, position, window)
        found.update((name, text) for name, text in shown.items() if text is not None)
        after = names[-1]
    names, next_after = page_of(sorted(found), page)
    return assemble.shown_map((name, found[name]) for name in names), next_after


def diplomacy_part(conn: Connection, as_of: str, position: int, window: Window = NO_WINDOW) -> str:
    # One scope, `diplomacy`: a limit is applied in the statement.
    return assemble.diplomacy(
        selected(conn, "diplomacy", ["diplomacy"], as_of, position, window), as_of, window
    )


def area_rows(conn: Connection, position: int, area: str, tables: ModelTables = ACTIVE) -> list[Selected]:
    """Every row of one area in effect at `position`, whatever its valid time."""
    if position == 0:
        return []
    m = mark(conn)
    sql = (
        f"SELECT r.scope, r.kind, r.slot, r.valid_from, r.position, {ITEM} FROM {tables.rows} r"
        f" JOIN {tables.items} i ON i.position = r.position"
        f" WHERE r.part = 'territory' AND r.scope = {m} AND {_in_effect(m)}"
    )
    return [Selected._make(row) for row in fetch_all(conn, sql, (area, position, position))]
