"""One area's state over valid time, as known at one moment: an interval per change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections import territory
from projections.effect import counting, in_effect
from projections.facts import Fact
from projections.state import fold


def area_history(recorded: Sequence[Fact], area: str) -> list[dict[str, Any]]:
    """Intervals [valid_from, valid_until) over which the area's answer stays the same.

    The answer can change where an event of the area begins, and where one
    stops being tentative (the last microsecond of its window).
    """
    effective = [f for f in in_effect(recorded) if f.subject == area and f.type in territory.TYPES]
    changes = sorted({f.occurred_from for f in effective} | {f.last_instant for f in effective})
    intervals: list[dict[str, Any]] = []
    for instant in changes:
        world = fold(counting(effective, instant))
        state = world.areas.get(area)
        shown = territory.render(state, instant) if state else None
        if shown is None:
            continue
        if intervals and _same(intervals[-1], shown):
            continue
        if intervals:
            intervals[-1]["valid_until"] = instant
        intervals.append({"valid_from": instant, "valid_until": None, **shown})
    return intervals


def _same(interval: dict[str, Any], shown: dict[str, Any]) -> bool:
    return {k: v for k, v in interval.items() if k not in ("valid_from", "valid_until")} == shown
