"""What the state rules see of a stored event (projections/facts.py): the rebuild's quick
reading of the events table's columns gives the fact the full reading gives."""

from __future__ import annotations

from typing import Any

import pytest

from events import upcasting
from events.canonical import canonical
from projections.facts import Fact, fact_of_body, fact_of_columns

STORED: dict[str, Any] = {
    "id": "0d1c2b3a-0000-4000-8000-000000000001",
    "type": "territory.control_claimed",
    "subject": "ru-kursk-oblast",
    "position": 7,
    "recorded_at": "2025-04-26T10:00:00.000000Z",
    "occurred_from": "2025-04-26T00:00:00.000000Z",
    "occurred_until": "2025-04-27T00:00:00.000000Z",
    "schema_version": 1,
    "supersedes": "0d1c2b3a-0000-4000-8000-000000000000",
    "source": {"name": "TASS"},
    "data": {"area": "ru-kursk-oblast", "claimant": "ru", "status": "controlled", "nested": {"a": [1, 2]}},
}


def columns(body: str, stored: dict[str, Any] = STORED) -> Fact:
    """fact_of_columns as the rebuild calls it, with the columns in its order."""
    return fact_of_columns(
        stored["position"],
        stored["id"],
        stored["type"],
        stored["subject"],
        stored["occurred_from"],
        stored["occurred_until"],
        stored["recorded_at"],
        stored["supersedes"],
        body,
    )


def test_the_columns_and_the_data_member_make_the_whole_fact() -> None:
    body = canonical(STORED)
    assert body.startswith('{"data":')  # JCS sorts "data" first: the quick path is taken
    assert columns(body) == fact_of_body(body)
    assert columns(body).data == STORED["data"]


def test_a_body_that_does_not_open_with_its_data_is_read_whole() -> None:
    # Not as the store writes it (JCS), but never misread: data is found wherever it is.
    body = canonical(STORED).replace('{"data":', '{ "data":', 1)
    assert columns(body) == fact_of_body(canonical(STORED))
    reordered = '{"a":0,' + canonical(STORED)[1:]
    assert columns(reordered).data == STORED["data"]


def test_with_upcasters_registered_the_data_is_upcast(monkeypatch: pytest.MonkeyPatch) -> None:
    def one_to_two(data: dict[str, Any]) -> dict[str, Any]:
        return {**data, "status": "held"}

    monkeypatch.setattr(upcasting, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(upcasting.UPCASTERS, ("territory.control_claimed", 1), one_to_two)
    fact = columns(canonical(STORED))
    assert fact.data == {**STORED["data"], "status": "held"}
    assert fact == fact_of_body(canonical(STORED))
