"""docs/api.md §6 (reading events), §11 (operations) and the HTTP edges: keys, sizes, problems."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from service.app import create_app
from tests.conftest import WRITE, make_settings
from tests.factories import claim, offer, statement


def fill(client: TestClient, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = client.post("/events/batch", json={"events": events}, headers=WRITE)
    assert response.status_code == 201, response.text
    stored: list[dict[str, Any]] = response.json()["events"]
    return stored


def test_paging_in_position_order(client: TestClient) -> None:
    fill(client, [statement() for _ in range(7)])
    page = client.get("/events", params={"limit": 3}).json()
    assert [e["position"] for e in page["events"]] == [1, 2, 3]
    assert page["next_after"] == 3
    page = client.get("/events", params={"after": 3, "limit": 4}).json()
    assert [e["position"] for e in page["events"]] == [4, 5, 6, 7]
    assert page["next_after"] is None
    assert client.get("/events", params={"after": 7}).json() == {"events": [], "next_after": None}


def test_type_prefix_and_subject_filters(client: TestClient) -> None:
    fill(
        client, [claim(), offer(), statement(), offer(party="ua", counterparty="us"), claim(area="ua-crimea")]
    )
    talks = client.get("/events", params={"type": "talks."}).json()["events"]
    assert [e["position"] for e in talks] == [2, 4]
    exact = client.get("/events", params=[("type", "talks.offer_made"), ("type", "diplomacy.statement_made")])
    assert [e["position"] for e in exact.json()["events"]] == [2, 3, 4]
    assert client.get("/events", params={"type": "talks"}).json()["events"] == []  # no dot: exact only
    both = client.get("/events", params={"type": "territory.", "subject": "ua-crimea"}).json()["events"]
    assert [e["position"] for e in both] == [5]


def test_known_at_cuts_by_recorded_at(client: TestClient) -> None:
    first = fill(client, [statement(), statement()])
    time.sleep(0.01)
    fill(client, [statement()])
    cut = client.get("/events", params={"known_at": first[0]["recorded_at"]}).json()
    assert [e["position"] for e in cut["events"]] == [1, 2]
    assert cut["next_after"] is None
    assert client.get("/events", params={"known_at": "2000-01-01"}).json()["events"] == []
    for text in ["2025-04", "2025-04-26T00:00:00Z\n"]:
        bad = client.get("/events", params={"known_at": text})
        assert bad.status_code == 422
        assert bad.json()["errors"][0] == {
            "path": "/known_at",
            "in": "query",
            "message": bad.json()["errors"][0]["message"],
        }


def test_limit_bounds(client: TestClient) -> None:
    assert client.get("/events", params={"limit": 1001}).status_code == 422
    assert client.get("/events", params={"limit": 0}).status_code == 422
    problem = client.get("/events", params={"after": -1}).json()
    assert problem["status"] == 422 and problem["errors"][0]["path"] == "/after"


def test_subject_events_by_version(client: TestClient) -> None:
    fill(client, [claim(), statement(), claim(), claim()])
    page = client.get("/subjects/ru-kursk-oblast/events", params={"limit": 2}).json()
    assert [e["version"] for e in page["events"]] == [1, 2]
    assert page["next_after_version"] == 2
    page = client.get("/subjects/ru-kursk-oblast/events", params={"after_version": 2}).json()
    assert [e["version"] for e in page["events"]] == [3]
    assert page["next_after_version"] is None


def test_get_one_event(client: TestClient) -> None:
    stored = fill(client, [claim()])[0]
    assert client.get(f"/events/{stored['id'].upper()}").json() == stored
    missing = client.get("/events/5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert client.get("/events/not-a-uuid").status_code == 404


def test_types_lists_the_catalog_with_schemas(client: TestClient) -> None:
    types = {t["type"]: t for t in client.get("/types").json()["types"]}
    assert len(types) == 14
    deaths = types["forces.clash_reported"]["data_schema"]["properties"]["deaths"]
    assert "$ref" not in json.dumps(types) and set(deaths["properties"]) == {"best", "low", "high"}
    schema = types["territory.control_claimed"]["data_schema"]
    assert set(schema["required"]) == {"area", "controller", "extent", "claimant"}
    assert schema["additionalProperties"] is False
    # Optional keys are absent or hold a value; the published schemas must not invite null.
    assert "null" not in json.dumps(client.get("/types").json())
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    assert "null" not in json.dumps(spec["TerritoryControlClaimedEvent"])


def test_healthz_reports_the_head(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "head": 0}
    fill(client, [statement()])
    assert client.get("/healthz").json()["head"] == 1


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Any) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/missing-folder/x.db")
    with TestClient(create_app(settings)) as unreachable:
        response = unreachable.get("/healthz")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"
        write = unreachable.post("/events", json=claim(), headers=WRITE)
        assert write.status_code == 503
        assert write.headers["content-type"] == "application/problem+json"
        assert write.headers["retry-after"] == "5"


def test_openapi_describes_every_endpoint(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path in [
        "/events",
        "/events/batch",
        "/events/{event_id}",
        "/subjects/{subject}/events",
        "/types",
        "/healthz",
        "/audit/export",
        "/audit/verify",
    ]:
        assert path in spec["paths"], path
    body = spec["paths"]["/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Submission"}
    assert "TerritoryControlClaimedEvent" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_unknown_route_is_a_problem(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_bodies_over_one_mebibyte_are_413(client: TestClient) -> None:
    big = {"events": [statement() for _ in range(10)]}
    big["events"][0]["data"]["text"] = "x" * (1024 * 1024)
    body = json.dumps(big).encode()
    response = client.post(
        "/events/batch", content=body, headers={**WRITE, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    response = client.post(
        "/events/batch", content=chunks(), headers={**WRITE, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert client.get("/events").json()["events"] == []


def test_read_keys_close_reads(database_url: str) -> None:
    settings = make_settings(database_url, api_keys="read:r1,write:w1")
    with TestClient(create_app(settings)) as closed:
        assert closed.get("/events").status_code == 401
        assert closed.get("/events", headers={"Authorization": "Bearer r1"}).status_code == 200
        assert closed.get("/events", headers={"Authorization": "Bearer w1"}).status_code == 200
        response = closed.post("/events", json=claim(), headers={"Authorization": "Bearer r1"})
        assert response.status_code == 403
        assert closed.get("/healthz").status_code == 200
