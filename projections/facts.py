"""What the state rules see of a stored event: its timing, its order and its (upcast) data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from events.envelope import StoredEvent
from events.instants import ONE_MICROSECOND, format_instant, parse_instant
from events.upcasting import UPCASTERS, upcast


@lru_cache(maxsize=1 << 16)
def microsecond_before(instant: str) -> str:
    """Windows end on few distinct instants (days, months, years), and parsing one costs
    more than the rest of a fact: each is computed once."""
    return format_instant(parse_instant(instant) - ONE_MICROSECOND)


@dataclass(frozen=True)
class Fact:
    id: str
    type: str
    subject: str
    position: int
    recorded_at: str
    occurred_from: str
    occurred_until: str
    data: dict[str, Any]
    supersedes: str | None

    @property
    def order(self) -> tuple[str, int]:
        """ "Later" and "newer" in every state rule: by occurred_from, then position."""
        return (self.occurred_from, self.position)

    @property
    def last_instant(self) -> str:
        """The last microsecond of the reported window; before it, the event is tentative."""
        if self.occurred_until == self.occurred_from:
            return self.occurred_from
        return microsecond_before(self.occurred_until)


def fact_of(event: StoredEvent) -> Fact:
    return Fact(
        id=event.id,
        type=event.type,
        subject=event.subject,
        position=event.position,
        recorded_at=event.recorded_at,
        occurred_from=event.occurred_from,
        occurred_until=event.occurred_until,
        data=upcast(event.type, event.schema_version, event.data),
        supersedes=event.supersedes,
    )


def fact_of_body(body: str) -> Fact:
    """`fact_of(StoredEvent.from_body(body))`, for bulk work: one parse, nothing else built."""
    stored = json.loads(body)
    return Fact(
        id=stored["id"],
        type=stored["type"],
        subject=stored["subject"],
        position=stored["position"],
        recorded_at=stored["recorded_at"],
        occurred_from=stored["occurred_from"],
        occurred_until=stored["occurred_until"],
        data=upcast(stored["type"], stored["schema_version"], stored["data"]),
        supersedes=stored["supersedes"],
    )


_DECODER = json.JSONDecoder()
_DATA_FIRST = '{"data":'


def fact_of_columns(
    position: int,
    id: str,
    type: str,
    subject: str,
    occurred_from: str,
    occurred_until: str,
    recorded_at: str,
    supersedes: str | None,
    body: str,
) -> Fact:
    """A fact from the events table's columns, parsing only the `data` member of the body:
    JCS sorts "data" first. With upcasters registered the whole body is parsed, since
    they need its schema_version."""
    if UPCASTERS or not body.startswith(_DATA_FIRST):
        return fact_of_body(body)
    data, _ = _DECODER.raw_decode(body, len(_DATA_FIRST))
    return Fact(id, type, subject, position, recorded_at, occurred_from, occurred_until, data, supersedes)
