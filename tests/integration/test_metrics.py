"""`GET /metrics` and the JSON request log (docs/operations.md) against real server processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN, WRITE, ServerFactory
from tests.factories import claim, statement
from tests.server import ServerProcess, free_port, wait_ready
from tests.sse import SSEClient

pytestmark = pytest.mark.server

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str, headers: dict[str, str] | None = None) -> Samples:
    """Every sample of /metrics, by (name, sorted labels), through prometheus-client's parser;
    a new connection each time (with several workers, any may answer)."""
    response = httpx.get(url + "/metrics", headers=headers, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_parse_and_their_counters_move_with_appends(server: ServerProcess) -> None:
    """Kills: the after-commit counter not registered, the append timing or the lock timer
    left out, the HTTP counter keyed by raw path."""
    before = scrape(server.url)
    for _ in range(3):
        assert httpx.post(server.url + "/events", json=statement(), headers=WRITE).status_code == 201
    batch = {"events": [claim(), claim(claimant="ua"), statement()]}
    assert httpx.post(server.url + "/events/batch", json=batch, headers=WRITE).status_code == 201
    event_id = batch["events"][0]["id"]
    assert httpx.get(f"{server.url}/events/{event_id}").status_code == 200
    after = scrape(server.url)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    appended = "timeline_events_appended_total"
    assert moved(appended, type="diplomacy.statement_made") == 4
    assert moved(appended, type="territory.control_claimed") == 2
    assert moved("timeline_append_seconds_count", kind="single") == 3
    assert moved("timeline_append_seconds_count", kind="batch") == 1
    assert moved("timeline_batch_request_events_count") == 1
    assert moved("timeline_batch_request_events_sum") == 3
    assert moved("timeline_append_transaction_events_sum") == 6
    assert moved("timeline_append_lock_wait_seconds_count") >= 4  # a group commit may join singles
    assert moved("timeline_http_requests_total", route="/events", method="POST", status="201") == 3
    assert moved("timeline_http_requests_total", route="/events/{event_id}", method="GET", status="200") == 1
    assert moved("timeline_http_request_seconds_count", route="/events/batch") == 1
    assert value(after, "timeline_log_head_position") == 6
    assert value(after, "timeline_read_model_generation") >= 1
    assert value(after, "timeline_read_model_stale") == 0
    assert value(after, "timeline_read_model_lag_events") == 0
    assert value(after, "timeline_db_pool_checked_out") >= 0

    # The tail hands every event to subscribers; each one's lag is observed.
    deadline = time.monotonic() + 10
    while value(scrape(server.url), "timeline_stream_delivery_lag_seconds_count") < 6:
        assert time.monotonic() < deadline, "the tail did not read the appends"
        time.sleep(0.2)
    with SSEClient(server.url + "/events/stream", params={"after": 0}) as sse:
        sse.events(6)
        live = scrape(server.url)
        assert value(live, "timeline_stream_subscribers") == 1
        assert value(live, "timeline_stream_tail_position") == 6
        assert value(live, "timeline_stream_lag_events") == 0
    assert value(scrape(server.url), "timeline_stream_subscribers") == 0


def test_metrics_need_a_key_when_reads_do(database_url: str, start_server: ServerFactory) -> None:
    server = start_server(database_url, {"TIMELINE_API_KEYS": "read:r-key,write:test-write"})
    assert httpx.get(server.url + "/metrics").status_code == 401
    assert value(scrape(server.url, {"Authorization": "Bearer r-key"}), "timeline_log_head_position") == 0


def test_several_workers_add_their_metrics_up(database_url: str, tmp_path: Path) -> None:
    """`timeline serve --workers 2`: whichever process answers a scrape, it counts the appends
    of both. Kills: the serve command not setting PROMETHEUS_MULTIPROC_DIR (each worker then
    reports only its own appends), and the livesum gauges counted once per process."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TIMELINE_DATABASE_URL": database_url,
        "TIMELINE_API_KEYS": "write:test-write,admin:test-admin",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = (tmp_path / "serve.log").open("wb")
    command = [str(Path(sys.executable).parent / "timeline"), "serve", "--port", str(port), "--workers", "2"]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(url, process, 240)  # a loaded machine: uvicorn restarts workers slow to start
        pids: set[int] = set()
        deadline = time.monotonic() + 240
        while len(pids) < 2:  # both workers answer
            assert time.monotonic() < deadline, "one worker answered: " + (tmp_path / "serve.log").read_text()
            try:
                pids.add(httpx.get(url + "/debug/runtime", headers=ADMIN, timeout=10).json()["pid"])
            except httpx.TransportError:
                time.sleep(0.2)
        for _ in range(20):
            assert httpx.post(url + "/events", json=statement(), headers=WRITE, timeout=10).status_code == 201
        with SSEClient(url + "/events/stream") as sse:
            assert sse.status == 200
            deadline = time.monotonic() + 10  # each process samples its gauges every 2 s
            while value(scrape(url), "timeline_stream_subscribers") != 1:
                assert time.monotonic() < deadline, "the stream's process never reported it"
                time.sleep(0.2)
            for _ in range(12):
                samples = scrape(url)
                assert value(samples, "timeline_events_appended_total", type="diplomacy.statement_made") == 20
                assert value(samples, "timeline_append_seconds_count", kind="single") == 20
                assert value(samples, "timeline_stream_subscribers") == 1
                assert value(samples, "timeline_log_head_position") == 20
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


