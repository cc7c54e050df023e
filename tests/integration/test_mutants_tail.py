"""The tail reader in this process (tests/integration/test_stream.py drives it through a real
server): the buffer's edges, paging, wakes, polls, outages and stopping, each case one a planted
bug (a mutant) breaks (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
from sqlalchemy.exc import OperationalError

import service.stream
import service.tail
from events.store import EventStore, Row
from service.stream import subscription
from service.tail import Tail, encode
from tests.integration.stream_helpers import (
    Database,
    fetched,
    fill,
    positions,
    run,
    settings,
    stream_store,
    take,
    until,
)

store = pytest.fixture(name="store")(stream_store)


@pytest.fixture
def stream_log(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> pytest.LogCaptureFixture:
    # create_app stops `timeline` from propagating to the root logger, where caplog listens.
    monkeypatch.setattr(logging.getLogger("timeline"), "propagate", True)
    caplog.set_level(logging.INFO, logger="timeline.stream")
    return caplog


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """What an operator reads in the log: (level, message) of the stream's lines."""
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "timeline.stream"]


# -- the tail's buffer ----------------------------------------------------------------


def test_after_at_the_edges_of_the_buffer(store: EventStore) -> None:
    fill(store, 6)
    tail = fetched(store, 3)  # keeps 4, 5, 6
    assert tail.head == 6 and positions(list(tail.buffer)) == [4, 5, 6]
    assert positions(tail.after(1, 10)) is None  # two before the buffer
    assert positions(tail.after(2, 10)) is None  # one before
    assert positions(tail.after(3, 10)) == [4, 5, 6]  # at it: its first is the next
    assert positions(tail.after(4, 10)) == [5, 6]  # inside
    assert positions(tail.after(5, 10)) == [6]
    assert tail.after(6, 10) == []  # at the head
    assert tail.after(7, 10) == []  # past it
    assert positions(tail.after(3, 2)) == [4, 5]  # the limit
    assert positions(tail.after(4, 1)) == [5]


def test_an_empty_buffer_reaches_nothing_behind_the_head(store: EventStore) -> None:
    tail = Tail(store, poll_seconds=60, buffer_events=3)
    tail.head = 2
    assert tail.after(1, 10) is None
    assert tail.after(0, 10) is None
    assert tail.after(2, 10) == []


def test_a_fetch_pages_until_a_short_page(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service.tail, "FETCH_PAGE", 2)
    fill(store, 5)
    tail = fetched(store, 10)
    assert tail.head == 5 and positions(list(tail.buffer)) == [1, 2, 3, 4, 5]
    # the frame is the last read: after 4, up to 5
    after, up_to, joined = tail.frame
    assert (after, up_to) == (4, 5)
    assert joined == tail.buffer[4].encoded
    fill(store, 1)
    run(tail._fetch())
    assert tail.head == 6 and tail.frame[:2] == (5, 6)


def test_a_fetch_of_exactly_full_pages_reads_to_the_head(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service.tail, "FETCH_PAGE", 2)
    fill(store, 4)
    tail = fetched(store, 10)
    assert tail.head == 4 and tail.frame[:2] == (2, 4)
    assert tail.frame[2] == tail.buffer[2].encoded + tail.buffer[3].encoded


def test_frame_after(store: EventStore) -> None:
    fill(store, 3)
    tail = fetched(store, 10)
    assert tail.frame_after(0) == (3, b"".join(m.encoded for m in tail.buffer))
    assert tail.frame_after(1) is None
    assert tail.frame_after(3) is None
    empty = Tail(store, poll_seconds=60, buffer_events=3)
    assert empty.frame_after(0) is None


def test_encode_is_one_sse_message() -> None:
    row = Row(7, "diplomacy.statement_made", "diplomacy", '{"a":1}')
    assert encode(row) == b'id: 7\r\nevent: diplomacy.statement_made\r\ndata: {"a":1}\r\n\r\n'


