"""HTTP details the fuzzer (tests/fuzz/) found wrong once, each pinned by a plain test."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import ADMIN


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
