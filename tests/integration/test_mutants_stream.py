"""One stream's loop in this process (tests/integration/test_stream.py drives it through a real
server): where a subscriber reads from, checkpoints, pings and outages, each case one a planted
bug (a mutant) breaks (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import service.stream
import service.tail
from events.store import EventStore, Row
from service.stream import PING, checkpoint, matcher, start_after, subscription
from service.tail import Tail, encode
from tests.factories import claim, statement
from tests.integration.stream_helpers import (
    RETRY,
    Database,
    fetched,
    fill,
    run,
    settings,
    stream_store,
    take,
    until,
)

store = pytest.fixture(name="store")(stream_store)


# -- one stream's loop ----------------------------------------------------------------


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
