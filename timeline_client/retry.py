"""When and how long to wait before trying again.

Retried: a failure to connect or a dropped connection, 503 (the database is not
answering) and 429 (too many streams). Writes are retried with the same event
ids, so the server answers a write whose first answer was lost with 200 and the
stored event rather than storing it twice (docs/api.md §4.3).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRY_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when
    absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt n (from 1) waits about base * 2^(n-1),
    at most `maximum`; a server's Retry-After is honoured, up to `maximum_retry_after`."""

    base: float = 0.25
    maximum: float = 30.0
    maximum_retry_after: float = 120.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.maximum_retry_after)
        ceiling = min(self.maximum, self.base * 2 ** max(0, attempt - 1))
        return float(ceiling / 2 + random.random() * ceiling / 2)
