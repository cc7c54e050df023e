"""Stored bodies are the JCS of the stored event, and hash as docs/api.md §10 says."""

from __future__ import annotations

import hashlib

import rfc8785

from events.drafts import draft_from_json
from events.envelope import GENESIS_HASH
from events.store import EventStore
from tests.factories import claim, statement


def test_bodies_are_canonical_and_chained(memory_store: EventStore) -> None:
    first = claim(
        occurred_at="2025-04-26T10:00:00.5+03:00",
        data_extra={"area_km2": 12.75, "note": 'é\n"quoted" \u2028'},
    )
    result = memory_store.append([draft_from_json(first), draft_from_json(statement())])
    previous = GENESIS_HASH
    for event in result.events:
        parsed = event.as_dict()
        assert event.body == rfc8785.dumps(parsed).decode()
        without_hash = {k: v for k, v in parsed.items() if k != "hash"}
        assert event.hash == hashlib.sha256(rfc8785.dumps(without_hash)).hexdigest()
        assert event.prev_hash == previous
        previous = event.hash
    assert result.events[0].occurred_from == "2025-04-26T07:00:00.500000Z"
    assert result.events[0].recorded_at == result.events[1].recorded_at
