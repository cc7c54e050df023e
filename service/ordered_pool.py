"""Mapping a function over many items in worker processes, in order, a few items ahead.

For long work whose items are independent but whose results must be used in order
(verification's ranges): memory stays flat, since only `ahead` items per worker are in
flight. Workers are spawned (not forked): a server has threads.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def ordered_map(
    function: Callable[[Item], Result],
    items: Iterable[Item],
    workers: int,
    *,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
    ahead: int = 2,
) -> Iterator[Result]:
    """`map(function, items)` over `workers` processes. Leaving the loop early cancels
    what is still queued."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=initializer, initargs=initargs) as pool:
        pending: deque[Future[Result]] = deque()
        upcoming = iter(items)
        try:
            for item in upcoming:
                pending.append(pool.submit(function, item))
                if len(pending) >= ahead * workers:
                    break
            while pending:
                result = pending.popleft().result()
                for item in upcoming:
                    pending.append(pool.submit(function, item))
                    break
                yield result
        finally:
            pool.shutdown(cancel_futures=True)
