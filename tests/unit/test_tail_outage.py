"""The tail reader across a database outage, without a database: a store that fails on cue."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from events.store import Row
from service.config import Settings
from service.stream import subscription
from service.tail import Tail


class FlakyStore:
    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.away = False

    def _check(self) -> None:
        if self.away:
            raise OperationalError("SELECT", {}, Exception("connection refused"))

    def head(self) -> Any:
        self._check()
        return None

    def rows_after(self, after: int, limit: int) -> list[Row]:
        self._check()
        return [r for r in self.rows if r.position > after][:limit]


def settle(seconds: float = 0.3) -> Any:
    return asyncio.sleep(seconds)


def test_an_outage_is_counted_once_logged_once_and_its_end_noticed(caplog: pytest.LogCaptureFixture) -> None:
    store = FlakyStore()

    async def scenario() -> list[tuple[int, bool]]:
        tail = Tail(store, poll_seconds=0.02, buffer_events=10, tick_seconds=0.02)  # type: ignore[arg-type]
        await tail.start()
        seen = [(tail.outages, tail.available)]
        store.away = True
        await settle()
        seen.append((tail.outages, tail.available))
        store.away = False
        await settle()
        seen.append((tail.outages, tail.available))
        store.away = True
        await settle()
        seen.append((tail.outages, tail.available))
        await tail.stop()
        return seen

    with caplog.at_level(logging.INFO, logger="timeline.stream"):
        seen = asyncio.run(scenario())
    assert seen == [(0, True), (1, False), (1, True), (2, False)]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    # Per outage: the failed read (with its traceback) and the streams ended; not one per poll.
    assert len(warnings) == 4, [r.getMessage() for r in warnings]


def test_a_stream_open_when_the_database_goes_away_ends_and_one_opened_during_it_waits() -> None:
    store = FlakyStore()
    settings = Settings(stream_ping_seconds=10)

    async def scenario() -> tuple[bool, bool, list[bytes]]:
        tail = Tail(store, poll_seconds=0.02, buffer_events=10, tick_seconds=0.02)  # type: ignore[arg-type]
        await tail.start()
        before = subscription(store, tail, 0, None, settings)  # type: ignore[arg-type]
        await before.__anext__()  # retry:
        waiting = asyncio.ensure_future(before.__anext__())
        store.away = True
        await settle()
        ended = isinstance(waiting.exception(), StopAsyncIteration) if waiting.done() else False
        during = subscription(store, tail, None, None, settings, start=None)  # type: ignore[arg-type]
        await during.__anext__()  # retry:
        later = asyncio.ensure_future(during.__anext__())
        await settle()
        still_open = not later.done()
        store.rows = [Row(1, "diplomacy.statement_made", "diplomacy", "{}")]
        store.away = False
        received = [await asyncio.wait_for(later, 2)]
        await during.aclose()  # type: ignore[attr-defined]
        await tail.stop()
        return ended, still_open, received

    ended, still_open, received = asyncio.run(scenario())
    assert ended, "the stream open across the outage did not end"
    assert still_open, "the stream opened during the outage did not wait for the database"
    assert received == [b"id: 1\r\nevent: diplomacy.statement_made\r\ndata: {}\r\n\r\n"]
