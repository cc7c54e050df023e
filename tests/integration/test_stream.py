"""The live stream (docs/api.md §9) against real server processes: streams need a real socket."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2 as httpx
import pytest
from sqlalchemy import create_engine, text

from events.recorders import normalise_url
from tests.conftest import ADMIN, WRITE, ServerFactory
from tests.factories import offer, statement
from tests.server import ServerProcess
from tests.sse import SSEClient

pytestmark = pytest.mark.server


def append(url: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = httpx.post(url + "/events/batch", json={"events": events}, headers=WRITE, timeout=60)
    assert response.status_code == 201, response.text
    stored: list[dict[str, Any]] = response.json()["events"]
    return stored


def runtime(server: ServerProcess) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(server.url + "/debug/runtime", headers=ADMIN, timeout=10).json()
    return answer


def stream_url(server: ServerProcess) -> str:
    return server.url + "/events/stream"


def test_headers_and_retry_on_connect(server: ServerProcess) -> None:
    with SSEClient(stream_url(server)) as sse:
        assert sse.status == 200
        assert sse.headers["content-type"].startswith("text/event-stream")
        assert sse.headers["cache-control"] == "no-store"
        assert sse.headers["x-accel-buffering"] == "no"
        assert "content-encoding" not in sse.headers
        assert sse.next().retry is not None


def test_resume_after_last_event_id(server: ServerProcess) -> None:
    append(server.url, [statement() for _ in range(100)])
    with SSEClient(stream_url(server), headers={"Last-Event-ID": "50"}) as sse:
        got = sse.events(50)
        assert [m.position for m in got] == list(range(51, 101))
        assert all(m.event == "diplomacy.statement_made" for m in got)
        assert json.loads(got[0].data or "")["position"] == 51
        append(server.url, [statement()])
        assert [m.position for m in sse.events(1)] == [101]


def test_the_header_wins_over_after(server: ServerProcess) -> None:
    append(server.url, [statement() for _ in range(10)])
    with SSEClient(stream_url(server), params={"after": 2}, headers={"Last-Event-ID": "8"}) as sse:
        assert [m.position for m in sse.events(2)] == [9, 10]
    with SSEClient(stream_url(server), params={"after": 7}) as sse:
        assert [m.position for m in sse.events(3)] == [8, 9, 10]


def test_a_non_numeric_last_event_id_is_ignored(server: ServerProcess) -> None:
    append(server.url, [statement() for _ in range(5)])
    with SSEClient(stream_url(server), params={"after": 3}, headers={"Last-Event-ID": "abc"}) as sse:
        assert sse.status == 200
        assert [m.position for m in sse.events(2)] == [4, 5]
    with SSEClient(stream_url(server), headers={"Last-Event-ID": "-1"}) as sse:  # no after: the head
        assert sse.status == 200
        append(server.url, [statement()])
        assert [m.position for m in sse.events(1)] == [6]
    for odd in ["\u00b2", "9" * 5000, "1e3", " "]:  # a superscript digit arrives as latin-1 0xB2
        with SSEClient(stream_url(server), params={"after": 5}, headers={"Last-Event-ID": odd}) as sse:
            assert sse.status == 200, odd
            assert [m.position for m in sse.events(1)] == [6]


def test_a_start_beyond_the_head_is_the_head(server: ServerProcess) -> None:
    append(server.url, [statement() for _ in range(3)])
    with SSEClient(stream_url(server), headers={"Last-Event-ID": "1000"}) as sse:
        append(server.url, [statement()])
        assert [m.position for m in sse.events(1)] == [4]


def test_no_gap_or_duplicate_while_four_writers_append(server: ServerProcess) -> None:
    total, writers, batch = 5000, 4, 25

    def write(_: int) -> None:
        with httpx.Client(base_url=server.url, headers=WRITE, timeout=60) as http:
            for _ in range(total // writers // batch):
                events = [statement() for _ in range(batch)]
                assert http.post("/events/batch", json={"events": events}).status_code == 201

    with SSEClient(stream_url(server), params={"after": 0}) as sse:
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(write, range(writers)))
        positions = [m.position for m in sse.events(total, timeout=120)]
    assert positions == list(range(1, total + 1))


def test_type_filter_sends_only_matches_and_checkpoints(server: ServerProcess) -> None:
    events = []
    for i in range(30):
        events.append(offer() if i % 3 == 0 else statement())
    events.append(statement())  # the log ends with an event the filter drops
    append(server.url, events)
    with SSEClient(stream_url(server), params={"after": 0, "type": "talks."}) as sse:
        data: list[Any] = []
        checkpoints: list[int] = []
        while not checkpoints or checkpoints[-1] < 31:
            message = sse.next()
            if message.data is not None:
                data.append(message)
            elif message.id is not None:
                checkpoints.append(message.position)
        assert [m.position for m in data] == list(range(1, 31, 3))
        assert {m.event for m in data} == {"talks.offer_made"}
        ids = [m.position for m in data] + checkpoints
        assert sorted(ids) == ids or max(checkpoints) == 31


def test_subject_and_type_filters_combine(server: ServerProcess) -> None:
    append(server.url, [offer(), offer(party="ua", counterparty="us"), statement()])
    params = [("after", "0"), ("type", "talks.offer_made"), ("type", "diplomacy."), ("subject", "ua-us")]
    with SSEClient(stream_url(server), params=params) as sse:
        assert [m.position for m in sse.events(1)] == [2]


def test_an_idle_stream_is_pinged(database_url: str, start_server: ServerFactory) -> None:
    server = start_server(database_url, {"TIMELINE_STREAM_PING_SECONDS": "1"})
    with SSEClient(stream_url(server)) as sse:
        started = time.monotonic()
        while True:
            message = sse.next(timeout=3)
            if "ping" in message.comments:
                break
        assert time.monotonic() - started < 2.5


def test_many_clients_leave_nothing_behind(server: ServerProcess) -> None:
    with SSEClient(stream_url(server)) as warm_up:  # the first stream starts sse-starlette's shutdown watcher
        warm_up.next()
    time.sleep(0.5)
    before = runtime(server)

    async def connect_and_leave() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /events/stream HTTP/1.1\r\nHost: test\r\n\r\n")
        await writer.drain()
        seen = b""
        while b"retry:" not in seen:
            chunk = await asyncio.wait_for(reader.read(4096), 10)
            assert chunk, "closed before the first message"
            seen += chunk
        writer.close()
        await writer.wait_closed()

    async def crowd() -> None:
        await asyncio.gather(*(connect_and_leave() for _ in range(200)))

    asyncio.run(crowd())
    deadline = time.monotonic() + 15
    while True:
        after = runtime(server)
        settled = (
            after["subscribers"] == before["subscribers"]
            and after["tasks"] <= before["tasks"]
            and after["database_connections"]["checked_out"] == before["database_connections"]["checked_out"]
        )
        if settled or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert after["subscribers"] == before["subscribers"] == 0
    assert after["tasks"] <= before["tasks"], (before, after)
    assert after["database_connections"]["checked_out"] == before["database_connections"]["checked_out"]


def test_a_read_key_in_access_token_is_accepted_and_never_logged(
    database_url: str, start_server: ServerFactory
) -> None:
    secret = "sekrit-read-key-4b1d"
    server = start_server(
        database_url, {"TIMELINE_API_KEYS": f"read:{secret},write:test-write,admin:test-admin"}
    )
    refused = httpx.get(stream_url(server), timeout=10)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    append(server.url, [statement()])
    with SSEClient(stream_url(server), params={"access_token": secret, "after": 0}) as sse:
        assert [m.position for m in sse.events(1)] == [1]
    with SSEClient(stream_url(server), headers={"Authorization": f"Bearer {secret}"}) as sse:
        assert sse.status == 200
    # However the parameter's name is encoded, the key is taken out before anything logs the request.
    with SSEClient(stream_url(server) + f"?access%5Ftoken={secret}&after=0") as sse:
        assert sse.status == 200
        assert [m.position for m in sse.events(1)] == [1]
    time.sleep(0.5)
    log = server.log()
    assert "/events/stream" in log, "the access log is on, so the test can fail"
    assert secret not in log


def test_shutdown_ends_streams_promptly(server: ServerProcess) -> None:
    sse = SSEClient(stream_url(server))
    try:
        sse.next()
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        with pytest.raises(EOFError):
            while True:
                sse.next(timeout=10)
        assert time.monotonic() - started < 8
        assert sse.ended_cleanly, "the stream was cut, not ended"
        # uvicorn re-raises the signal it handled once it has shut down.
        assert server.process.wait(10) in (0, -signal.SIGTERM)
    finally:
        sse.close()
    log = server.log()
    assert "Application shutdown complete" in log
    assert " 500" not in log and "Traceback" not in log


# -- several processes --------------------------------------------------------------


def test_two_processes_on_one_sqlite_file_deliver_by_polling(
    backend: str, database_url: str, start_server: ServerFactory
) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has its own multi-process tests")
    writer = start_server(database_url, {"TIMELINE_STREAM_POLL_SECONDS": "0.5"})
    reader = start_server(database_url, {"TIMELINE_STREAM_POLL_SECONDS": "0.5"})
    with SSEClient(stream_url(reader)) as sse:
        append(writer.url, [statement() for _ in range(3)])
        assert [m.position for m in sse.events(3, timeout=10)] == [1, 2, 3]


def postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")


def test_notify_carries_events_between_processes(
    backend: str, database_url: str, start_server: ServerFactory
) -> None:
    postgres_only(backend)
    slow_polling = {"TIMELINE_STREAM_POLL_SECONDS": "30"}
    writer = start_server(database_url, slow_polling)
    reader = start_server(database_url, slow_polling)
    with SSEClient(stream_url(reader)) as sse:
        sse.next()
        started = time.monotonic()
        append(writer.url, [statement()])
        assert [m.position for m in sse.events(1, timeout=5)] == [1]
        assert time.monotonic() - started < 5


def test_workers_share_one_database(backend: str, database_url: str, tmp_path: Any) -> None:
    postgres_only(backend)
    import os
    import subprocess
    import sys

    from tests.server import free_port, wait_ready

    port = free_port()
    env = {
        **os.environ,
        "TIMELINE_DATABASE_URL": database_url,
        "TIMELINE_API_KEYS": "write:test-write",
        "TIMELINE_STREAM_POLL_SECONDS": "30",
    }
    log = (tmp_path / "workers.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        clients = [SSEClient(url + "/events/stream") for _ in range(6)]  # spread over both workers
        try:
            for _ in range(3):
                append(url, [statement()])
            for client in clients:
                assert [m.position for m in client.events(3, timeout=5)] == [1, 2, 3]
        finally:
            for client in clients:
                client.close()
    finally:
        process.terminate()
        process.wait(15)
        log.close()


def test_the_listener_comes_back_after_its_connection_is_killed(
    backend: str, database_url: str, start_server: ServerFactory
) -> None:
    postgres_only(backend)
    slow_polling = {"TIMELINE_STREAM_POLL_SECONDS": "30"}
    reader = start_server(database_url, slow_polling)
    writer = start_server(database_url, slow_polling)  # appends elsewhere: only NOTIFY can wake the reader
    engine = create_engine(normalise_url(database_url))
    try:
        with SSEClient(stream_url(reader)) as sse:
            sse.next()
            with engine.connect() as conn:
                killed = (
                    conn.execute(
                        text(
                            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                            " WHERE application_name = :name"
                        ),
                        {"name": f"timeline-listen-{reader.process.pid}"},
                    )
                    .scalars()
                    .all()
                )
            assert killed == [True]
            started = time.monotonic()
            for _ in range(10):
                append(writer.url, [statement()])
            assert [m.position for m in sse.events(10, timeout=10)] == list(range(1, 11))
            assert time.monotonic() - started < 10  # well before the 30 s poll
            assert runtime(reader)["listener"]["connections"] == 2
            # And it listens again: a new event arrives by NOTIFY.
            append(writer.url, [statement()])
            assert [m.position for m in sse.events(1, timeout=5)] == [11]
    finally:
        engine.dispose()
