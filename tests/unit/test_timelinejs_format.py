"""The TimelineJS mapping (service/formats/timelinejs.py): which events, and each field."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from events.envelope import STORED_KEYS, StoredEvent
from service.formats import timelinejs
from service.formats.timelinejs import date_of, end_of_ceasefire, shown, slide

KURSK = "ru-kursk-oblast"


def event(
    position: int,
    type_name: str = "territory.control_claimed",
    data: dict[str, Any] | None = None,
    *,
    subject: str = KURSK,
    occurred_from: str = "2025-04-26T00:00:00.000000Z",
    precision: str = "day",
    supersedes: str | None = None,
    source: dict[str, Any] | None = None,
    reported_at: str | None = None,
) -> StoredEvent:
    fields: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "type": type_name,
        "subject": subject,
        "occurred_at": occurred_from[:10],
        "occurred_precision": precision,
        "occurred_from": occurred_from,
        "occurred_until": occurred_from,
        "reported_at": reported_at,
        "source": source or {"name": "Wire", "kind": "media"},
        "data": data
        if data is not None
        else {"area": subject, "claimant": "ru", "controller": "ru", "extent": "full"},
        "supersedes": supersedes,
        "schema_version": 1,
        "position": position,
        "version": position,
        "recorded_at": f"2026-12-01T10:00:00.{position:06d}Z",
        "prev_hash": "0" * 64,
        "hash": "1" * 64,
    }
    assert set(fields) == set(STORED_KEYS)
    return StoredEvent(**fields, body=json.dumps(fields))


def retraction(position: int, target: StoredEvent) -> StoredEvent:
    return event(
        position,
        "event.retracted",
        {"target_event_id": target.id, "reason": "false"},
        subject=target.subject,
    )


def ids(events: list[StoredEvent]) -> list[str]:
    return [e.id for e in events]


def test_retracted_events_and_retractions_are_left_out() -> None:
    kept, dropped = event(1), event(2)
    gone = retraction(3, dropped)
    assert ids(shown([kept, dropped, gone], [])) == [kept.id]


def test_a_retracted_retraction_brings_its_target_back() -> None:
    target = event(1)
    first = retraction(2, target)
    second = retraction(3, first)
    assert ids(shown([target, first, second], [])) == [target.id]


def test_a_correction_replaces_what_it_corrects_even_from_another_subject() -> None:
    wrong = event(1)
    fixed = event(2, supersedes=wrong.id)
    assert ids(shown([wrong, fixed], [])) == [fixed.id]
    # The fix moved the event to another area: it leaves this one, and is not shown here.
    moved = event(3, subject="ru-belgorod-oblast", supersedes=fixed.id)
    assert ids(shown([wrong, fixed], [moved])) == []
    # Retracting the fix that moved it brings the last one back.
    undone = retraction(4, moved)
    assert ids(shown([wrong, fixed], [moved, undone])) == [fixed.id]


def test_slides_are_in_valid_time_order_then_log_order() -> None:
    late = event(1, occurred_from="2025-04-26T00:00:00.000000Z")
    early = event(2, occurred_from="2024-08-01T00:00:00.000000Z", precision="month")
    same_day = event(3, occurred_from="2025-04-26T00:00:00.000000Z")
    assert ids(shown([late, early, same_day], [])) == [early.id, late.id, same_day.id]


@pytest.mark.parametrize(
    ("instant", "precision", "expected"),
    [
        ("2024-01-01T00:00:00.000000Z", "year", {"year": 2024}),
        ("2024-08-01T00:00:00.000000Z", "month", {"year": 2024, "month": 8}),
        ("2025-04-26T00:00:00.000000Z", "day", {"year": 2025, "month": 4, "day": 26}),
        (
            "2025-04-26T14:30:05.250000Z",
            "instant",
            {"year": 2025, "month": 4, "day": 26, "hour": 14, "minute": 30, "second": 5,
             "millisecond": 250, "display_date": "26 April 2025, 14:30 UTC"},
        ),
        (
            "2025-04-26T14:30:00.000000Z",
            "instant",
            {"year": 2025, "month": 4, "day": 26, "hour": 14, "minute": 30, "second": 0,
             "display_date": "26 April 2025, 14:30 UTC"},
        ),
    ],
)  # fmt: skip
def test_dates_follow_the_precision(instant: str, precision: str, expected: dict[str, Any]) -> None:
    assert date_of(instant, precision) == expected


def test_a_ceasefire_that_ends_spans_until_then() -> None:
    assert end_of_ceasefire("2025-05-11") == {"year": 2025, "month": 5, "day": 11}
    assert end_of_ceasefire("2025-05-11T03:00:00+03:00") == {
        "year": 2025, "month": 5, "day": 11, "hour": 0, "minute": 0, "second": 0,
        "display_date": "11 May 2025, 00:00 UTC",
    }  # fmt: skip
    data = {"parties": ["ru", "ua"], "declared_by": "ru", "starts": "2025-05-08", "ends": "2025-05-11"}
    ceasefire = slide(event(1, "talks.ceasefire_declared", data, subject="ru-ua"))
    assert ceasefire["end_date"] == {"year": 2025, "month": 5, "day": 11}
    assert "end_date" not in slide(event(2))


def test_a_slide_field_by_field() -> None:
    source = {"name": "Wire", "kind": "think_tank", "url": "https://example.org/a?b=1&c=2", "quote": "q"}
    claimed = event(
        7,
        data={"area": KURSK, "claimant": "ua", "controller": "ua", "extent": "partial", "area_km2": 1295},
        occurred_from="2024-08-01T00:00:00.000000Z",
        precision="month",
        source=source,
        reported_at="2025-04-26T17:30:00Z",
    )
    found = slide(claimed)
    assert found["unique_id"] == claimed.id
    assert found["start_date"] == {"year": 2024, "month": 8}
    assert found["group"] == "Territory"
    assert found["text"]["headline"] == "ua claims partial control of ru-kursk-oblast"
    assert found["text"]["text"] == (
        "<p>Area: 1,295 km²</p>"
        '<p class="tl-source">Source: <a href="https://example.org/a?b=1&amp;c=2">Wire</a> (think tank),'
        " reported 2025-04-26T17:30:00Z</p><blockquote>q</blockquote>"
    )
    assert set(found) == {"unique_id", "start_date", "text", "group"}


def test_everything_from_the_log_is_escaped() -> None:
    """TimelineJS renders headline and text as HTML: a source or note must not inject any."""
    hostile = '<img src=x onerror="alert(1)">'
    said = event(
        1,
        "diplomacy.statement_made",
        {"speaker": "peskov", "text": hostile, "note": "a & b"},
        subject="diplomacy",
        source={"name": hostile, "kind": "media", "quote": hostile, "url": 'https://e.org/"><script>'},
    )
    found = slide(said)
    text = found["text"]["text"]
    assert "<img" not in text and "<script>" not in text and '"><' not in text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in text
    assert "<p>a &amp; b</p>" in text
    assert found["group"] == "Diplomacy"
    document = timelinejs.timeline([said], ["<b>"], "2026-12-01T10:00:00.000001Z", 1)
    assert document["title"]["text"]["headline"] == "&lt;b&gt;"


def test_corrections_say_so() -> None:
    wrong = event(1)
    assert "Corrects an earlier report" in slide(event(2, supersedes=wrong.id))["text"]["text"]
    assert "Corrects" not in slide(wrong)["text"]["text"]


def test_every_catalog_type_has_its_own_headline() -> None:
    from events.types import KNOWN_TYPES

    examples: dict[str, dict[str, Any]] = {
        "territory.control_claimed": {"area": "a", "claimant": "ua", "controller": "ru", "extent": "full"},
        "territory.claim_denied": {"area": "a", "claimant": "ua"},
        "territory.assessed": {"area": "a", "assessor": "isw", "controller": "ru", "extent": "partial"},
        "forces.involvement_reported": {
            "area": "a", "force": "kp", "supporting": "ru", "status": "acknowledged", "claimant": "ru"
        },
        "forces.clash_reported": {"area": "a", "parties": ["ru", "ua"], "claimant": "acled"},
        "talks.offer_made": {"party": "ru", "counterparty": "ua", "preconditions": []},
        "talks.position_stated": {"party": "ua", "counterparty": "ru", "position": "p"},
        "talks.proposal_made": {"proposer": "us", "parties": ["ru", "ua"], "terms": ["t"]},
        "talks.offer_rejected": {"party": "ua", "offer_event_id": str(uuid.uuid4())},
        "talks.ceasefire_declared": {"parties": ["ru", "ua"], "declared_by": "ru", "starts": "2025-05-08"},
        "talks.round_held": {"parties": ["ru", "ua"], "place": "istanbul"},
        "diplomacy.meeting_held": {"participants": ["trump", "zelenskyy"], "place": "va"},
        "diplomacy.statement_made": {"speaker": "peskov", "text": "t"},
    }  # fmt: skip
    assert set(examples) == set(KNOWN_TYPES) - {"event.retracted"}
    headlines = {timelinejs.headline(name, data) for name, data in examples.items()}
    assert len(headlines) == len(examples) and not headlines & set(examples)
    assert timelinejs.headline("talks.offer_made", examples["talks.offer_made"]) == "ru offers talks to ua"
