"""HTTP details the fuzzer (tests/fuzz/) found wrong once, each pinned by a plain test."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN, WRITE
from tests.factories import statement

JSON = {"Content-Type": "application/json"}


def test_a_405_names_the_allowed_methods(client: TestClient) -> None:
    # RFC 9110 §15.5.6: a 405 carries `Allow` with every method the path
    # takes; the problem handler used to drop it.
    for method, path, allowed in [
        ("TRACE", "/events", {"GET", "POST"}),
        ("DELETE", "/types", {"GET"}),
        ("PUT", "/state", {"GET"}),
        ("PATCH", "/admin/rebuild", {"GET", "POST"}),
    ]:
        response = client.request(method, path, headers=ADMIN)
        assert response.status_code == 405, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
        assert {m.strip() for m in response.headers["allow"].split(",")} == allowed, (method, path)


def test_a_strict_input_refusal_in_a_batch_names_its_event(client: TestClient) -> None:
    # A null, a repeated key or U+0000 inside event 1 is found while the body is parsed, before
    # any event is checked; its problem used to lack the `index` every other batch refusal has.
    good = json.dumps(statement())
    bad_null = json.dumps(statement()).replace('"We are ready."', "null")
    bad_key = json.dumps(statement())[:-1] + ', "type": "statement.made"}'
    for bad, pointer in [(bad_null, "/events/1/data/text"), (bad_key, "/events/1/type")]:
        response = client.post(
            "/events/batch", content='{"events": [' + good + "," + bad + "]}", headers={**WRITE, **JSON}
        )
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["index"] == 1, problem
        assert [e["path"] for e in problem["errors"]] == [pointer]
    # Outside any one event (the batch's own keys), there is no index.
    response = client.post(
        "/events/batch", content='{"events": [' + good + '], "events": []}', headers={**WRITE, **JSON}
    )
    assert response.status_code == 422
    assert "index" not in response.json()
    # Refusals in two events: the first of them, as for any other refusal.
    response = client.post(
        "/events/batch",
        content='{"events": [' + good + "," + bad_key + "," + bad_null + "]}",
        headers={**WRITE, **JSON},
    )
    assert response.json()["index"] == 1


@pytest.mark.parametrize(
    ("path", "pointer", "where"),
    [
        ("/events?subject=ru%00x", "/subject", "query"),
        ("/events?type=territory.%00", "/type", "query"),
        ("/events?subject=a&subject=%00", "/subject", "query"),
        ("/subjects/ru%00x/events", "/subject", "path"),
        ("/state/territory?area=ru%00", "/area", "query"),
        ("/state/talks?track=%00", "/track", "query"),
        ("/state/changes?from_as_of=2025-01-01&area=%00", "/area", "query"),
        ("/state/territory/ru%00/history", "/area", "path"),
        ("/events/stream?type=%00", "/type", "query"),
    ],
)
def test_u0000_in_a_parameter_is_a_422_naming_it(
    client: TestClient, path: str, pointer: str, where: str
) -> None:
    # PostgreSQL cannot hold U+0000 in text: a NUL in a subject, type, area or track was a
    # 500 there (found by schemathesis's stateful phase); the API refuses it on both backends.
    response = client.get(path)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert {"path": pointer, "in": where, "message": "U+0000 is not accepted"} in response.json()["errors"]
