"""Which events count (docs/api.md §§5 and 7): in effect at known_at, then occurred by as_of."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

from events.corrections import Liveness
from events.types import RETRACTED
from projections.facts import Fact


def in_effect(recorded: Sequence[Fact]) -> list[Fact]:
    """Of the events recorded by known_at, those in effect then.

    Live: no live retraction names it. In effect: live, and no live event
    supersedes it. Corrections act on system time only, so the correcting
    event's occurred_at plays no part here.
    """
    retractions: dict[str, list[str]] = defaultdict(list)
    superseders: dict[str, list[str]] = defaultdict(list)
    for fact in recorded:
        if fact.type == RETRACTED:
            retractions[fact.data["target_event_id"]].append(fact.id)
        elif fact.supersedes is not None:
            superseders[fact.supersedes].append(fact.id)
    liveness = Liveness(lambda event_id: retractions.get(event_id, ()))
    return [
        fact
        for fact in recorded
        if liveness.is_live(fact.id) and not any(liveness.is_live(s) for s in superseders.get(fact.id, ()))
    ]


def counting(effective: Iterable[Fact], as_of: str) -> list[Fact]:
    """The events in effect that have begun by as_of, in rule order (occurred_from, position)."""
    return sorted(
        (f for f in effective if f.type != RETRACTED and f.occurred_from <= as_of),
        key=lambda f: f.order,
    )
