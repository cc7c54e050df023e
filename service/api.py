"""HTTP routes for writing and reading events. Thin: parse, call the store, shape."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from events.drafts import draft_or_refusal, drafts_from_batch
from events.envelope import StoredEvent
from events.errors import FieldError, InvalidInput, NotFound
from events.jsonio import parse_json_noting_form
from events.store import AppendResult, EventStore
from events.types import type_catalog
from service import interop, metrics
from service.auth import ApiKeys, bearer_token
from service.group_commit import GroupCommit
from service.requests import read_json_body
from service.schemas import (
    KEYED,
    BatchOut,
    CorrectionsOut,
    DaysOut,
    EventsPage,
    StoredEventOut,
    SubjectPage,
    TypesOut,
    problems,
)
from service.state_query import query_instant, resolve
from service.strict_inputs import MAX_BIGINT, MAX_INT
from service.valid_days import ValidDays

MAX_BATCH = 1000
router = APIRouter()


def get_store(request: Request) -> EventStore:
    store: EventStore = request.app.state.store
    return store


def require(scope: str) -> Callable[[Request], None]:
    def check(request: Request) -> None:
        keys: ApiKeys = request.app.state.api_keys
        keys.authorise(bearer_token(request.headers.get("authorization")), scope)

    return check


Store = Annotated[EventStore, Depends(get_store)]


async def read_body(request: Request) -> bytes:
    settings = request.app.state.settings
    return await read_json_body(request, settings.max_body_bytes, settings.body_timeout_seconds)


JSON = "application/json"


def json_response(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type=JSON)


def events_json(events: Sequence[StoredEvent]) -> str:
    return "[" + ",".join(e.body for e in events) + "]"


def submission_body(schema: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        }
    }


@router.post(
    "/events",
    status_code=201,
    response_model=StoredEventOut,
    dependencies=[Depends(require("write"))],
    responses={
        200: {"model": StoredEventOut, "description": "Already stored (idempotent retry)"},
        **problems(*KEYED, 408, 409, 413, 415, 422, 503),
    },
    openapi_extra=submission_body("Submission"),
    summary="Append one event",
)
async def post_event(request: Request, store: Store) -> Response:
    raw = await read_body(request)

    group: GroupCommit = request.app.state.group_commit

    def append() -> AppendResult:
        envelope, fast_form = parse_json_noting_form(raw)
        item = draft_or_refusal(envelope, fast_form_known=fast_form)
        with metrics.timing_append("single"):
            return group.append(item)

    result = await run_in_threadpool(append)
    return json_response(result.events[0].body, 201 if result.stored else 200)


_IN_EVENT = re.compile(r"/events/([0-9]+)(?:/|$)")


def in_batch_event(exc: InvalidInput) -> InvalidInput:
    """A strict-input refusal of a batch body (found while parsing, before any event is
    checked) names the first event it lies in as `index`, as every other refusal of a batch
    does; one outside the events (the batch's own keys, broken JSON) names none."""
    found = [_IN_EVENT.match(error.path) for error in exc.errors]
    if not exc.errors or "index" in exc.extra or not all(found):
        return exc
    exc.extra["index"] = min(int(match.group(1)) for match in found if match)
    return exc


@router.post(
    "/events/batch",
    status_code=201,
    response_model=BatchOut,
    dependencies=[Depends(require("write"))],
    responses={
        200: {"model": BatchOut, "description": "Every event was already stored"},
        **problems(*KEYED, 408, 409, 413, 415, 422, 503),
    },
    openapi_extra=submission_body("BatchSubmission"),
    summary="Append 1 to 1,000 events atomically",
)
async def post_batch(request: Request, store: Store) -> Response:
    raw = await read_body(request)
    names = interop.naming(request)

    def append() -> AppendResult:
        try:
            body, fast_form = parse_json_noting_form(raw)
        except InvalidInput as exc:
            raise in_batch_event(exc) from None
        if interop.sends_batch(request):  # CloudEvents whose data are envelopes (docs/api.md §13)
            return interop.append_batch(store, body, fast_form, names, MAX_BATCH)
        if not isinstance(body, dict) or set(body) != {"events"}:
            raise InvalidInput(
                "A batch is an object with one key, `events`.",
                [FieldError("", 'expected {"events": [...]}')],
            )
        items = body["events"]
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
            raise InvalidInput(
                f"A batch holds 1 to {MAX_BATCH} events.",
                [FieldError("/events", f"expected a list of 1 to {MAX_BATCH} events")],
            )
        drafts = drafts_from_batch(items, fast_form_known=fast_form)
        metrics.BATCH_EVENTS.observe(len(items))
        with metrics.timing_append("batch"):
            return store.append(drafts, batch=True)

    result = await run_in_threadpool(append)
    if interop.wants_batch(request):
        return interop.batch_response(request, result.events, 201 if result.stored else 200)
    return json_response('{"events":' + events_json(result.events) + "}", 201 if result.stored else 200)


@router.get(
    "/events",
    response_model=EventsPage,
    dependencies=[Depends(require("read"))],
    responses=problems(*KEYED, 503),
    summary="Read the log in position order",
)
def list_events(
    request: Request,
    store: Store,
    after: Annotated[int, Query(ge=0, le=MAX_BIGINT, description="Start after this position")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    type: Annotated[list[str] | None, Query(description="Full type or prefix ending in '.'")] = None,
    subject: Annotated[list[str] | None, Query()] = None,
    known_at: Annotated[str | None, Query(description="Cut by recorded_at")] = None,
) -> Response:
    page = store.read(
        after=after,
        limit=limit,
        types=type or (),
        subjects=subject or (),
        known_at=query_instant("known_at", known_at),
    )
    if interop.wants_batch(request):  # Accept: application/cloudevents-batch+json (docs/api.md §13)
        return interop.page_response(request, page)
    next_after = "null" if page.next_after is None else str(page.next_after)
    response = json_response('{"events":' + events_json(page.events) + ',"next_after":' + next_after + "}")
    response.headers["Vary"] = "Accept"
    return response


@router.get(
    "/events/days",
    response_model=DaysOut,
    dependencies=[Depends(require("read"))],
    responses=problems(*KEYED, 503),
    summary="The days on which events begin in valid time",
    description="Each UTC day (YYYY-MM-DD, ascending) on which the occurred_from of an event recorded "
    "by known_at falls, corrected or not: what the viewer's date control snaps to.",
)
def event_days(
    request: Request,
    store: Store,
    known_at: Annotated[str | None, Query(description="Cut by recorded_at; default: the head")] = None,
) -> dict[str, Any]:
    cut = resolve(store, None, known_at)
    days: ValidDays = request.app.state.valid_days
    return {"known_at": cut.known_at, "position": cut.position, "days": days.until(cut.position)}


def canonical_event_id(event_id: str) -> str:
    try:
        return str(uuid.UUID(event_id))
    except ValueError:
        raise NotFound(f"No event {event_id!r}: ids are UUIDs.") from None


@router.get(
    "/events/{event_id}",
    response_model=StoredEventOut,
    dependencies=[Depends(require("read"))],
    responses=problems(*KEYED, 404, 503),
    summary="One stored event",
)
def get_event(event_id: str, store: Store) -> Response:
    canonical_id = canonical_event_id(event_id)
    event = store.get(canonical_id)
    if event is None:
        raise NotFound(f"No event {canonical_id} is stored.")
    return json_response(event.body)


@router.get(
    "/events/{event_id}/corrections",
    response_model=CorrectionsOut,
    dependencies=[Depends(require("read"))],
    responses=problems(*KEYED, 404, 503),
    summary="The events that supersede or retract one event",
    description="Every event whose `supersedes` or (for `event.retracted`) `target_event_id` names "
    "this one, recorded by known_at, in position order; whether each is in effect follows from "
    "their own corrections (docs/api.md §5).",
)
def event_corrections(
    event_id: str,
    store: Store,
    known_at: Annotated[str | None, Query(description="Cut by recorded_at; default: the head")] = None,
) -> Response:
    canonical_id = canonical_event_id(event_id)
    if store.get(canonical_id) is None:
        raise NotFound(f"No event {canonical_id} is stored.")
    until = store.cut(query_instant("known_at", known_at)) if known_at is not None else None
    return json_response('{"events":' + events_json(store.correctors(canonical_id, until)) + "}")


@router.get(
    "/subjects/{subject}/events",
    response_model=SubjectPage,
    dependencies=[Depends(require("read"))],
    responses=problems(*KEYED, 503),
    summary="One subject's events by version",
)
def subject_events(
    subject: str,
    store: Store,
    after_version: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    page = store.read_subject(subject, after_version=after_version, limit=limit)
    next_after = "null" if page.next_after is None else str(page.next_after)
    return json_response(
        '{"events":' + events_json(page.events) + ',"next_after_version":' + next_after + "}"
    )


@router.get(
    "/types",
    response_model=TypesOut,
    dependencies=[Depends(require("read"))],
    responses=problems(*KEYED),
    summary="The event catalog with each type's data JSON Schema",
)
def list_types() -> dict[str, Any]:
    return {"types": type_catalog()}
