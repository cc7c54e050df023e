"""Disconnecting stream clients that stopped reading, without a timer on every send.

sse-starlette can time each send itself, but that arms and cancels a timer per
message: with a thousand subscribers it was the largest single cost of fanning
an event out. Here each stream notes when a send started, and one task looks
at all of them every second or so; a send stuck for longer than the timeout
has its stream cancelled. The client resumes with Last-Event-ID.

Every drop is counted (`SendWatch.dropped`, shown in /debug/runtime; `dropped_in_process()`
sums the process's watches, for a metrics endpoint) and logged as one warning line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import anyio
from sse_starlette import EventSourceResponse
from starlette.types import Message, Receive, Scope, Send

logger = logging.getLogger("timeline.stream")


_dropped_in_process = 0


def dropped_in_process() -> int:
    """Slow stream clients dropped by every SendWatch of this process since it started."""
    return _dropped_in_process


class _Stream:
    __slots__ = ("address", "scope", "sending_since")

    def __init__(self, scope: anyio.CancelScope, address: str) -> None:
        self.scope = scope
        self.address = address
        self.sending_since: float | None = None


class SendWatch:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout = timeout_seconds
        self.streams: set[_Stream] = set()
        self.dropped = 0  # streams ended for a stuck send, for /debug/runtime
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="timeline-send-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        interval = min(1.0, self.timeout / 4)
        while True:
            await asyncio.sleep(interval)
            self.check(time.monotonic())

    def check(self, now: float) -> None:
        global _dropped_in_process
        for stream in list(self.streams):
            since = stream.sending_since
            if since is not None and now - since > self.timeout and not stream.scope.cancel_called:
                self.dropped += 1
                _dropped_in_process += 1
                logger.warning(
                    "slow stream client dropped: %s accepted nothing for %g s (%d dropped by this process)",
                    stream.address,
                    self.timeout,
                    self.dropped,
                )
                stream.scope.cancel()


class WatchedEventSource(EventSourceResponse):
    """An EventSourceResponse whose sends the process's SendWatch times."""

    def __init__(
        self, *args: object, watch: SendWatch, on_close: Callable[[], None] = lambda: None, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.watch = watch
        self.on_close = on_close  # called once the stream has ended, however it ended

    async def _send_with_timeout(self, send: Send, message: Message) -> None:
        # sse-starlette's per-send timeout scope, which we turn off (send_timeout=None) since
        # SendWatch does its job: entering even an unbounded scope costs a send a third more.
        await send(message)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with anyio.CancelScope() as cancel:
            client = scope.get("client")
            stream = _Stream(cancel, f"{client[0]}:{client[1]}" if client else "a client")

            async def timed_send(message: Message) -> None:
                stream.sending_since = time.monotonic()
                try:
                    await send(message)
                finally:
                    stream.sending_since = None

            self.watch.streams.add(stream)
            try:
                await super().__call__(scope, receive, timed_send)
            finally:
                self.watch.streams.discard(stream)
                self.on_close()
