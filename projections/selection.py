"""What a read model keeps of each event, and how few events answer a question.

Every reducer keeps "the latest per key" or "all of them", so the state at
(as_of, known_at) only needs, per slot, the newest event in effect that has
begun by as_of. A read model stores one entry per (event, slot) and selects
those; folding the selection with the reducers gives the same state as
folding the whole prefix of the log. The property tests prove it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from projections.facts import Fact
from projections.parts import part_of_type


def part_of(type_name: str) -> str | None:
    """The name of the part an event type is folded into (`projections.parts`)."""
    part = part_of_type(type_name)
    return part.name if part else None


@dataclass(frozen=True)
class Entry:
    """One slot an event fills: (part, scope, kind, slot), scope being the area, track or
    `diplomacy`. Within a slot only the newest counting event matters."""

    part: str
    scope: str
    kind: str
    slot: str
    fact: Fact


def slots_of(fact: Fact) -> list[tuple[str, str]]:
    """The (kind, slot) pairs of an event. Events every one of which is shown (proposals,
    rounds, ceasefires, meetings) get a slot of their own: their id."""
    data = fact.data
    kind = fact.type.split(".", 1)[1]
    if fact.type == "territory.control_claimed":
        found = [(kind, data["claimant"])]
        if "within" in data:
            found.append(("within", ""))  # the newest claim that sets `within`, of any claimant
        return found
    if fact.type in ("territory.claim_denied",):
        return [(kind, data["claimant"])]
    if fact.type == "territory.assessed":
        return [(kind, data["assessor"])]
    if fact.type == "forces.involvement_reported":
        return [(kind, f"{data['force']} {data['claimant']}")]
    if fact.type == "talks.offer_made":
        return [(kind, f"{data['party']} {data['counterparty']}")]
    if fact.type == "talks.offer_rejected":
        return [(kind, data["offer_event_id"])]
    if fact.type == "talks.position_stated":
        return [(kind, data["party"])]
    if fact.type == "diplomacy.statement_made":
        return [(kind, data["speaker"])]
    return [(kind, fact.id)]


def entries_of(fact: Fact) -> list[Entry]:
    part = part_of(fact.type)
    if part is None:
        return []
    return [Entry(part, fact.subject, kind, slot, fact) for kind, slot in slots_of(fact)]


def newest_per_slot(entries: Iterable[Entry]) -> list[Fact]:
    """Of entries that count, the newest per slot, as facts in rule order, each once."""
    newest: dict[tuple[str, str, str, str], Fact] = {}
    for entry in entries:
        key = (entry.part, entry.scope, entry.kind, entry.slot)
        kept = newest.get(key)
        if kept is None or entry.fact.order > kept.order:
            newest[key] = entry.fact
    unique = {fact.position: fact for fact in newest.values()}
    return sorted(unique.values(), key=lambda f: f.order)
