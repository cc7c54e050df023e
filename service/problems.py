"""RFC 9457 problem responses for every error the API returns."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.routing import Match

from events.errors import TimelineError
from events.jsonio import pointer_token
from service.auth import Forbidden, Unauthorized

PROBLEM_TYPE = "https://timeline.invalid/problems/"
logger = logging.getLogger("timeline")


def problem(
    status: int, title: str, detail: str, kind: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    body = {"type": PROBLEM_TYPE + kind, "title": title, "status": status, "detail": detail, **extra}
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="timeline"'}
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def timeline_problem(exc: TimelineError) -> Response:
    extra = dict(exc.extra)
    if exc.errors:
        extra["errors"] = [
            {"path": e.path, "message": e.message, **({"in": e.location} if e.location else {})}
            for e in exc.errors
        ]
    # A refusal that tells the client when to come back (429) carries it as a header too.
    retry = extra.get("retry_after")
    headers = {"Retry-After": str(retry)} if retry is not None else None
    return problem(exc.status, exc.title, exc.detail, exc.kind, headers=headers, **extra)


METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route takes at this path (asked of the router, whatever its nesting)."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes)
    ]


def install(app: FastAPI) -> None:
    async def on_timeline_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, TimelineError)
        return timeline_problem(exc)

    async def on_unauthorized(_: Request, exc: Exception) -> Response:
        return problem(401, "Unauthorized", str(exc), "unauthorized")

    async def on_forbidden(_: Request, exc: Exception) -> Response:
        return problem(403, "Forbidden", str(exc), "forbidden")

    async def on_request_validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = []
        for error in exc.errors():
            where, *rest = error["loc"]
            errors.append(
                {
                    "path": "".join("/" + pointer_token(part) for part in rest),
                    "in": where,
                    "message": error["msg"],
                }
            )
        return problem(
            422, "Invalid input", "The request's parameters are not valid.", "validation", errors=errors
        )

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        title = {404: "Not found", 405: "Method not allowed"}.get(exc.status_code, "Error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # RFC 9110 §15.5.6: every method the path takes (Starlette names only those of
            # the first route that matched it, e.g. POST alone for GET and POST /events).
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(
            exc.status_code, title, str(exc.detail), title.lower().replace(" ", "-"), headers=headers
        )

    async def on_database_error(request: Request, exc: Exception) -> Response:
        logger.error("database error: %s", type(exc).__name__)
        detail = "The database is not answering; try again shortly."
        if request.method == "POST" and request.url.path.startswith("/events"):
            # The connection may have been lost while committing: the client cannot know.
            detail += (
                " If the connection was lost while committing, the write may be stored: send"
                " it again with the same ids, which stores each event once (docs/api.md, Retries"
                " and ids)."
            )
        return problem(503, "Service unavailable", detail, "unavailable", headers={"Retry-After": "5"})

    async def on_client_gone(request: Request, _: Exception) -> Response:
        # Not a failure of ours: one line, no traceback. The answer goes nowhere; nothing
        # was written, since a body is read in full before anything is appended.
        logger.info("client disconnected during its upload: %s %s", request.method, request.url.path)
        return problem(
            400, "Client disconnected", "The body was not received in full.", "client-disconnected"
        )

    async def on_unexpected(_: Request, exc: Exception) -> Response:
        logger.exception("unhandled error", exc_info=exc)
        return problem(500, "Internal error", "The server failed; nothing was written.", "internal")

    app.add_exception_handler(ClientDisconnect, on_client_gone)
    app.add_exception_handler(OperationalError, on_database_error)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(TimelineError, on_timeline_error)
    app.add_exception_handler(Unauthorized, on_unauthorized)
    app.add_exception_handler(Forbidden, on_forbidden)
    app.add_exception_handler(RequestValidationError, on_request_validation)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
