"""One area's state over valid time, as known at one moment: an interval per change."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from projections import territory
from projections.effect import in_effect
from projections.facts import Fact


def area_history(recorded: Sequence[Fact], area: str) -> list[dict[str, Any]]:
    """`recorded`: the events recorded by known_at (a prefix of the log)."""
    effective = [f for f in in_effect(recorded) if f.subject == area and f.type in territory.TYPES]
    return intervals(effective)


def intervals(effective: Iterable[Fact]) -> list[dict[str, Any]]:
    """Intervals [valid_from, valid_until) over which the area's answer stays the same,
    given the area's events in effect at known_at.

    The answer can change where an event of the area begins, where one stops
    being tentative (the last microsecond of its window), and where a clash
    leaves the 30 days an area lists (`territory.clash_leaves`). The events
    counting at an instant are a prefix of them in rule order, so one pass
    folds them all.
    """
    ordered = sorted(effective, key=lambda f: f.order)
    changes = sorted(
        {f.occurred_from for f in ordered}
        | {f.last_instant for f in ordered}
        | territory.leaving_instants(f.occurred_from for f in ordered if f.type == territory.CLASH)
    )
    state, applied = territory.EMPTY_AREA, 0
    found: list[dict[str, Any]] = []
    for instant in changes:
        while applied < len(ordered) and ordered[applied].occurred_from <= instant:
            state = territory.apply(state, ordered[applied])
            applied += 1
        shown = territory.render(state, instant)
        open_interval = found[-1] if found and found[-1]["valid_until"] is None else None
        if shown is None:  # nothing to show (its last clashes left the window): a gap
            if open_interval is not None:
                open_interval["valid_until"] = instant
            continue
        if open_interval is not None and _same(open_interval, shown):
            continue
        if open_interval is not None:
            open_interval["valid_until"] = instant
        found.append({"valid_from": instant, "valid_until": None, **shown})
    return found


def _same(interval: dict[str, Any], shown: dict[str, Any]) -> bool:
    return {k: v for k, v in interval.items() if k not in ("valid_from", "valid_until")} == shown
