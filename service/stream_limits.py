"""How many live streams each client holds open in this process, and the cap on them.

A client is its key when it sends a valid one (a hash of it: keys never sit in memory longer
than a request needs them), else its address: with reads open to all, a made-up key would
otherwise be a fresh place for every stream. The rate limits (`rate_limits`) tell clients
apart the same way. Off by default (the embedded dev run and a
newsroom's single wall screen need no cap); with several processes the cap is per process.
"""

from __future__ import annotations

import hashlib
from collections import Counter

from fastapi import Request

from events.errors import TooManyRequests
from service.auth import ApiKeys, bearer_token
from service.logs import ACCESS_TOKEN

RETRY_AFTER_SECONDS = 5


def client_of(key: str | None, address: str | None) -> str:
    if key:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:16]
    return "address:" + (address or "unknown")


def client_of_request(request: Request, keys: ApiKeys) -> str:
    """The request's key (header, or the stream's access_token) if it is a valid one, else
    its address as uvicorn reports it (behind a trusted proxy: from X-Forwarded-For)."""
    key = bearer_token(request.headers.get("authorization")) or request.scope.get("state", {}).get(
        ACCESS_TOKEN
    )
    return client_of(
        key if key and keys.scopes_of(key) else None, request.client.host if request.client else None
    )


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
