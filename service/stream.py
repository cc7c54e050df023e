"""`GET /events/stream`: Server-Sent Events (docs/api.md §9).

Catch-up and live are one loop over the log by position (`position >
cursor`), so there is no gap, duplicate or reordering at the hand-over,
whatever is appended meanwhile. Subscribers at the head are served from the
process's tail reader; those behind page from the database themselves.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError
from sse_starlette import ServerSentEvent
from starlette.responses import StreamingResponse

from events.store import EventStore, Row
from service import interop
from service.auth import ApiKeys, bearer_token
from service.config import Settings
from service.formats.cloudevents import as_cloudevents
from service.logs import ACCESS_TOKEN
from service.schemas import KEYED, problems
from service.send_watch import WatchedEventSource
from service.stream_limits import StreamLimits, client_of_request
from service.strict_inputs import MAX_BIGINT
from service.tail import Message, Tail, encode

router = APIRouter(tags=["stream"])
PAGE = 500
CHECKPOINT_EVERY_SECONDS = 1.0
SHUTDOWN_GRACE_SECONDS = 2.0

Matcher = Callable[[Row], bool]
T = TypeVar("T")
HTTP_WHITESPACE = " \t"  # RFC 9110 §5.6.3: OWS
_POSITION = re.compile(r"[0-9]{1,18}")  # ASCII only: str.isdigit() also takes '²' and other scripts' digits


def matcher(types: Sequence[str], subjects: Sequence[str]) -> Matcher | None:
    """OR within a parameter, AND between them; None when nothing is filtered."""
    if not types and not subjects:
        return None
    exact = {t for t in types if not t.endswith(".")}
    prefixes = tuple(t for t in types if t.endswith("."))
    wanted_subjects = set(subjects)

    def matches(row: Row) -> bool:
        if types and not (row.type in exact or row.type.startswith(prefixes)):
            return False
        return not subjects or row.subject in wanted_subjects

    return matches


def start_after(last_event_id: str | None, after: int | None) -> int | None:
    """Last-Event-ID wins over `after`; a Last-Event-ID that is not a number is ignored.
    Only HTTP's white space (space, tab) around the digits is allowed: `str.strip()` would
    also take a no-break space, U+0085 or the separators U+001C-U+001F (which a latin-1
    header can carry) and read `\xa05` as 5."""
    if last_event_id is None:
        return after
    value = last_event_id.strip(HTTP_WHITESPACE)
    return int(value) if _POSITION.fullmatch(value) else after


def checkpoint(position: int) -> bytes:
    """An `id:`-only message: moves the client's Last-Event-ID past filtered-out events."""
    return f"id: {position}\r\n\r\n".encode()


PING = ServerSentEvent(comment="ping").encode()


async def subscription(
    store: EventStore,
    tail: Tail,
    cursor: int | None,
    matches: Matcher | None,
    settings: Settings,
    start: int | None = None,
) -> AsyncGenerator[bytes, None]:
    """The messages of one stream. It pings when idle itself, on the tail's ticks, rather
    than with sse-starlette's ping task: a task and a timer less per subscriber.

    `cursor` None: the database did not answer when the stream opened; the stream starts
    after `start` (or at the head) once it does, and is kept alive meanwhile. A stream
    that was open when the database went away ends (`Tail.outages`)."""
    tail.subscribers += 1
    outages = tail.outages
    try:
        yield ServerSentEvent(retry=settings.stream_retry_ms).encode()
        last_write = time.monotonic()
        while cursor is None:  # the database was away when the stream opened
            head = await _from_database(tail, store.head)
            if not isinstance(head, _Away):
                head_position = head.position if head else 0
                cursor = head_position if start is None or start > head_position else start
                outages = tail.outages
            elif tail.closing:
                return
            elif time.monotonic() - last_write + tail.tick_seconds >= settings.stream_ping_seconds:
                yield PING
                last_write = time.monotonic()
            else:
                await tail.wait_tick()
        last_id_sent, last_id_time = cursor, time.monotonic()
        while not tail.closing and tail.outages == outages:
            frame = tail.frame_after(cursor) if matches is None else None
            if frame is not None:  # at the head, unfiltered: the read's bytes as they are
                cursor, joined = frame
                yield joined
                last_id_sent, last_id_time = cursor, time.monotonic()
                last_write = last_id_time
                continue
            messages = tail.after(cursor, PAGE)
            from_database = messages is None
            away = False
            if messages is None:  # behind the tail's buffer: page from the database
                rows = await _from_database(tail, store.rows_after, cursor, PAGE)
                if isinstance(rows, _Away):
                    if tail.outages != outages:
                        break  # open when the database went away: end; the client resumes
                    rows, away = [], True  # opened during the outage: wait for its end
                messages = [Message(row, encode(row)) for row in rows]
            if messages:
                chosen = messages if matches is None else [m for m in messages if matches(m.row)]
                cursor = messages[-1].row.position
                if chosen:
                    yield b"".join(m.encoded for m in chosen)
                    last_id_sent, last_id_time = chosen[-1].row.position, time.monotonic()
                    last_write = last_id_time
                if cursor > last_id_sent and (
                    from_database or time.monotonic() - last_id_time >= CHECKPOINT_EVERY_SECONDS
                ):
                    yield checkpoint(cursor)
                    last_id_sent, last_id_time = cursor, time.monotonic()
                    last_write = last_id_time
                continue
            if cursor > last_id_sent:
                yield checkpoint(cursor)
                last_id_sent, last_id_time = cursor, time.monotonic()
                last_write = last_id_time
            # Woken at least every tick: ping when waiting for the next one could overshoot.
            if time.monotonic() - last_write + tail.tick_seconds >= settings.stream_ping_seconds:
                yield PING
                last_write = time.monotonic()
                continue
            await (tail.wait_tick() if away else tail.wait_beyond(cursor))
    finally:
        tail.subscribers -= 1


