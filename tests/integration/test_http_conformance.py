"""HTTP details the fuzzer (tests/fuzz/) found wrong once, each pinned by a plain test."""

from __future__ import annotations

import json

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
