"""Clients that misbehave: one that hangs up mid-upload is an info line, not a 500 with a
traceback; one that trickles its body is cut by the body deadline. Against a real server
process, over raw sockets, since an HTTP client library would not send half a body."""

from __future__ import annotations

import json
import socket
import time

import httpx2 as httpx

from tests.conftest import ServerFactory
from tests.factories import claim

BODY = json.dumps(claim()).encode()


def open_upload(url: str, length: int) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    head = (
        f"POST /events HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer test-write\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    sock.sendall(head.encode())
    return sock


def events_stored(url: str) -> int:
    return len(httpx.get(url + "/events").json()["events"])


def wait_for(condition: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_client_gone_mid_upload_is_one_info_line(database_url: str, start_server: ServerFactory) -> None:
    server = start_server(database_url)
    sock = open_upload(server.url, len(BODY))
    sock.sendall(BODY[:20])
    time.sleep(0.2)
    sock.close()
    wait_for(lambda: "client disconnected during its upload: POST /events" in server.log())
    log = server.log()
    assert "Traceback" not in log and "unhandled error" not in log and " 500" not in log
    assert log.count("client disconnected during its upload") == 1
    assert events_stored(server.url) == 0
    # The server goes on answering.
    written = httpx.post(server.url + "/events", json=claim(), headers={"Authorization": "Bearer test-write"})
    assert written.status_code == 201


def test_a_body_trickled_past_the_deadline_is_a_408_and_nothing_is_written(
    database_url: str, start_server: ServerFactory
) -> None:
    server = start_server(database_url, {"TIMELINE_BODY_TIMEOUT_SECONDS": "1"})
    sock = open_upload(server.url, len(BODY))
    began = time.monotonic()
    answer = b""
    with sock:
        for byte in BODY[:-1]:  # never the last byte
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break  # the server has answered and closed
            sock.settimeout(0.05)
            try:
                answer += sock.recv(65536)
                break
            except TimeoutError:
                pass
            if time.monotonic() - began > 10:
                break
        sock.settimeout(5)
        while b"request-timeout" not in answer:  # the problem's type, in its body
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    took = time.monotonic() - began
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), answer
    assert b"application/problem+json" in rest and b"request-timeout" in answer
    assert 0.9 < took < 5
    assert events_stored(server.url) == 0
