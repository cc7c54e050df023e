"""HTTP routes for state at (as_of, known_at). Thin: the answers come from `state_query`.

Caching: an answer cut at an explicit known_at before the last committed event can never
change (no event recorded later can count), so it gets a strong ETag from everything
that decides it and `Cache-Control: public, max-age=31536000, immutable`; any other
answer gets an ETag from the head position and `no-cache`. `If-None-Match` is answered
304 without assembling the answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from events.errors import FieldError, InvalidInput
from events.store import EventStore
from projections.windows import Page, Window
from service import state_query
from service.api import Store, require
from service.schemas import KEYED, problems
from service.state_query import Cut, Question

router = APIRouter(prefix="/state", tags=["state"], dependencies=[Depends(require("read"))])
# Bumped whenever a rule, a shape or the rendering of an answer changes, so that no cache
# keeps an answer the service would no longer give.
RULES_VERSION = "2"
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_LIST_LIMIT = 10_000
MAX_PAGE = 1_000

AsOf = Annotated[
    str | None,
    Query(
        description="Valid time: an RFC 3339 date-time with an offset, or a date D meaning "
        "D 23:59:59.999999Z. Default: now."
    ),
]
KnownAt = Annotated[
    str | None,
    Query(description="System time, same forms. Default: the last committed event's recorded_at."),
]
Since = Annotated[
    str | None,
    Query(
        description="Window on the lists that grow with the log (proposals, ceasefires, rounds, "
        "meetings, statements): items whose since is at or after this (a date D: D 00:00Z)."
    ),
]
Until = Annotated[
    str | None,
    Query(description="Window: items whose since is before this (a date D: the end of D, exclusive)."),
]
Limit = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_LIST_LIMIT,
        description="Window: the latest N items of each windowed list; `more` names the lists it shortened.",
    ),
]
AreasAfter = Annotated[str | None, Query(description="A page of areas: those after this name")]
AreasLimit = Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="A page of areas: at most N")]
TracksAfter = Annotated[str | None, Query(description="A page of tracks: those after this name")]
TracksLimit = Annotated[int | None, Query(ge=1, le=MAX_PAGE, description="A page of tracks: at most N")]
ERRORS = problems(*KEYED, 503)
CACHED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the answer has the ETag sent in If-None-Match"}
}


def window_of(since: str | None, until: str | None, limit: int | None) -> Window:
    window = Window(
        state_query.window_bound("since", since, end=False),
        state_query.window_bound("until", until, end=True),
        limit,
    )
    if window.since is not None and window.until is not None and window.until <= window.since:
        raise InvalidInput(
            "The window is empty.", [FieldError("/until", "until must come after since", "query")]
        )
    return window


def etag_of(cut: Cut, request: Request, final: bool) -> str:
    """From the resolved cut, the path, its parameters other than the instants (already
    resolved) and the rules' version; one that may change also names the head."""
    given = sorted((k, v) for k, v in request.query_params.multi_items() if k not in ("as_of", "known_at"))
    key = json.dumps([RULES_VERSION, request.url.path, cut.as_of, cut.known_at, cut.position, given])
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f'"{digest}"' if final else f'"h{cut.head}-{digest}"'


def matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    return header.strip() == "*" or etag in (tag.strip().removeprefix("W/") for tag in header.split(","))


async def cached_answer(
    request: Request, cut_of: Callable[[], Cut], body_of: Callable[[Cut], str], *, needs_as_of: bool = True
) -> Response:
    """`needs_as_of`: the answer depends on as_of, which must then be given for it to be final
    (without it as_of is now, and the same URL asks another question a moment later)."""
    cut = await run_in_threadpool(cut_of)
    final = cut.final and (not needs_as_of or "as_of" in request.query_params)
    etag = etag_of(cut, request, final)
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE if final else "no-cache"}
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    body = await run_in_threadpool(body_of, cut)
    return Response(body, media_type="application/json", headers=headers)


def as_json(body: dict[str, Any]) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")), media_type="application/json"
    )


