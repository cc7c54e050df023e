"""The whole state at (as_of, known_at): the reference answer, by folding the reducers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from projections import diplomacy, talks, territory
from projections.effect import counting, in_effect
from projections.facts import Fact


@dataclass
class World:
    areas: dict[str, territory.AreaState] = field(default_factory=dict)
    tracks: dict[str, talks.TrackState] = field(default_factory=dict)
    diplomacy: diplomacy.DiplomacyState = diplomacy.EMPTY_DIPLOMACY


def fold(ordered: Sequence[Fact]) -> World:
    """Apply each counting event to the part it belongs to; events come in rule order."""
    world = World()
    for fact in ordered:
        part = fact.type.split(".")[0]
        if part in ("territory", "forces"):
            current = world.areas.get(fact.subject, territory.EMPTY_AREA)
            world.areas[fact.subject] = territory.apply(current, fact)
        elif part == "talks":
            track = world.tracks.get(fact.subject, talks.EMPTY_TRACK)
            world.tracks[fact.subject] = talks.apply(track, fact)
        elif part == "diplomacy":
            world.diplomacy = diplomacy.apply(world.diplomacy, fact)
    return world


def world_at(recorded: Sequence[Fact], as_of: str) -> World:
    """`recorded`: the events recorded by known_at (a prefix of the log)."""
    return fold(counting(in_effect(recorded), as_of))


def render_territory(world: World, as_of: str, area: str | None = None) -> dict[str, Any]:
    areas = {}
    for name in sorted(world.areas):
        if area is not None and name != area:
            continue
        shown = territory.render(world.areas[name], as_of)
        if shown is not None:
            areas[name] = shown
    return {"areas": areas}


def render_talks(world: World, as_of: str, track: str | None = None) -> dict[str, Any]:
    tracks = {}
    for name in sorted(world.tracks):
        if track is not None and name != track:
            continue
        shown = talks.render(world.tracks[name], as_of)
        if shown is not None:
            tracks[name] = shown
    return {"tracks": tracks}


def render_diplomacy(world: World, as_of: str) -> dict[str, Any]:
    return diplomacy.render(world.diplomacy, as_of)


def render_state(world: World, as_of: str) -> dict[str, Any]:
    return {
        "territory": render_territory(world, as_of),
        "talks": render_talks(world, as_of),
        "diplomacy": render_diplomacy(world, as_of),
    }
