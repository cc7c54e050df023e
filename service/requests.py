"""Reading write bodies: JSON by their media type, the size limit (also for chunked bodies
without a length), and a deadline, so that a body trickled over minutes does not hold a
worker's connection and memory."""

from __future__ import annotations

import asyncio

from fastapi import Request

from events.errors import PayloadTooLarge, RequestTimeout, UnsupportedMediaType


async def read_json_body(request: Request, limit: int, timeout: float) -> bytes:
    require_json(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The body is over {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"The body is over {limit} bytes.")
                chunks.append(chunk)
    except TimeoutError:
        raise RequestTimeout(
            f"The body did not arrive within {timeout:g} s ({size} bytes received); nothing was written."
        ) from None
    return b"".join(chunks)


def require_json(request: Request) -> None:
    """A write body must say it is JSON (`application/json` or a `+json` type such as
    `application/merge-patch+json`), or say nothing; a form or text body is refused before
    it is read, rather than parsed as JSON."""
    declared = request.headers.get("content-type")
    if declared is None:
        return
    media = declared.split(";", 1)[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        return
    raise UnsupportedMediaType(
        f"The body is {media or 'of no media type'}; this endpoint takes application/json.",
        accepts=["application/json"],
    )
