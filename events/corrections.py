"""Live and in effect (docs/api.md §5), over any view of who corrects whom.

One definition serves the write-time rules (against the database) and the
state projections (against the events recorded by a known_at).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


class Liveness:
    """`is_live(e)`: no live retraction names e. Memoised and iterative, since
    chains of retracted retractions can be long."""

    def __init__(self, retractions_of: Callable[[str], Sequence[str]]) -> None:
        self._retractions_of = retractions_of
        self._live: dict[str, bool] = {}

    def is_live(self, event_id: str) -> bool:
        live = self._live
        if event_id in live:
            return live[event_id]
        # A retraction names one event, so the retractions form a tree: no event is pushed
        # twice, and only the one asked about can have been decided by an earlier call.
        stack = [event_id]
        while stack:
            current = stack[-1]
            retractions = self._retractions_of(current)
            pending = [r for r in retractions if r not in live]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            live[current] = not any(live[r] for r in retractions)
        return live[event_id]
