"""Diplomacy (docs/api.md §7): every meeting so far, and the latest statement per speaker."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from projections.facts import Fact
from projections.items import Item, optional, render_all, replaced


@dataclass(frozen=True)
class DiplomacyState:
    meetings: tuple[Item, ...] = ()
    statements: dict[str, Item] = field(default_factory=dict)  # by speaker


EMPTY_DIPLOMACY = DiplomacyState()


def meeting_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "participants": list(data["participants"]),
        "place": data["place"],
        **optional(data, "occasion", "on_behalf_of", "tone", "topics"),
    }


def statement_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"speaker": data["speaker"], "text": data["text"], **optional(data, "party", "about")}


# What each type's item shows, besides since, tentative and event_id.
FIELDS = {"diplomacy.meeting_held": meeting_fields, "diplomacy.statement_made": statement_fields}


def apply(state: DiplomacyState, fact: Fact) -> DiplomacyState:
    data = fact.data
    if fact.type == "diplomacy.meeting_held":
        return replace(state, meetings=(*state.meetings, Item.of(fact, **meeting_fields(data))))
    if fact.type == "diplomacy.statement_made":
        said = Item.of(fact, **statement_fields(data))
        return replace(state, statements=replaced(state.statements, data["speaker"], said))
    return state


def render(state: DiplomacyState, as_of: str) -> dict[str, Any]:
    return {
        "meetings": render_all(state.meetings, as_of),
        "statements": render_all(state.statements.values(), as_of),
    }
