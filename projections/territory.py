"""Territory (docs/api.md §7): claims, denials, assessments and forces per area."""

from __future__ import annotations

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


def apply(state: AreaState, fact: Fact) -> AreaState:
    """Fold one counting event, given in (occurred_from, position) order, into its area."""
    data = fact.data
    if fact.type == "territory.control_claimed":
        claimant = data["claimant"]
        claim = Item.of(
            fact,
            claimant=claimant,
            controller=data["controller"],
            extent=data["extent"],
            **optional(data, "area_km2", "speaker"),
        )
        # A denial stands until its party makes a newer claim for the area.
        denials = {k: v for k, v in state.denials.items() if k != claimant}
        within = data.get("within", state.within)
        return replace(state, claims=replaced(state.claims, claimant, claim), denials=denials, within=within)
    if fact.type == "territory.claim_denied":
        denial = Item.of(fact, claimant=data["claimant"], **optional(data, "denied_event_id", "speaker"))
        return replace(state, denials=replaced(state.denials, data["claimant"], denial))
    if fact.type == "territory.assessed":
        assessment = Item.of(
            fact,
            assessor=data["assessor"],
            controller=data["controller"],
            extent=data["extent"],
            **optional(data, "area_km2", "speaker"),
        )
        return replace(state, assessments=replaced(state.assessments, data["assessor"], assessment))
    if fact.type == "forces.involvement_reported":
        key = (data["force"], data["claimant"])
        report = Item.of(
            fact,
            force=data["force"],
            supporting=data["supporting"],
            claimant=data["claimant"],
            status=data["status"],
            **optional(data, "size", "speaker"),
        )
        return replace(state, forces=replaced(state.forces, key, report))
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
