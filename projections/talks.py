"""Talks (docs/api.md §7): offers, proposals, ceasefires, rounds and positions per track."""

from __future__ import annotations

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


def apply(state: TrackState, fact: Fact) -> TrackState:
    """Fold one counting event, given in (occurred_from, position) order, into its track."""
    data = fact.data
    if fact.type == "talks.offer_made":
        offer = Item.of(
            fact,
            party=data["party"],
            counterparty=data["counterparty"],
            preconditions=list(data["preconditions"]),
            **optional(data, "speaker"),
        )
        return replace(state, offers=replaced(state.offers, (data["party"], data["counterparty"]), offer))
    if fact.type == "talks.offer_rejected":
        return replace(state, rejected=state.rejected | {data["offer_event_id"]})
    if fact.type == "talks.proposal_made":
        proposal = Item.of(
            fact,
            proposer=data["proposer"],
            parties=list(data["parties"]),
            terms=list(data["terms"]),
            **optional(data, "speaker"),
        )
        return replace(state, proposals=(*state.proposals, proposal))
    if fact.type == "talks.ceasefire_declared":
        ceasefire = Item.of(
            fact,
            parties=list(data["parties"]),
            declared_by=data["declared_by"],
            starts=data["starts"],
            **optional(data, "ends", "scope"),
        )
        starts = format_instant(parse_day_or_date_time(data["starts"], end_of_day=False))
        ends = data.get("ends")
        end = format_instant(parse_day_or_date_time(ends, end_of_day=True)) if ends else None
        return replace(state, ceasefires=(*state.ceasefires, Ceasefire(ceasefire, starts, end)))
    if fact.type == "talks.round_held":
        held = Item.of(
            fact, parties=list(data["parties"]), place=data["place"], **optional(data, "mediator", "outcome")
        )
        return replace(state, rounds=(*state.rounds, held))
    if fact.type == "talks.position_stated":
        stated = Item.of(
            fact,
            party=data["party"],
            counterparty=data["counterparty"],
            position=data["position"],
            **optional(data, "speaker"),
        )
        return replace(state, positions=replaced(state.positions, data["party"], stated))
    return state


def render(state: TrackState, as_of: str) -> dict[str, Any] | None:
    """The track as the contract shows it, or None when all its lists are empty."""
    offers = [o for o in state.offers.values() if o.event_id not in state.rejected]
    in_force = [c.item for c in state.ceasefires if c.in_force(as_of)]
    if not (offers or state.proposals or in_force or state.rounds or state.positions):
        return None
    if in_force:
        status = "ceasefire"
    elif state.rounds:
        status = "talks_held"
    elif offers:
        status = "offered"
    elif state.proposals:
        status = "proposed"
    else:
        status = "none"
    return {
        "status": status,
        "offers": render_all(offers, as_of),
        "proposals": render_all(state.proposals, as_of),
        "ceasefires": render_all(in_force, as_of),
        "rounds": render_all(state.rounds, as_of),
        "positions": render_all(state.positions.values(), as_of),
    }
