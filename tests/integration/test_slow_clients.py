"""A stream client that stops reading is dropped, counted and logged once (service/send_watch.py).

(This replaces test_stream.py's test that a stalled client is disconnected: the same set-up,
checked further.)"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import anyio
import httpx2 as httpx
import pytest

from service import send_watch
from service.send_watch import SendWatch
from tests.conftest import ADMIN, WRITE, ServerFactory
from tests.factories import statement
from tests.server import ServerProcess

pytestmark = pytest.mark.server


def limits(server: ServerProcess) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(server.url + "/debug/runtime", headers=ADMIN, timeout=10).json()
    return answer


def test_a_client_that_stops_reading_is_dropped_and_counted(
    database_url: str, start_server: ServerFactory
) -> None:
    server = start_server(database_url, {"TIMELINE_STREAM_SEND_TIMEOUT_SECONDS": "1"})
    assert limits(server)["limits"]["slow_stream_clients_dropped"] == 0
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stalled.connect(("127.0.0.1", server.port))
    stalled.sendall(b"GET /events/stream?after=0 HTTP/1.1\r\nHost: test\r\n\r\n")
    try:
        deadline = time.monotonic() + 10
        while limits(server)["subscribers"] != 1:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        big = "x" * 9000
        for _ in range(12):  # about 10 MB: more than the socket buffers hold; the client reads none
            batch = {"events": [statement(text=big) for _ in range(100)]}
            assert httpx.post(server.url + "/events/batch", json=batch, headers=WRITE, timeout=60).is_success
        deadline = time.monotonic() + 20
        while (runtime := limits(server))["subscribers"] != 0:
            assert time.monotonic() < deadline, "the stalled client was not dropped"
            time.sleep(0.2)
        assert runtime["limits"]["slow_stream_clients_dropped"] == 1
        assert runtime["stalled_clients_disconnected"] == 1
        time.sleep(0.3)
        warnings = [line for line in server.log().splitlines() if "slow stream client dropped" in line]
        assert len(warnings) == 1, warnings
        line = json.loads(warnings[0])  # the timeline logger writes JSON lines (docs/operations.md)
        assert (line["level"], line["logger"]) == ("warning", "timeline.stream")
        assert "127.0.0.1:" in line["message"] and "(1 dropped by this process)" in line["message"]
    finally:
        stalled.close()


def test_each_drop_is_counted_once_in_the_process() -> None:
    watch = SendWatch(timeout_seconds=5)
    before = send_watch.dropped_in_process()

    async def stall() -> bool:
        with anyio.CancelScope() as scope:
            stream = send_watch._Stream(scope, "127.0.0.1:5000")
            watch.streams.add(stream)
            stream.sending_since = 100.0
            watch.check(104.0)  # not yet
            assert (watch.dropped, scope.cancel_called) == (0, False)
            watch.check(106.0)
            watch.check(107.0)  # already cancelled: not counted again
        return scope.cancel_called

    assert anyio.run(stall)
    assert watch.dropped == 1
    assert send_watch.dropped_in_process() == before + 1
