"""The tail reader and one stream's loop, in this process (tests/integration/test_stream.py
drives them through a real server): the buffer's edges, paging, checkpoints and pings, each
case one a planted bug (a mutant) breaks (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy.exc import OperationalError

import service.stream
import service.tail
from events.drafts import draft_from_json
from events.recorders import make_engine, recorder_of
from events.store import EventStore, Row
from service.config import Settings
from service.stream import PING, checkpoint, matcher, start_after, subscription
from service.tail import Message, Tail, encode
from tests.factories import claim, statement

T = TypeVar("T")
RETRY = b"retry: 2000\r\n\r\n"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@pytest.fixture
def store(database_url: str) -> Iterator[EventStore]:
    engine = make_engine(database_url)
    yield EventStore(recorder_of(engine), hooks=[], clock=lambda: datetime(2025, 5, 1, tzinfo=UTC))
    engine.dispose()


def fill(store: EventStore, count: int, make: Any = statement) -> None:
    store.append([draft_from_json(make()) for _ in range(count)])


def fetched(store: EventStore, buffer_events: int) -> Tail:
    tail = Tail(store, poll_seconds=60, buffer_events=buffer_events)
    run(tail._fetch())
    return tail


def positions(messages: list[Message] | None) -> list[int] | None:
    return None if messages is None else [m.row.position for m in messages]


class Database:
    """The store's reads (`head`, `rows_after`) counted, and failing as they do when the
    database is away."""

    def __init__(self, store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reads = 0
        self.away = False
        for name in ("head", "rows_after"):
            monkeypatch.setattr(store, name, self._counted(getattr(store, name)))

    def _counted(self, read: Callable[..., T]) -> Callable[..., T]:
        def counted(*args: Any) -> T:
            self.reads += 1
            if self.away:
                raise OperationalError("SELECT", {}, Exception("connection refused"))
            return read(*args)

        return counted


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within 5 s")


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


# -- one stream's loop ----------------------------------------------------------------


def settings(**overrides: Any) -> Settings:
    return Settings(database_url="sqlite://", **overrides)


async def take(stream: AsyncIterator[bytes], count: int) -> list[bytes]:
    return [await asyncio.wait_for(anext(stream), timeout=5) for _ in range(count)]


def messages_of(store: EventStore, after: int, limit: int = 100) -> bytes:
    return b"".join(encode(r) for r in store.rows_after(after, limit))


def test_a_subscriber_at_the_head_gets_the_reads_bytes(store: EventStore) -> None:
    fill(store, 3)
    tail = fetched(store, 10)

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, None, settings())
        got = await take(stream, 2)
        assert tail.subscribers == 1
        tail.close_streams()
        got += [m async for m in stream]
        assert tail.subscribers == 0
        return got

    assert run(scenario()) == [RETRY, tail.frame[2]]


def test_a_subscriber_behind_the_buffer_pages_from_the_database(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service.stream, "PAGE", 2)
    monkeypatch.setattr(service.tail, "FETCH_PAGE", 2)
    fill(store, 6)
    tail = fetched(store, 2)  # keeps 5, 6; its last read (its frame) is 5-6

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, None, settings())
        got = await take(stream, 4)
        tail.close_streams()
        return got

    got = run(scenario())
    assert got == [RETRY, messages_of(store, 0, 2), messages_of(store, 2, 2), tail.frame[2]]
    assert tail.frame[2] == messages_of(store, 4, 2)


def test_a_subscriber_in_the_buffer_pages_from_it(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service.stream, "PAGE", 2)
    fill(store, 5)
    tail = fetched(store, 10)
    database = Database(store, monkeypatch)

    async def scenario() -> tuple[list[bytes], int]:
        stream = subscription(store, tail, 1, None, settings())
        got = await take(stream, 3)
        tail.close_streams()
        return got, database.reads

    got, reads = run(scenario())
    assert got == [RETRY, messages_of(store, 1, 2), messages_of(store, 3, 2)]
    assert reads == 0  # the buffer alone served it


def test_a_filtered_subscriber_gets_a_checkpoint_past_what_it_skipped(store: EventStore) -> None:
    fill(store, 2, statement)
    fill(store, 2, claim)  # positions 3 and 4: filtered out
    tail = fetched(store, 2)  # keeps 3, 4
    wanted = matcher(["diplomacy."], [])

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, wanted, settings())
        got = await take(stream, 3)
        tail.close_streams()
        got += [m async for m in stream]
        return got

    # from the database: positions 1-2 sent, then the checkpoint at once past 3-4 it read
    assert run(scenario()) == [RETRY, messages_of(store, 0, 2), checkpoint(4)]


def test_a_filtered_subscriber_in_the_buffer_gets_its_checkpoint_when_idle(store: EventStore) -> None:
    fill(store, 1, statement)
    fill(store, 2, claim)
    tail = fetched(store, 10)
    wanted = matcher([], ["diplomacy"])

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, wanted, settings())
        got = await take(stream, 3)
        tail.close_streams()
        return got

    assert run(scenario()) == [RETRY, messages_of(store, 0, 1), checkpoint(3)]


def test_a_filtered_subscriber_that_skips_everything_gets_a_checkpoint(store: EventStore) -> None:
    fill(store, 2, claim)
    tail = fetched(store, 10)

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, matcher(["talks."], []), settings())
        got = await take(stream, 2)
        tail.close_streams()
        return got

    assert run(scenario()) == [RETRY, checkpoint(2)]


def test_an_idle_subscriber_pings_before_the_interval_runs_out(store: EventStore) -> None:
    tail = Tail(store, poll_seconds=60, buffer_events=10, tick_seconds=0.3)

    async def scenario() -> list[bytes]:
        # 0.3 s ticks, a ping due every 0.5 s: waiting a tick from 0.3 s on would overshoot
        stream = subscription(store, tail, 0, None, settings(stream_ping_seconds=0.5, stream_retry_ms=10))
        loop = asyncio.get_running_loop()
        ticker = loop.create_task(tick(tail))
        started = loop.time()
        got = await take(stream, 2)
        elapsed = loop.time() - started
        ticker.cancel()
        tail.close_streams()
        assert 0.15 <= elapsed < 0.45, elapsed
        return got

    assert run(scenario()) == [b"retry: 10\r\n\r\n", PING]


async def tick(tail: Tail) -> None:
    while True:
        await asyncio.sleep(tail.tick_seconds / 3)
        tail._wake_subscribers()


def test_a_subscriber_that_is_not_idle_does_not_ping(store: EventStore) -> None:
    tail = Tail(store, poll_seconds=60, buffer_events=10, tick_seconds=0.1)

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, None, settings(stream_ping_seconds=5))
        got = await take(stream, 1)
        pending = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.3)
        idle = not pending.done()
        tail.close_streams()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(pending, timeout=5)
        assert idle
        return got

    assert run(scenario()) == [RETRY]


class Clock:
    """The stream's clock (`service.stream.time`), moved by the test: pings and checkpoints
    fall due by it, so that no test waits for them, or races them, in real time."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(service.stream, "time", clock)
    return clock


