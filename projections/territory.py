"""Territory (docs/api.md §7): claims, denials, assessments and forces per area."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from projections.facts import Fact
from projections.items import Item, optional, render_all, replaced


@dataclass(frozen=True)
class AreaState:
    claims: dict[str, Item] = field(default_factory=dict)  # by claimant
    denials: dict[str, Item] = field(default_factory=dict)  # by claimant
    assessments: dict[str, Item] = field(default_factory=dict)  # by assessor
    forces: dict[tuple[str, str], Item] = field(default_factory=dict)  # by (force, claimant)
    within: str | None = None


EMPTY_AREA = AreaState()
TYPES = (
    "territory.control_claimed",
    "territory.claim_denied",
    "territory.assessed",
    "forces.involvement_reported",
)


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


# What each type's item shows, besides since, tentative and event_id.
FIELDS = {
    "territory.control_claimed": claim_fields,
    "territory.claim_denied": denial_fields,
    "territory.assessed": assessment_fields,
    "forces.involvement_reported": forces_fields,
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
    return state


def status(state: AreaState) -> str:
    views = list(state.claims.values()) + list(state.assessments.values())
    if not views:
        return "unknown"
    controls = {(item.get("controller"), item.get("extent")) for item in views}
    return "uncontested" if len(controls) == 1 and not state.denials else "contested"


def render(state: AreaState, as_of: str) -> dict[str, Any] | None:
    """The area as the contract shows it, or None when all its lists are empty."""
    if not (state.claims or state.denials or state.assessments or state.forces):
        return None
    return {
        "status": status(state),
        "claims": render_all(state.claims.values(), as_of),
        "denials": render_all(state.denials.values(), as_of),
        "assessments": render_all(state.assessments.values(), as_of),
        "forces": render_all(state.forces.values(), as_of),
        "within": state.within,
    }
