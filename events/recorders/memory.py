"""The log in memory, for tests that need the store's rules but no database.

It keeps the same promises as the SQL recorders (`tests/contract/` holds all three to
them): the append lock serialises appends, a transaction that fails leaves nothing, and a
read sees committed events only. It keeps no Merkle tree and no read model: those are
SQL, written by the append hooks of `service.wiring.build_store`.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from events.envelope import StoredEvent
from events.recorders.protocol import Answers, CorrectionRow, Head, Questions, Row, type_matches


@dataclass
class MemoryTransaction:
    pending: list[StoredEvent] = field(default_factory=list)
    locked: bool = False


class InMemoryRecorder:
    name = "memory"
    notifies = False  # one process holds the log

    def __init__(self) -> None:
        self._events: list[StoredEvent] = []  # index = position - 1
        self._by_id: dict[str, StoredEvent] = {}
        self._by_subject: dict[str, list[StoredEvent]] = {}
        self._correctors: dict[str, list[StoredEvent]] = {}
        self._append_lock = threading.Lock()
        self._read_lock = threading.Lock()  # held while a commit publishes its events

    # -- the append --------------------------------------------------------------------

    @contextmanager
    def append_transaction(self) -> Iterator[MemoryTransaction]:
        txn = MemoryTransaction()
        try:
            yield txn
            with self._read_lock:
                for event in txn.pending:
                    self._publish(event)
        finally:
            if txn.locked:
                self._append_lock.release()

    @contextmanager
    def locked(self) -> Iterator[MemoryTransaction]:
        with self.append_transaction() as txn:
            self._take_lock(txn)
            yield txn

    def _take_lock(self, txn: MemoryTransaction) -> None:
        if not txn.locked:
            self._append_lock.acquire()
            txn.locked = True

    def _publish(self, event: StoredEvent) -> None:
        self._events.append(event)
        self._by_id[event.id] = event
        self._by_subject.setdefault(event.subject, []).append(event)
        if event.corrects is not None:
            self._correctors.setdefault(event.corrects, []).append(event)

    def begin_append(self, txn: MemoryTransaction, questions: Questions) -> Answers:
        self._take_lock(txn)
        subjects = set(questions.subjects)
        subjects |= {self._by_id[i].subject for i in questions.ids if i in self._by_id}
        return Answers(
            self.head(),
            self.bodies_by_id(txn, questions.ids),
            self.corrections_around(txn, questions.corrected),
            self.latest_versions(txn, subjects),
        )

    def bodies_by_id(self, txn: MemoryTransaction, ids: Collection[str]) -> dict[str, str]:
        return {i: self._by_id[i].body for i in ids if i in self._by_id}

    def corrections_around(
        self, txn: MemoryTransaction, targets: Collection[str], *, below: bool = False
    ) -> list[CorrectionRow]:
        start = {t for t in targets if t in self._by_id}
        if below:
            walk = list(start)
            while walk:
                corrects = self._by_id[walk.pop()].corrects
                if corrects is not None and corrects in self._by_id and corrects not in start:
                    start.add(corrects)
                    walk.append(corrects)
        near = set(start)
        walk = list(start)
        while walk:
            for corrector in self._correctors.get(walk.pop(), []):
                if corrector.id not in near:
                    near.add(corrector.id)
                    walk.append(corrector.id)
        rows = sorted((self._by_id[i] for i in near), key=lambda e: e.position)
        return [CorrectionRow(e.id, e.position, e.type, e.corrects) for e in rows]

    def latest_versions(self, txn: MemoryTransaction, subjects: Collection[str]) -> dict[str, int]:
        return {s: self._by_subject[s][-1].version if s in self._by_subject else 0 for s in subjects}

    def insert_events(self, txn: MemoryTransaction, events: Sequence[StoredEvent]) -> None:
        assert txn.locked, "insert_events outside begin_append"
        txn.pending.extend(events)

    # -- reads -------------------------------------------------------------------------

    def _snapshot(self) -> list[StoredEvent]:
        with self._read_lock:
            return self._events[:]

    def head(self) -> Head | None:
        with self._read_lock:
            last = self._events[-1] if self._events else None
        return Head(last.position, last.hash, last.recorded_at) if last else None

    def head_at(self, known_at: str) -> Head | None:
        events = self._snapshot()
        cut = bisect_right([e.recorded_at for e in events], known_at)
        return (
            Head(events[cut - 1].position, events[cut - 1].hash, events[cut - 1].recorded_at) if cut else None
        )

    def body(self, event_id: str) -> str | None:
        with self._read_lock:
            event = self._by_id.get(event_id)
        return event.body if event else None

    def corrector_bodies(self, event_id: str, until: int | None) -> list[str]:
        with self._read_lock:
            found = list(self._correctors.get(event_id, []))
        return [e.body for e in found if until is None or e.position <= until]

    def occurred_from_after(self, after: int, limit: int) -> list[tuple[int, str]]:
        return [
            (e.position, e.occurred_from) for e in self._snapshot()[max(after, 0) : max(after, 0) + limit]
        ]

    def page(
        self, after: int, last: int, limit: int, types: Sequence[str], subjects: Sequence[str]
    ) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        for event in self._snapshot()[max(after, 0) : max(last, 0)]:
            if types and not any(type_matches(t, event.type) for t in types):
                continue
            if subjects and event.subject not in subjects:
                continue
            found.append((event.position, event.body))
            if len(found) == limit:
                break
        return found

    def rows_after(self, after: int, limit: int) -> list[Row]:
        return [
            Row(e.position, e.type, e.subject, e.body)
            for e in self._snapshot()[max(after, 0) : max(after, 0) + limit]
        ]

    def subject_page(self, subject: str, after_version: int, limit: int) -> list[tuple[int, str]]:
        with self._read_lock:
            events = list(self._by_subject.get(subject, []))
        # A subject's versions are 1, 2, 3, ...: version v is at index v - 1.
        start = max(after_version, 0)
        return [(e.version, e.body) for e in events[start : start + limit]]

    def bodies_between(self, after: int, until: int | None, limit: int) -> list[tuple[int, str]]:
        events = self._snapshot()
        start = max(after, 0)
        stop = start + limit if until is None else min(start + limit, max(until, 0))
        return [(e.position, e.body) for e in events[start:stop]]