async def settle() -> None:
    """Let the other tasks run until they wait (for the tail, or a read in the thread pool)."""
    for _ in range(5):
        await asyncio.sleep(0)


async def asking(stream: AsyncIterator[bytes]) -> asyncio.Future[bytes]:
    """Ask for the stream's next message: it resumes from its last one now (the sender has
    written that one) and runs until it sends or waits."""
    pending = asyncio.ensure_future(anext(stream))
    await settle()
    return pending


async def sent_at(tail: Tail, clock: Clock, now: float, pending: asyncio.Future[bytes]) -> bytes | None:
    """Woken by a tick at `now`: what the stream sends, or None when it waits on."""
    clock.now = now
    tail._wake_subscribers()
    done, _ = await asyncio.wait({pending}, timeout=0.1)
    if not done:
        return None
    return pending.result()


async def sends_at(tail: Tail, clock: Clock, now: float, pending: asyncio.Future[bytes]) -> bytes:
    clock.now = now
    tail._wake_subscribers()
    return await asyncio.wait_for(pending, timeout=5)


async def ended(pending: asyncio.Future[bytes]) -> bool:
    try:
        await asyncio.wait_for(pending, timeout=5)
    except StopAsyncIteration:
        return True
    return False


# Ticks of 1 s and a ping due every 4 s: a stream woken 3 s after its last write pings, since
# waiting for the next tick would reach 4 s.
TICKING = {"poll_seconds": 60, "buffer_events": 10, "tick_seconds": 1.0}


def test_an_idle_stream_pings_a_tick_before_the_interval_and_again_after_its_ping(
    store: EventStore, clock: Clock
) -> None:
    tail = Tail(store, **TICKING)  # type: ignore[arg-type]

    async def scenario() -> list[bytes | None]:
        stream = subscription(store, tail, 0, None, settings(stream_ping_seconds=4))
        await take(stream, 1)
        pending = await asking(stream)  # at 100
        got = [await sent_at(tail, clock, 102.5, pending), await sends_at(tail, clock, 103, pending)]
        pending = await asking(stream)  # the stream goes on after its ping
        got += [await sent_at(tail, clock, 105.5, pending), await sends_at(tail, clock, 106, pending)]
        pending = await asking(stream)
        tail.close_streams()
        assert await ended(pending)
        return got

    assert run(scenario()) == [None, PING, None, PING]


