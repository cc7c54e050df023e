"""The days on which the log's events begin in valid time: what the viewer's date control snaps to.

Kept per process and brought up to the asked position by reading only the positions it
has not seen (their `occurred_from` column, not the bodies), so that at a million events
a question costs a dictionary scan, not a scan of the log. A day is known from the first
position that begins on it, which answers for any earlier cut too.
"""

from __future__ import annotations

import threading

from events.store import EventStore

PAGE = 50_000


class ValidDays:
    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._first: dict[str, int] = {}  # UTC day -> the first position whose occurred_from is on it
        self._seen = 0  # every position up to this one is counted
        self._lock = threading.Lock()

    def until(self, position: int) -> list[str]:
        """The days (YYYY-MM-DD, UTC, ascending) on which an event up to `position` begins,
        corrections notwithstanding: a retracted report still marks its day."""
        with self._lock:
            while self._seen < position:
                rows = self.store.occurred_from_after(self._seen, PAGE)
                if not rows:
                    break
                for row_position, occurred_from in rows:
                    self._first.setdefault(occurred_from[:10], row_position)
                self._seen = rows[-1][0]
            return sorted(day for day, first in self._first.items() if first <= position)
