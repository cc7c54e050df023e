"""Which events enter or leave effect when one more event is appended (system time).

A read model keeps, per event, the intervals of positions over which it is in
effect (docs/api.md §5). Appending X can only change events down X's
chain of corrections: X names one target, which names one target, and so on;
the change stops travelling at the first event whose liveness X did not
change. Free of any database: the store and the rebuild each supply a view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from events.corrections import Liveness


@dataclass(frozen=True)
class Corrector:
    id: str
    position: int
    retracts: bool  # else it supersedes


class CorrectionView(Protocol):
    def correctors_of(self, event_id: str) -> Sequence[Corrector]: ...

    def target_of(self, event_id: str) -> str | None: ...


class _Cut:
    """The view as it stood at a position."""

    def __init__(self, view: CorrectionView, position: int) -> None:
        self.view = view
        self.position = position
        self.liveness = Liveness(lambda event_id: [c.id for c in self._correctors(event_id) if c.retracts])

    def _correctors(self, event_id: str) -> list[Corrector]:
        return [c for c in self.view.correctors_of(event_id) if c.position <= self.position]

    def in_effect(self, event_id: str) -> bool:
        if not self.liveness.is_live(event_id):
            return False
        return not any(self.liveness.is_live(c.id) for c in self._correctors(event_id) if not c.retracts)


def effect_changes(appended_id: str, position: int, view: CorrectionView) -> list[tuple[str, bool]]:
    """(event id, in effect now) for each earlier event whose effect changes at `position`,
    where `appended_id` was appended; the view must already hold it."""
    before, after = _Cut(view, position - 1), _Cut(view, position)
    changes: list[tuple[str, bool]] = []
    current = appended_id
    while True:
        target = view.target_of(current)
        if target is None:
            return changes
        was, now = before.in_effect(target), after.in_effect(target)
        if was != now:
            changes.append((target, now))
        if before.liveness.is_live(target) == after.liveness.is_live(target):
            return changes  # what the target corrects is unchanged too
        current = target
