"""The LISTEN task: stopping it never hangs a shutdown; a lost database is retried with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest

from service.listener import Listener


def test_stop_gives_up_on_a_task_that_swallows_its_cancellation() -> None:
    async def scenario() -> float:
        listener = Listener("postgresql://nobody@127.0.0.1:1/none", lambda: None)

        async def stubborn() -> None:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                await asyncio.sleep(60)  # what a driver wait that ignores cancellation does

        listener._task = asyncio.create_task(stubborn())
        await asyncio.sleep(0)
        began = time.monotonic()
        await listener.stop(timeout_seconds=0.2)
        spent = time.monotonic() - began
        listener._task.cancel()  # the second cancellation ends it, for a clean loop
        await asyncio.gather(listener._task, return_exceptions=True)
        return spent

    assert asyncio.run(scenario()) < 2


def test_reconnecting_backs_off_to_its_cap_and_starts_over_after_a_connection() -> None:
    listener = Listener("postgresql://nobody@127.0.0.1:1/none", lambda: None, retry_seconds=0.5)
    delays = []
    for failures in range(8):
        listener.failures = failures
        delays.append(listener.next_delay())
    assert delays == [0.5, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_a_database_that_stays_away_is_retried_with_backoff_one_warning_and_a_wake_each_time(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[float] = []
    slept: list[float] = []

    async def scenario() -> None:
        listener = Listener(
            "postgresql://nobody@127.0.0.1:1/none", lambda: woken.append(1), retry_seconds=0.5
        )
        real_sleep = asyncio.sleep

        async def no_wait(seconds: float) -> None:
            slept.append(seconds)
            if len(slept) >= 6:
                raise asyncio.CancelledError
            await real_sleep(0)

        async def refused() -> None:
            raise OSError("connection refused")

        monkeypatch.setattr(listener, "_listen", refused)
        monkeypatch.setattr("service.listener.asyncio.sleep", no_wait)
        with contextlib.suppress(asyncio.CancelledError):
            await listener._run()

    with caplog.at_level(logging.INFO, logger="timeline.stream"):
        asyncio.run(scenario())
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0]
    assert len(woken) == 6  # the tail looks at the database after each failure
    assert [r.getMessage() for r in caplog.records].count("LISTEN cannot connect (OSError); retrying") == 1
    assert len(caplog.records) == 1
