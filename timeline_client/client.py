"""`Client`: the timeline service's HTTP API for Python programs (docs/client.md)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx2 as httpx

from timeline_client.errors import ProblemError
from timeline_client.records import PARTS, StateRecords, frame, state_records
from timeline_client.retry import RETRY_STATUSES, Backoff, retry_after_seconds
from timeline_client.sse import StreamState, _problem, follow
from timeline_client.verify import verify_export

MAX_BATCH = 1000  # docs/api.md §4.2
PAGE = 1000  # the largest page GET /events serves
Params = list[tuple[str, str | int | float | bool | None]]


class Client:
    """One service at `base_url`, with a key (`Authorization: Bearer`) when given.

    Every request is retried on a failed or dropped connection, 503 and 429 (honouring
    `Retry-After`), up to `retries` times with exponential backoff. That is safe for
    writes too: `append` and `append_batch` give every event an id before the first try.
    """

    def __init__(
        self,
        base_url: str,
        key: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 5,
        backoff: Backoff | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.retries = retries
        self.backoff = backoff or Backoff()
        self.sleep = sleep

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------------

    def request(
        self, method: str, path: str, *, params: Params | None = None, body: Any = None
    ) -> httpx.Response:
        """One request with the retry policy; a problem the server answers is raised."""
        content = None
        headers = {}
        if body is not None:
            content = json.dumps(body, ensure_ascii=False, allow_nan=False).encode()
            headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.http.request(method, path, params=params, content=content, headers=headers)
            except httpx.TransportError:
                if attempt > self.retries:
                    raise
                self.sleep(self.backoff.delay(attempt))
                continue
            if response.status_code in RETRY_STATUSES and attempt <= self.retries:
                self.sleep(
                    self.backoff.delay(attempt, retry_after_seconds(response.headers.get("retry-after")))
                )
                continue
            if response.status_code >= 400:
                raise ProblemError(response.status_code, _problem(response))
            return response

    def get_json(self, path: str, params: Params | None = None) -> Any:
        return self.request("GET", path, params=params).json()

    # -- state --------------------------------------------------------------------------------

    def state(
        self,
        part: str | None = None,
        *,
        as_of: str | None = None,
        known_at: str | None = None,
        area: str | None = None,
        track: str | None = None,
    ) -> StateRecords:
        """The state at (as_of, known_at) as flat records (`timeline_client.records`), one per
        item; `part` is `territory`, `talks`, `diplomacy` or None for all three. `area` (one
        area, exactly) needs `part="territory"`, `track` needs `part="talks"`. Instants are
        the server's forms: `2025-04-26` or `2025-04-26T12:00:00Z`."""
        if part is not None and part not in PARTS:
            raise ValueError(f"part is one of {', '.join(PARTS)}, or None for all three; not {part!r}")
        if area is not None and part != "territory":
            raise ValueError('area= narrows the territory: pass part="territory"')
        if track is not None and part != "talks":
            raise ValueError('track= narrows the talks: pass part="talks"')
        params: Params = [(k, v) for k, v in (("as_of", as_of), ("known_at", known_at)) if v is not None]
        if area is not None:
            params.append(("area", area))
        if track is not None:
            params.append(("track", track))
        answer = self.get_json("/state" if part is None else f"/state/{part}", params)
        return state_records(part, answer)

    def state_frame(self, part: str | None = None, **question: str | None) -> Any:
        """`state(...)` as a pandas DataFrame (the cut in `.attrs`); ImportError without pandas."""
        return frame(self.state(part, **question))

    # -- the log ------------------------------------------------------------------------------

    def events(
        self,
        after: int = 0,
        *,
        types: Sequence[str] = (),
        subjects: Sequence[str] = (),
        known_at: str | None = None,
        page_size: int = PAGE,
    ) -> Iterator[dict[str, Any]]:
        """Every stored event after `after` that passes the filters, in position order, page
        by page until the server says the scan is done (`next_after` null)."""
        cursor: int | None = after
        while cursor is not None:
            params: Params = [("after", cursor), ("limit", page_size)]
            params += [("type", t) for t in types] + [("subject", s) for s in subjects]
            if known_at is not None:
                params.append(("known_at", known_at))
            page = self.get_json("/events", params)
            yield from page["events"]
            cursor = page["next_after"]

    def event(self, event_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get_json(f"/events/{event_id}")
        return result

    def head(self, size: int | None = None) -> dict[str, Any]:
        """The Merkle tree head (`GET /audit/head`): keep it to check an export against."""
        result: dict[str, Any] = self.get_json("/audit/head", None if size is None else [("size", size)])
        return result

    def head_position(self) -> int:
        """The last position stored (from `GET /healthz`, which needs no key)."""
        return int(self.get_json("/healthz")["head"])

    # -- writing ------------------------------------------------------------------------------

    def append(self, event: Mapping[str, Any]) -> dict[str, Any]:
        """Store one envelope; answers the stored event (also when a retry finds it stored).
        An envelope without `id` gets a random UUID before the first try (the caller's
        mapping is not changed; the id is in the answer)."""
        stored: dict[str, Any] = self.request("POST", "/events", body=with_id(event)).json()
        return stored

    def append_batch(self, events: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Store 1 to 1,000 envelopes atomically, all or none; the stored events in order."""
        if not 1 <= len(events) <= MAX_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_BATCH} events, not {len(events)}")
        body = {"events": [with_id(event) for event in events]}
        stored: list[dict[str, Any]] = self.request("POST", "/events/batch", body=body).json()["events"]
        return stored

    # -- the live stream ----------------------------------------------------------------------

    def stream(
        self,
        after: int | None = None,
        *,
        types: Sequence[str] = (),
        subjects: Sequence[str] = (),
        reconnect_delay: float | None = None,
        idle_timeout: float = 45.0,
        state: StreamState | None = None,
    ) -> Iterator[dict[str, Any]]:
        """The live stream: events after `after` (default: the head when called), then each
        new one, in position order, each once, forever. After any drop (a restart, a proxy,
        a network fault, `idle_timeout` seconds without even a ping) it reconnects with
        `Last-Event-ID`: first after `reconnect_delay` (default: the server's `retry:`),
        then with backoff. Pass a `StreamState` to see where it is."""
        if state is None:
            state = StreamState(self.head_position() if after is None else after)
        elif after is not None:
            state.last_position = after
        return follow(
            self.http,
            state,
            types=types,
            subjects=subjects,
            backoff=self.backoff,
            reconnect_delay=reconnect_delay,
            idle_timeout=idle_timeout,
            sleep=self.sleep,
        )

    # -- audit --------------------------------------------------------------------------------

    def export(self, path: str | Path, after: int = 0) -> int:
        """Write `GET /audit/export` to `path` (NDJSON, one stored event a line); returns the
        number of events written. A drop mid-way resumes after the last whole line."""
        written = 0
        attempt = 0
        with open(path, "wb") as out:
            while True:
                attempt += 1
                pending = b""
                try:
                    params: Params = [("after", after + written)]
                    with self.http.stream("GET", "/audit/export", params=params) as response:
                        if response.status_code >= 400:
                            response.read()
                            if response.status_code in RETRY_STATUSES and attempt <= self.retries:
                                self.sleep(self.backoff.delay(attempt))
                                continue
                            raise ProblemError(response.status_code, _problem(response))
                        for chunk in response.iter_bytes():
                            pending += chunk
                            whole, newline, pending = pending.rpartition(b"\n")
                            if newline:
                                out.write(whole + newline)
                                written += whole.count(b"\n") + 1
                    return written
                except httpx.TransportError:
                    if attempt > self.retries:
                        raise
                    self.sleep(self.backoff.delay(attempt))

    verify_export = staticmethod(verify_export)


def with_id(event: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope with an `id`: its own, or a new random UUID."""
    return dict(event) if "id" in event else {"id": str(uuid.uuid4()), **event}
