"""The whole state at (as_of, known_at): the reference answer, by folding the reducers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from projections import diplomacy, talks, territory
from projections.effect import counting, in_effect
from projections.facts import Fact
from projections.parts import DIPLOMACY, TALKS, TERRITORY, part_of_type


@dataclass
class World:
    areas: dict[str, territory.AreaState] = field(default_factory=dict)
    tracks: dict[str, talks.TrackState] = field(default_factory=dict)
    diplomacy: diplomacy.DiplomacyState = diplomacy.EMPTY_DIPLOMACY


def fold(ordered: Sequence[Fact]) -> World:
    """Apply each counting event to the part it belongs to; events come in rule order."""
    world = World()
    for fact in ordered:
        part = part_of_type(fact.type)
        if part is TERRITORY:
            current = world.areas.get(fact.subject, territory.EMPTY_AREA)
            world.areas[fact.subject] = territory.apply(current, fact)
        elif part is TALKS:
            track = world.tracks.get(fact.subject, talks.EMPTY_TRACK)
            world.tracks[fact.subject] = talks.apply(track, fact)
        elif part is DIPLOMACY:
            world.diplomacy = diplomacy.apply(world.diplomacy, fact)
    return world


def world_at(recorded: Sequence[Fact], as_of: str) -> World:
    """`recorded`: the events recorded by known_at (a prefix of the log)."""
    return fold(counting(in_effect(recorded), as_of))


S = TypeVar("S")


def _shown(
    states: dict[str, S], render: Callable[[S, str], dict[str, Any] | None], as_of: str, only: str | None
) -> dict[str, Any]:
    """Each named state that has something to show (an exact-name filter when `only` is set)."""
    names = sorted(states) if only is None else [only] if only in states else []
    shown = {name: render(states[name], as_of) for name in names}
    return {name: value for name, value in shown.items() if value is not None}


def render_territory(world: World, as_of: str, area: str | None = None) -> dict[str, Any]:
    return {"areas": _shown(world.areas, territory.render, as_of, area)}


def render_talks(world: World, as_of: str, track: str | None = None) -> dict[str, Any]:
    return {"tracks": _shown(world.tracks, talks.render, as_of, track)}


def render_diplomacy(world: World, as_of: str) -> dict[str, Any]:
    return diplomacy.render(world.diplomacy, as_of)


def render_state(world: World, as_of: str) -> dict[str, Any]:
    return {
        "territory": render_territory(world, as_of),
        "talks": render_talks(world, as_of),
        "diplomacy": render_diplomacy(world, as_of),
    }
