"""What the tail and stream tests share: a tail fetched by hand, a store whose reads can
fail on cue, and one stream driven in this process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy.exc import OperationalError

from events.drafts import draft_from_json
from events.recorders import make_engine, recorder_of
from events.store import EventStore
from service.config import Settings
from service.tail import Message, Tail
from tests.factories import statement

T = TypeVar("T")
RETRY = b"retry: 2000\r\n\r\n"


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


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


def settings(**overrides: Any) -> Settings:
    return Settings(database_url="sqlite://", **overrides)


async def take(stream: AsyncIterator[bytes], count: int) -> list[bytes]:
    return [await asyncio.wait_for(anext(stream), timeout=5) for _ in range(count)]


def stream_store(database_url: str) -> Iterator[EventStore]:
    """The `store` fixture of the tail's and the stream's tests: no hooks, a fixed clock."""
    engine = make_engine(database_url)
    yield EventStore(recorder_of(engine), hooks=[], clock=lambda: datetime(2025, 5, 1, tzinfo=UTC))
    engine.dispose()
