"""The cap on live streams per client: the next one is a 429 naming the limit with a
Retry-After, a closed stream frees its place, and clients are told apart by key, else by
address. Against a real server process (streams through an in-process client buffer)."""

from __future__ import annotations

import time

import httpx2 as httpx

from service.stream_limits import StreamLimits, client_of
from tests.conftest import ServerFactory
from tests.sse import SSEClient

WRITE = {"Authorization": "Bearer test-write"}
ADMIN = {"Authorization": "Bearer test-admin"}


def test_streams_over_the_cap_are_refused_until_one_closes(
    database_url: str, start_server: ServerFactory
) -> None:
    server = start_server(database_url, {"TIMELINE_STREAM_MAX_PER_CLIENT": "2"})
    url = server.url + "/events/stream"
    first, second = SSEClient(url, headers=WRITE), SSEClient(url, headers=WRITE)
    assert (first.status, second.status) == (200, 200)
    refused = httpx.get(url, headers=WRITE, timeout=10)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "5"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["limit"] == {"max_streams_per_client": 2}
    # Another key is another client: its own two places.
    with SSEClient(url, headers=ADMIN) as other:
        assert other.status == 200
    first.close()
    deadline = time.monotonic() + 10
    while True:  # the server notices the closed socket within its next send or ping
        with SSEClient(url, headers=WRITE) as third:
            if third.status == 200:
                break
        assert time.monotonic() < deadline, "a closed stream never freed its place"
        time.sleep(0.2)
    second.close()


def test_a_made_up_key_is_its_address(database_url: str, start_server: ServerFactory) -> None:
    """Reads are open here, so any key is let in; only a valid one is a client of its own."""
    server = start_server(database_url, {"TIMELINE_STREAM_MAX_PER_CLIENT": "1"})
    url = server.url + "/events/stream"
    with SSEClient(url) as by_address:
        assert by_address.status == 200
        refused = httpx.get(url, headers={"Authorization": "Bearer made-up"}, timeout=10)
        assert refused.status_code == 429
        assert httpx.get(url + "?access_token=made-up", timeout=10).status_code == 429
        with SSEClient(url, headers=WRITE) as by_key:
            assert by_key.status == 200
        runtime = httpx.get(server.url + "/debug/runtime", headers=ADMIN, timeout=10).json()
        assert runtime["limits"]["streams_refused"] == 2


def test_the_counts_go_back_to_nothing() -> None:
    limits = StreamLimits(1)
    client = client_of("a key", "10.0.0.1")
    assert client != client_of(None, "10.0.0.1") and "a key" not in client
    limits.enter(client)
    limits.leave(client)
    limits.enter(client)
    assert dict(limits.open) == {client: 1}
    limits.leave(client)
    assert not limits.open


def test_no_cap_by_default() -> None:
    limits = StreamLimits(0)
    for _ in range(1000):
        limits.enter("address:127.0.0.1")
    assert limits.open["address:127.0.0.1"] == 1000
