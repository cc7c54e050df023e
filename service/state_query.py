"""Answering a state question: resolve (as_of, known_at), read the read model, shape.

The reference answers, by folding the log's prefix, sit beside them for `timeline replay --check`.

Shared by the HTTP routes and `timeline state`; no web framework here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from events.errors import FieldError, InvalidInput
from events.instants import BadInstant, format_instant, parse_query_instant
from events.store import EventStore
from projections.changes import state_changes
from projections.facts import Fact, fact_of
from projections.history import area_history, intervals
from projections.sql.reader import StateReader
from projections.state import World, render_diplomacy, render_talks, render_territory, world_at


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
    """The resolved instants and the log position known_at cuts at."""

    as_of: str
    known_at: str
    position: int

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
    return Cut(resolved_as_of, wanted, head.position if head else 0)


PARTS = ("territory", "talks", "diplomacy")


def _shape(world: World, as_of: str, part: str | None, area: str | None, track: str | None) -> dict[str, Any]:
    if part == "territory":
        return render_territory(world, as_of, area)
    if part == "talks":
        return render_talks(world, as_of, track)
    if part == "diplomacy":
        return render_diplomacy(world, as_of)
    return {
        "territory": render_territory(world, as_of, area),
        "talks": render_talks(world, as_of, track),
        "diplomacy": render_diplomacy(world, as_of),
    }


def state(
    store: EventStore,
    as_of: str | None = None,
    known_at: str | None = None,
    part: str | None = None,
    area: str | None = None,
    track: str | None = None,
) -> dict[str, Any]:
    """The whole state, or one part of it (`territory`, `talks`, `diplomacy`), from the read model."""
    cut = resolve(store, as_of, known_at)
    scopes = {"territory": area, "talks": track, "diplomacy": None}
    wanted = {name: scopes[name] for name in ([part] if part else PARTS)}
    world = StateReader(store.engine).world(cut.as_of, cut.position, wanted)
    return cut.answer(**_shape(world, cut.as_of, part, area, track))


def changes(
    store: EventStore,
    as_of: str | None = None,
    known_at: str | None = None,
    from_as_of: str | None = None,
    from_known_at: str | None = None,
    part: str | None = None,
    area: str | None = None,
    track: str | None = None,
) -> dict[str, Any]:
    """What differs between the answer at (from_as_of, from_known_at) and the one at
    (as_of, known_at); each `from_` defaults to its counterpart, and one must be given."""
    if from_as_of is None and from_known_at is None:
        raise InvalidInput(
            "Say what to compare with: `from_as_of`, `from_known_at` or both.",
            [
                FieldError(
                    f"/{name}", "give from_as_of or from_known_at (each defaults to its counterpart)", "query"
                )
                for name in ("from_as_of", "from_known_at")
            ],
        )
    # Checked under their own names, so that a bad value is reported at its parameter.
    earlier_as_of = query_instant("from_as_of", from_as_of)
    earlier_known_at = query_instant("from_known_at", from_known_at)
    cut = resolve(store, as_of, known_at)
    # An omitted from_known_at is this very cut, not the head resolved a second time: an
    # append between the two resolutions would otherwise show up as a change.
    earlier = (
        Cut(earlier_as_of or cut.as_of, cut.known_at, cut.position)
        if earlier_known_at is None
        else resolve(store, earlier_as_of or cut.as_of, earlier_known_at)
    )
    scopes = {"territory": area, "talks": track, "diplomacy": None}
    wanted = {name: scopes[name] for name in ([part] if part else PARTS)}
    reader = StateReader(store.engine)
    before = _shape(reader.world(earlier.as_of, earlier.position, wanted), earlier.as_of, part, area, track)
    after = _shape(reader.world(cut.as_of, cut.position, wanted), cut.as_of, part, area, track)
    if part is not None:  # one part's shape is unwrapped; the comparison takes parts by name
        before, after = {part: before}, {part: after}
    found = state_changes(before, after)
    return cut.answer(
        **{"from": {"as_of": earlier.as_of, "known_at": earlier.known_at, "position": earlier.position}},
        **(found[part] if part is not None else found),
    )


def history(store: EventStore, area: str, known_at: str | None = None) -> dict[str, Any]:
    cut = resolve(store, None, known_at)
    return {
        "area": area,
        "known_at": cut.known_at,
        "position": cut.position,
        "intervals": intervals(StateReader(store.engine).area_facts(cut.position, area)),
    }


# -- the reference: the same answers by folding the log's prefix --------------------------


def recorded_until(store: EventStore, position: int) -> list[Fact]:
    return [fact_of(event) for event in store.events_until(position)] if position else []


def reference_state(
    store: EventStore,
    as_of: str | None = None,
    known_at: str | None = None,
    part: str | None = None,
    area: str | None = None,
    track: str | None = None,
) -> dict[str, Any]:
    cut = resolve(store, as_of, known_at)
    world = world_at(recorded_until(store, cut.position), cut.as_of)
    return cut.answer(**_shape(world, cut.as_of, part, area, track))


def reference_history(store: EventStore, area: str, known_at: str | None = None) -> dict[str, Any]:
    cut = resolve(store, None, known_at)
    return {
        "area": area,
        "known_at": cut.known_at,
        "position": cut.position,
        "intervals": area_history(recorded_until(store, cut.position), area),
    }
