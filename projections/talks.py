"""Talks (docs/api.md §7): offers, proposals, ceasefires, rounds and positions per track."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from events.instants import format_instant, parse_day_or_date_time
from projections.facts import Fact
from projections.items import Item, optional, render_all, replaced


@dataclass(frozen=True)
class Ceasefire:
    item: Item
    starts: str  # the instant it starts
    ends: str | None  # the instant it ends (exclusive), or open

    def in_force(self, as_of: str) -> bool:
        return self.starts <= as_of and (self.ends is None or as_of < self.ends)


@dataclass(frozen=True)
class TrackState:
    offers: dict[tuple[str, str], Item] = field(default_factory=dict)  # by (party, counterparty)
    rejected: frozenset[str] = frozenset()  # offer event ids named by a counting rejection
    proposals: tuple[Item, ...] = ()
    ceasefires: tuple[Ceasefire, ...] = ()
    rounds: tuple[Item, ...] = ()
    positions: dict[str, Item] = field(default_factory=dict)  # by party


EMPTY_TRACK = TrackState()


def offer_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "party": data["party"],
        "counterparty": data["counterparty"],
        "preconditions": list(data["preconditions"]),
        **optional(data, "speaker"),
    }


def proposal_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "proposer": data["proposer"],
        "parties": list(data["parties"]),
        "terms": list(data["terms"]),
        **optional(data, "speaker"),
    }


def ceasefire_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "parties": list(data["parties"]),
        "declared_by": data["declared_by"],
        "starts": data["starts"],
        **optional(data, "ends", "scope"),
    }


def ceasefire_window(data: Mapping[str, Any]) -> tuple[str, str | None]:
    """The instants a ceasefire starts and ends (exclusive; None when open-ended)."""
    starts = format_instant(parse_day_or_date_time(data["starts"], end_of_day=False))
    ends = data.get("ends")
    return starts, format_instant(parse_day_or_date_time(ends, end_of_day=True)) if ends else None


def round_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"parties": list(data["parties"]), "place": data["place"], **optional(data, "mediator", "outcome")}


def position_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "party": data["party"],
        "counterparty": data["counterparty"],
        "position": data["position"],
        **optional(data, "speaker"),
    }


# What each type's item shows, besides since, tentative and event_id (a rejection shows none).
FIELDS = {
    "talks.offer_made": offer_fields,
    "talks.proposal_made": proposal_fields,
    "talks.ceasefire_declared": ceasefire_fields,
    "talks.round_held": round_fields,
    "talks.position_stated": position_fields,
}


def apply(state: TrackState, fact: Fact) -> TrackState:
    """Fold one counting event, given in (occurred_from, position) order, into its track."""
    data = fact.data
    if fact.type == "talks.offer_made":
        offer = Item.of(fact, **offer_fields(data))
        return replace(state, offers=replaced(state.offers, (data["party"], data["counterparty"]), offer))
    if fact.type == "talks.offer_rejected":
        return replace(state, rejected=state.rejected | {data["offer_event_id"]})
    if fact.type == "talks.proposal_made":
        return replace(state, proposals=(*state.proposals, Item.of(fact, **proposal_fields(data))))
    if fact.type == "talks.ceasefire_declared":
        starts, ends = ceasefire_window(data)
        ceasefire = Ceasefire(Item.of(fact, **ceasefire_fields(data)), starts, ends)
        return replace(state, ceasefires=(*state.ceasefires, ceasefire))
    if fact.type == "talks.round_held":
        return replace(state, rounds=(*state.rounds, Item.of(fact, **round_fields(data))))
    if fact.type == "talks.position_stated":
        stated = Item.of(fact, **position_fields(data))
        return replace(state, positions=replaced(state.positions, data["party"], stated))
    return state


def status(offers: bool, proposals: bool, ceasefires: bool, rounds: bool) -> str:
    """The first that holds: a ceasefire in force, a round held, an open offer, a proposal."""
    if ceasefires:
        return "ceasefire"
    if rounds:
        return "talks_held"
    if offers:
        return "offered"
    if proposals:
        return "proposed"
    return "none"


def render(state: TrackState, as_of: str) -> dict[str, Any] | None:
    """The track as the contract shows it, or None when all its lists are empty."""
    offers = [o for o in state.offers.values() if o.event_id not in state.rejected]
    in_force = [c.item for c in state.ceasefires if c.in_force(as_of)]
    if not (offers or state.proposals or in_force or state.rounds or state.positions):
        return None
    return {
        "status": status(bool(offers), bool(state.proposals), bool(in_force), bool(state.rounds)),
        "offers": render_all(offers, as_of),
        "proposals": render_all(state.proposals, as_of),
        "ceasefires": render_all(in_force, as_of),
        "rounds": render_all(state.rounds, as_of),
        "positions": render_all(state.positions.values(), as_of),
    }
