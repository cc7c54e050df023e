"""HTTP routes for state at (as_of, known_at). Thin: the answers come from `state_query`."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response

from service import state_query
from service.api import Store, require
from service.schemas import problems

router = APIRouter(prefix="/state", tags=["state"], dependencies=[Depends(require("read"))])

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
ERRORS = problems(401, 403, 422)


def as_json(body: dict[str, Any]) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, separators=(",", ":")), media_type="application/json"
    )


@router.get("", responses=ERRORS, summary="Territory, talks and diplomacy at (as_of, known_at)")
async def state(store: Store, as_of: AsOf = None, known_at: KnownAt = None) -> Response:
    return as_json(await run_in_threadpool(state_query.state, store, as_of, known_at))


@router.get("/territory", responses=ERRORS, summary="Areas at (as_of, known_at)")
async def territory(
    store: Store,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    area: Annotated[str | None, Query(description="One area, exactly")] = None,
) -> Response:
    return as_json(await run_in_threadpool(state_query.state, store, as_of, known_at, "territory", area))


@router.get("/talks", responses=ERRORS, summary="Talks tracks at (as_of, known_at)")
async def talks(
    store: Store,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    track: Annotated[str | None, Query(description="One track, exactly")] = None,
) -> Response:
    return as_json(await run_in_threadpool(state_query.state, store, as_of, known_at, "talks", None, track))


@router.get("/diplomacy", responses=ERRORS, summary="Meetings and statements at (as_of, known_at)")
async def diplomacy(store: Store, as_of: AsOf = None, known_at: KnownAt = None) -> Response:
    return as_json(await run_in_threadpool(state_query.state, store, as_of, known_at, "diplomacy"))


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
    responses=ERRORS,
    summary="One area's state over valid time, as known at known_at",
)
async def territory_history(area: str, store: Store, known_at: KnownAt = None) -> Response:
    return as_json(await run_in_threadpool(state_query.history, store, area, known_at))
