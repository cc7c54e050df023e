"""A state item: the keys it shows, and where it comes from in valid time and in the log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from projections.facts import Fact


@dataclass(frozen=True)
class Item:
    fields: tuple[tuple[str, Any], ...]
    since: str
    last_instant: str
    position: int
    event_id: str

    @classmethod
    def of(cls, fact: Fact, **fields: Any) -> Item:
        return cls(tuple(fields.items()), fact.occurred_from, fact.last_instant, fact.position, fact.id)

    @property
    def order(self) -> tuple[str, int]:
        return (self.since, self.position)

    def get(self, key: str) -> Any:
        return dict(self.fields)[key]

    def render(self, as_of: str) -> dict[str, Any]:
        """Tentative while as_of is before the last microsecond of the reported window."""
        return {
            **dict(self.fields),
            "since": self.since,
            "tentative": as_of < self.last_instant,
            "event_id": self.event_id,
        }


def render_all(items: Iterable[Item], as_of: str) -> list[dict[str, Any]]:
    """Every list in a state answer is ordered by (since, position)."""
    return [item.render(as_of) for item in sorted(items, key=lambda i: i.order)]


def replaced(mapping: Mapping[Any, Item], key: Any, item: Item) -> dict[Any, Item]:
    return {**mapping, key: item}


def optional(data: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """Optional data keys, shown as null when the event did not set them."""
    return {key: data.get(key) for key in keys}
