"""`GET /debug/runtime` (admin): what the process holds, so that leaks can be seen and tested."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool

from service.api import require
from service.listener import Listener
from service.schemas import KEYED, problems
from service.tail import Tail

router = APIRouter(tags=["operations"])


@router.get(
    "/debug/runtime",
    dependencies=[Depends(require("admin"))],
    responses=problems(*KEYED),
    summary="Process internals (admin)",
)
async def debug_runtime(request: Request) -> dict[str, Any]:
    engine: Engine = request.app.state.engine
    tail: Tail = request.app.state.tail
    listener: Listener | None = request.app.state.listener
    pool = engine.pool
    return {
        "pid": os.getpid(),
        "subscribers": tail.subscribers,
        "tasks": len(asyncio.all_tasks()),
        "database_connections": {
            "checked_out": pool.checkedout() if isinstance(pool, QueuePool) else None,
            "pooled": pool.checkedin() if isinstance(pool, QueuePool) else None,
        },
        "tail": {"head": tail.head, "buffered": len(tail.buffer)},
        "stalled_clients_disconnected": request.app.state.send_watch.dropped,
        "limits": {
            "slow_stream_clients_dropped": request.app.state.send_watch.dropped,
            "streams_refused": request.app.state.stream_limits.refused,
            "rate_limited": dict(request.app.state.rate_limits.refused),
        },
        "listener": None
        if listener is None
        else {
            "connected": listener.connected,
            "connections": listener.connections,
            "notifications": listener.notifications,
        },
    }
