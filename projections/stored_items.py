"""What the read model keeps of each event besides its slots: its item, rendered once.

An item's JSON never changes after its event is stored, but for `tentative`, which
depends on as_of: so each event's item is kept as the JSON of its fields and `since`,
open at the end, and an answer is mostly concatenation (`render`). What the rules
across slots need of an event is kept beside it: the (controller, extent) that an
area's status compares, the `within` a claim sets, a ceasefire's window.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from projections import diplomacy, talks, territory
from projections.facts import Fact

FIELDS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    **territory.FIELDS,
    **talks.FIELDS,
    **diplomacy.FIELDS,
}
JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class StoredItem:
    position: int
    event_id: str
    last_instant: str  # tentative while as_of is before it
    item: str  # the JSON of the item's fields and since, without its closing brace
    control: str | None  # "controller extent" of a claim or an assessment
    within: str | None  # the `within` a claim sets
    starts: str | None  # a ceasefire's window: its first instant ...
    ends: str | None  # ... and the instant it ends (exclusive), None when open


def stored_item(fact: Fact) -> StoredItem | None:
    """The item of an event that the state shows (a rejection or a retraction has none)."""
    fields = FIELDS.get(fact.type)
    if fields is None:
        return None
    data = fact.data
    shown = fields(data)
    item = JSON.encode({**shown, "since": fact.occurred_from})[:-1]
    control = (
        f"{data['controller']} {data['extent']}" if "controller" in shown and "extent" in shown else None
    )
    starts, ends = talks.ceasefire_window(data) if fact.type == "talks.ceasefire_declared" else (None, None)
    within = data.get("within") if fact.type == "territory.control_claimed" else None
    return StoredItem(fact.position, fact.id, fact.last_instant, item, control, within, starts, ends)


def render(item: str, last_instant: str, event_id: str, as_of: str) -> str:
    """The item as a state answer shows it at as_of: `Item.render`, as JSON."""
    tentative = "true" if as_of < last_instant else "false"
    return f'{item},"tentative":{tentative},"event_id":"{event_id}"}}'
