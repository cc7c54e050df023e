"""Stopping the LISTEN task never hangs a shutdown, even if the task will not die."""

from __future__ import annotations

import asyncio
import time

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