async def state_answer(
    request: Request, store: EventStore, as_of: str | None, known_at: str | None, question: Question
) -> Response:
    return await cached_answer(
        request,
        lambda: state_query.resolve(store, as_of, known_at),
        lambda cut: state_query.answer_text(store, cut, question),
    )


@router.get("", responses={**ERRORS, **CACHED}, summary="Territory, talks and diplomacy at (as_of, known_at)")
async def state(
    request: Request,
    store: Store,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = None,
    areas_after: AreasAfter = None,
    areas_limit: AreasLimit = None,
    tracks_after: TracksAfter = None,
    tracks_limit: TracksLimit = None,
) -> Response:
    question = Question(
        window=window_of(since, until, limit),
        areas_page=Page(areas_after, areas_limit),
        tracks_page=Page(tracks_after, tracks_limit),
    )
    return await state_answer(request, store, as_of, known_at, question)


@router.get("/territory", responses={**ERRORS, **CACHED}, summary="Areas at (as_of, known_at)")
async def territory(
    request: Request,
    store: Store,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    area: Annotated[str | None, Query(description="One area, exactly")] = None,
    areas_after: AreasAfter = None,
    areas_limit: AreasLimit = None,
) -> Response:
    question = Question("territory", area=area, areas_page=Page(areas_after, areas_limit))
    return await state_answer(request, store, as_of, known_at, question)


@router.get("/talks", responses={**ERRORS, **CACHED}, summary="Talks tracks at (as_of, known_at)")
async def talks(
    request: Request,
    store: Store,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    track: Annotated[str | None, Query(description="One track, exactly")] = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = None,
    tracks_after: TracksAfter = None,
    tracks_limit: TracksLimit = None,
) -> Response:
    question = Question(
        "talks",
        track=track,
        window=window_of(since, until, limit),
        tracks_page=Page(tracks_after, tracks_limit),
    )
    return await state_answer(request, store, as_of, known_at, question)


@router.get(
    "/diplomacy", responses={**ERRORS, **CACHED}, summary="Meetings and statements at (as_of, known_at)"
)
async def diplomacy(
    request: Request,
    store: Store,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    since: Since = None,
    until: Until = None,
    limit: Limit = None,
) -> Response:
    question = Question("diplomacy", window=window_of(since, until, limit))
    return await state_answer(request, store, as_of, known_at, question)


Part = Annotated[
    Literal["territory", "talks", "diplomacy"] | None,
    Query(description="Compare one part only; default: all three"),
]


@router.get(
    "/changes",
    responses=ERRORS,
    summary="What changed between two (as_of, known_at) pairs",
    description="For each area, track and the diplomacy part: the items in the (as_of, known_at) "
    "answer and not in the (from_as_of, from_known_at) answer (`added`), the reverse (`removed`), "
    "those in both that show otherwise (`changed`), each under its list name and compared by "
    "`event_id`; `status` (and an area's `within`) as `{from, to}` where it differs. Each `from_` "
    "defaults to its counterpart; at least one must be given. See docs/api.md.",
)
async def changes(
    store: Store,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    from_as_of: Annotated[str | None, Query(description="The earlier valid time; default: as_of")] = None,
    from_known_at: Annotated[
        str | None, Query(description="The earlier system time; default: known_at")
    ] = None,
    part: Part = None,
    area: Annotated[str | None, Query(description="One area, exactly")] = None,
    track: Annotated[str | None, Query(description="One track, exactly")] = None,
) -> Response:
    return as_json(
        await run_in_threadpool(
            state_query.changes, store, as_of, known_at, from_as_of, from_known_at, part, area, track
        )
    )


@router.get(
    "/territory/{area}/history",
    responses={**ERRORS, **CACHED},
    summary="One area's state over valid time, as known at known_at",
)
async def territory_history(request: Request, area: str, store: Store, known_at: KnownAt = None) -> Response:
    # The history does not depend on as_of: the cut's is left out of its ETag.
    return await cached_answer(
        request,
        lambda: replace(state_query.resolve(store, None, known_at), as_of=""),
        lambda cut: state_query.history_text(store, area, cut),
        needs_as_of=False,
    )
