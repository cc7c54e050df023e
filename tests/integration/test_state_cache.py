"""HTTP caching of state answers: strong ETags for answers that can never change, head
ETags for the rest, 304 for If-None-Match; and the windows' and pages' parameters."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import WRITE
from tests.factories import claim, envelope
from tests.integration.test_state_http import seed_events

IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def seeded(client: TestClient) -> Iterator[TestClient]:
    assert client.post("/events/batch", json={"events": seed_events()}, headers=WRITE).status_code == 201
    time.sleep(0.002)  # the next append's recorded_at lies after the seed's
    assert client.post("/events", json=claim("a-east"), headers=WRITE).status_code == 201
    yield client


def seed_known_at(client: TestClient) -> str:
    """The seed's recorded_at: before the head (the claim after it), so a cut there is final."""
    known_at: str = client.get("/events", params={"limit": 1}).json()["events"][0]["recorded_at"]
    return known_at


def append(client: TestClient) -> None:
    time.sleep(0.002)
    assert (
        client.post("/events", json=claim("a-west", occurred_at="2025-04-20"), headers=WRITE).status_code
        == 201
    )


def as_of_for(path: str) -> dict[str, str]:
    """An area's history spans all valid time: it takes no as_of."""
    return {} if path.endswith("/history") else {"as_of": "2025-04-26"}


@pytest.mark.parametrize(
    "path",
    ["/state", "/state/territory", "/state/talks", "/state/diplomacy", "/state/territory/a-west/history"],
)
def test_an_answer_at_a_known_at_before_the_head_is_immutable(seeded: TestClient, path: str) -> None:
    params = {**as_of_for(path), "known_at": seed_known_at(seeded)}
    first = seeded.get(path, params=params)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == IMMUTABLE
    assert etag.startswith('"') and not etag.startswith('"h')  # strong, and not from the head
    again = seeded.get(path, params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == IMMUTABLE
    append(seeded)  # a later event changes nothing at that known_at
    after = seeded.get(path, params=params)
    assert after.headers["etag"] == etag and after.content == first.content
    assert seeded.get(path, params=params, headers={"If-None-Match": f'W/{etag}, "other"'}).status_code == 304


@pytest.mark.parametrize("path", ["/state", "/state/territory", "/state/territory/a-west/history"])
def test_an_answer_at_the_head_names_the_head_and_is_revalidated(seeded: TestClient, path: str) -> None:
    params = as_of_for(path)
    first = seeded.get(path, params=params)
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["etag"].startswith('"h17-')
    assert (
        seeded.get(path, params=params, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
    )
    append(seeded)
    after = seeded.get(path, params=params, headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"].startswith('"h18-')


def test_what_makes_an_answer_final(seeded: TestClient) -> None:
    known_at = seed_known_at(seeded)
    head = seeded.get("/state/diplomacy").json()["known_at"]
    # Without as_of, as_of is now: the same URL asks another question a moment later.
    assert seeded.get("/state", params={"known_at": known_at}).headers["cache-control"] == "no-cache"
    # A known_at at the head's recorded_at, or later: an event yet to come could still count.
    for later in (head, "2999-01-01"):
        answer = seeded.get("/state", params={"as_of": "2025-04-26", "known_at": later})
        assert answer.headers["cache-control"] == "no-cache", later


def test_etags_differ_with_the_question(seeded: TestClient) -> None:
    known_at = seed_known_at(seeded)
    base = {"as_of": "2025-04-26", "known_at": known_at}
    asked = [
        ("/state", base),
        ("/state", {**base, "as_of": "2025-04-25"}),
        ("/state", {**base, "limit": "1"}),
        ("/state/territory", base),
        ("/state/territory", {**base, "area": "ru-kursk-oblast"}),
        ("/state/territory", {**base, "areas_limit": "1"}),
        ("/state/talks", {**base, "since": "2025-01-01"}),
    ]
    tags = [seeded.get(path, params=params).headers["etag"] for path, params in asked]
    assert len(set(tags)) == len(tags)
    # The same question in other words (a date and its instant) is the same answer.
    instant = {**base, "as_of": "2025-04-26T23:59:59.999999Z"}
    assert seeded.get("/state", params=instant).headers["etag"] == tags[0]


def test_windows_and_pages_over_http(seeded: TestClient) -> None:
    meeting = {"participants": ["a", "b"], "place": "va"}
    for day in ("2025-04-01", "2025-04-02", "2025-04-03"):
        assert (
            seeded.post(
                "/events", json=envelope("diplomacy.meeting_held", meeting, occurred_at=day), headers=WRITE
            ).status_code
            == 201
        )
    full = seeded.get("/state/diplomacy", params={"as_of": "2025-04-30"}).json()
    assert len(full["meetings"]) == 5 and "more" not in full
    windowed = seeded.get(
        "/state/diplomacy", params={"as_of": "2025-04-30", "since": "2025-04-02", "limit": 1}
    ).json()
    assert [m["since"][:10] for m in windowed["meetings"]] == ["2025-04-26"]
    assert windowed["more"] == {"meetings": True}
    until = seeded.get("/state/diplomacy", params={"as_of": "2025-04-30", "until": "2025-04-02"}).json()
    assert [m["since"][:10] for m in until["meetings"]] == [
        "2025-04-01",
        "2025-04-02",
    ]  # until is a whole day
    page = seeded.get("/state/territory", params={"areas_limit": 2}).json()
    assert list(page["areas"]) == ["a-east", "ru"] and page["next_areas_after"] == "ru"
    rest = seeded.get("/state/territory", params={"areas_limit": 2, "areas_after": "ru"}).json()
    assert (
        list(rest["areas"]) == ["ru-kursk-oblast", "ru-kursk-oblast-gornal"]
        and rest["next_areas_after"] is None
    )
    whole = seeded.get("/state", params={"areas_limit": 1, "tracks_limit": 1}).json()
    assert whole["territory"]["next_areas_after"] == "a-east" and whole["talks"]["next_tracks_after"] is None


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"since": "2025-13-01"}, "/since"),
        ({"until": "soon"}, "/until"),
        ({"since": "2025-05-01", "until": "2025-04-01"}, "/until"),
        ({"since": "2025-05-01T00:00:00Z", "until": "2025-05-01T00:00:00Z"}, "/until"),
        ({"limit": "0"}, "/limit"),
        ({"limit": "10001"}, "/limit"),
        ({"areas_limit": "0"}, "/areas_limit"),
    ],
)
def test_bad_windows_are_422_at_their_parameter(
    seeded: TestClient, params: dict[str, str], path: str
) -> None:
    answer = seeded.get("/state", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in answer.json()["errors"]] == [path]
