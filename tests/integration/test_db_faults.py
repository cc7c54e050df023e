"""The database goes away and comes back, under a running server (issue 16, point 4).

The server reaches PostgreSQL through a TCP proxy (tests/proxy.py) that the test cuts
and restores: a database that was up and went away, not one that was never there.
PostgreSQL only: an embedded SQLite file cannot be cut off from its process.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.conftest import ADMIN, WRITE, ServerFactory
from tests.factories import claim, statement
from tests.proxy import TcpProxy
from tests.server import ServerProcess
from tests.sse import SSEClient

pytestmark = pytest.mark.server

PROBLEM = "application/problem+json"


@pytest.fixture
def proxy(backend: str, database_url: str) -> Iterator[TcpProxy]:
    if backend != "postgresql":
        pytest.skip("PostgreSQL only: a SQLite file is in the process, no connection to cut")
    with TcpProxy.to_database(database_url) as carried:
        yield carried


@pytest.fixture
def proxied(proxy: TcpProxy, database_url: str, start_server: ServerFactory) -> Callable[..., ServerProcess]:
    """Start a server that reaches the database through the proxy."""

    def start(**env: str) -> ServerProcess:
        return start_server(proxy.url_through(database_url), env)

    return start


def until(check: Callable[[], bool], seconds: float = 15, what: str = "the condition") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {seconds} s")
        time.sleep(0.1)


def health(server: ServerProcess) -> int:
    return httpx.get(server.url + "/healthz", timeout=10).status_code


def runtime(server: ServerProcess) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(server.url + "/debug/runtime", headers=ADMIN, timeout=10).json()
    return answer


def append(url: str, events: list[dict[str, Any]]) -> httpx.Response:
    return httpx.post(url + "/events/batch", json={"events": events}, headers=WRITE, timeout=30)


def export(url: str) -> list[dict[str, Any]]:
    answer = httpx.get(url + "/audit/export", timeout=30)
    assert answer.status_code == 200, answer.text
    return [json.loads(line) for line in answer.text.splitlines()]


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, (answer.request.url, answer.status_code, answer.text)
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["retry-after"] == "5"
    problem = answer.json()
    assert problem["status"] == 503 and problem["type"].endswith("/unavailable"), problem


def assert_whole(url: str, expected: int) -> list[dict[str, Any]]:
    """The log holds `expected` events at positions 1..n, and the chain and tree verify."""
    events = export(url)
    assert [e["position"] for e in events] == list(range(1, expected + 1))
    verdict = httpx.get(url + "/audit/verify", headers=ADMIN, timeout=30).json()
    assert verdict["ok"] is True and verdict["count"] == expected, verdict
    return events


# -- health ------------------------------------------------------------------------------


def test_healthz_is_503_while_the_database_is_away_and_200_again_without_a_restart(
    proxy: TcpProxy, proxied: Callable[..., ServerProcess]
) -> None:
    server = proxied()
    pid = runtime(server)["pid"]
    assert health(server) == 200
    proxy.cut()
    answer = httpx.get(server.url + "/healthz", timeout=10)
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "unreachable"}
    proxy.restore()
    until(lambda: health(server) == 200, what="/healthz 200 after the restore")
    assert runtime(server)["pid"] == pid and server.process.poll() is None


# -- writes and reads --------------------------------------------------------------------


def test_writes_while_the_database_is_away_are_503_problems_and_nothing_is_half_written(
    proxy: TcpProxy, proxied: Callable[..., ServerProcess]
) -> None:
    server = proxied()
    assert append(server.url, [statement() for _ in range(3)]).status_code == 201
    proxy.cut()
    one, batch = claim(), [claim(area="ua-sumy-oblast"), statement()]
    assert_unavailable(httpx.post(server.url + "/events", json=one, headers=WRITE, timeout=30))
    assert_unavailable(append(server.url, batch))
    proxy.restore()
    until(lambda: health(server) == 200)
    assert_whole(server.url, 3)
    # Sent again with the same ids, each is stored once.
    assert httpx.post(server.url + "/events", json=one, headers=WRITE, timeout=30).status_code == 201
    assert append(server.url, batch).status_code == 201
    assert append(server.url, batch).status_code == 200
    assert [e["id"] for e in assert_whole(server.url, 6)[3:]] == [one["id"]] + [e["id"] for e in batch]


def test_a_connection_lost_inside_a_batch_stores_none_of_it(
    proxy: TcpProxy, proxied: Callable[..., ServerProcess], database_url: str
) -> None:
    server = proxied()
    assert append(server.url, [statement() for _ in range(3)]).status_code == 201
    batch = [claim(area=f"ru-area-{n}") for n in range(50)]
    proxy.fail_on(b"COPY", deliver=False)  # the connection dies with the transaction open
    assert_unavailable(append(server.url, batch))
    assert proxy.failed
    until(lambda: health(server) == 200)
    assert_whole(server.url, 3)
    assert httpx.get(server.url + "/state/territory", timeout=10).json()["areas"] == {}
    assert append(server.url, batch).status_code == 201
    assert_whole(server.url, 53)


def test_a_commit_whose_answer_is_lost_is_a_503_and_a_retry_with_its_id_stores_it_once(
    proxy: TcpProxy, proxied: Callable[..., ServerProcess]
) -> None:
    server = proxied()
    event = claim()
    proxy.fail_on(b"COMMIT", deliver=True)  # the commit reaches the database; its answer does not
    answer = httpx.post(server.url + "/events", json=event, headers=WRITE, timeout=30)
    assert_unavailable(answer)
    assert "same id" in answer.json()["detail"]
    until(lambda: health(server) == 200)
    # The outcome was unknown to the client: it was in fact stored.
    [stored] = assert_whole(server.url, 1)
    assert stored["id"] == event["id"]
    retried = httpx.post(server.url + "/events", json=event, headers=WRITE, timeout=30)
    assert retried.status_code == 200 and retried.json() == stored
    assert_whole(server.url, 1)


READS = [
    "/events",
    "/events/{id}",
    "/events/{id}/corrections",
    "/subjects/diplomacy/events",
    "/events/days",
    "/state",
    "/state/territory",
    "/state/talks",
    "/state/diplomacy",
    "/state/territory/ru-kursk-oblast/history",
    "/audit/head",
    "/audit/export",
]


def test_reads_while_the_database_is_away_are_503_problems(
    proxy: TcpProxy, proxied: Callable[..., ServerProcess]
) -> None:
    server = proxied()
    [stored] = append(server.url, [claim()]).json()["events"]
    paths = [path.format(id=stored["id"]) for path in READS]
    for path in paths:
        assert httpx.get(server.url + path, timeout=10).status_code == 200, path
    proxy.cut()
    for path in paths:
        assert_unavailable(httpx.get(server.url + path, timeout=10))
    assert_unavailable(httpx.get(server.url + "/audit/verify", headers=ADMIN, timeout=10))
    proxy.restore()
    until(lambda: health(server) == 200)
    for path in paths:
        assert httpx.get(server.url + path, timeout=10).status_code == 200, path


# -- the live stream ---------------------------------------------------------------------


def cpu_seconds(server: ServerProcess, during: float) -> float:
    """The CPU time the server process used over `during` seconds."""

    def used() -> float:
        stat = Path(f"/proc/{server.process.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    before = used()
    time.sleep(during)
    return used() - before


def test_streams_end_cleanly_in_an_outage_and_resume_from_last_event_id_without_loss(
    proxy: TcpProxy, proxied: Callable[..., ServerProcess], database_url: str, start_server: ServerFactory
) -> None:
    server = proxied(TIMELINE_STREAM_PING_SECONDS="1", TIMELINE_STREAM_BUFFER_EVENTS="2")
    writer = start_server(database_url)  # reaches the database directly: it stays up
    with SSEClient(server.url + "/events/stream", params={"after": 0}) as sse:
        assert append(writer.url, [statement() for _ in range(5)]).status_code == 201
        assert [m.position for m in sse.events(5)] == [1, 2, 3, 4, 5]
        assert append(writer.url, [statement() for _ in range(3)]).status_code == 201
        assert [m.position for m in sse.events(3)] == [6, 7, 8]  # the tail holds 7 and 8
        proxy.cut()
        until(lambda: sse.ended_cleanly, seconds=10, what="the stream's clean end")
    # Reconnecting during the outage is accepted, never a 503 (EventSource would give up).
    assert append(writer.url, [statement() for _ in range(4)]).status_code == 201  # 9..12, unseen
    with (
        SSEClient(server.url + "/events/stream", headers={"Last-Event-ID": "8"}) as again,
        SSEClient(server.url + "/events/stream", params={"after": 0}) as behind,
    ):
        assert again.status == 200 and behind.status == 200
        assert again.next().retry is not None
        assert "ping" in again.next(timeout=5).comments  # kept alive while it waits
        # The one behind the tail's buffer waits for the database without spinning on it.
        assert cpu_seconds(server, during=2.0) < 0.5
        proxy.restore()
        assert [m.position for m in behind.events(12, timeout=15)] == list(range(1, 13))
        assert append(writer.url, [statement() for _ in range(2)]).status_code == 201  # 13, 14
        assert [m.position for m in again.events(6, timeout=15)] == list(range(9, 15))
    log = server.log()
    assert " 503" not in log.split("GET /events/stream")[-1]


def test_a_stream_opened_during_the_outage_without_a_position_starts_at_the_head(
    proxy: TcpProxy, proxied: Callable[..., ServerProcess], database_url: str, start_server: ServerFactory
) -> None:
    server = proxied(TIMELINE_STREAM_PING_SECONDS="1")
    writer = start_server(database_url)
    assert append(writer.url, [statement() for _ in range(3)]).status_code == 201
    proxy.cut()
    until(lambda: health(server) == 503)
    with SSEClient(server.url + "/events/stream") as sse:
        assert sse.status == 200
        proxy.restore()
        until(lambda: health(server) == 200)
        time.sleep(1.5)  # the stream settles at the head
        assert append(writer.url, [statement()]).status_code == 201
        assert [m.position for m in sse.events(1, timeout=10)] == [4]


def test_the_listen_connection_comes_back_after_an_outage(
    proxy: TcpProxy, proxied: Callable[..., ServerProcess], database_url: str, start_server: ServerFactory
) -> None:
    slow_polling = {"TIMELINE_STREAM_POLL_SECONDS": "30"}  # only NOTIFY can wake the reader in time
    server = proxied(**slow_polling)
    writer = start_server(database_url, slow_polling)
    until(lambda: runtime(server)["listener"]["connected"], what="the first LISTEN")
    proxy.cut()
    until(lambda: not runtime(server)["listener"]["connected"], what="the LISTEN connection's loss")
    proxy.restore()
    until(lambda: runtime(server)["listener"]["connections"] == 2, what="a new LISTEN connection")
    with SSEClient(server.url + "/events/stream") as sse:
        sse.next()
        time.sleep(0.5)
        started = time.monotonic()
        assert append(writer.url, [statement()]).status_code == 201
        assert [m.position for m in sse.events(1, timeout=5)] == [1]
        assert time.monotonic() - started < 5  # NOTIFY, not the 30 s poll
