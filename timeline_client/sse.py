"""Server-Sent Events: the lines of a response as messages, and a stream that never
loses its place.

The service sends each event as `id:` (its position), `event:` (its type) and `data:`
(the stored event as one line of JSON), `id:`-only checkpoints past events a filter
left out, `retry:` on connect and `: ping` comments when idle (docs/api.md §9).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx

from timeline_client.errors import ProblemError
from timeline_client.retry import RETRY_STATUSES, Backoff, retry_after_seconds


@dataclass(frozen=True)
class Message:
    id: str | None = None
    event: str | None = None
    data: str | None = None
    retry: int | None = None


def messages(lines: Iterable[str]) -> Iterator[Message]:
    """Parse SSE lines (without their line ends) as the HTML standard does, for the fields
    the service sends; comments are skipped. A message is dispatched at a blank line."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in lines:
        if line == "":
            if fields or data:
                retry = fields.get("retry", "")
                yield Message(
                    id=fields.get("id"),
                    event=fields.get("event"),
                    data="\n".join(data) if data else None,
                    retry=int(retry) if retry.isascii() and retry.isdigit() else None,
                )
            fields, data = {}, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name in ("id", "event", "retry"):
            fields[name] = value


@dataclass
class StreamState:
    """Where a stream stands: what a caller may show or log."""

    last_position: int
    connections: int = 0  # successful connections, the first included
    drops: int = 0  # connections that ended or failed, and attempts refused


def follow(
    http: httpx.Client,
    state: StreamState,
    *,
    types: Sequence[str],
    subjects: Sequence[str],
    backoff: Backoff,
    reconnect_delay: float | None,
    idle_timeout: float,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[dict[str, Any]]:
    """Every event after `state.last_position` that passes the filters, in position order,
    each exactly once, across any number of drops: each (re)connection resumes with
    `Last-Event-ID` (and `after`) at the last position seen, checkpoints included."""
    server_retry: float | None = None
    failures = 0
    timeout = httpx.Timeout(10.0, read=idle_timeout)  # pings come every 15 s at most
    while True:
        params: list[tuple[str, str | int | float | bool | None]] = [("after", state.last_position)]
        params += [("type", t) for t in types] + [("subject", s) for s in subjects]
        headers = {"Accept": "text/event-stream", "Last-Event-ID": str(state.last_position)}
        retry_after: float | None = None
        try:
            with http.stream("GET", "/events/stream", params=params, headers=headers, timeout=timeout) as r:
                if r.status_code in RETRY_STATUSES or r.status_code >= 500:
                    retry_after = retry_after_seconds(r.headers.get("retry-after"))
                elif r.status_code != 200:
                    r.read()
                    raise ProblemError(r.status_code, _problem(r))
                else:
                    state.connections += 1
                    failures = 0
                    for message in messages(r.iter_lines()):
                        if message.retry is not None:
                            server_retry = message.retry / 1000
                        if message.id is None or not (message.id.isascii() and message.id.isdigit()):
                            continue
                        position = int(message.id)
                        if position <= state.last_position:
                            continue  # never the same event twice, whatever a server resends
                        if message.data is not None:
                            event: dict[str, Any] = json.loads(message.data)
                            state.last_position = position
                            yield event
                        else:  # a checkpoint: filtered-out events need not be scanned again
                            state.last_position = position
        except httpx.TransportError:
            pass  # refused, reset, timed out while idle: reconnect
        state.drops += 1
        failures += 1
        first = reconnect_delay if reconnect_delay is not None else server_retry
        if retry_after is None and failures == 1 and first is not None:
            sleep(first)
        else:
            sleep(backoff.delay(failures, retry_after))


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"status": response.status_code, "detail": response.text[:200]}
    return body if isinstance(body, dict) else {"status": response.status_code, "detail": str(body)}
