"""State over HTTP (docs/api.md §7): the seed article, known_at, history, filters, errors."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.cli import seed_path
from tests.conftest import WRITE
from tests.factories import claim, offer, retraction

KURSK = "ru-kursk-oblast"


def seed_events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in seed_path().read_text().splitlines()]


@pytest.fixture
def seeded(client: TestClient) -> Iterator[TestClient]:
    response = client.post("/events/batch", json={"events": seed_events()}, headers=WRITE)
    assert response.status_code == 201, response.text
    yield client


def seed_id(speaker_or_type: str, **data: Any) -> str:
    for event in seed_events():
        if event["type"] == speaker_or_type and all(event["data"].get(k) == v for k, v in data.items()):
            return str(event["id"])
    raise LookupError(speaker_or_type)


def test_the_seed_as_of_the_article(seeded: TestClient) -> None:
    state = seeded.get("/state", params={"as_of": "2025-04-26"}).json()
    kursk = state["territory"]["areas"][KURSK]
    assert kursk["status"] == "contested"
    claims = {c["claimant"]: c for c in kursk["claims"]}
    assert (claims["ru"]["controller"], claims["ru"]["extent"]) == ("ru", "full")
    assert (claims["ua"]["controller"], claims["ua"]["extent"]) == ("ua", "partial")
    assert [d["claimant"] for d in kursk["denials"]] == ["ua"]
    isw = next(a for a in kursk["assessments"] if a["assessor"] == "isw")
    assert (isw["controller"], isw["extent"]) == ("ua", "partial")
    forces = next(f for f in kursk["forces"] if f["force"] == "kp" and f["claimant"] == "ru")
    assert forces["status"] == "acknowledged" and forces["supporting"] == "ru"

    track = state["talks"]["tracks"]["ru-ua"]
    assert track["status"] == "offered"
    assert [(o["party"], o["counterparty"], o["preconditions"]) for o in track["offers"]] == [
        ("ru", "ua", [])
    ]

    meetings = state["diplomacy"]["meetings"]
    vatican = next(m for m in meetings if m["place"] == "va")
    assert sorted(vatican["participants"]) == ["trump", "zelenskyy"]
    for part in (kursk["claims"], kursk["denials"], track["offers"], meetings):
        assert all(isinstance(item["tentative"], bool) and item["event_id"] for item in part)


def test_the_incursion_is_tentative_until_august_is_over(seeded: TestClient) -> None:
    incursion = seed_id("territory.control_claimed", claimant="ua", area_km2=1295)
    during = seeded.get("/state/territory", params={"as_of": "2024-08-15", "area": KURSK}).json()
    item = next(c for c in during["areas"][KURSK]["claims"] if c["event_id"] == incursion)
    assert item["tentative"] is True
    after = seeded.get("/state/territory", params={"as_of": "2024-09-01", "area": KURSK}).json()
    item = next(c for c in after["areas"][KURSK]["claims"] if c["event_id"] == incursion)
    assert item["tentative"] is False


def test_known_at_gives_the_same_bytes_after_late_events_and_corrections(client: TestClient) -> None:
    first = client.post(
        "/events/batch",
        headers=WRITE,
        json={
            "events": [
                claim(claimant="ru", occurred_at="2025-04-20"),
                claim(claimant="ua", controller="ua", extent="partial", occurred_at="2025-04-21"),
                offer(occurred_at="2025-04-22"),
            ]
        },
    ).json()["events"]
    known_at = first[-1]["recorded_at"]
    params = {"as_of": "2025-04-25", "known_at": known_at}
    before = client.get("/state", params=params)
    assert before.status_code == 200
    time.sleep(0.002)

    late = claim(claimant="by", controller="ru", occurred_at="2025-01")  # B: occurred earlier, arrives later
    response = client.post(
        "/events/batch",
        headers=WRITE,
        json={
            "events": [
                late,
                retraction(first[0]["id"]),
                claim(
                    claimant="ua",
                    controller="ua",
                    extent="full",
                    occurred_at="2025-04-21",
                    supersedes=first[1]["id"],
                ),
            ]
        },
    )
    assert response.status_code == 201, response.text

    again = client.get("/state", params=params)
    assert again.content == before.content
    now = client.get("/state", params={"as_of": "2025-04-25"}).json()
    claims = {c["claimant"]: c for c in now["territory"]["areas"][KURSK]["claims"]}
    assert set(claims) == {"by", "ua"}
    assert claims["by"]["event_id"] == late["id"]
    assert claims["ua"]["extent"] == "full"


def test_known_at_omitted_is_cut_at_the_last_event_and_echoes_it(seeded: TestClient) -> None:
    head = seeded.get("/events", params={"after": 15}).json()["events"][-1]
    answer = seeded.get("/state", params={"as_of": "2025-04-26"}).json()
    assert (answer["position"], answer["known_at"]) == (16, head["recorded_at"])
    echoed = seeded.get("/state", params={"as_of": "2025-04-26", "known_at": answer["known_at"]}).json()
    assert echoed == answer
    assert answer["as_of"] == "2025-04-26T23:59:59.999999Z"


def test_a_known_at_in_the_future_means_now(seeded: TestClient) -> None:
    answer = seeded.get("/state", params={"known_at": "2999-01-01"}).json()
    assert answer["position"] == 16 and answer["known_at"] < "2999"


def test_a_known_at_before_any_event_sees_nothing(seeded: TestClient) -> None:
    answer = seeded.get("/state", params={"known_at": "2000-01-01T00:00:00Z"}).json()
    assert answer["position"] == 0
    assert answer["territory"] == {"areas": {}} and answer["talks"] == {"tracks": {}}


@pytest.mark.parametrize("bad", ["2025", "2025-04", "2025-04-26T10:00:00", "yesterday", "2025-02-30"])
@pytest.mark.parametrize("name", ["as_of", "known_at"])
def test_bad_instants_are_422_problems(seeded: TestClient, name: str, bad: str) -> None:
    for path in ["/state", "/state/territory", "/state/talks", "/state/diplomacy"]:
        response = seeded.get(path, params={name: bad})
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["path"] == f"/{name}"


def test_offsets_are_resolved_to_utc(seeded: TestClient) -> None:
    answer = seeded.get("/state/diplomacy", params={"as_of": "2025-04-27T01:00:00+02:00"}).json()
    assert answer["as_of"] == "2025-04-26T23:00:00.000000Z"


def test_parts_and_exact_filters(seeded: TestClient) -> None:
    areas = seeded.get("/state/territory", params={"area": KURSK}).json()
    assert list(areas["areas"]) == [KURSK]
    assert set(areas) == {"as_of", "known_at", "position", "areas"}
    assert seeded.get("/state/territory", params={"area": "ru-kursk"}).json()["areas"] == {}
    assert list(seeded.get("/state/talks", params={"track": "ru-ua"}).json()["tracks"]) == ["ru-ua"]
    assert seeded.get("/state/talks", params={"track": "ua-us"}).json()["tracks"] == {}
    diplomacy = seeded.get("/state/diplomacy").json()
    assert set(diplomacy) == {"as_of", "known_at", "position", "meetings", "statements"}


def test_area_history_over_valid_time(seeded: TestClient) -> None:
    history = seeded.get(f"/state/territory/{KURSK}/history").json()
    assert history["area"] == KURSK and history["position"] == 16
    intervals = history["intervals"]
    incursion = seed_id("territory.control_claimed", claimant="ua", area_km2=1295)
    # The incursion begins the history, tentative until August is over; then the same claim, settled.
    assert intervals[0]["valid_from"] == "2024-08-01T00:00:00.000000Z"
    assert intervals[0]["valid_until"] == "2024-08-31T23:59:59.999999Z"
    assert [(c["event_id"], c["tentative"]) for c in intervals[0]["claims"]] == [(incursion, True)]
    assert [(c["event_id"], c["tentative"]) for c in intervals[1]["claims"]] == [(incursion, False)]
    assert intervals[1]["status"] == "uncontested"
    for before, after in itertools.pairwise(intervals):
        assert before["valid_until"] == after["valid_from"]
        assert {k: v for k, v in before.items() if k not in ("valid_from", "valid_until")} != {
            k: v for k, v in after.items() if k not in ("valid_from", "valid_until")
        }
    assert intervals[-1]["valid_until"] is None
    last = intervals[-1]
    at_the_end = seeded.get("/state/territory", params={"area": KURSK, "as_of": "2030-01-01"}).json()
    assert {k: v for k, v in last.items() if k not in ("valid_from", "valid_until")} == at_the_end["areas"][
        KURSK
    ]


def test_a_known_at_at_or_after_the_last_event_is_that_event(seeded: TestClient) -> None:
    # An append still in flight may hold an earlier recorded_at than "now": the answer is cut at the
    # last committed event and echoes it, so that asking again gives the same answer.
    last = seeded.get("/events", params={"after": 15}).json()["events"][-1]["recorded_at"]
    for asked in [last, "2999-01-01T00:00:00Z"]:
        answer = seeded.get("/state", params={"known_at": asked}).json()
        assert (answer["known_at"], answer["position"]) == (last, 16)