class _Away:
    """What `_from_database` answers when the database did not."""


_AWAY = _Away()


async def _from_database(tail: Tail, read: Callable[..., T], *args: object) -> T | _Away:
    try:
        answer = await run_in_threadpool(read, *args)
    except SQLAlchemyError:
        tail.database_failed()
        return _AWAY
    tail.database_answered()
    return answer


class EventStreamDocs(StreamingResponse):
    """Names the stream's media type for the OpenAPI document (instead of application/json);
    the route answers a `WatchedEventSource` itself, so this class is never instantiated."""

    media_type = "text/event-stream"


@router.get(
    "/events/stream",
    response_class=EventStreamDocs,
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    # Before OpenAPI 3.2's itemSchema, an event stream's schema describes
                    # each event: its fields as the SSE parser reads them.
                    "schema": {
                        "type": "object",
                        "description": "One message: `retry:` alone first; then per event `id:` (its "
                        "position), `event:` (its type) and `data:` (the stored event); `id:`-only "
                        "checkpoints past filtered-out events; `: ping` comments when idle",
                        "properties": {
                            "id": {"type": "string", "pattern": "^[0-9]+$"},
                            "event": {"type": "string"},
                            "data": {
                                "type": "string",
                                "contentMediaType": "application/json",
                                # An anyOf of the two components' refs here made the fuzzer's
                                # coverage phase hit a CPython 3.11 SystemError in ast.parse.
                                "contentSchema": {
                                    "type": "object",
                                    "required": ["id"],
                                    "description": "The stored event (StoredEventOut); with "
                                    "format=cloudevents, it as a CloudEvent",
                                },
                            },
                            "retry": {"type": "integer", "minimum": 0},
                        },
                    }
                }
            },
            "description": "The stream; it ends only when the client or the server closes it",
        },
        **problems(*KEYED, 429, 503),
    },
    summary="The live stream of events (Server-Sent Events)",
)
async def stream(
    request: Request,
    after: Annotated[
        int | None, Query(ge=0, le=MAX_BIGINT, description="Start after this position (default: the head)")
    ] = None,
    type: Annotated[
        list[str] | None, Query(description="Full type or prefix ending in '.'; repeatable")
    ] = None,
    subject: Annotated[list[str] | None, Query(description="Repeatable")] = None,
    access_token: Annotated[
        str | None, Query(description="The read key, for EventSource clients that cannot send headers")
    ] = None,
    last_event_id: Annotated[str | None, Header(description="Resume after this position")] = None,
    format: Annotated[
        Literal["cloudevents"] | None,
        Query(description="`cloudevents`: each `data:` is the event as a CloudEvent (docs/api.md §13)"),
    ] = None,
) -> WatchedEventSource:
    keys: ApiKeys = request.app.state.api_keys
    # The token was taken out of the query string before anything could log it (service/logs.py).
    token = request.scope.get("state", {}).get(ACCESS_TOKEN) or access_token
    key = bearer_token(request.headers.get("authorization")) or token
    keys.authorise(key, "read")
    store: EventStore = request.app.state.store
    tail: Tail = request.app.state.tail
    settings: Settings = request.app.state.settings

    start = start_after(last_event_id, after)
    cursor: int | None
    try:
        head = await run_in_threadpool(store.head)
    except SQLAlchemyError:
        # Never a 503 here: EventSource gives up for good on an error answer. The stream
        # opens and waits for the database; the tail's buffer may already serve it.
        tail.database_failed()
        cursor = start if start is not None and start <= tail.head else None
    else:
        head_position = head.position if head else 0
        cursor = head_position if start is None or start > head_position else start
    limits: StreamLimits = request.app.state.stream_limits
    client = client_of_request(request, keys)  # a valid key, else the address
    found = subscription(store, tail, cursor, matcher(type or (), subject or ()), settings, start)
    messages = as_cloudevents(found, interop.naming(request)) if format == "cloudevents" else found
    limits.enter(client)  # last: nothing after it can fail before the stream runs
    return WatchedEventSource(
        messages,
        watch=request.app.state.send_watch,  # times the sends: no timer per send
        on_close=lambda: limits.leave(client),
        ping=0,  # `subscription` pings
        send_timeout=None,
        headers={"Cache-Control": "no-store"},
        # On shutdown sse-starlette sets this event; the app then ends every stream with a
        # proper last chunk, and clients reconnect to another process with Last-Event-ID.
        shutdown_event=request.app.state.shutdown,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
    )
