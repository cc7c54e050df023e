"""What changed between two state answers: items added, removed and changed, by event id.

The two answers are rendered parts as `/state` shows them. An item is the same item
in both when it comes from the same event (`event_id`); one that is in both but shows
otherwise (it stopped being tentative, say) is `changed`. An area's or a track's
`status` and an area's `within` are compared as values, `null` standing for an area
or track that is not in that answer. Only what differs is shown: an area or track
with no difference is left out, and so is a list with nothing added, removed or
changed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from projections.parts import PARTS

# Values of an area or track compared as a whole, not as lists of items.
SCALARS = ("status", "within")
# The map of each part's areas or tracks, by the part's name.
SCOPED = {part.name: part.scopes for part in PARTS if part.scopes is not None}


def list_changes(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """`added`, `removed` and `changed` items of one list, each in the order its answer
    gives (since, position); a change is `{"from": item, "to": item}`."""
    earlier = {item["event_id"]: item for item in before}
    later = {item["event_id"]: item for item in after}
    return {
        "added": [item for item in after if item["event_id"] not in earlier],
        "removed": [item for item in before if item["event_id"] not in later],
        "changed": [
            {"from": earlier[item["event_id"]], "to": item}
            for item in after
            if item["event_id"] in earlier and earlier[item["event_id"]] != item
        ],
    }


def entry_changes(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The differences of one area, one track or the diplomacy part (None: no difference)."""
    before, after = before or {}, after or {}
    found: dict[str, Any] = {"added": {}, "removed": {}, "changed": {}}
    for key in SCALARS:
        if key in before or key in after:
            old, new = before.get(key), after.get(key)
            if old != new:
                found[key] = {"from": old, "to": new}
    for key in sorted(set(before) | set(after)):
        if key in SCALARS:
            continue
        for kind, items in list_changes(before.get(key, []), after.get(key, [])).items():
            if items:
                found[kind][key] = items
    differs = any(found[kind] for kind in ("added", "removed", "changed")) or any(k in found for k in SCALARS)
    return found if differs else None


def part_changes(part: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """One part's differences: per area or track for territory and talks, whole for diplomacy."""
    if part not in SCOPED:
        return entry_changes(before, after) or {"added": {}, "removed": {}, "changed": {}}
    key = SCOPED[part]
    earlier, later = before[key], after[key]  # every answer of the part has its map
    differences = {
        name: entry_changes(earlier.get(name), later.get(name)) for name in sorted({*earlier, *later})
    }
    return {key: {name: found for name, found in differences.items() if found is not None}}


def state_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """The differences of every part present in both answers (`territory`, `talks`, `diplomacy`)."""
    return {part: part_changes(part, before[part], after[part]) for part in after if part in before}
