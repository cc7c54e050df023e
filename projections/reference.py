"""The reference answers: the state and an area's history by folding the reducers over
the events recorded by known_at, with windows and pages applied to the full answer.

This is the specification the read model is held to (`timeline replay --check` and the
property tests compare the two); it is free of any database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from projections.facts import Fact
from projections.history import area_history
from projections.parts import NAMES
from projections.state import World, render_diplomacy, render_talks, render_territory, world_at
from projections.windows import NO_PAGE, NO_WINDOW, Page, Window, cut_shown, page_of


def _areas(world: World, as_of: str, area: str | None, page: Page) -> dict[str, Any]:
    areas = render_territory(world, as_of, area)["areas"]
    if area is not None or not page.given:
        return {"areas": areas}
    names, next_after = page_of(sorted(areas), page)
    return {"areas": {name: areas[name] for name in names}, "next_areas_after": next_after}


def _tracks(world: World, as_of: str, track: str | None, window: Window, page: Page) -> dict[str, Any]:
    shown = render_talks(world, as_of, track)["tracks"]
    tracks = {name: cut_shown(track_shown, window) for name, track_shown in shown.items()}
    if track is not None or not page.given:
        return {"tracks": tracks}
    names, next_after = page_of(sorted(tracks), page)
    return {"tracks": {name: tracks[name] for name in names}, "next_tracks_after": next_after}


def state_parts(
    recorded: Sequence[Fact],
    as_of: str,
    part: str | None = None,
    area: str | None = None,
    track: str | None = None,
    window: Window = NO_WINDOW,
    areas_page: Page = NO_PAGE,
    tracks_page: Page = NO_PAGE,
) -> dict[str, Any]:
    """`{"territory": ..., "talks": ..., "diplomacy": ...}`, or one part's keys alone.
    `recorded`: the events recorded by known_at (a prefix of the log)."""
    world = world_at(recorded, as_of)
    shaped = {
        "territory": lambda: _areas(world, as_of, area, areas_page),
        "talks": lambda: _tracks(world, as_of, track, window, tracks_page),
        "diplomacy": lambda: cut_shown(render_diplomacy(world, as_of), window),
    }
    if part is not None:
        return shaped[part]()
    return {name: shaped[name]() for name in NAMES}


def history(recorded: Sequence[Fact], area: str) -> list[dict[str, Any]]:
    return area_history(recorded, area)
