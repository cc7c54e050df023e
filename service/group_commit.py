"""Group commit: single-event appends from concurrent requests share one transaction.

Each append waits for the lock, and every transaction pays a commit (an fsync).
While one transaction runs, the requests that arrive queue here; the next
transaction takes all of them (up to `limit`), so under load a process commits
once per group rather than once per event. Each request still gets the answer
it would get alone: its stored event, or its own error (`EventStore.append_each`).

One waiting request's thread leads: it writes groups until its own event is
answered, then hands the lead to the first request still waiting, so no request
waits behind an endless stream of others.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from events.drafts import Draft
from events.errors import InvalidInput, TimelineError
from events.store import AppendResult, EventStore


@dataclass
class _Waiting:
    item: Draft | InvalidInput
    wake: threading.Event = field(default_factory=threading.Event)  # answered, or asked to lead
    answer: AppendResult | BaseException | None = None


class GroupCommit:
    def __init__(self, store: EventStore, limit: int = 500) -> None:
        self.store = store
        self.limit = limit
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._writing = False

    def append(self, item: Draft | InvalidInput) -> AppendResult:
        """Append one event (blocking, from a worker thread), committed with whatever else waits."""
        if isinstance(item, InvalidInput) and item.claimed_id is None:
            raise item  # refused without looking at the log
        waiting = _Waiting(item)
        with self._lock:
            self._queue.append(waiting)
            leads = not self._writing
            self._writing = True
        if not leads:
            waiting.wake.wait()
        if waiting.answer is None:  # asked to lead
            self._lead(waiting)
        if isinstance(waiting.answer, BaseException):
            raise waiting.answer
        assert waiting.answer is not None
        return waiting.answer

    def _lead(self, mine: _Waiting) -> None:
        try:
            while mine.answer is None:
                with self._lock:
                    group = self._take()
                self._write(group)
        finally:
            with self._lock:
                if self._queue:
                    self._queue[0].wake.set()  # unanswered: it leads next
                else:
                    self._writing = False

    def _take(self) -> list[_Waiting]:
        """Up to `limit` waiting appends with distinct ids, oldest first (a repeated id waits
        for the next group, where it meets the stored event as any retry would)."""
        group: list[_Waiting] = []
        ids: set[str | None] = set()
        rest: list[_Waiting] = []
        for waiting in self._queue:
            event_id = waiting.item.id if isinstance(waiting.item, Draft) else waiting.item.claimed_id
            if len(group) < self.limit and event_id not in ids:
                group.append(waiting)
                ids.add(event_id)
            else:
                rest.append(waiting)
        self._queue = rest
        return group

    def _write(self, group: list[_Waiting]) -> None:
        try:
            answers: list[AppendResult | TimelineError] = self.store.append_each([w.item for w in group])
        except BaseException as exc:  # the transaction failed: for all of them
            for waiting in group:
                waiting.answer = exc
                waiting.wake.set()
            if not isinstance(exc, Exception):
                raise  # an interpreter exit or interrupt: stop leading, after answering
            return
        for waiting, answer in zip(group, answers, strict=True):
            waiting.answer = answer
            waiting.wake.set()
