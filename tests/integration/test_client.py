"""The Python client (timeline_client/, docs/client.md) against real server processes."""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from events.drafts import drafts_from_batch
from events.store import EventStore
from service.cli import seed_path
from tests.conftest import ADMIN_KEY, WRITE_KEY, ServerFactory
from tests.factories import claim, statement
from tests.server import ServerProcess
from timeline_client import Backoff, Client, ProblemError, StreamState, verify_export

pytestmark = pytest.mark.server

FAST = Backoff(base=0.05, maximum=0.5)


def seed() -> list[dict[str, Any]]:
    return [json.loads(line) for line in seed_path().read_text().splitlines() if line.strip()]


@pytest.fixture
def timeline(server: ServerProcess) -> Iterator[Client]:
    with Client(server.url, key=WRITE_KEY, backoff=FAST) as client:
        yield client


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


# -- state --------------------------------------------------------------------------------------


def test_state_as_plain_records_with_the_cut(timeline: Client) -> None:
    timeline.append_batch(seed())
    records = timeline.state("territory", as_of="2025-04-26", area="ru-kursk-oblast")
    assert records.as_of == "2025-04-26T23:59:59.999999Z"
    assert records.position == 16
    claims = [r for r in records if r["list"] == "claims"]
    assert {(r["claimant"], r["controller"]) for r in claims} == {("ru", "ru"), ("ua", "ua")}
    assert all(r["part"] == "territory" and r["area"] == "ru-kursk-oblast" for r in records)
    assert {r["area_status"] for r in records} == {"contested"}
    assert {r["list"] for r in records} == {"claims", "denials", "assessments", "forces"}

    everything = timeline.state(as_of="2025-04-26", known_at=records.known_at)
    assert everything.known_at == records.known_at
    assert {r["part"] for r in everything} == {"territory", "talks", "diplomacy"}
    assert {r["track"] for r in everything if r["part"] == "talks"} == {"ru-ua"}
    assert {r["track_status"] for r in everything if r["part"] == "talks"} == {"offered"}
    meetings = [r for r in everything if r["list"] == "meetings"]
    assert {r["place"] for r in meetings} == {"va", "ru-moscow"}
    # the same question, part by part, gives the same records
    parts = [timeline.state(p, as_of="2025-04-26", known_at=records.known_at) for p in ("territory", "talks")]
    assert [r for r in everything if r["part"] != "diplomacy"] == [*parts[0], *parts[1]]

    earlier = timeline.state("territory", as_of="2024-08-15", area="ru-kursk-oblast")
    assert [(r["claimant"], r["tentative"], r["area_km2"]) for r in earlier] == [("ua", True, 1295)]


def test_state_questions_the_server_would_refuse_are_refused_here(timeline: Client) -> None:
    with pytest.raises(ValueError, match="part"):
        timeline.state("wars")
    with pytest.raises(ValueError, match="territory"):
        timeline.state(area="ru-kursk-oblast")
    with pytest.raises(ProblemError) as refused:
        timeline.state(as_of="2025")
    assert refused.value.status == 422
    assert refused.value.errors[0]["path"] == "/as_of"


