"""The libraries' private parts this project relies on, checked by name, so that an upgrade
that removes one fails here, loudly, rather than quietly changing what the service does.
Each is pinned in pyproject.toml to the range tested."""

from __future__ import annotations

import inspect
from typing import Annotated

from fastapi import Depends, FastAPI, Query
from fastapi.routing import APIRoute
from sse_starlette import EventSourceResponse

from service.send_watch import WatchedEventSource
from service.strict_inputs import declared_query_parameters


def test_sse_starlette_still_sends_each_message_through_the_hook_we_override() -> None:
    # service/send_watch.py replaces the per-send timeout scope (a third of a send's cost)
    # with its own watch; were the hook renamed, every send would pay for the scope again.
    hook = vars(EventSourceResponse).get("_send_with_timeout")
    assert hook is not None, "sse-starlette no longer has EventSourceResponse._send_with_timeout"
    assert list(inspect.signature(hook).parameters) == ["self", "send", "message"]
    assert "self._send_with_timeout(" in inspect.getsource(EventSourceResponse._stream_response)
    assert vars(WatchedEventSource)["_send_with_timeout"] is not hook


def test_fastapi_still_describes_a_routes_query_parameters_as_strict_inputs_reads_them() -> None:
    # service/strict_inputs.py reads APIRoute.dependant (query_params, dependencies, alias)
    # to refuse parameters a route does not take; starlette puts the route in the scope.
    def shared(page: Annotated[int, Query()] = 1) -> int:
        return page

    app = FastAPI()

    @app.get("/x")
    def endpoint(
        name: str = "", named: Annotated[str, Query(alias="from")] = "", _: int = Depends(shared)
    ) -> None:
        return None

    route = next(r for r in app.routes if isinstance(r, APIRoute) and r.path == "/x")
    assert declared_query_parameters(route) == {"name", "from", "page"}
