"""How many live streams each client holds open in this process, and the cap on them.

A client is its key when it sends one (a hash of it: keys never sit in memory longer than
a request needs them), else its address. Off by default (the embedded dev run and a
newsroom's single wall screen need no cap); with several processes the cap is per process.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from events.errors import TooManyRequests

RETRY_AFTER_SECONDS = 5


def client_of(key: str | None, address: str | None) -> str:
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return "address:" + (address or "unknown")


class StreamLimits:
    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self.open: Counter[str] = Counter()
        self.refused = 0

    def enter(self, client: str) -> None:
        """Count one more open stream, or refuse it with a 429 naming the limit."""
        if self.per_client and self.open[client] >= self.per_client:
            self.refused += 1
            raise TooManyRequests(
                f"This client has {self.open[client]} live streams open here; at most "
                f"{self.per_client} (the limit). Close one, or try again later.",
                limit={"max_streams_per_client": self.per_client},
                retry_after=RETRY_AFTER_SECONDS,
            )
        self.open[client] += 1

    def leave(self, client: str) -> None:
        self.open[client] -= 1
        if self.open[client] <= 0:
            del self.open[client]