def test_a_stream_waiting_for_the_database_pings_and_asks_it_once_a_tick(
    store: EventStore, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    database = Database(store, monkeypatch)
    database.away = True
    tail = Tail(store, **TICKING)  # type: ignore[arg-type]
    tail.database_failed()  # as the route does when its own read of the head fails

    async def scenario() -> list[bytes | None]:
        stream = subscription(store, tail, None, None, settings(stream_ping_seconds=4))
        await take(stream, 1)
        pending = await asking(stream)  # at 100
        await until(lambda: database.reads == 1)
        await asyncio.sleep(0.05)
        assert database.reads == 1  # no tick yet: not asked again
        got = [await sent_at(tail, clock, 102.5, pending), await sends_at(tail, clock, 103, pending)]
        pending = await asking(stream)
        got += [await sent_at(tail, clock, 105.5, pending), await sends_at(tail, clock, 106, pending)]
        pending = await asking(stream)
        tail.close_streams()
        assert await ended(pending)
        return got

    assert run(scenario()) == [None, PING, None, PING]


@pytest.mark.parametrize(
    ("types", "make", "at", "kind"),
    [
        ([], statement, 102, "the read's bytes"),
        (["diplomacy."], statement, 102, "a buffered event"),
        (["talks."], statement, 102, "a checkpoint at once (a second since the last id)"),
        (["talks."], statement, 100.5, "a checkpoint when idle (within the second)"),
    ],
)
def test_the_ping_is_due_from_the_last_write(
    store: EventStore, clock: Clock, types: list[str], make: Any, at: float, kind: str
) -> None:
    tail = Tail(store, **TICKING)  # type: ignore[arg-type]

    async def scenario() -> list[bytes | None]:
        stream = subscription(store, tail, 0, matcher(types, []), settings(stream_ping_seconds=4))
        await take(stream, 1)
        pending = await asking(stream)  # waits at 100
        clock.now = at
        fill(store, 1, make)
        await tail._fetch()
        got: list[bytes | None] = [await asyncio.wait_for(pending, timeout=5)]
        pending = await asking(stream)
        got += [await sent_at(tail, clock, at + 2.5, pending), await sends_at(tail, clock, at + 3, pending)]
        tail.close_streams()
        return got

    got = run(scenario())
    assert got == [checkpoint(1) if types == ["talks."] else messages_of(store, 0), None, PING], kind


def test_a_subscriber_at_the_head_gets_a_read_longer_than_a_page_in_one_write(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the fan-out's cost is per write: each read is one write to every subscriber at the head
    monkeypatch.setattr(service.stream, "PAGE", 2)
    fill(store, 3)
    tail = fetched(store, 10)

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, None, settings())
        got = await take(stream, 2)
        tail.close_streams()
        return got

    assert run(scenario()) == [RETRY, messages_of(store, 0)]


def test_a_filtered_subscriber_paging_from_the_database_gets_a_checkpoint_after_each_page(
    store: EventStore, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    # A client that drops during its catch-up resumes past what was skipped, at once.
    monkeypatch.setattr(service.stream, "PAGE", 2)
    fill(store, 1, statement)
    fill(store, 1, claim)
    fill(store, 2, statement)
    tail = fetched(store, 1)  # keeps 4

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, matcher(["diplomacy."], []), settings())
        got = await take(stream, 4)
        tail.close_streams()
        return got

    assert run(scenario()) == [RETRY, messages_of(store, 0, 1), checkpoint(2), messages_of(store, 2, 2)]


def test_a_filtered_subscriber_paging_from_the_buffer_gets_a_checkpoint_each_second_of_skipping(
    store: EventStore, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    monkeypatch.setattr(service.stream, "PAGE", 2)
    fill(store, 1, statement)
    fill(store, 3, claim)
    fill(store, 1, statement)
    fill(store, 1, claim)
    tail = fetched(store, 10)
    wanted = matcher(["diplomacy."], [])
    assert wanted is not None

    def slowly(row: Row) -> bool:  # filtering takes half a second an event
        clock.now += 0.5
        return wanted(row)

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, slowly, settings())
        got = await take(stream, 5)
        tail.close_streams()
        return got

    # 1 sent at 101 (after filtering 1 and 2); 3 and 4 skipped by 102: a second, so a checkpoint;
    # 5 sent; 6 skipped with nothing more to read: a checkpoint
    assert run(scenario()) == [
        RETRY,
        messages_of(store, 0, 1),
        checkpoint(4),
        messages_of(store, 4, 1),
        checkpoint(6),
    ]


def test_an_event_read_while_the_checkpoint_was_sent_follows_it_without_a_tick(
    store: EventStore, clock: Clock
) -> None:
    fill(store, 1, statement)
    fill(store, 1, claim)
    tail = Tail(store, **TICKING)  # type: ignore[arg-type]  # not started: no tick comes
    run(tail._fetch())

    async def scenario() -> list[bytes]:
        stream = subscription(store, tail, 0, matcher(["diplomacy."], []), settings())
        got = await take(stream, 3)  # retry, 1, the checkpoint past 2
        fill(store, 1, statement)
        await tail._fetch()  # before the stream is asked for more
        got += await take(stream, 1)
        tail.close_streams()
        return got

    assert run(scenario()) == [RETRY, messages_of(store, 0, 1), checkpoint(2), messages_of(store, 2)]


def test_a_stream_opened_during_an_outage_behind_the_buffer_waits_asking_once_a_tick(
    store: EventStore, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    fill(store, 6)
    tail = fetched(store, 2)  # keeps 5, 6
    database = Database(store, monkeypatch)
    database.away = True
    tail.database_failed()  # the route's read of the head failed; it starts the stream at 2

    async def scenario() -> bytes:
        stream = subscription(store, tail, 2, None, settings())
        await take(stream, 1)
        pending = await asking(stream)
        await until(lambda: database.reads == 1)
        await asyncio.sleep(0.05)
        assert database.reads == 1 and not pending.done()  # open, and not asking again
        tail._wake_subscribers()  # a tick: asked once more
        await until(lambda: database.reads == 2)
        await asyncio.sleep(0.05)
        assert database.reads == 2 and not pending.done()
        database.away = False
        tail._wake_subscribers()
        got = await asyncio.wait_for(pending, timeout=5)
        tail.close_streams()
        return got

    assert run(scenario()) == messages_of(store, 2)


def test_a_stream_opened_during_an_outage_starts_after_its_last_event_id_once_the_database_answers(
    store: EventStore, monkeypatch: pytest.MonkeyPatch, clock: Clock
) -> None:
    fill(store, 3)
    database = Database(store, monkeypatch)
    database.away = True
    tail = Tail(store, **TICKING)  # type: ignore[arg-type]  # as started without the database
    tail.database_failed()

    async def scenario() -> bytes:
        # Last-Event-ID 2: beyond the tail's head, so the route could not place it
        stream = subscription(store, tail, None, None, settings(), start=2)
        await take(stream, 1)
        pending = await asking(stream)
        await until(lambda: database.reads == 1)
        database.away = False
        tail._wake_subscribers()  # a tick: the stream reads the head, 3
        await tail._fetch()
        got = await asyncio.wait_for(pending, timeout=5)
        tail.close_streams()
        return got

    assert run(scenario()) == messages_of(store, 2)


# -- filters and the starting point ----------------------------------------------------


def row(type_name: str, subject: str) -> Row:
    return Row(1, type_name, subject, "{}")


def test_matcher_or_within_and_between() -> None:
    assert matcher([], []) is None
    by_type = matcher(["talks.", "diplomacy.statement_made"], [])
    assert by_type is not None
    assert by_type(row("talks.offer_made", "ru-ua"))
    assert by_type(row("diplomacy.statement_made", "diplomacy"))
    assert not by_type(row("diplomacy.meeting_held", "diplomacy"))
    assert not by_type(row("talks", "ru-ua"))  # a prefix matches what follows its dot
    by_subject = matcher([], ["ru-ua", "diplomacy"])
    assert by_subject is not None
    assert by_subject(row("talks.offer_made", "ru-ua")) and by_subject(row("x.y", "diplomacy"))
    assert not by_subject(row("talks.offer_made", "ru-kp"))
    both = matcher(["talks."], ["ru-ua"])
    assert both is not None
    assert both(row("talks.offer_made", "ru-ua"))
    assert not both(row("talks.offer_made", "ru-kp"))
    assert not both(row("diplomacy.statement_made", "ru-ua"))
    exact = matcher(["talks.offer_made"], [])
    assert exact is not None and not exact(row("talks.offer_made_again", "ru-ua"))


@pytest.mark.parametrize(
    ("last_event_id", "after", "start"),
    [
        (None, None, None),
        (None, 5, 5),
        ("7", 5, 7),
        (" 7 ", None, 7),
        ("0", 5, 0),
        ("x7", 5, 5),
        ("²", 5, 5),
        ("", 5, 5),
        ("-1", 5, 5),
        ("1" * 18, None, int("1" * 18)),
        ("1" * 19, 5, 5),
    ],
)
def test_start_after(last_event_id: str | None, after: int | None, start: int | None) -> None:
    assert start_after(last_event_id, after) == start


def test_checkpoint_and_ping_bytes() -> None:
    assert checkpoint(12) == b"id: 12\r\n\r\n"
    assert PING == b": ping\r\n\r\n"
