"""One LISTEN connection per process on PostgreSQL, waking the tail reader on every NOTIFY.

Notifications sent while the connection is down are lost, so after every
(re)connection the tail is woken to read whatever it missed; the tail's own
polling covers the rest.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from events.notifications import CHANNEL
from events.recorders import normalise_url

logger = logging.getLogger("timeline.stream")


def listener_name() -> str:
    return f"timeline-listen-{os.getpid()}"


class Listener:
    def __init__(self, database_url: str, wake: Callable[[], None], *, retry_seconds: float = 1.0) -> None:
        url = make_url(normalise_url(database_url)).set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self.wake = wake
        self.retry_seconds = retry_seconds
        self.connected = False
        self.connections = 0
        self.notifications = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="timeline-listener")

    async def stop(self, timeout_seconds: float = 5.0) -> None:
        """Cancel the listener and give it `timeout_seconds` to close its connection.

        asyncio.wait, not wait_for: wait_for waits for a cancelled task to finish even past
        its timeout, and a psycopg wait that swallows the cancellation then hangs the
        shutdown for ever (seen once in CI). The connection goes with the process anyway.
        """
        if self._task is None:
            return
        self._task.cancel()
        done, _ = await asyncio.wait({self._task}, timeout=timeout_seconds)
        if not done:
            logger.warning("the LISTEN connection did not close within %.0f s; leaving it", timeout_seconds)

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("LISTEN connection lost (%s); reconnecting", type(exc).__name__)
            finally:
                self.connected = False
            await asyncio.sleep(self.retry_seconds)

    async def _listen(self) -> None:
        async with await psycopg.AsyncConnection.connect(
            self.conninfo, autocommit=True, application_name=listener_name(), connect_timeout=5
        ) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            self.connected = True
            self.connections += 1
            self.wake()  # LISTEN first, then read: nothing committed meanwhile is missed
            notifications = conn.notifies()
            try:
                async for _ in notifications:
                    self.notifications += 1
                    self.wake()
            finally:
                # The generator holds the connection's lock until it is closed; closing the
                # connection first would wait for that lock for ever.
                await notifications.aclose()
