"""Audit routes: the streamed export and the chain verification."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from events.errors import FieldError, InvalidInput, NotFound
from events.merkle_store import TreeReader
from events.signing import public_key_base64, public_key_pem, sign_head
from events.store import EventStore
from service.api import Store, require
from service.schemas import KEYED, ConsistencyOut, HeadOut, InclusionOut, KeyOut, VerifyOut, problems
from service.strict_inputs import MAX_BIGINT
from service.verification import verify_database

router = APIRouter(prefix="/audit", tags=["audit"])


def export_lines(store: EventStore, after: int) -> Iterator[str]:
    """One page of NDJSON at a time, each read in its own short transaction. The first page
    is read before the answer starts, so a database that is away is a 503, not a 200 cut
    short (a failure later can only cut the body short, which a reader sees)."""
    pages = store.iter_rows(after=after)
    first = next(pages, None)

    def lines() -> Iterator[str]:
        if first is not None:
            yield "".join(body + "\n" for _, body in first)
        for page in pages:
            yield "".join(body + "\n" for _, body in page)

    return lines()


@router.get(
    "/export",
    dependencies=[Depends(require("read"))],
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/x-ndjson": {}},
            "description": "NDJSON: one stored event (the StoredEventOut shape) a line, in position order",
        },
        **problems(*KEYED, 503),
    },
    summary="The log as NDJSON, streamed",
)
def export(store: Store, after: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0) -> StreamingResponse:
    return StreamingResponse(export_lines(store, after), media_type="application/x-ndjson")


@router.get(
    "/verify",
    dependencies=[Depends(require("admin"))],
    response_model=VerifyOut,
    responses=problems(*KEYED, 503),
    summary="Re-hash the whole log and check the chain (admin)",
)
async def verify(request: Request, store: Store) -> Response:
    verdict = await run_in_threadpool(verify_database, store, tree(request))
    return Response(json.dumps(verdict), media_type="application/json")


def tree(request: Request) -> TreeReader:
    reader: TreeReader = request.app.state.tree
    return reader


def _out_of_range(name: str, message: str) -> InvalidInput:
    return InvalidInput(f"`{name}` is out of range: {message}.", [FieldError(f"/{name}", message, "query")])


def _tree_size(reader: TreeReader, size: int | None, name: str = "size") -> int:
    current = reader.size()
    if size is None:
        return current
    if size > current:
        raise _out_of_range(name, f"the log holds {current} events")
    return size


@router.get(
    "/head",
    dependencies=[Depends(require("read"))],
    response_model=HeadOut,
    responses=problems(*KEYED, 503),
    summary="The Merkle tree head (signed when the operator configured a key)",
)
async def head(
    request: Request,
    size: Annotated[int | None, Query(ge=0, le=MAX_BIGINT, description="Default: the whole log")] = None,
) -> Response:
    reader = tree(request)

    def answer() -> dict[str, object]:
        with reader.reading():
            body = reader.head(_tree_size(reader, size)).as_dict()
        key = request.app.state.signing_key
        return sign_head(body, key) if key is not None else body

    return Response(json.dumps(await run_in_threadpool(answer)), media_type="application/json")


@router.get(
    "/key",
    dependencies=[Depends(require("read"))],
    response_model=KeyOut,
    responses=problems(*KEYED, 404),
    summary="The public key that verifies signed tree heads",
)
async def key(request: Request) -> KeyOut:
    private = request.app.state.signing_key
    if private is None:
        raise NotFound("No signing key is configured (TIMELINE_SIGNING_KEY): heads are not signed.")
    public = private.public_key()
    return KeyOut(
        algorithm="Ed25519", public_key=public_key_base64(public), public_key_pem=public_key_pem(public)
    )


@router.get(
    "/proof/inclusion",
    dependencies=[Depends(require("read"))],
    response_model=InclusionOut,
    responses=problems(*KEYED, 503),
    summary="RFC 9162 inclusion proof of the event at a position in the tree of a size",
)
async def inclusion(
    request: Request,
    position: Annotated[int, Query(ge=1, le=MAX_BIGINT)],
    size: Annotated[int | None, Query(ge=1, le=MAX_BIGINT, description="Default: the whole log")] = None,
) -> InclusionOut:
    reader = tree(request)

    def answer() -> InclusionOut:
        with reader.reading():
            tree_size = _tree_size(reader, size)
            if position > tree_size:
                raise _out_of_range("position", f"the tree of size {tree_size} has no position {position}")
            path = reader.inclusion(position, tree_size)
        return InclusionOut(position=position, tree_size=tree_size, audit_path=path)

    return await run_in_threadpool(answer)


@router.get(
    "/proof/consistency",
    dependencies=[Depends(require("read"))],
    response_model=ConsistencyOut,
    responses=problems(*KEYED, 503),
    summary="RFC 9162 consistency proof between two tree sizes",
)
async def consistency(
    request: Request,
    first: Annotated[int, Query(alias="from", ge=1, le=MAX_BIGINT)],
    second: Annotated[int, Query(alias="to", ge=1, le=MAX_BIGINT)],
) -> ConsistencyOut:
    reader = tree(request)

    def answer() -> ConsistencyOut:
        with reader.reading():
            tree_size = _tree_size(reader, second, "to")
            if first > tree_size:
                raise _out_of_range("from", "`from` must not exceed `to`")
            path = reader.consistency(first, tree_size)
        return ConsistencyOut(**{"from": first, "to": tree_size}, consistency_path=path)

    return await run_in_threadpool(answer)
