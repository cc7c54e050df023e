"""One JSON log line a request, with a request id echoed in `X-Request-ID`, and the HTTP
metrics by route (docs/operations.md).

A sane incoming `X-Request-ID` (1 to 128 characters of `A-Z a-z 0-9 . _ : -`) is kept,
so that a proxy's id follows the request; anything else is replaced by a new one. Keys
never reach the line: no header is logged but the user agent, and the query string is
logged after `access_token` was taken out of it (service/logs.py) and redacted again.
A stream's line is written when it ends, with its whole duration.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from service.logs import redact
from service.metrics import observe_request

logger = logging.getLogger("timeline.request")
HEADER = "x-request-id"
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"x-request-id":
            text = value.decode("latin-1").strip()
            if _SANE.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex


def route_of(scope: dict[str, Any]) -> str:
    """The route's template (`/events/{event_id}`), never the raw path: one series a route."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else "unmatched"


class RequestLog:
    """Pure ASGI middleware (a streaming response passes through untouched)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope.get("headers", []))
        scope.setdefault("state", {})["request_id"] = request_id
        answer: dict[str, Any] = {"status": 500, "bytes": 0}

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                message["headers"] = [
                    *(h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"),
                    (b"x-request-id", request_id.encode("latin-1")),
                ]
            elif message["type"] == "http.response.body":
                answer["bytes"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope)
            observe_request(route, scope["method"], answer["status"], seconds)
            logger.info("request", extra={"request": self._fields(scope, request_id, route, answer, seconds)})

    @staticmethod
    def _fields(
        scope: dict[str, Any], request_id: str, route: str, answer: dict[str, Any], seconds: float
    ) -> dict[str, Any]:
        query = scope.get("query_string", b"").decode("latin-1")
        client = scope.get("client")
        agent = next(
            (v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == b"user-agent"), None
        )
        return {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope.get("path", ""),
            "query": redact(query) if query else None,
            "route": route,
            "status": answer["status"],
            "bytes": answer["bytes"],
            "duration_ms": round(seconds * 1000, 3),
            "client": client[0] if client else None,
            "user_agent": agent[:200] if agent else None,
        }