# -- the request log ----------------------------------------------------------------------------


def request_lines(server: ServerProcess) -> list[dict[str, Any]]:
    time.sleep(0.3)
    lines = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("logger") == "timeline.request":
                lines.append(entry)
    return lines


def test_one_json_line_a_request_with_its_request_id_and_no_key(
    database_url: str, start_server: ServerFactory
) -> None:
    """Kills: the id not echoed, an insane incoming id kept, the Authorization header or the
    stream's access_token logged."""
    secret = "sekrit-read-key-77aa"
    server = start_server(database_url, {"TIMELINE_API_KEYS": f"read:{secret},write:test-write"})
    given = httpx.post(
        server.url + "/events",
        json=statement(),
        headers={"Authorization": "Bearer test-write", "X-Request-ID": "proxy-42.a:b_c"},
    )
    assert given.status_code == 201
    assert given.headers["x-request-id"] == "proxy-42.a:b_c"
    made = httpx.get(server.url + "/events", headers={"Authorization": f"Bearer {secret}"})
    assert len(made.headers["x-request-id"]) == 32
    for insane in (b"a" * 129, b"two words", "é".encode(), b"", b"<script>"):
        answer = httpx.get(server.url + "/healthz", headers={b"X-Request-ID": insane})
        assert answer.headers["x-request-id"].encode() != insane
        assert len(answer.headers["x-request-id"]) == 32
    refused = httpx.get(server.url + "/state?as_of=2025", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 422
    with SSEClient(server.url + "/events/stream", params={"access_token": secret, "after": 0}) as sse:
        sse.events(1)
    lines = request_lines(server)
    by_id = {line["request_id"]: line for line in lines}
    write = by_id["proxy-42.a:b_c"]
    assert write["method"] == "POST" and write["path"] == "/events" and write["status"] == 201
    assert write["route"] == "/events" and write["duration_ms"] > 0 and write["level"] == "info"
    assert by_id[made.headers["x-request-id"]]["status"] == 200
    assert by_id[refused.headers["x-request-id"]]["query"] == "as_of=2025"
    assert by_id[refused.headers["x-request-id"]]["status"] == 422
    streams = [line for line in lines if line["path"] == "/events/stream"]
    assert streams and streams[0]["query"] == "after=0"
    log = server.log()
    assert secret not in log
    assert "test-write" not in log


def test_shutdown_waits_for_a_sample_in_progress(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sample holding a connection when the app stops must end before the engine is
    disposed: a cancelled wait left its thread running, and the connection it gave back
    to the disposed pool was never closed (a psycopg ResourceWarning, in some later test)."""
    import threading

    from fastapi.testclient import TestClient

    from service import metrics
    from service.app import create_app
    from tests.conftest import make_settings

    started, finished = threading.Event(), threading.Event()

    def slow_sample(app: Any) -> None:
        with app.state.engine.connect():
            started.set()
            time.sleep(0.5)
        finished.set()

    monkeypatch.setattr(metrics, "sample", slow_sample)
    app = create_app(make_settings(database_url))
    with TestClient(app):
        assert started.wait(10)
    assert finished.is_set()