def test_start_reads_the_head_and_a_wake_reads_new_events(store: EventStore) -> None:
    fill(store, 2)

    async def scenario() -> tuple[int, int, int]:
        tail = Tail(store, poll_seconds=60, buffer_events=10, tick_seconds=60)
        await tail.start()
        started_at = tail.head
        fill(store, 2)
        tail.wake()
        for _ in range(200):
            if tail.head == 4:
                break
            await asyncio.sleep(0.01)
        waited = tail.head
        await tail.wait_beyond(3)  # already past: returns at once
        await tail.stop()
        assert tail.closing
        return started_at, waited, len(tail.buffer)

    assert run(scenario()) == (2, 4, 2)


def test_the_poll_reads_what_no_wake_announced(store: EventStore) -> None:
    async def scenario() -> int:
        # the pause that lets a burst of appends land follows a wake only: none here
        tail = Tail(store, poll_seconds=0.05, buffer_events=10, coalesce_seconds=60, tick_seconds=60)
        tail.start_without_head()
        fill(store, 3)
        for _ in range(200):
            if tail.head == 3:
                break
            await asyncio.sleep(0.01)
        await tail.stop()
        return tail.head

    assert run(scenario()) == 3


def test_a_coalesced_wake_reads_the_burst_in_one_frame(store: EventStore) -> None:
    async def scenario() -> tuple[int, int, int]:
        tail = Tail(store, poll_seconds=60, buffer_events=10, coalesce_seconds=0.2, tick_seconds=60)
        await tail.start()
        fill(store, 1)
        tail.wake()
        await asyncio.sleep(0.05)
        fill(store, 2)  # lands within the coalescing pause
        for _ in range(200):
            if tail.head == 3:
                break
            await asyncio.sleep(0.01)
        await tail.stop()
        return tail.head, *tail.frame[:2]

    assert run(scenario()) == (3, 0, 3)


def test_waiters_are_woken_by_a_fetch_by_the_tick_and_by_closing(store: EventStore) -> None:
    async def scenario() -> list[str]:
        woken: list[str] = []
        tail = Tail(store, poll_seconds=60, buffer_events=10, tick_seconds=0.05)
        await tail.start()
        await asyncio.wait_for(tail.wait_beyond(0), timeout=2)  # the tick
        woken.append("tick")
        waiter = asyncio.ensure_future(tail.wait_beyond(0))
        await asyncio.sleep(0)
        tail.close_streams()
        await asyncio.wait_for(waiter, timeout=2)
        woken.append("closing")
        await tail.wait_beyond(0)  # closing: at once
        await tail.stop()
        return woken

    assert run(scenario()) == ["tick", "closing"]


