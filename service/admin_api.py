"""Admin routes for the read model: rebuild it while the service runs, and watch the rebuild."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse

from events.errors import Conflict
from service.api import Store, require
from service.read_model import RebuildStatus
from service.schemas import KEYED, problems

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require("admin"))])


def _status(request: Request) -> RebuildStatus:
    status: RebuildStatus = request.app.state.rebuild
    return status


@router.post(
    "/rebuild",
    status_code=202,
    responses=problems(*KEYED, 409),
    summary="Rebuild the read model from the log while appends go on (admin)",
)
def start_rebuild(request: Request, store: Store) -> JSONResponse:
    status = _status(request)
    if not status.start(store):
        raise Conflict("A rebuild is already running in this process.", rebuild=status.as_dict())
    return JSONResponse(status.as_dict(), status_code=202, headers={"Location": "/admin/rebuild"})


@router.get("/rebuild", responses=problems(*KEYED), summary="This process's last rebuild (admin)")
def rebuild_status(request: Request) -> dict[str, Any]:
    return _status(request).as_dict()
