"""Budgets per client on writes and on expensive reads (service/rate_limits.py): past the
budget a 429 problem naming the limit, with a Retry-After from the bucket; a client is its
valid key, else its address. Against real server processes; the bucket's arithmetic on a
clock of our own."""

from __future__ import annotations

import time

import httpx2 as httpx
import pytest

from service.rate_limits import READS, WRITES, RateLimits, TokenBuckets, budget_of
from tests.conftest import ADMIN, WRITE, ServerFactory
from tests.factories import statement

pytestmark = pytest.mark.server
MADE_UP = {"Authorization": "Bearer not-a-key"}


def assert_refused(response: httpx.Response, limit: dict[str, int]) -> int:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "https://timeline.invalid/problems/too-many-requests"
    assert body["limit"] == limit
    retry = int(response.headers["retry-after"])
    assert body["retry_after"] == retry
    return retry


def test_writes_past_the_budget_are_refused_per_key(database_url: str, start_server: ServerFactory) -> None:
    server = start_server(database_url, {"TIMELINE_RATE_WRITES_PER_MINUTE": "3"})
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for _ in range(3):
            assert http.post("/events", json=statement(), headers=WRITE).status_code == 201
        refused_event = statement()
        retry = assert_refused(
            http.post("/events", json=refused_event, headers=WRITE), {"writes_per_minute": 3}
        )
        # Three a minute: the next token is about 20 s away, and the header says so.
        assert 15 <= retry <= 20
        assert http.get(f"/events/{refused_event['id']}").status_code == 404  # nothing written
        # A batch is a write too.
        batch = http.post("/events/batch", json={"events": [statement()]}, headers=WRITE)
        assert_refused(batch, {"writes_per_minute": 3})
        # Reads are not writes.
        assert http.get("/state").status_code == 200
        assert http.get("/events").status_code == 200
        # Another key is another client, with a budget of its own.
        assert http.post("/events", json=statement(), headers=ADMIN).status_code == 201
        # Without a valid key the address is the client: guessing keys spends its budget,
        # and a made-up key is no fresh budget.
        for _ in range(3):
            assert http.post("/events", json=statement(), headers=MADE_UP).status_code == 401
        assert_refused(http.post("/events", json=statement(), headers=MADE_UP), {"writes_per_minute": 3})
        assert_refused(http.post("/events", json=statement()), {"writes_per_minute": 3})
        assert len(http.get("/events").json()["events"]) == 4
        limits = http.get("/debug/runtime", headers=ADMIN).json()["limits"]
        assert limits["rate_limited"] == {"writes": 4}


def test_expensive_reads_past_the_budget_are_refused_per_address(
    database_url: str, start_server: ServerFactory
) -> None:
    server = start_server(database_url, {"TIMELINE_RATE_READS_PER_MINUTE": "3"})
    with httpx.Client(base_url=server.url, timeout=10) as http:
        stored = http.post("/events", json=statement(), headers=WRITE).json()
        assert http.get("/state").status_code == 200
        assert http.get("/events").status_code == 200
        assert http.get("/subjects/peskov/events").status_code == 200
        for path in ("/state/territory", "/audit/export", "/audit/head", "/events?limit=1"):
            assert_refused(http.get(path), {"reads_per_minute": 3})
        # Cheap reads, the stream and writes are not counted.
        for path in ("/healthz", "/types", f"/events/{stored['id']}", "/events/days", "/openapi.json", "/"):
            assert http.get(path).status_code == 200, path
        assert http.post("/events", json=statement(), headers=WRITE).status_code == 201
        # Another address (uvicorn takes it from X-Forwarded-For when the proxy is local).
        assert http.get("/state", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
        # A made-up key is still this address; a valid key is a client of its own.
        assert_refused(http.get("/state", headers=MADE_UP), {"reads_per_minute": 3})
        assert http.get("/state", headers=WRITE).status_code == 200


def test_a_spent_budget_refills_when_retry_after_says(database_url: str, start_server: ServerFactory) -> None:
    server = start_server(database_url, {"TIMELINE_RATE_READS_PER_MINUTE": "30"})
    with httpx.Client(base_url=server.url, timeout=10) as http:
        answered = 0
        while (response := http.get("/state/talks")).status_code == 200:
            answered += 1
            assert answered <= 40, "the budget of 30 a minute never ran out"
        assert answered >= 30
        retry = assert_refused(response, {"reads_per_minute": 30})
        assert 1 <= retry <= 2  # one token every 2 s
        time.sleep(retry + 0.1)
        assert http.get("/state/talks").status_code == 200  # one token back, not a whole new budget
        assert_refused(http.get("/state/talks"), {"reads_per_minute": 30})


def test_the_budgets_are_documented(database_url: str, start_server: ServerFactory) -> None:
    server = start_server(database_url)
    paths = httpx.get(server.url + "/openapi.json", timeout=10).json()["paths"]
    assert "429" in paths["/events"]["post"]["responses"]
    assert "429" in paths["/events"]["get"]["responses"]
    assert "429" in paths["/state/territory/{area}/history"]["get"]["responses"]
    assert "429" not in paths["/types"]["get"]["responses"]


def test_the_bucket_refills_at_its_rate_up_to_its_size() -> None:
    now = [1000.0]
    bucket = TokenBuckets(6, clock=lambda: now[0])  # 6 a minute: one token every 10 s
    assert [bucket.take("a") for _ in range(6)] == [None] * 6
    assert bucket.take("a") == pytest.approx(10)
    assert bucket.take("b") is None  # each client its own bucket
    now[0] += 4
    assert bucket.take("a") == pytest.approx(6)  # refused takes nothing
    now[0] += 6
    assert bucket.take("a") is None
    assert bucket.take("a") == pytest.approx(10)
    now[0] += 3600  # full again after an hour, never over its size
    assert [bucket.take("a") for _ in range(6)] == [None] * 6
    assert bucket.take("a") is not None
    assert bucket.refused == 4
    now[0] += 61
    bucket.take("c")  # a minute on: the full buckets are forgotten
    assert set(bucket.buckets) == {"c"}


def test_off_by_default_and_what_counts() -> None:
    assert RateLimits(0, 0).budgets == {}
    assert set(RateLimits(1, 0).budgets) == {WRITES}
    assert budget_of("POST", "/events/batch") == WRITES
    assert budget_of("POST", "/admin/rebuild") == WRITES
    for path in ("/events", "/subjects/{subject}/events", "/state", "/state/changes", "/audit/verify"):
        assert budget_of("GET", path) == READS, path
    for path in ("/events/{event_id}", "/events/stream", "/events/days", "/types", "/healthz", "/statex"):
        assert budget_of("GET", path) is None, path
