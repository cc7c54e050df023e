"""EventStore: the only code that writes the events table.

An append takes the backend's write lock, reads the head, checks each event
against the log (`events.rules`), stamps position, version, recorded_at and
the hash chain, inserts, and runs the append hooks, all in one transaction.
Later features (read models, Merkle nodes) join that transaction by
registering an `AppendHook`, without touching this module. What touches
storage (the lock, the reads, the insert, notifying other processes) is the
recorder's (`events.recorders`), one per backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Engine

from events.batch import BatchView, build_event, same_or_conflict
from events.drafts import Draft
from events.envelope import GENESIS_HASH, StoredEvent
from events.errors import Conflict, InvalidInput, TimelineError
from events.instants import ONE_MICROSECOND, format_instant, parse_instant
from events.recorders.protocol import Head, Recorder, Row, pages
from events.rules import check_append
from events.types import RETRACTED


class AppendHook(Protocol):
    """Runs inside the append transaction, after the new rows are inserted; `txn` is the
    recorder's transaction (a SQLAlchemy Connection on the SQL backends)."""

    def __call__(self, txn: Any, appended: Sequence[StoredEvent], /) -> None: ...


AfterCommit = Callable[[Sequence[StoredEvent]], None]


@dataclass(frozen=True)
class AppendResult:
    events: list[StoredEvent]  # in request order; already stored ones included
    stored: int  # how many were new


@dataclass(frozen=True)
class Page:
    events: list[StoredEvent]
    next_after: int | None


@dataclass
class AtomicBatch:
    """How a batch is written: all or nothing, sharing one recorded_at. The first refusal
    fails it, at its index in the request (`indexed`) or as it is (a single event)."""

    indexed: bool

    def refuse(self, index: int, exc: TimelineError) -> None:
        if self.indexed and "index" not in exc.extra:
            raise exc.at_index(index, f"/events/{index}") from None
        raise exc

    def instant_after(self, recorded: datetime) -> datetime:
        return recorded


@dataclass
class GroupCommit:
    """How independent events gathered by group commit are written: in one transaction,
    each answered as if alone. A refusal stops no other event, and each event keeps a
    recorded_at of its own, as if appended one by one (only a batch shares one)."""

    refusals: dict[int, TimelineError] = field(default_factory=dict)

    def refuse(self, index: int, exc: TimelineError) -> None:
        self.refusals[index] = exc

    def instant_after(self, recorded: datetime) -> datetime:
        return recorded + ONE_MICROSECOND


WritePolicy = AtomicBatch | GroupCommit


