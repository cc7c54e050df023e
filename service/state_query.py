"""Answering a state question: resolve (as_of, known_at), read the log prefix, fold, shape.

Shared by the HTTP routes and `timeline state`; no web framework here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.errors import FieldError, InvalidInput
from events.instants import BadInstant, format_instant, parse_query_instant
from events.store import EventStore
from projections.facts import Fact, fact_of
from projections.history import area_history
from projections.state import render_diplomacy, render_state, render_talks, render_territory, world_at


def query_instant(name: str, value: str | None) -> str | None:
    """as_of / known_at / an events cut: a date (its last microsecond) or a date-time with an offset."""
    if value is None:
        return None
    try:
        return format_instant(parse_query_instant(value))
    except BadInstant as exc:
        raise InvalidInput(
            f"`{name}` is not an instant.",
            [
                FieldError(
                    f"/{name}", f"expected a date or an RFC 3339 date-time with an offset: {exc}", "query"
                )
            ],
        ) from None


@dataclass(frozen=True)
class Cut:
    """The resolved instants and the prefix of the log they select."""

    as_of: str
    known_at: str
    position: int
    recorded: list[Fact]

    def answer(self, **parts: Any) -> dict[str, Any]:
        return {"as_of": self.as_of, "known_at": self.known_at, "position": self.position, **parts}


def resolve(store: EventStore, as_of: str | None, known_at: str | None) -> Cut:
    """Defaults: as_of now; known_at the last committed event's recorded_at, so that the
    same question with the echoed known_at gets the same answer."""
    now = format_instant(datetime.now(UTC))
    resolved_as_of = query_instant("as_of", as_of) or now
    wanted = query_instant("known_at", known_at)
    latest = store.cut_head(None)
    if latest is not None and (wanted is None or wanted >= latest.recorded_at):
        # At or after the last committed event, "now" is that event: an append still in
        # flight may already hold an earlier recorded_at, so only this cut is final, and
        # echoing it means the same question later gets the same answer.
        wanted, head = latest.recorded_at, latest
    elif latest is None:
        wanted, head = min(wanted or now, now), None  # a known_at later than now means now
    else:
        # Before the last committed event every event up to `wanted` is committed, since
        # recorded_at is stamped under the append lock: the cut is final.
        assert wanted is not None
        head = store.cut_head(wanted)
    position = head.position if head else 0
    recorded = [fact_of(event) for event in store.events_until(position)] if position else []
    return Cut(resolved_as_of, wanted, position, recorded)


def state(
    store: EventStore,
    as_of: str | None = None,
    known_at: str | None = None,
    part: str | None = None,
    area: str | None = None,
    track: str | None = None,
) -> dict[str, Any]:
    """The whole state, or one part of it (`territory`, `talks`, `diplomacy`)."""
    cut = resolve(store, as_of, known_at)
    world = world_at(cut.recorded, cut.as_of)
    if part == "territory":
        return cut.answer(**render_territory(world, cut.as_of, area))
    if part == "talks":
        return cut.answer(**render_talks(world, cut.as_of, track))
    if part == "diplomacy":
        return cut.answer(**render_diplomacy(world, cut.as_of))
    if area is not None or track is not None:
        shown = render_state(world, cut.as_of)
        shown["territory"] = render_territory(world, cut.as_of, area) if area else shown["territory"]
        shown["talks"] = render_talks(world, cut.as_of, track) if track else shown["talks"]
        return cut.answer(**shown)
    return cut.answer(**render_state(world, cut.as_of))


def history(store: EventStore, area: str, known_at: str | None = None) -> dict[str, Any]:
    cut = resolve(store, None, known_at)
    return {
        "area": area,
        "known_at": cut.known_at,
        "position": cut.position,
        "intervals": area_history(cut.recorded, area),
    }
