"""Keeping the read model current inside the append transaction, so that a query without
known_at sees the last committed event: no projector lags behind the log."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from events.envelope import StoredEvent
from events.recorders import mark, recorder_of
from events.recorders.protocol import CorrectionRow, correctors_by_target
from events.types import RETRACTED
from projections.assemble import EVERY_ONE
from projections.effect_changes import Corrector, effect_changes
from projections.facts import Fact, fact_of, fact_of_body
from projections.selection import part_of, slots_of
from projections.sql.tables import ACTIVE, ModelTables
from projections.stored_items import stored_item

StateRow = tuple[int, str, int, int | None, str, str, str, str]
ROW_COLUMNS = ("position", "kind", "sys_from", "sys_until", "part", "scope", "slot", "valid_from")
ItemRow = tuple[int, str, str, str, str, str | None, str | None, str | None, str | None]
ITEM_COLUMNS = (
    "position",
    "event_id",
    "valid_from",
    "last_instant",
    "item",
    "control",
    "within",
    "starts",
    "ends",
)
SlotKey = tuple[str, str, str, str]  # part, scope, kind, slot
Slots = dict[SlotKey, tuple[str, int]]  # the earliest valid_from and position of the slot's rows
SLOT_COLUMNS = ("part", "scope", "kind", "slot", "first_from", "first_position")


def rows_of(fact: Fact, sys_from: int, sys_until: int | None = None) -> list[StateRow]:
    """The rows of `entries_of(fact)`, built without the entries: the rebuild's inner loop.
    A kind of which every event is shown is stored under the slot '' (its rows are read
    in valid-time order, not the newest per slot)."""
    part = part_of(fact.type)
    if part is None:
        return []
    position, scope, since = fact.position, fact.subject, fact.occurred_from
    return [
        (position, kind, sys_from, sys_until, part, scope, "" if kind in EVERY_ONE else slot, since)
        for kind, slot in slots_of(fact)
    ]


def item_of(fact: Fact) -> ItemRow | None:
    stored = stored_item(fact)
    if stored is None:
        return None
    return (stored.position, stored.event_id, fact.occurred_from, stored.last_instant, stored.item,
            stored.control, stored.within, stored.starts, stored.ends)  # fmt: skip


def slots_of_rows(rows: Sequence[StateRow], into: Slots | None = None) -> Slots:
    """The slots the rows fill, each with the earliest valid_from and position of its rows
    (before those, it has nothing to show). A kind of which every event is shown has one
    slot, '', per area or track: it lists the area or track, and is not read for the
    newest of a slot. A rejection's slot is the offer it names: it is read with the
    offer, and is not listed."""
    found: Slots = {} if into is None else into
    for position, kind, _, _, part, scope, slot, valid_from in rows:
        if kind == "offer_rejected":
            continue
        key = (part, scope, kind, slot)
        earliest = found.get(key)
        if earliest is None:
            found[key] = (valid_from, position)
        elif valid_from < earliest[0] or position < earliest[1]:
            found[key] = (min(valid_from, earliest[0]), min(position, earliest[1]))
    return found


def insert_rows(conn: Connection, rows: Sequence[StateRow], tables: ModelTables = ACTIVE) -> None:
    recorder_of(conn).bulk_insert(conn, tables.rows, ROW_COLUMNS, rows)


def insert_items(conn: Connection, items: Sequence[ItemRow], tables: ModelTables = ACTIVE) -> None:
    recorder_of(conn).bulk_insert(conn, tables.items, ITEM_COLUMNS, items)


def load_slots(conn: Connection, slots: Slots, tables: ModelTables) -> None:
    """A rebuild's slots, each once, into its new tables (not indexed yet)."""
    rows = [(*key, first_from, first_position) for key, (first_from, first_position) in sorted(slots.items())]
    recorder_of(conn).bulk_insert(conn, tables.slots, SLOT_COLUMNS, rows)


def insert_slots(conn: Connection, slots: Slots, tables: ModelTables = ACTIVE) -> None:
    """New slots, and an earlier first valid_from for known ones (a late event): most
    appends fill slots that exist, and change nothing."""
    if not slots:
        return
    m = mark(conn)
    t = tables.slots
    conn.exec_driver_sql(
        f"INSERT INTO {t} ({', '.join(SLOT_COLUMNS)}) VALUES ({', '.join([m] * len(SLOT_COLUMNS))})"
        f" ON CONFLICT (part, scope, kind, slot) DO UPDATE SET first_from = excluded.first_from"
        f" WHERE excluded.first_from < {t}.first_from",
        [(*key, first_from, first_position) for key, (first_from, first_position) in sorted(slots.items())],
    )


