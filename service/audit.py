"""Audit routes: the streamed export and the chain verification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from events.store import EventStore
from events.verify import ChainVerifier, Verdict
from service.api import Store, require
from service.schemas import VerifyOut, problems

router = APIRouter(prefix="/audit", tags=["audit"])


def export_lines(store: EventStore, after: int) -> Iterator[str]:
    """One page of NDJSON at a time, each read in its own short transaction."""
    for page in store.iter_rows(after=after):
        yield "".join(body + "\n" for _, body in page)


def verify_store(store: EventStore) -> Verdict:
    verifier = ChainVerifier()
    for page in store.iter_rows():
        for position, body in page:
            if not verifier.feed(body, row_position=position):
                return verifier.verdict()
    return verifier.verdict()


@router.get(
    "/export",
    dependencies=[Depends(require("read"))],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/x-ndjson": {}}, "description": "One stored event a line"},
        **problems(401, 403, 422),
    },
    summary="The log as NDJSON, streamed",
)
def export(store: Store, after: Annotated[int, Query(ge=0)] = 0) -> StreamingResponse:
    return StreamingResponse(export_lines(store, after), media_type="application/x-ndjson")


@router.get(
    "/verify",
    dependencies=[Depends(require("admin"))],
    response_model=VerifyOut,
    responses=problems(401, 403),
    summary="Re-hash the whole log and check the chain (admin)",
)
async def verify(store: Store) -> Response:
    verdict = await run_in_threadpool(verify_store, store)
    return Response(json.dumps(verdict.as_dict()), media_type="application/json")
