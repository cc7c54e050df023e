"""Request budgets per client: writes, and the reads that cost the database most.

Each client has a token bucket per budget: it holds up to N tokens (N requests a minute,
the setting), refills at N a minute, and each request counted takes one. An empty bucket
is a 429 naming the limit, with `Retry-After` the whole seconds until the next token. A
client is its key when it presents a valid one, else its address (`stream_limits.client_of_request`):
a made-up key is no way to a fresh budget, and failed attempts at guessing a key count
against their address.

Counted (docs/api.md §4.8): every POST as a write; as expensive reads, the pages of the log
(`GET /events`, `GET /subjects/{subject}/events`), every `/state` question and every
`/audit` endpoint. Not counted: single events, the catalog, the days, the live stream
(capped by open streams instead, `stream_limits`), health, documents and the viewer's files.

Off by default (0): the embedded dev run and tests need no budget. Buckets live in each
process: with `--workers N` a client may get up to N times the budget, one per process.
Everything runs on the event loop (an async dependency), so no lock is needed.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute

from events.errors import TooManyRequests
from service.stream_limits import client_of_request

WRITES, READS = "writes", "reads"
# Route paths (as declared) whose GETs are expensive reads: these, and those under the prefixes.
EXPENSIVE_READS = frozenset({"/events", "/subjects/{subject}/events", "/state"})
EXPENSIVE_READ_PREFIXES = ("/state/", "/audit/")
# A bucket untouched this long is full again, the same as no bucket: forgotten.
FORGET_AFTER_SECONDS = 60.0


@dataclass
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """One budget (`per_minute` requests a minute, bursts up to as many) for every client."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.per_second = per_minute / 60
        self.clock = clock
        self.buckets: dict[str, Bucket] = {}
        self.refused = 0
        self._swept = clock()

    def take(self, client: str) -> float | None:
        """Take a token: None if there was one, else the seconds until there is."""
        now = self.clock()
        if now - self._swept > FORGET_AFTER_SECONDS:
            self.sweep(now)
        bucket = self.buckets.get(client)
        if bucket is None:
            bucket = self.buckets[client] = Bucket(float(self.per_minute), now)
        else:
            bucket.tokens = min(self.per_minute, bucket.tokens + (now - bucket.updated) * self.per_second)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return None
        self.refused += 1
        return (1 - bucket.tokens) / self.per_second

    def sweep(self, now: float) -> None:
        """Forget the buckets that have refilled: memory stays bounded by the clients of a minute."""
        self._swept = now
        stale = [client for client, b in self.buckets.items() if now - b.updated > FORGET_AFTER_SECONDS]
        for client in stale:
            del self.buckets[client]


class RateLimits:
    def __init__(self, writes_per_minute: int, reads_per_minute: int) -> None:
        self.budgets = {
            name: TokenBuckets(per_minute)
            for name, per_minute in ((WRITES, writes_per_minute), (READS, reads_per_minute))
            if per_minute > 0
        }

    @property
    def refused(self) -> Counter[str]:
        """429s answered so far in this process, by budget (for /debug/runtime and metrics)."""
        return Counter({name: budget.refused for name, budget in self.budgets.items()})

    def check(self, budget_name: str, client: str) -> None:
        budget = self.budgets.get(budget_name)
        if budget is None:
            return
        wait = budget.take(client)
        if wait is None:
            return
        retry_after = max(1, math.ceil(wait))
        who = "key" if client.startswith("key:") else "address"
        raise TooManyRequests(
            f"This client (its {who}) has used its {budget.per_minute} {budget_name} a minute "
            f"(the limit) in this process; the next is possible in {retry_after} s.",
            limit={f"{budget_name}_per_minute": budget.per_minute},
            retry_after=retry_after,
        )


def budget_of(method: str, path: str) -> str | None:
    """Which budget a request to a route (its declared path) counts against, if any."""
    if method == "POST":
        return WRITES
    if method == "GET" and (path in EXPENSIVE_READS or path.startswith(EXPENSIVE_READ_PREFIXES)):
        return READS
    return None


async def enforce_rate_limits(request: Request) -> None:
    """An app-wide dependency, run before the route's own (its key check included)."""
    limits: RateLimits = request.app.state.rate_limits
    if not limits.budgets:
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    name = budget_of(request.method, route.path)
    if name is None or name not in limits.budgets:
        return
    limits.check(name, client_of_request(request, request.app.state.api_keys))


def document_rate_limits(schema: dict[str, Any]) -> None:
    """Add the 429 to the OpenAPI operations a budget counts."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            name = budget_of(method.upper(), path)
            if name is None:
                continue
            operation.setdefault("responses", {}).setdefault(
                "429",
                {
                    "description": f"The client's {name} budget is spent (TIMELINE_RATE_{name.upper()}"
                    "_PER_MINUTE); `limit` names it, `Retry-After` says when to come back",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}},
                    "content": {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    },
                },
            )