def test_a_failing_read_is_retried_on_the_next_poll(
    store: EventStore, stream_log: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []
    real = store.rows_after

    def flaky(after: int, limit: int) -> list[Row]:
        calls.append(after)
        if len(calls) == 1:
            raise RuntimeError("the database is away")
        return real(after, limit)

    store.rows_after = flaky  # type: ignore[method-assign]
    fill(store, 2)

    async def scenario() -> int:
        tail = Tail(store, poll_seconds=0.05, buffer_events=10, tick_seconds=60)
        tail.start_without_head()
        for _ in range(200):
            if tail.head == 2:
                break
            await asyncio.sleep(0.01)
        await tail.stop()
        return tail.head

    assert run(scenario()) == 2
    assert len(calls) >= 2
    # Not the database's doing, so no outage: the failure with its traceback; and, since the
    # tail started without the database, the first read that works says it answers.
    assert lines(stream_log) == [
        ("ERROR", "tail reader failed; retrying"),
        ("INFO", "the database answers again"),
    ]
    failure = stream_log.records[0].exc_info
    assert failure is not None and failure[0] is RuntimeError


def test_the_tail_runs_two_named_tasks_and_stop_awaits_them(store: EventStore) -> None:
    async def scenario() -> dict[str, bool]:
        tail = Tail(store, poll_seconds=60, buffer_events=10, tick_seconds=60)
        await tail.start()
        tasks = [t for t in asyncio.all_tasks() if t.get_name().startswith("timeline-")]
        await tail.stop()
        return {t.get_name(): t.done() for t in tasks}

    # named for debugging (asyncio's task dumps), and ended, not just asked to, when stop returns
    assert run(scenario()) == {"timeline-tail": True, "timeline-tail-tick": True}


def test_stop_waits_for_a_read_in_progress(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    reading, release = threading.Event(), threading.Event()
    real = store.rows_after

    def slow(after: int, limit: int) -> list[Row]:
        reading.set()
        release.wait(5)
        return real(after, limit)

    monkeypatch.setattr(store, "rows_after", slow)

    async def scenario() -> bool:
        tail = Tail(store, poll_seconds=60, buffer_events=10, tick_seconds=60)
        await tail.start()
        tail.wake()
        await until(reading.is_set)
        stopping = asyncio.ensure_future(tail.stop())
        await asyncio.sleep(0.05)
        stopped_while_reading = stopping.done()
        release.set()
        await stopping
        return stopped_while_reading

    # the read holds a connection: the engine is disposed after stop, so stop waits for it
    assert run(scenario()) is False


def test_a_wake_before_the_tail_starts_or_after_its_loop_closed_is_ignored(store: EventStore) -> None:
    # Appends call wake (the store's after_commit) from the thread pool, whenever they commit.
    tail = Tail(store, poll_seconds=60, buffer_events=10, tick_seconds=60)
    tail.wake()

    async def scenario() -> None:
        await tail.start()
        await tail.stop()

    run(scenario())
    tail.wake()


def test_a_tail_started_without_the_database_reads_on_a_wake_and_says_when_it_answers(
    store: EventStore, stream_log: pytest.LogCaptureFixture
) -> None:
    fill(store, 2)

    async def scenario() -> int:
        tail = Tail(store, poll_seconds=60, buffer_events=10, tick_seconds=60)
        tail.start_without_head()
        tail.wake()  # no poll for a minute: the wake alone reads
        await until(lambda: tail.head == 2)
        await tail.stop()
        return tail.head

    assert run(scenario()) == 2
    assert lines(stream_log) == [("INFO", "the database answers again")]


def test_an_outage_ends_the_open_streams_and_is_logged_with_its_end(
    store: EventStore, monkeypatch: pytest.MonkeyPatch, stream_log: pytest.LogCaptureFixture
) -> None:
    database = Database(store, monkeypatch)

    async def scenario() -> list[bytes | BaseException]:
        tail = Tail(store, poll_seconds=60, buffer_events=10, tick_seconds=1)
        await tail.start()
        streams = [subscription(store, tail, 0, None, settings()) for _ in range(2)]
        for stream in streams:
            await take(stream, 1)  # retry:
        assert tail.subscribers == 2
        ending = [asyncio.ensure_future(anext(stream)) for stream in streams]
        database.away = True
        tail.wake()
        outcomes = await asyncio.wait_for(asyncio.gather(*ending, return_exceptions=True), timeout=5)
        assert tail.subscribers == 0
        database.away = False
        tail.wake()
        await until(lambda: tail.available)
        await tail.stop()
        return outcomes

    outcomes = run(scenario())
    assert [type(e) for e in outcomes] == [StopAsyncIteration, StopAsyncIteration]  # ended cleanly
    assert lines(stream_log) == [
        ("WARNING", "tail reader could not read the log; retrying"),
        ("WARNING", "the database is not answering; ending 2 streams"),
        ("INFO", "the database answers again"),
    ]
    failure = stream_log.records[0].exc_info  # the traceback says what the database answered
    assert failure is not None and failure[0] is OperationalError


def test_each_read_is_shown_to_the_observers(store: EventStore) -> None:
    # The delivery-lag metric (service/metrics.py) is such an observer.
    fill(store, 3)
    tail = Tail(store, poll_seconds=60, buffer_events=10)
    reads: list[list[int]] = []
    tail.on_rows.append(lambda rows: reads.append([r.position for r in rows]))
    run(tail._fetch())
    fill(store, 2)
    run(tail._fetch())
    run(tail._fetch())  # nothing new: nothing to show
    assert reads == [[1, 2, 3], [4, 5]]
