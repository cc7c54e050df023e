"""EventStore: the only code that writes the events table.

An append takes the backend's write lock, reads the head, checks each event
against the log (`events.rules`), stamps position, version, recorded_at and
the hash chain, inserts, and runs the append hooks, all in one transaction.
Later features (read models, notifications, Merkle nodes) join that
transaction by registering an `AppendHook`, without touching this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import Connection, Engine, or_, select, text

from events.batch import EVENT_COLUMNS, BatchView, build_event, row_of, same_or_conflict
from events.database import bulk_insert, is_sqlite, write_transaction
from events.drafts import Draft
from events.envelope import GENESIS_HASH, StoredEvent
from events.errors import Conflict, InvalidInput, TimelineError
from events.instants import ONE_MICROSECOND, format_instant, parse_instant
from events.lookups import HEAD, Statement, bodies_by_id
from events.rules import check_append
from events.tables import events as events_table
from events.types import RETRACTED

# Any constant works; it only has to be the same for every process.
APPEND_LOCK_KEY = 0x71AE11E  # "timeline"


class AppendHook(Protocol):
    """Runs inside the append transaction, after the new rows are inserted."""

    def __call__(self, conn: Connection, appended: Sequence[StoredEvent]) -> None: ...


AfterCommit = Callable[[Sequence[StoredEvent]], None]


@dataclass(frozen=True)
class Head:
    position: int
    hash: str
    recorded_at: str


@dataclass(frozen=True)
class AppendResult:
    events: list[StoredEvent]  # in request order; already stored ones included
    stored: int  # how many were new


@dataclass(frozen=True)
class Row:
    """An event as the stream needs it: enough to filter, and its stored text."""

    position: int
    type: str
    subject: str
    body: str


@dataclass(frozen=True)
class Page:
    events: list[StoredEvent]
    next_after: int | None


class EventStore:
    """The log. Build it with `service.wiring.build_store`, which gives it the hooks every
    writer needs (the Merkle tree, the read model, the NOTIFY); `hooks` has no default, so
    a store that leaves any of them behind (a benchmark's baseline, a test of an old
    revision) says so where it is built."""

    def __init__(
        self,
        engine: Engine,
        *,
        hooks: Sequence[AppendHook],
        after_commit: Sequence[AfterCommit] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.hooks = list(hooks)
        self.after_commit = list(after_commit)
        self._clock = clock

    # -- writing -------------------------------------------------------------

    def append(self, items: Sequence[Draft | InvalidInput], *, batch: bool = True) -> AppendResult:
        """Append drafts atomically; an InvalidInput in the list fails the batch at its place.

        Events are checked one by one in order, so the answer is the first
        failure, whatever its kind.
        """
        if not items:
            raise InvalidInput("A batch holds 1 to 1,000 events.")
        if isinstance(items[0], InvalidInput) and items[0].claimed_id is None:
            raise items[0]
        return self._write(items, batch)[0]

    def append_each(self, items: Sequence[Draft | InvalidInput]) -> list[AppendResult | TimelineError]:
        """Append independent events in one transaction: each gets the answer it would get
        alone (its result, or its error), and a refused one does not stop the others. For
        group commit; the items must carry distinct ids."""
        refusals: dict[int, TimelineError] = {}
        result, appended = self._write(items, False, refusals)
        new = {event.id for event in appended}
        answers = iter(result.events)
        found: list[AppendResult | TimelineError] = []
        for index in range(len(items)):
            if index in refusals:
                found.append(refusals[index])
            else:
                event = next(answers)
                found.append(AppendResult([event], 1 if event.id in new else 0))
        return found

    def _write(
        self,
        items: Sequence[Draft | InvalidInput],
        batch: bool,
        refusals: dict[int, TimelineError] | None = None,
    ) -> tuple[AppendResult, list[StoredEvent]]:
        with write_transaction(self.engine) as conn:
            result, appended = self._append_locked(conn, items, batch, refusals)
            if appended:
                bulk_insert(conn, "events", EVENT_COLUMNS, [row_of(e) for e in appended])
                for hook in self.hooks:
                    hook(conn, appended)
        if appended:
            for callback in self.after_commit:
                callback(appended)
        return result, appended

    @contextmanager
    def locked(self) -> Iterator[Connection]:
        """A transaction holding the append lock: nothing is appended until it ends."""
        with write_transaction(self.engine) as conn:
            if not is_sqlite(self.engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK_KEY})
            yield conn

    def _append_locked(
        self,
        conn: Connection,
        items: Sequence[Draft | InvalidInput],
        batch: bool,
        refusals: dict[int, TimelineError] | None = None,
    ) -> tuple[AppendResult, list[StoredEvent]]:
        given = [d.id for d in items if isinstance(d, Draft) and d.id_given]
        given += [r.claimed_id for r in items if isinstance(r, InvalidInput) and r.claimed_id]
        view = BatchView(conn)
        # The append lock, the head and what the rules will ask: one round trip on PostgreSQL
        # (SQLite took its lock at BEGIN IMMEDIATE).
        first: list[Statement] = [(HEAD, ())]
        if not is_sqlite(self.engine):
            first.insert(0, ("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK_KEY,)))
        head_rows = view.prefetch([d for d in items if isinstance(d, Draft)], given, first=first)[-1]
        head = Head(*head_rows[0]) if head_rows else None
        now = self._clock()
        recorded = now if head is None else max(now, parse_instant(head.recorded_at) + ONE_MICROSECOND)
        recorded_at = format_instant(recorded)
        prev_hash = head.hash if head else GENESIS_HASH
        position = head.position if head else 0

        stored = view.fetch_stored(set(given))
        answer: list[StoredEvent] = []
        appended: list[StoredEvent] = []
        for index, item in enumerate(items):
            try:
                if isinstance(item, InvalidInput):
                    if item.claimed_id in stored:
                        raise Conflict(
                            f"An event with id {item.claimed_id} is already stored with other content.",
                            existing_position=stored[item.claimed_id].position,
                        )
                    raise item
                if item.id in stored:
                    answer.append(same_or_conflict(item, stored[item.id], view))
                    continue
                subject, version = check_append(item, view, recorded)
            except TimelineError as exc:
                if refusals is not None:
                    refusals[index] = exc
                    continue
                if batch and "index" not in exc.extra:
                    raise exc.at_index(index, f"/events/{index}") from None
                raise
            position += 1
            if refusals is not None and appended:
                # Independent events committed together keep a recorded_at each, as if
                # appended one by one: only a batch shares one (docs/api.md §1).
                recorded += ONE_MICROSECOND
                recorded_at = format_instant(recorded)
            event = build_event(item, subject, version, position, recorded_at, prev_hash)
            prev_hash = event.hash
            view.add(event)
            answer.append(event)
            appended.append(event)
        return AppendResult(answer, len(appended)), appended

    # -- reading -------------------------------------------------------------

    def head(self) -> Head | None:
        with self.engine.connect() as conn:
            return self._head(conn)

    @staticmethod
    def _head(conn: Connection) -> Head | None:
        row = conn.exec_driver_sql(HEAD).first()
        return Head(*row) if row else None

    def get(self, event_id: str) -> StoredEvent | None:
        with self.engine.connect() as conn:
            body = bodies_by_id(conn, [event_id]).get(event_id)
        return StoredEvent.from_body(body) if body is not None else None

    def cut_head(self, known_at: str | None) -> Head | None:
        """The last event recorded by known_at (the head when None)."""
        with self.engine.connect() as conn:
            if known_at is None:
                return self._head(conn)
            # recorded_at never decreases along the log, so the newest (recorded_at,
            # position) at or before the instant is the cut: one probe of their index.
            row = conn.execute(
                select(events_table.c.position, events_table.c.hash, events_table.c.recorded_at)
                .where(events_table.c.recorded_at <= known_at)
                .order_by(events_table.c.recorded_at.desc(), events_table.c.position.desc())
                .limit(1)
            ).first()
        return Head(row.position, row.hash, row.recorded_at) if row else None

    def correctors(self, event_id: str, until: int | None = None) -> list[StoredEvent]:
        """The events that supersede or retract this one (up to a position), in log order."""
        query = (
            select(events_table.c.body)
            .where(events_table.c.corrects == event_id)
            .order_by(events_table.c.position)
        )
        if until is not None:
            query = query.where(events_table.c.position <= until)
        with self.engine.connect() as conn:
            return [StoredEvent.from_body(body) for body in conn.execute(query).scalars()]

    def occurred_from_after(self, after: int, limit: int) -> list[tuple[int, str]]:
        """(position, occurred_from) of up to `limit` events after a position: the columns
        alone, so that a summary of valid time need not read the bodies."""
        query = (
            select(events_table.c.position, events_table.c.occurred_from)
            .where(events_table.c.position > after)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.position, row.occurred_from) for row in conn.execute(query)]

    def events_until(self, position: int) -> Iterator[StoredEvent]:
        """Every event up to a position, in log order, paged."""
        for page in self.iter_rows(until=position):
            for _, body in page:
                yield StoredEvent.from_body(body)

    def cut(self, known_at: str | None) -> int:
        """The last position recorded by known_at (0 for none); the head when None."""
        head = self.cut_head(known_at)
        return head.position if head else 0

    def read(
        self,
        *,
        after: int = 0,
        limit: int = 100,
        types: Sequence[str] = (),
        subjects: Sequence[str] = (),
        known_at: str | None = None,
    ) -> Page:
        """Events after a position in log order, filtered, cut at known_at."""
        last = self.cut(known_at)
        query = (
            select(events_table.c.position, events_table.c.body)
            .where(events_table.c.position > after, events_table.c.position <= last)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        if types:
            query = query.where(or_(*(_type_matches(t) for t in types)))
        if subjects:
            query = query.where(events_table.c.subject.in_(list(subjects)))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        found = [StoredEvent.from_body(row.body) for row in rows]
        more = len(rows) == limit and rows[-1].position < last
        return Page(found, rows[-1].position if more else None)

    def rows_after(self, after: int, limit: int) -> list[Row]:
        """Up to `limit` events after a position, in one short transaction."""
        query = (
            select(events_table.c.position, events_table.c.type, events_table.c.subject, events_table.c.body)
            .where(events_table.c.position > after)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Row(r.position, r.type, r.subject, r.body) for r in conn.execute(query)]

    def read_subject(self, subject: str, *, after_version: int = 0, limit: int = 100) -> Page:
        query = (
            select(events_table.c.version, events_table.c.body)
            .where(events_table.c.subject == subject, events_table.c.version > after_version)
            .order_by(events_table.c.version)
            .limit(limit + 1)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        more = len(rows) > limit
        rows = rows[:limit]
        return Page([StoredEvent.from_body(row.body) for row in rows], rows[-1].version if more else None)

    def iter_rows(
        self, *, after: int = 0, until: int | None = None, page_size: int = 1000
    ) -> Iterator[list[tuple[int, str]]]:
        """Pages of (position, body) after `after` (up to `until`), each read in its own
        short transaction."""
        while True:
            query = (
                select(events_table.c.position, events_table.c.body)
                .where(events_table.c.position > after)
                .order_by(events_table.c.position)
                .limit(page_size)
            )
            if until is not None:
                query = query.where(events_table.c.position <= until)
            with self.engine.connect() as conn:
                rows = conn.execute(query).all()
            if not rows:
                return
            yield [(row.position, row.body) for row in rows]
            after = rows[-1].position


def _type_matches(pattern: str):  # type: ignore[no-untyped-def]
    if pattern.endswith("."):
        return events_table.c.type.startswith(pattern, autoescape=True)
    return events_table.c.type == pattern


__all__ = ["RETRACTED", "AppendHook", "AppendResult", "EventStore", "Head", "Page", "Row"]
