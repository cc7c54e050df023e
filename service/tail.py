"""One tail reader per process: it fetches new events once and hands them to every subscriber.

Subscribers at the head read from its buffer and wait on it, holding no
database connection; a subscriber that is behind pages from the database
itself until it reaches the buffer. The tail reads when woken (NOTIFY from
any process, or an append in this one) and, as a fallback that delays but
never loses, every `poll_seconds`.

When a read fails the database is taken to be away: the streams open then are ended
cleanly (as at shutdown: their clients reconnect with Last-Event-ID, perhaps to a
process that still reaches the database), and the tail keeps trying every poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from events.store import EventStore, Row

logger = logging.getLogger("timeline.stream")
FETCH_PAGE = 1000


@dataclass(frozen=True)
class Message:
    """A row with its SSE text, encoded once for every subscriber."""

    row: Row
    encoded: bytes


def encode(row: Row) -> bytes:
    # The stored body is one line of JSON (JCS escapes every control character).
    return f"id: {row.position}\r\nevent: {row.type}\r\ndata: {row.body}\r\n\r\n".encode()


class Tail:
    def __init__(
        self,
        store: EventStore,
        *,
        poll_seconds: float,
        buffer_events: int,
        coalesce_seconds: float = 0.0,
        tick_seconds: float = 1.0,
    ) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        # Waiting subscribers are also woken every tick, so that each can see whether it is
        # time to ping: one timer for the process instead of one per waiting subscriber.
        self.tick_seconds = tick_seconds
        self.coalesce_seconds = coalesce_seconds
        self.head = 0  # the last position fetched
        self.buffer: deque[Message] = deque(maxlen=buffer_events)
        # The last read's messages joined once: what every unfiltered subscriber at the
        # head is sent next, so a fetch costs each of them one write and no joining.
        self.frame: tuple[int, int, bytes] = (0, 0, b"")  # (after, up to, bytes)
        self.subscribers = 0
        self.closing = False  # set at shutdown: subscribers end their streams cleanly
        self.available = True  # the last read of the database succeeded
        # Times the database went away: a stream open across a change of it ends.
        self.outages = 0
        self._wake = asyncio.Event()
        self._advanced = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._reading: asyncio.Future[list[Row]] | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        head = await run_in_threadpool(self.store.head)
        self.head = head.position if head else 0
        self._start_tasks()

    def start_without_head(self) -> None:
        """Start with an unknown head (the database is away); the first read catches up."""
        self._loop = asyncio.get_running_loop()
        self.available = False
        self._start_tasks()

    def _start_tasks(self) -> None:
        self._task = asyncio.create_task(self._run(), name="timeline-tail")
        self._ticker = asyncio.create_task(self._tick(), name="timeline-tail-tick")

    async def stop(self) -> None:
        for task in (self._task, self._ticker):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._reading is not None:
            # A read in the thread pool cannot be cancelled; let it return its connection
            # before the engine is disposed.
            await asyncio.gather(self._reading, return_exceptions=True)
        self.close_streams()  # release waiting subscribers, for good

    def close_streams(self) -> None:
        """Wake every subscriber with `closing` set, so that each ends its response."""
        self.closing = True
        self._advanced.set()

    def database_failed(self) -> None:
        """A read failed (the tail's, or a subscriber's own): the streams open now end."""
        if self.available:
            self.available = False
            self.outages += 1
            logger.warning("the database is not answering; ending %d streams", self.subscribers)
            self._wake_subscribers()

    def database_answered(self) -> None:
        if not self.available:
            self.available = True
            logger.info("the database answers again")

    def _wake_subscribers(self) -> None:
        advanced, self._advanced = self._advanced, asyncio.Event()
        advanced.set()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.tick_seconds)
            self._wake_subscribers()

    def wake(self) -> None:
        """Ask for a read now. Safe to call from any thread (appends run in the thread pool)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            if self.coalesce_seconds and self._wake.is_set():
                # Let a burst of appends land, so that every subscriber gets them in one write
                # instead of one write per event: the fan-out cost is per write.
                await asyncio.sleep(self.coalesce_seconds)
            self._wake.clear()
            try:
                await self._fetch()
            except SQLAlchemyError:  # the database may be away for a while; keep polling
                if self.available:
                    logger.warning("tail reader could not read the log; retrying", exc_info=True)
                self.database_failed()
            except Exception:  # not the database's doing: say so, and keep polling
                logger.exception("tail reader failed; retrying")
            else:
                self.database_answered()

    async def _fetch(self) -> None:
        while True:
            self._reading = asyncio.ensure_future(
                run_in_threadpool(self.store.rows_after, self.head, FETCH_PAGE)
            )
            rows = await asyncio.shield(self._reading)
            if not rows:
                return
            messages = [Message(row, encode(row)) for row in rows]
            self.buffer.extend(messages)
            self.frame = (self.head, rows[-1].position, b"".join(m.encoded for m in messages))
            self.head = rows[-1].position
            self._wake_subscribers()
            if len(rows) < FETCH_PAGE:
                return

    def after(self, cursor: int, limit: int) -> list[Message] | None:
        """Buffered messages after `cursor`; None when the buffer no longer reaches back to it."""
        if cursor >= self.head:
            return []
        if not self.buffer or self.buffer[0].row.position > cursor + 1:
            return None
        start = cursor + 1 - self.buffer[0].row.position  # positions in the buffer are contiguous
        return [self.buffer[i] for i in range(start, min(start + limit, len(self.buffer)))]

    def frame_after(self, cursor: int) -> tuple[int, bytes] | None:
        """(new cursor, bytes) of the last read, when it starts right after `cursor`."""
        after, up_to, joined = self.frame
        return (up_to, joined) if after == cursor and up_to > cursor else None

    async def wait_beyond(self, cursor: int) -> None:
        """Return once the tail has fetched past `cursor`, or at the next tick."""
        if self.head > cursor or self.closing:
            return
        await self._advanced.wait()

    async def wait_tick(self) -> None:
        """Return at the next tick (or fetch): for a subscriber waiting for the database."""
        if not self.closing:
            await self._advanced.wait()
