"""Every rule of docs/api.md §2, sent as raw bytes, with the exact status and path."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import WRITE
from tests.factories import claim

GOOD = claim(id="0b6f0c8e-8f3c-4a53-9c6e-3f1a1c2b9d10")


def raw(event: dict[str, object]) -> bytes:
    return json.dumps(event).encode()


def good_with(**changes: object) -> bytes:
    event = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        if "__" in key:
            outer, inner = key.split("__")
            event[outer][inner] = value
        else:
            event[key] = value
    return raw(event)


def good_without(*keys: str) -> bytes:
    event = json.loads(json.dumps(GOOD))
    for key in keys:
        del event[key]
    return raw(event)


GOOD_TEXT = raw(GOOD).decode()

CASES = [
    # (name, body, status, path the problem must name)
    ("unknown type", good_with(type="territory.invaded"), 422, "/type"),
    ("missing type", good_without("type"), 422, "/type"),
    ("missing occurred_at", good_without("occurred_at"), 422, "/occurred_at"),
    ("missing source", good_without("source"), 422, "/source"),
    ("missing data", good_without("data"), 422, "/data"),
    ("id not a uuid", good_with(id="kursk-1"), 422, "/id"),
    ("subject differs from derived", good_with(subject="ru-belgorod-oblast"), 422, "/subject"),
    ("occurred_at without offset", good_with(occurred_at="2025-04-26T10:00:00"), 422, "/occurred_at"),
    ("occurred_at lowercase t", good_with(occurred_at="2025-04-26t10:00:00Z"), 422, "/occurred_at"),
    (
        "occurred_at seven fraction digits",
        good_with(occurred_at="2025-04-26T10:00:00.1234567Z"),
        422,
        "/occurred_at",
    ),
    ("occurred_at impossible date", good_with(occurred_at="2025-02-30"), 422, "/occurred_at"),
    ("occurred_at in the future", good_with(occurred_at="2999-01-01"), 422, "/occurred_at"),
    ("reported_at without offset", good_with(reported_at="2025-04-26T17:30:00"), 422, "/reported_at"),
    ("reported_at a date", good_with(reported_at="2025-04-26"), 422, "/reported_at"),
    ("source name empty", good_with(source__name=""), 422, "/source/name"),
    ("source name too long", good_with(source__name="x" * 201), 422, "/source/name"),
    ("source kind unknown", good_with(source__kind="blog"), 422, "/source/kind"),
    ("source url not http", good_with(source__url="ftp://example.org/x"), 422, "/source/url"),
    ("source quote too long", good_with(source__quote="q" * 2001), 422, "/source/quote"),
    ("unknown data key", good_with(data__colour="red"), 422, "/data/colour"),
    ("wrong data type", good_with(data__area_km2="5"), 422, "/data/area_km2"),
    ("negative area", good_with(data__area_km2=-1), 422, "/data/area_km2"),
    ("bad enum", good_with(data__extent="most"), 422, "/data/extent"),
    ("slug with capitals", good_with(data__area="Kursk"), 422, "/data/area"),
    ("note too long", good_with(data__note="n" * 2001), 422, "/data/note"),
    ("unknown envelope key", good_with(colour="red"), 422, "/colour"),
    ("expected_version negative", good_with(expected_version=-1), 422, "/expected_version"),
    ("expected_version as string", good_with(expected_version="3"), 422, "/expected_version"),
    ("supersedes not a uuid", good_with(supersedes="x"), 422, "/supersedes"),
    (
        "supersedes unknown event",
        good_with(supersedes="5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e"),
        422,
        "/supersedes",
    ),
    ("null for an optional key", good_with(reported_at=None), 422, "/reported_at"),
    ("null inside data", good_with(data__within=None), 422, "/data/within"),
    (
        "duplicate key",
        GOOD_TEXT.replace('"type":', '"type": "event.retracted", "type":').encode(),
        422,
        "/type",
    ),
    ("NaN", GOOD_TEXT.replace('"extent": "full"', '"extent": "full", "area_km2": NaN').encode(), 422, ""),
    (
        "Infinity",
        GOOD_TEXT.replace('"extent": "full"', '"extent": "full", "area_km2": Infinity').encode(),
        422,
        "",
    ),
    (
        "overflowing number",
        GOOD_TEXT.replace('"extent": "full"', '"extent": "full", "area_km2": 1e400').encode(),
        422,
        "/data/area_km2",
    ),
    ("integer beyond 2^53-1", good_with(expected_version=2**53), 422, "/expected_version"),
    ("integral float beyond 2^53-1", good_with(data__area_km2=1e16), 422, "/data/area_km2"),
    ("occurred_at with a final newline", good_with(occurred_at="2025\n"), 422, "/occurred_at"),
    ("date-time with a final newline", good_with(occurred_at="2025-04-26T10:00:00Z\n"), 422, "/occurred_at"),
    ("occurred_at in other digits", good_with(occurred_at="\u0662\u0660\u0662\u0665"), 422, "/occurred_at"),
    ("occurred_at in full-width digits", good_with(occurred_at="２０２５"), 422, "/occurred_at"),
    (
        "reported_at with a final newline",
        good_with(reported_at="2025-04-26T10:00:00+00:00\n"),
        422,
        "/reported_at",
    ),
    (
        "lone surrogate",
        GOOD_TEXT.replace('"name": "Test Wire"', '"name": "Test \\ud800 Wire"').encode(),
        422,
        "/source/name",
    ),
    (
        "U+0000",
        GOOD_TEXT.replace('"name": "Test Wire"', '"name": "Test \\u0000 Wire"').encode(),
        422,
        "/source/name",
    ),
    (
        "invalid UTF-8",
        GOOD_TEXT.replace("Test Wire", "Test \udcff Wire").encode("utf-8", "surrogateescape"),
        422,
        "",
    ),
    ("not JSON", b"{not json", 422, ""),
    ("not an object", b"[1, 2]", 422, ""),
    (
        "retraction with supersedes",
        raw(
            {
                "type": "event.retracted",
                "occurred_at": "2025-04-26",
                "source": {"name": "x", "kind": "media"},
                "data": {"target_event_id": "5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e", "reason": "r"},
                "supersedes": "5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e",
            }
        ),
        422,
        "/supersedes",
    ),
    (
        "talks parties equal",
        raw(
            {
                "type": "talks.offer_made",
                "occurred_at": "2025",
                "source": {"name": "x", "kind": "media"},
                "data": {"party": "ru", "counterparty": "ru", "preconditions": []},
            }
        ),
        422,
        "/data/counterparty",
    ),
    (
        "talks party with a hyphen",
        raw(
            {
                "type": "talks.round_held",
                "occurred_at": "2025",
                "source": {"name": "x", "kind": "media"},
                "data": {"parties": ["ru", "ua-gov"], "place": "tr-istanbul"},
            }
        ),
        422,
        "/data/parties/1",
    ),
    (
        "repeated parties",
        raw(
            {
                "type": "talks.round_held",
                "occurred_at": "2025",
                "source": {"name": "x", "kind": "media"},
                "data": {"parties": ["ru", "ru"], "place": "tr-istanbul"},
            }
        ),
        422,
        "/data/parties",
    ),
    (
        "one participant",
        raw(
            {
                "type": "diplomacy.meeting_held",
                "occurred_at": "2025",
                "source": {"name": "x", "kind": "media"},
                "data": {"participants": ["trump"], "place": "va"},
            }
        ),
        422,
        "/data/participants",
    ),
    (
        "on_behalf_of names someone who did not meet",
        raw(
            {
                "type": "diplomacy.meeting_held",
                "occurred_at": "2025",
                "source": {"name": "x", "kind": "media"},
                "data": {
                    "participants": ["trump", "zelenskyy"],
                    "place": "va",
                    "on_behalf_of": {"putin": "ru"},
                },
            }
        ),
        422,
        "/data/on_behalf_of",
    ),
    (
        "on_behalf_of with a key that is not a slug",
        raw(
            {
                "type": "diplomacy.meeting_held",
                "occurred_at": "2025",
                "source": {"name": "x", "kind": "media"},
                "data": {
                    "participants": ["trump", "zelenskyy"],
                    "place": "va",
                    "on_behalf_of": {"Trump": "us"},
                },
            }
        ),
        422,
        "/data/on_behalf_of/Trump",
    ),
    (
        "ceasefire ends before it starts",
        raw(
            {
                "type": "talks.ceasefire_declared",
                "occurred_at": "2025",
                "source": {"name": "x", "kind": "media"},
                "data": {
                    "parties": ["ru", "ua"],
                    "declared_by": "ru",
                    "starts": "2025-05-08",
                    "ends": "2025-05-07",
                },
            }
        ),
        422,
        "/data/ends",
    ),
]


@pytest.mark.parametrize(("name", "body", "status", "path"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused(client: TestClient, name: str, body: bytes, status: int, path: str) -> None:
    response = client.post("/events", content=body, headers={**WRITE, "Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    assert path in [error["path"] for error in problem["errors"]], problem
    assert client.get("/events").json()["events"] == []


def test_unknown_type_lists_known_types(client: TestClient) -> None:
    problem = client.post("/events", content=good_with(type="x.y"), headers=WRITE).json()
    assert "territory.control_claimed" in problem["known_types"]


def test_the_good_envelope_is_stored_as_the_contract_says(client: TestClient) -> None:
    sent = json.loads(
        good_with(
            id="0B6F0C8E-8F3C-4A53-9C6E-3F1A1C2B9D10",
            occurred_at="2024-08",
            reported_at="2025-04-26T17:30:00+02:00",
            data__area_km2=1295.0,
        )
    )
    response = client.post("/events", json=sent, headers=WRITE)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert list(stored) == sorted(stored)  # served as its canonical (JCS) text
    assert set(stored) == {
        "id",
        "type",
        "subject",
        "occurred_at",
        "occurred_precision",
        "occurred_from",
        "occurred_until",
        "reported_at",
        "source",
        "data",
        "supersedes",
        "schema_version",
        "position",
        "version",
        "recorded_at",
        "prev_hash",
        "hash",
    }
    assert stored["id"] == "0b6f0c8e-8f3c-4a53-9c6e-3f1a1c2b9d10"
    assert stored["subject"] == "ru-kursk-oblast"
    assert stored["occurred_at"] == "2024-08"
    assert stored["occurred_precision"] == "month"
    assert stored["occurred_from"] == "2024-08-01T00:00:00.000000Z"
    assert stored["occurred_until"] == "2024-09-01T00:00:00.000000Z"
    assert stored["reported_at"] == "2025-04-26T17:30:00+02:00"
    assert stored["data"]["area_km2"] == 1295 and "within" not in stored["data"]
    assert stored["supersedes"] is None
    assert stored["schema_version"] == 1
    assert (stored["position"], stored["version"]) == (1, 1)
    assert len(stored["recorded_at"]) == 27 and stored["recorded_at"].endswith("Z")
    assert client.get(f"/events/{stored['id']}").json() == stored


@pytest.mark.parametrize(
    "occurred_at",
    ["2025", "2025-04", "2025-04-26", "2025-04-26T10:00:00Z", "2025-04-26T10:00:00.123456-05:30"],
)
def test_every_precision_is_accepted(client: TestClient, occurred_at: str) -> None:
    response = client.post("/events", json=claim(occurred_at=occurred_at), headers=WRITE)
    assert response.status_code == 201, response.text
    assert response.json()["occurred_at"] == occurred_at


def test_subject_equal_to_the_derived_one_is_accepted(client: TestClient) -> None:
    response = client.post("/events", json=claim(subject="ru-kursk-oblast"), headers=WRITE)
    assert response.status_code == 201
