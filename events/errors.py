"""Why a write or a read was refused, independent of any transport.

The HTTP layer turns these into RFC 9457 problems; the CLI prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldError:
    """One problem with one value, located by a JSON Pointer."""

    path: str
    message: str
    location: str | None = None  # "query" for query parameters; None for the body

    def prefixed(self, prefix: str) -> FieldError:
        return FieldError(prefix + self.path, self.message, self.location)


class TimelineError(Exception):
    """Base of the refusals the service reports to its callers."""

    status = 400
    title = "Bad request"
    kind = "bad-request"

    def __init__(
        self,
        detail: str,
        errors: list[FieldError] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra: dict[str, Any] = extra
        # The id a refused event carried, if any: a stored id is answered by
        # idempotency before any other check (docs/api.md §4).
        self.claimed_id: str | None = None

    def at_index(self, index: int, prefix: str) -> TimelineError:
        """The same refusal, located in event `index` of a batch."""
        copy = type(self)(
            self.detail,
            [e.prefixed(prefix) for e in self.errors],
            **self.extra,
        )
        copy.extra["index"] = index
        copy.claimed_id = self.claimed_id
        return copy


class InvalidInput(TimelineError):
    status = 422
    title = "Invalid input"
    kind = "validation"


class Conflict(TimelineError):
    status = 409
    title = "Conflict"
    kind = "conflict"


class NotFound(TimelineError):
    status = 404
    title = "Not found"
    kind = "not-found"


class PayloadTooLarge(TimelineError):
    status = 413
    title = "Payload too large"
    kind = "payload-too-large"


class RequestTimeout(TimelineError):
    status = 408
    title = "Request timeout"
    kind = "request-timeout"


class TooManyRequests(TimelineError):
    status = 429
    title = "Too many requests"
    kind = "too-many-requests"


class UriTooLong(TimelineError):
    status = 414
    title = "URI too long"
    kind = "uri-too-long"


class UnsupportedMediaType(TimelineError):
    status = 415
    title = "Unsupported media type"
    kind = "unsupported-media-type"