def test_state_frame_is_a_dataframe_or_a_clear_import_error(
    timeline: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeline.append_batch(seed())
    try:
        import pandas  # noqa: F401
    except ImportError:
        pass
    else:
        table = timeline.state_frame("territory", as_of="2025-04-26")
        assert len(table) == len(timeline.state("territory", as_of="2025-04-26"))
        assert table.attrs["position"] == 16
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        timeline.state_frame("territory")


# -- the log ------------------------------------------------------------------------------------


def test_events_pages_through_the_whole_log_with_filters(timeline: Client) -> None:
    timeline.append_batch(seed())
    assert [e["position"] for e in timeline.events(page_size=3)] == list(range(1, 17))
    assert [e["position"] for e in timeline.events(after=14, page_size=1)] == [15, 16]
    talks = list(timeline.events(types=["talks."], page_size=2))
    assert [e["position"] for e in talks] == [7, 8, 11, 15]
    both = timeline.events(types=["territory."], subjects=["ru-kursk-oblast-gornal", "ru"], page_size=1)
    assert [e["position"] for e in both] == [2]


# -- writing ------------------------------------------------------------------------------------


class Forwarding(httpx.BaseTransport):
    """A transport in front of the real one, closing it with the client."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()

    def close(self) -> None:
        self.inner.close()


class LoseFirstAnswers(Forwarding):
    """Forwards each request to the real server, but drops the answer to the first
    `lose` writes, as a network that fails after the server committed does."""

    def __init__(self, lose: int) -> None:
        super().__init__()
        self.lose = lose
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST":
            self.bodies.append(request.read())
            if self.lose > 0:
                self.lose -= 1
                response.read()
                response.close()
                raise httpx.ReadError("connection reset after the server answered", request=request)
        return response


def test_append_gives_an_id_before_the_first_try_and_retries_with_it(server: ServerProcess) -> None:
    """Kills: an id made per attempt (the retry stores a second event), and no retry."""
    transport = LoseFirstAnswers(lose=2)
    with Client(server.url, key=WRITE_KEY, backoff=FAST, transport=transport) as timeline:
        envelope = statement()
        del envelope["id"]
        stored = timeline.append(envelope)
        assert "id" not in envelope  # the caller's envelope is left alone
        assert stored["position"] == 1
        sent_ids = {json.loads(body)["id"] for body in transport.bodies}
        assert sent_ids == {stored["id"]}
        assert len(transport.bodies) == 3
        assert [e["id"] for e in timeline.events()] == [stored["id"]]

        transport.lose = 1
        batch = [claim(), statement(), claim(claimant="ua")]
        for event in batch:
            del event["id"]
        answer = timeline.append_batch(batch)
        assert [e["position"] for e in answer] == [2, 3, 4]
        ids = [[e["id"] for e in json.loads(body)["events"]] for body in transport.bodies[3:]]
        assert ids == [[e["id"] for e in answer]] * 2
        assert len(list(timeline.events())) == 4


def test_a_refused_write_is_raised_with_its_problem_and_not_retried(timeline: Client) -> None:
    with pytest.raises(ProblemError) as refused:
        timeline.append({**statement(), "type": "talks.unknown"})
    assert refused.value.status == 422
    assert "known_types" in refused.value.problem
    with pytest.raises(ValueError, match="1 to 1000"):
        timeline.append_batch([])
    with Client(timeline.http.base_url.__str__()) as anonymous, pytest.raises(ProblemError) as unauthorised:
        anonymous.append(statement())
    assert unauthorised.value.status == 401


class Refuses(Forwarding):
    """Answers the first requests itself with `status` and `Retry-After`, then forwards."""

    def __init__(self, times: int, status: int, retry_after: str) -> None:
        super().__init__()
        self.times, self.status, self.retry_after = times, status, retry_after

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.times > 0:
            self.times -= 1
            return httpx.Response(self.status, headers={"Retry-After": self.retry_after}, json={})
        return self.inner.handle_request(request)


@pytest.mark.parametrize("status", [503, 429])
def test_503_and_429_are_retried_after_retry_after(server: ServerProcess, status: int) -> None:
    """Kills: Retry-After ignored (the backoff's short delay is slept instead)."""
    slept: list[float] = []
    transport = Refuses(2, status, "3")
    with Client(server.url, key=WRITE_KEY, transport=transport, sleep=slept.append) as timeline:
        stored = timeline.append(statement())
    assert slept == [3.0, 3.0]
    assert stored["position"] == 1
    transport = Refuses(3, status, "1")
    with Client(server.url, key=WRITE_KEY, transport=transport, sleep=slept.append, retries=2) as timeline:
        with pytest.raises(ProblemError) as refused:
            timeline.append(statement())
        assert refused.value.status == status
        assert [e["position"] for e in timeline.events()] == [1]


# -- the live stream -----------------------------------------------------------------------------


class Reader:
    """Iterates a client stream in a thread, collecting positions."""

    def __init__(self, client: Client, **options: Any) -> None:
        self.state = StreamState(0)
        self.positions: list[int] = []
        self.ids: list[str] = []
        self.error: BaseException | None = None
        self.stream = client.stream(state=self.state, reconnect_delay=0.05, **options)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.stream:
                self.positions.append(event["position"])
                self.ids.append(event["id"])
        except BaseException as exc:  # the client was closed at the end of the test
            self.error = exc


@pytest.mark.parametrize("how", ["terminate", "kill"])
def test_the_client_stream_iterator_survives_a_server_restart_without_loss_or_duplicate(
    database_url: str, start_server: ServerFactory, store: EventStore, how: str
) -> None:
    """Kills: resuming at the head instead of Last-Event-ID (the events written while the
    server was down are lost), and resuming from the first position without the guard
    (duplicates)."""
    server = start_server(database_url)
    with Client(server.url, key=WRITE_KEY, backoff=FAST) as timeline:
        timeline.append_batch([statement() for _ in range(5)])
        reader = Reader(timeline)
        wait_for(lambda: len(reader.positions) == 5)
        assert reader.state.connections == 1

        if how == "kill":
            server.process.kill()
            server.process.wait()
        else:
            server.stop(close_log=False)
        wait_for(lambda: reader.state.drops >= 2)  # it noticed, and is trying again
        # Written while no server runs: only a resume at position 5 sees these.
        store.append(drafts_from_batch([statement() for _ in range(4)]), batch=True)
        server.start()
        timeline.append_batch([statement() for _ in range(3)])
        wait_for(lambda: len(reader.positions) >= 12)
        time.sleep(0.3)  # room for a duplicate to show
        assert reader.positions == list(range(1, 13))
        assert len(set(reader.ids)) == 12
        assert reader.state.connections >= 2
        assert reader.state.last_position == 12
    reader.thread.join(5)


def test_a_filtered_stream_resumes_past_checkpoints(server: ServerProcess, timeline: Client) -> None:
    reader = Reader(timeline, types=["territory."])
    timeline.append_batch([statement() for _ in range(3)] + [claim()] + [statement() for _ in range(3)])
    wait_for(lambda: reader.positions == [4])
    wait_for(lambda: reader.state.last_position == 7)  # a checkpoint moved it past the statements
    server.restart()
    timeline.append(claim(claimant="ua"))
    wait_for(lambda: reader.positions == [4, 8])


def test_a_stream_refused_for_good_raises(start_server: ServerFactory, database_url: str) -> None:
    server = start_server(database_url, {"TIMELINE_API_KEYS": "read:r1,write:w1"})
    with Client(server.url, key="wrong") as timeline, pytest.raises(ProblemError) as refused:
        next(timeline.stream(after=0))
    assert refused.value.status == 401


# -- export and verify ---------------------------------------------------------------------------


def test_export_and_verify_offline(timeline: Client, tmp_path: Path) -> None:
    timeline.append_batch(seed())
    with Client(str(timeline.http.base_url), key=ADMIN_KEY) as admin:
        online = admin.get_json("/audit/verify")
    head = timeline.head()
    path = tmp_path / "log.ndjson"
    assert timeline.export(path) == 16
    verdict = verify_export(path, head)
    assert verdict["ok"] is True
    assert verdict["count"] == 16
    assert verdict["root_hash"] == online["root_hash"] == head["root_hash"]

    timeline.append(statement())
    assert timeline.export(path) == 17
    assert verify_export(path, head) == {**verify_export(path), "tree_size": 16}  # it extends the head
    assert verify_export(path, timeline.head(size=10))["ok"] is True

    lines = path.read_text().splitlines(keepends=True)
    tampered = tmp_path / "tampered.ndjson"
    tampered.write_text(
        "".join([*lines[:3], lines[3].replace('"kind":"media"', '"kind":"ngo"', 1), *lines[4:]])
    )
    assert verify_export(tampered)["reason"] == "hash_mismatch"
    assert verify_export(tampered)["first_bad_position"] == 4

    forged = dict(head, root_hash="0" * 64)
    assert verify_export(path, forged)["reason"] == "root_mismatch"
    assert verify_export(path, dict(head, tree_size=18))["reason"] == "head_beyond_export"


class DropsMidExport(Forwarding):
    """Cuts the first export answer off in the middle of a line."""

    def __init__(self) -> None:
        super().__init__()
        self.cut = True
        self.afters: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.url.path != "/audit/export":
            return response
        self.afters.append(request.url.params["after"])
        if not self.cut:
            return response
        self.cut = False
        body = response.read()
        cut_at = body.index(b"\n", len(body) // 2) + 10  # a few bytes into a line

        class Broken(httpx.SyncByteStream):
            def __iter__(self) -> Iterator[bytes]:
                yield body[:cut_at]
                raise httpx.RemoteProtocolError("peer closed the connection")

        return httpx.Response(response.status_code, headers=response.headers, stream=Broken())


def test_an_export_cut_off_resumes_after_the_last_whole_line(server: ServerProcess, tmp_path: Path) -> None:
    transport = DropsMidExport()
    with Client(server.url, key=WRITE_KEY, backoff=FAST, transport=transport) as timeline:
        timeline.append_batch(seed())
        path = tmp_path / "log.ndjson"
        assert timeline.export(path) == 16
    assert transport.afters[0] == "0" and int(transport.afters[1]) > 0
    assert verify_export(path)["ok"] is True
    assert verify_export(path)["count"] == 16
