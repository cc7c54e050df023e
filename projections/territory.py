"""Territory (docs/api.md §7): claims, denials, assessments and forces per area."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import lru_cache
from typing import Any

from events.instants import ONE_MICROSECOND, format_instant, parse_instant
from projections.facts import Fact
from projections.items import Item, optional, render_all, replaced


@dataclass(frozen=True)
class AreaState:
    claims: dict[str, Item] = field(default_factory=dict)  # by claimant
    denials: dict[str, Item] = field(default_factory=dict)  # by claimant
    assessments: dict[str, Item] = field(default_factory=dict)  # by assessor
    forces: dict[tuple[str, str], Item] = field(default_factory=dict)  # by (force, claimant)
    clashes: dict[str, Item] = field(default_factory=dict)  # by event id: every one is shown
    within: str | None = None


EMPTY_AREA = AreaState()
TYPES = (
    "territory.control_claimed",
    "territory.claim_denied",
    "territory.assessed",
    "forces.involvement_reported",
    "forces.clash_reported",
)
CLASH = "forces.clash_reported"
# An area lists the clashes whose occurred_from lies in the 30 days up to as_of, both ends
# included: recent fighting, not the whole war.
CLASH_WINDOW = timedelta(days=30)


@lru_cache(maxsize=1 << 12)
def clashes_from(as_of: str) -> str:
    """The first instant of the clash window ending at as_of."""
    try:
        return format_instant(parse_instant(as_of) - CLASH_WINDOW)
    except OverflowError:  # within 30 days of year 1: the window holds all time before as_of
        return "0001-01-01T00:00:00.000000Z"


@lru_cache(maxsize=1 << 12)
def clash_leaves(since: str) -> str | None:
    """The first instant at which a clash that began at `since` is out of the window (None:
    after the last instant the service can write)."""
    try:
        return format_instant(parse_instant(since) + CLASH_WINDOW + ONE_MICROSECOND)
    except OverflowError:
        return None


def claim_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "claimant": data["claimant"],
        "controller": data["controller"],
        "extent": data["extent"],
        **optional(data, "area_km2", "speaker"),
    }


def denial_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"claimant": data["claimant"], **optional(data, "denied_event_id", "speaker")}


def assessment_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "assessor": data["assessor"],
        "controller": data["controller"],
        "extent": data["extent"],
        **optional(data, "area_km2", "speaker"),
    }


def forces_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "force": data["force"],
        "supporting": data["supporting"],
        "claimant": data["claimant"],
        "status": data["status"],
        **optional(data, "size", "speaker"),
    }


def clash_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "parties": list(data["parties"]),
        "claimant": data["claimant"],
        **optional(data, "deaths", "note", "speaker"),
    }


def leaving_instants(clash_starts: Iterable[str]) -> set[str]:
    """The instants at which clashes that began at these instants leave the window."""
    return {leaves for since in clash_starts if (leaves := clash_leaves(since)) is not None}


# What each type's item shows, besides since, tentative and event_id.
FIELDS = {
    "territory.control_claimed": claim_fields,
    "territory.claim_denied": denial_fields,
    "territory.assessed": assessment_fields,
    "forces.involvement_reported": forces_fields,
    "forces.clash_reported": clash_fields,
}


def apply(state: AreaState, fact: Fact) -> AreaState:
    """Fold one counting event, given in (occurred_from, position) order, into its area."""
    data = fact.data
    if fact.type == "territory.control_claimed":
        claimant = data["claimant"]
        claim = Item.of(fact, **claim_fields(data))
        # A denial stands until its party makes a newer claim for the area.
        denials = {k: v for k, v in state.denials.items() if k != claimant}
        within = data.get("within", state.within)
        return replace(state, claims=replaced(state.claims, claimant, claim), denials=denials, within=within)
    if fact.type == "territory.claim_denied":
        denial = Item.of(fact, **denial_fields(data))
        return replace(state, denials=replaced(state.denials, data["claimant"], denial))
    if fact.type == "territory.assessed":
        assessment = Item.of(fact, **assessment_fields(data))
        return replace(state, assessments=replaced(state.assessments, data["assessor"], assessment))
    if fact.type == "forces.involvement_reported":
        key = (data["force"], data["claimant"])
        return replace(state, forces=replaced(state.forces, key, Item.of(fact, **forces_fields(data))))
    if fact.type == CLASH:
        return replace(state, clashes=replaced(state.clashes, fact.id, Item.of(fact, **clash_fields(data))))
    return state


def status(state: AreaState) -> str:
    views = list(state.claims.values()) + list(state.assessments.values())
    if not views:
        return "unknown"
    controls = {(item.get("controller"), item.get("extent")) for item in views}
    return "uncontested" if len(controls) == 1 and not state.denials else "contested"


def render(state: AreaState, as_of: str) -> dict[str, Any] | None:
    """The area as the contract shows it, or None when all its lists are empty."""
    start = clashes_from(as_of)
    clashes = [item for item in state.clashes.values() if start <= item.since <= as_of]
    if not (state.claims or state.denials or state.assessments or state.forces or clashes):
        return None
    return {
        "status": status(state),
        "claims": render_all(state.claims.values(), as_of),
        "denials": render_all(state.denials.values(), as_of),
        "assessments": render_all(state.assessments.values(), as_of),
        "forces": render_all(state.forces.values(), as_of),
        "clashes": render_all(clashes, as_of),
        "within": state.within,
    }
