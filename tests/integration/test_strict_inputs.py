"""Strict inputs: a write body must say it is JSON, query integers must fit the database,
and a query parameter an endpoint does not take is refused, never ignored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.stream import start_after
from service.strict_inputs import MAX_BIGINT, MAX_INT, MAX_QUERY_BYTES
from tests.conftest import ADMIN_KEY, WRITE_KEY
from tests.factories import claim

WRITE = {"Authorization": f"Bearer {WRITE_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
THIRTY_DIGITS = "1" * 30


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = json.loads(response.text)
    return body


def stored(client: TestClient) -> int:
    return len(client.get("/events").json()["events"])


@pytest.mark.parametrize(
    ("path", "body", "media"),
    [
        ("/events", json.dumps(claim()), "application/x-www-form-urlencoded"),
        ("/events", json.dumps(claim()), "text/plain"),
        ("/events/batch", json.dumps({"events": [claim()]}), "multipart/form-data; boundary=x"),
        ("/events/batch", json.dumps({"events": [claim()]}), "application/xml"),
    ],
)
def test_a_write_body_that_is_not_json_by_its_media_type_is_a_415(
    client: TestClient, path: str, body: str, media: str
) -> None:
    found = problem(client.post(path, content=body, headers={**WRITE, "Content-Type": media}), 415)
    assert found["type"] == "https://timeline.invalid/problems/unsupported-media-type"
    assert found["accepts"] == ["application/json"]
    assert media.split(";")[0] in str(found["detail"])
    assert stored(client) == 0


@pytest.mark.parametrize(
    "media", ["application/json", "application/json; charset=utf-8", "Application/JSON", None]
)
def test_json_bodies_and_bodies_without_a_media_type_are_read(client: TestClient, media: str | None) -> None:
    headers = {**WRITE, **({"Content-Type": media} if media else {})}
    assert client.post("/events", content=json.dumps(claim()), headers=headers).status_code == 201
    assert stored(client) == 1


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        (f"/events?after={THIRTY_DIGITS}", "/after"),
        (f"/events?after={MAX_BIGINT + 1}", "/after"),
        (f"/subjects/ru-kursk-oblast/events?after_version={MAX_INT + 1}", "/after_version"),
        (f"/events/stream?after={THIRTY_DIGITS}", "/after"),
        (f"/audit/export?after={THIRTY_DIGITS}", "/after"),
        (f"/audit/head?size={THIRTY_DIGITS}", "/size"),
        (f"/audit/proof/inclusion?position={THIRTY_DIGITS}", "/position"),
        (f"/audit/proof/consistency?from=1&to={THIRTY_DIGITS}", "/to"),
    ],
)
def test_query_integers_beyond_what_the_database_holds_are_a_422(
    client: TestClient, url: str, parameter: str
) -> None:
    found = problem(client.get(url, headers=ADMIN), 422)
    assert [e["path"] for e in found["errors"]] == [parameter]


def test_the_largest_positions_the_database_holds_are_taken(client: TestClient) -> None:
    assert client.get(f"/events?after={MAX_BIGINT}").json() == {"events": [], "next_after": None}
    answer = client.get(f"/subjects/ru-kursk-oblast/events?after_version={MAX_INT}")
    assert answer.json() == {"events": [], "next_after_version": None}


def test_a_last_event_id_beyond_the_log_is_ignored_like_one_that_is_not_a_number() -> None:
    # Up to 18 digits: always below MAX_BIGINT, so never an error in the database.
    assert start_after("9" * 18, None) == int("9" * 18) < MAX_BIGINT
    assert start_after(str(MAX_BIGINT), 7) == 7
    assert start_after(THIRTY_DIGITS, None) is None
    assert start_after(" 12 ", None) == 12


def test_a_whole_state_with_an_area_is_refused_rather_than_answered_whole(client: TestClient) -> None:
    found = problem(client.get("/state?area=ru-kursk-oblast"), 422)
    assert found["errors"] == [
        {"path": "/area", "in": "query", "message": "not a parameter of this endpoint"}
    ]
    assert "`area`" in str(found["detail"]) and "`as_of`" in str(found["detail"])
    assert client.get("/state/territory?area=ru-kursk-oblast").status_code == 200


def test_every_api_endpoint_refuses_a_parameter_it_does_not_take(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    asked = 0
    for path, operations in schema["paths"].items():
        if "{" in path or "get" not in operations:
            continue
        response = client.get(path + "?surely_not_a_parameter=1", headers=ADMIN)
        assert response.status_code == 422, (path, response.text)
        assert "surely_not_a_parameter" in response.json()["detail"], path
        asked += 1
    assert asked >= 15


def test_the_viewers_pages_read_their_own_query(client: TestClient) -> None:
    assert client.get("/?as_of=2025-04-26&area=ru-kursk-oblast").status_code == 200


def test_a_body_nested_too_deep_is_a_422_naming_the_limit_not_a_500(client: TestClient) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    found = problem(client.post("/events/batch", content=deep, headers=WRITE), 422)
    assert found["limit"] == {"max_depth": 32}
    assert stored(client) == 0


def test_a_query_string_over_the_limit_is_a_414_naming_it(client: TestClient) -> None:
    subjects = "&".join(f"subject=s{i:05d}" for i in range(700))  # about 9,800 bytes
    found = problem(client.get("/events?" + subjects), 414)
    assert found["limit"] == {"max_query_bytes": MAX_QUERY_BYTES}
    under = "&".join(f"subject=s{i:05d}" for i in range(500))  # about 7,000 bytes
    assert client.get("/events?" + under).status_code == 200
