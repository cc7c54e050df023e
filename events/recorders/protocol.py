"""What the log asks of a backend: the `Recorder` protocol, and the records it deals in.

`events.store.EventStore` holds the rules of an append (checks, stamps, the hash chain)
and asks a recorder for everything that touches storage: a transaction that holds the
append lock, the answers a batch's rules need, the insert, and the reads. One recorder
per backend implements it (`events.recorders.sqlite`, `events.recorders.postgres`,
`events.recorders.memory`), and `tests/contract/` holds every one of them to the same
promises, in the manner of the eventsourcing library's `ApplicationRecorder`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from events.envelope import StoredEvent


@dataclass(frozen=True)
class Head:
    """The last event of the log (or of a cut of it)."""

    position: int
    hash: str
    recorded_at: str


@dataclass(frozen=True)
class Row:
    """An event as the stream needs it: enough to filter, and its stored text."""

    position: int
    type: str
    subject: str
    body: str


@dataclass(frozen=True)
class CorrectionRow:
    """An event that corrects another, as the correction rules need it: no body."""

    id: str
    position: int
    type: str
    corrects: str | None


@dataclass(frozen=True)
class Questions:
    """What the rules of a batch will ask of the log, asked together at the start."""

    ids: Collection[str] = ()  # events named or re-sent: their bodies
    corrected: Collection[str] = ()  # events corrected: all that corrects them (`corrections_around`)
    subjects: Collection[str] = ()  # subjects written: their versions (with those of `ids`' subjects)


@dataclass
class Answers:
    head: Head | None
    bodies: dict[str, str] = field(default_factory=dict)
    corrections: list[CorrectionRow] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)  # every subject asked: 0 for none yet


class Recorder(Protocol):
    """A backend's storage of the log. `txn` is the handle `append_transaction` yields (a
    SQLAlchemy Connection on the SQL backends), passed back to the calls made inside it and
    to the store's append hooks."""

    @property
    def name(self) -> str: ...

    @property
    def notifies(self) -> bool:
        """Whether appends are announced to other processes (a listener is worth running)."""
        ...

    def append_transaction(self) -> AbstractContextManager[Any]:
        """A write transaction; the append lock is held from `begin_append` to its end."""
        ...

    def locked(self) -> AbstractContextManager[Any]:
        """A write transaction holding the append lock from the start: nothing is appended
        until it ends."""
        ...

    def begin_append(self, txn: Any, questions: Questions) -> Answers:
        """Take the append lock, then read the head and answer the questions, in one round
        trip where the backend can."""
        ...

    def bodies_by_id(self, txn: Any, ids: Collection[str]) -> dict[str, str]:
        """The stored text of each of these events that is stored."""
        ...

    def corrections_around(
        self, txn: Any, targets: Collection[str], *, below: bool = False
    ) -> list[CorrectionRow]:
        """The targets, every event that corrects one of them, and so on up, in log order;
        with `below`, also the events they correct down to the foot of each chain, and all
        that corrects those."""
        ...

    def latest_versions(self, txn: Any, subjects: Collection[str]) -> dict[str, int]:
        """Each subject's version (0 for a subject without events)."""
        ...

    def insert_events(self, txn: Any, events: Sequence[StoredEvent]) -> None:
        """Store these events (consecutive positions after the head) and announce them to
        other processes on commit where the backend can."""
        ...

    # -- reads, each in its own short transaction ---------------------------------------

    def head(self) -> Head | None: ...

    def head_at(self, known_at: str) -> Head | None:
        """The last event recorded at or before an instant."""
        ...

    def body(self, event_id: str) -> str | None: ...

    def corrector_bodies(self, event_id: str, until: int | None) -> list[str]:
        """The events that supersede or retract this one (up to a position), in log order."""
        ...

    def occurred_from_after(self, after: int, limit: int) -> list[tuple[int, str]]: ...

    def page(
        self, after: int, last: int, limit: int, types: Sequence[str], subjects: Sequence[str]
    ) -> list[tuple[int, str]]:
        """(position, body) after `after` up to `last`, of these types (a name, or a family
        ending in '.') and subjects (all when empty), in log order."""
        ...

    def rows_after(self, after: int, limit: int) -> list[Row]: ...

    def subject_page(self, subject: str, after_version: int, limit: int) -> list[tuple[int, str]]:
        """(version, body) of a subject's events after a version, in version order."""
        ...

    def bodies_between(self, after: int, until: int | None, limit: int) -> list[tuple[int, str]]: ...


def type_matches(pattern: str, event_type: str) -> bool:
    """The filter of `Recorder.page`: a type name, or a family ending in '.'."""
    return event_type.startswith(pattern) if pattern.endswith(".") else event_type == pattern


def correctors_by_target(
    rows: Sequence[CorrectionRow], targets: Collection[str]
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


def pages(
    recorder: Recorder, after: int, until: int | None, page_size: int
) -> Iterator[list[tuple[int, str]]]:
    """Pages of (position, body) after `after` (up to `until`), each read on its own."""
    while True:
        rows = recorder.bodies_between(after, until, page_size)
        if not rows:
            return
        yield rows
        after = rows[-1][0]
