"""The parts of the state, in one registry: which event types each folds, how its answer
is keyed, and the read model's kinds of row. Selection, the fold, the read model's
queries, `changes`, the state routes and `replay --check` all read them from here, so a
new part (or a new family feeding one) is added in one place."""

from __future__ import annotations

from dataclasses import dataclass

from events.types import RETRACTED


@dataclass(frozen=True)
class Part:
    name: str  # its key in /state, and its route /state/{name}
    families: tuple[str, ...]  # the event type families (before the '.') it folds
    scopes: str | None  # the key of its map of areas or tracks; None: one whole answer
    scope: str | None  # the query parameter naming one of them (area, track)
    kinds: tuple[str, ...]  # the read model's kinds of row (the type names, after the '.')


TERRITORY = Part(
    "territory",
    ("territory", "forces"),
    "areas",
    "area",
    ("control_claimed", "within", "claim_denied", "assessed", "involvement_reported", "clash_reported"),
)
TALKS = Part(
    "talks",
    ("talks",),
    "tracks",
    "track",
    ("offer_made", "offer_rejected", "position_stated", "proposal_made", "ceasefire_declared", "round_held"),
)
DIPLOMACY = Part("diplomacy", ("diplomacy",), None, None, ("statement_made", "meeting_held"))

PARTS: tuple[Part, ...] = (TERRITORY, TALKS, DIPLOMACY)
NAMES: tuple[str, ...] = tuple(part.name for part in PARTS)
BY_NAME: dict[str, Part] = {part.name: part for part in PARTS}
_BY_FAMILY: dict[str, Part] = {family: part for part in PARTS for family in part.families}


def part_of_type(type_name: str) -> Part | None:
    """The part an event of this type is folded into (None: a retraction, which only
    changes what else counts)."""
    if type_name == RETRACTED:
        return None
    return _BY_FAMILY.get(type_name.split(".")[0])
