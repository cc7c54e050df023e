"""Stored bodies are the JCS of the stored event, and hash as docs/api.md §10 says."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from events.drafts import draft_from_json
from events.envelope import GENESIS_HASH, content_text, hash_of
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


def test_the_content_compared_is_the_jcs_of_what_the_client_decided() -> None:
    # content_text is assembled from pieces canonicalised earlier, for speed; it must be
    # the JCS of the object itself (docs/api.md §4), or a resend could compare unlike texts.
    source: dict[str, Any] = {"name": "Wire", "kind": "media"}
    data: dict[str, Any] = {"text": "Ready", "n": 5}
    fields: dict[str, Any] = {
        "id": "5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e",
        "type": "diplomacy.statement_made",
        "subject": "diplomacy",
        "occurred_at": "2025-04-26",
        "reported_at": "2025-04-27T08:00:00Z",
        "supersedes": None,
    }
    text = content_text(
        **fields, source_jcs=rfc8785.dumps(source).decode(), data_jcs=rfc8785.dumps(data).decode()
    )
    assert text == rfc8785.dumps({**fields, "source": source, "data": data}).decode()


def test_a_hash_recomputed_from_scratch_is_over_the_jcs_of_the_event() -> None:
    # A float and a non-ASCII key are where a plain sorted json.dumps and JCS differ.
    event = {"id": "x", "data": {"ratio": 5.0, "é": 1}, "hash": "ignored"}
    expected = hashlib.sha256(rfc8785.dumps({"id": "x", "data": {"ratio": 5.0, "é": 1}})).hexdigest()
    assert hash_of(event) == expected