class LogCorrections:
    """Who corrects whom, from the events table, for one append transaction (which sees
    its own rows). What the batch's corrections can ask is read in one statement up
    front; a question beyond it (a walk down a chain of corrections) reads on demand.
    Answers are kept: within the transaction they cannot change."""

    def __init__(
        self, conn: Connection, appended: Sequence[StoredEvent], around: list[CorrectionRow] | None = None
    ) -> None:
        """`around`: `corrections_around` the batch's targets, when the caller has read it."""
        self.conn = conn
        self.targets: dict[str, str | None] = {e.id: e.corrects for e in appended}
        self.positions: dict[str, int] = {e.id: e.position for e in appended}
        self.types: dict[str, str] = {e.id: e.type for e in appended}
        self.correctors: dict[str, list[Corrector]] = {}
        self._read(targets_of(appended), around, below=False)

    def _read(
        self, targets: set[str], around: list[CorrectionRow] | None = None, *, below: bool = True
    ) -> None:
        # A question beyond what was read up front is a walk down a chain of corrections:
        # the chain below is read with it, so that the walk costs one statement, not one a
        # step (a chain of retractions of retractions is walked to its foot on each append).
        rows = (
            recorder_of(self.conn).corrections_around(self.conn, targets, below=below)
            if around is None
            else around
        )
        for row in rows:
            self.targets.setdefault(row.id, row.corrects)
            self.positions[row.id] = row.position
            self.types[row.id] = row.type
        for event_id, correctors in correctors_by_target(rows, targets).items():
            self.correctors[event_id] = [Corrector(c.id, c.position, c.type == RETRACTED) for c in correctors]

    def correctors_of(self, event_id: str) -> list[Corrector]:
        if event_id not in self.correctors:
            self._read({event_id})
        return self.correctors[event_id]

    def target_of(self, event_id: str) -> str | None:
        if event_id not in self.targets:
            self._read({event_id})
            self.targets.setdefault(event_id, None)
        return self.targets[event_id]

    def has_rows(self, event_id: str) -> bool:
        """A retraction is in no part of the state: it has no rows to close or reopen."""
        if event_id not in self.types:
            self._read({event_id})
        return self.types.get(event_id) != RETRACTED

    def position_of(self, event_id: str) -> int:
        if event_id not in self.positions:
            self._read({event_id})
        return self.positions[event_id]


def targets_of(appended: Sequence[StoredEvent]) -> set[str]:
    return {e.corrects for e in appended if e.corrects is not None}


def record(
    conn: Connection,
    appended: Sequence[StoredEvent],
    around: list[CorrectionRow] | None = None,
    tables: ModelTables = ACTIVE,
) -> None:
    """Add the rows, items and slots of newly appended events, then apply what their
    corrections change. `around`: `corrections_around` the events they correct, when the
    caller has read it."""
    facts = [fact_of(event) for event in appended]
    rows = [row for fact in facts for row in rows_of(fact, fact.position)]
    insert_rows(conn, rows, tables)
    insert_items(conn, [item for item in map(item_of, facts) if item is not None], tables)
    insert_slots(conn, slots_of_rows(rows), tables)
    if not any(event.corrects is not None for event in appended):
        return
    corrections = LogCorrections(conn, appended, around)
    closing: list[tuple[int, int]] = []  # (sys_until, position), in log order
    for event in appended:
        if event.corrects is None:
            continue
        for event_id, now_in_effect in effect_changes(event.id, event.position, corrections):
            if not corrections.has_rows(event_id):
                continue  # a retraction back in effect, or out: only what it retracts has rows
            if now_in_effect:
                # Closing matches an event's open rows, which include reopened ones: what
                # closed before this reopening must be closed before its rows exist.
                _close(conn, closing, tables)
                closing = []
                _reopen(conn, event_id, event.position, tables)
            else:
                closing.append((event.position, corrections.position_of(event_id)))
    _close(conn, closing, tables)


def _reopen(conn: Connection, event_id: str, at: int, tables: ModelTables) -> None:
    """An event back in effect: new rows from `at` (its item and slots are there already)."""
    body = recorder_of(conn).bodies_by_id(conn, [event_id])[event_id]
    insert_rows(conn, rows_of(fact_of_body(body), at), tables)


def _close(conn: Connection, closing: list[tuple[int, int]], tables: ModelTables) -> None:
    """End the open rows of events that leave effect: one statement, run once per event."""
    if not closing:
        return
    m = mark(conn)
    conn.exec_driver_sql(
        f"UPDATE {tables.rows} SET sys_until = {m} WHERE position = {m} AND sys_until IS NULL", closing
    )


class StateRows:
    """The append hook: the active read model follows every append."""

    def __call__(self, conn: Connection, appended: Sequence[StoredEvent]) -> None:
        targets = targets_of(appended)
        around = recorder_of(conn).corrections_around(conn, targets) if targets else []
        record(conn, appended, around)


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