class EventStore:
    """The log. Build it with `service.wiring.build_store`, which gives it the hooks every
    writer needs (the Merkle tree, the read model); `hooks` has no default, so a store that
    leaves any of them behind (a benchmark's baseline, a test on the in-memory recorder)
    says so where it is built. Storage is the recorder's (`events.recorders`)."""

    def __init__(
        self,
        recorder: Recorder,
        *,
        hooks: Sequence[AppendHook],
        after_commit: Sequence[AfterCommit] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.recorder = recorder
        self.hooks = list(hooks)
        self.after_commit = list(after_commit)
        self._clock = clock

    @property
    def engine(self) -> Engine:
        """The SQL recorder's engine (the read model, audit and rebuild read through it)."""
        engine: Engine = self.recorder.engine  # type: ignore[attr-defined]
        return engine

    # -- writing -------------------------------------------------------------

    def append(self, items: Sequence[Draft | InvalidInput], *, batch: bool = True) -> AppendResult:
        """Append drafts atomically; an InvalidInput in the list fails the batch at its place.

        Events are checked one by one in order, so the answer is the first
        failure, whatever its kind (with its index in a batch).
        """
        if not items:
            raise InvalidInput("A batch holds 1 to 1,000 events.")
        if isinstance(items[0], InvalidInput) and items[0].claimed_id is None:
            raise items[0]
        return self._write(items, AtomicBatch(indexed=batch))[0]

    def append_each(self, items: Sequence[Draft | InvalidInput]) -> list[AppendResult | TimelineError]:
        """Append independent events in one transaction: each gets the answer it would get
        alone (its result, or its error), and a refused one does not stop the others. For
        group commit; the items must carry distinct ids."""
        policy = GroupCommit()
        result, appended = self._write(items, policy)
        new = {event.id for event in appended}
        answers = iter(result.events)
        found: list[AppendResult | TimelineError] = []
        for index in range(len(items)):
            if index in policy.refusals:
                found.append(policy.refusals[index])
            else:
                event = next(answers)
                found.append(AppendResult([event], 1 if event.id in new else 0))
        return found

    def _write(
        self, items: Sequence[Draft | InvalidInput], policy: WritePolicy
    ) -> tuple[AppendResult, list[StoredEvent]]:
        with self.recorder.append_transaction() as txn:
            result, appended = self._append_locked(txn, items, policy)
            if appended:
                self.recorder.insert_events(txn, appended)
                for hook in self.hooks:
                    hook(txn, appended)
        if appended:
            for callback in self.after_commit:
                callback(appended)
        return result, appended

    def locked(self) -> Any:
        """A transaction holding the append lock: nothing is appended until it ends."""
        return self.recorder.locked()

    def _append_locked(
        self, txn: Any, items: Sequence[Draft | InvalidInput], policy: WritePolicy
    ) -> tuple[AppendResult, list[StoredEvent]]:
        given = [d.id for d in items if isinstance(d, Draft) and d.id_given]
        given += [r.claimed_id for r in items if isinstance(r, InvalidInput) and r.claimed_id]
        view = BatchView(self.recorder, txn)
        head = view.begin([d for d in items if isinstance(d, Draft)], given).head
        now = self._clock()
        # recorded_at never goes backwards along the log, even when the clock does.
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
                policy.refuse(index, exc)
                continue
            position += 1
            if appended and (following := policy.instant_after(recorded)) != recorded:
                recorded, recorded_at = following, format_instant(following)
            event = build_event(item, subject, version, position, recorded_at, prev_hash)
            prev_hash = event.hash
            view.add(event)
            answer.append(event)
            appended.append(event)
        return AppendResult(answer, len(appended)), appended

    # -- reading -------------------------------------------------------------

    def head(self) -> Head | None:
        return self.recorder.head()

    def get(self, event_id: str) -> StoredEvent | None:
        body = self.recorder.body(event_id)
        return StoredEvent.from_body(body) if body is not None else None

    def cut_head(self, known_at: str | None) -> Head | None:
        """The last event recorded by known_at (the head when None)."""
        return self.recorder.head() if known_at is None else self.recorder.head_at(known_at)

    def correctors(self, event_id: str, until: int | None = None) -> list[StoredEvent]:
        """The events that supersede or retract this one (up to a position), in log order."""
        return [StoredEvent.from_body(body) for body in self.recorder.corrector_bodies(event_id, until)]

    def occurred_from_after(self, after: int, limit: int) -> list[tuple[int, str]]:
        """(position, occurred_from) of up to `limit` events after a position: the columns
        alone, so that a summary of valid time need not read the bodies."""
        return self.recorder.occurred_from_after(after, limit)

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
        rows = self.recorder.page(after, last, limit, types, subjects)
        found = [StoredEvent.from_body(body) for _, body in rows]
        more = len(rows) == limit and rows[-1][0] < last
        return Page(found, rows[-1][0] if more else None)

    def rows_after(self, after: int, limit: int) -> list[Row]:
        """Up to `limit` events after a position, in one short transaction."""
        return self.recorder.rows_after(after, limit)

    def read_subject(self, subject: str, *, after_version: int = 0, limit: int = 100) -> Page:
        rows = self.recorder.subject_page(subject, after_version, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page([StoredEvent.from_body(body) for _, body in rows], rows[-1][0] if more else None)

    def iter_rows(
        self, *, after: int = 0, until: int | None = None, page_size: int = 1000
    ) -> Iterator[list[tuple[int, str]]]:
        """Pages of (position, body) after `after` (up to `until`), each read in its own
        short transaction."""
        return pages(self.recorder, after, until, page_size)


__all__ = ["RETRACTED", "AppendHook", "AppendResult", "EventStore", "Head", "Page", "Row"]
