"""The application factory: nothing connects to a database until the app starts."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import JSONResponse, Response

from events.merkle_store import TreeReader
from events.recorders import make_engine
from events.signing import load_private_key
from events.store import EventStore
from events.types import submission_json_schema
from service import (
    admin_api,
    api,
    audit,
    export_api,
    interop,
    metrics,
    problems,
    runtime,
    state_api,
    stream,
    web,
)
from service.auth import ApiKeys
from service.config import Settings, get_settings
from service.group_commit import GroupCommit
from service.listener import Listener
from service.logs import StripAccessToken, install_app_logging, install_redaction
from service.malloc_arenas import cap_arenas
from service.rate_limits import RateLimits, document_rate_limits, enforce_rate_limits
from service.read_model import RebuildStatus
from service.request_log import RequestLog
from service.schemas import PROBLEM_SCHEMAS, Health
from service.schemas import problems as problem_responses
from service.send_watch import SendWatch
from service.stream_limits import StreamLimits
from service.strict_inputs import refuse_unknown_parameters
from service.tail import Tail
from service.valid_days import ValidDays
from service.wiring import build_store

logger = logging.getLogger("timeline")
DESCRIPTION = """An event-sourced timeline of wars and peace processes.

Every reported development is an immutable event in one append-only,
hash-chained log. docs/api.md in the repository is the whole reference."""


def warm_valid_days(days: ValidDays) -> None:
    try:
        days.until(days.store.cut(None))
    except SQLAlchemyError:
        logger.info("the valid days were not read at start-up; the first request reads them")


def tune_garbage_collector() -> None:
    """A full collection stops the event loop for as long as it scans every tracked object:
    about 200 ms with a thousand stream subscribers, which was the whole tail of the
    stream's latency. The objects made at start-up (modules, schemas, table metadata:
    about 200,000) live as long as the process, so they are frozen out of every scan; and
    young collections run every 10,000 allocations rather than 700, which makes full
    collections about fourteen times rarer. Only for a serving process: a test process
    that builds many apps would keep their leftovers frozen."""
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


# How long shutdown waits for a metrics sample in progress (it may wait for a database
# that is away; its connection is then left to the process's exit).
SAMPLER_GRACE_SECONDS = 5.0


def create_app(settings: Settings | None = None, *, serving: bool = False) -> FastAPI:
    """`serving`: this process exists to serve the app (see `tune_garbage_collector`)."""
    settings = settings or get_settings()
    api_keys = ApiKeys.parse(settings.api_keys)
    signing_key = load_private_key(settings.signing_key) if settings.signing_key else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        store = build_store(engine, after_commit=[metrics.count_appended])
        store.recorder = metrics.timed(store.recorder)  # the append lock's wait, timed
        tail = Tail(
            store,
            poll_seconds=settings.stream_poll_seconds,
            buffer_events=settings.stream_buffer_events,
            coalesce_seconds=settings.stream_coalesce_ms / 1000,
            tick_seconds=settings.stream_ping_seconds / 4,
        )
        send_watch = SendWatch(settings.stream_send_timeout_seconds)
        app.state.send_watch = send_watch
        tail.on_rows.append(metrics.observe_delivery)
        store.after_commit.append(lambda _appended: tail.wake())  # this process's appends, at once
        listener = Listener(settings.database_url, tail.wake) if store.recorder.notifies else None
        app.state.engine, app.state.store, app.state.tail, app.state.listener = engine, store, tail, listener
        app.state.group_commit = GroupCommit(store)
        app.state.shutdown = anyio.Event()
        app.state.tree = TreeReader(engine)
        app.state.valid_days = ValidDays(store)

        async def close_streams_on_shutdown() -> None:
            await app.state.shutdown.wait()
            tail.close_streams()

        closer = asyncio.create_task(close_streams_on_shutdown(), name="timeline-stream-closer")
        try:
            await tail.start()
        except SQLAlchemyError:
            logger.warning("the database is not answering at start-up; the stream will catch up")
            tail.start_without_head()
        if listener is not None:
            listener.start()
        send_watch.start()
        stop_sampling = asyncio.Event()
        sampler = asyncio.create_task(metrics.sample_forever(app, stop_sampling), name="timeline-metrics")
        if serving:
            tune_garbage_collector()
            # The date control's days, read once from the whole log (seconds at a million
            # events), so that the first viewer to open the page does not wait for them.
            threading.Thread(target=warm_valid_days, args=(app.state.valid_days,), daemon=True).start()
        try:
            yield
        finally:
            closer.cancel()
            stop_sampling.set()
            # A sample in progress ends and returns its connection before the engine is
            # disposed; one stuck on a database that is away is given up on after a while.
            try:
                await asyncio.wait_for(asyncio.shield(sampler), SAMPLER_GRACE_SECONDS)
            except Exception:  # timed out, or the sampler failed
                sampler.cancel()
            if listener is not None:
                await listener.stop()
            await tail.stop()
            await send_watch.stop()  # after the streams end: they may stall while ending
            engine.dispose()
            metrics.process_exited()

    app = FastAPI(
        title="Timeline service",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by `web`, from assets shipped in the package rather than a CDN
        redoc_url=None,
        # Budgets first, so that malformed requests are counted too; then a query parameter an
        # endpoint does not take is refused, never ignored.
        dependencies=[Depends(enforce_rate_limits), Depends(refuse_unknown_parameters)],
    )
    app.state.settings = settings
    app.state.api_keys = api_keys
    app.state.signing_key = signing_key
    app.state.rebuild = RebuildStatus()
    app.state.stream_limits = StreamLimits(settings.stream_max_per_client)
    app.state.rate_limits = RateLimits(settings.rate_writes_per_minute, settings.rate_reads_per_minute)
    problems.install(app)
    app.include_router(stream.router)  # before /events/{event_id}, which would take "stream"
    app.include_router(api.router)
    app.include_router(audit.router)
    app.include_router(state_api.router)
    app.include_router(runtime.router)
    app.include_router(admin_api.router)
    app.include_router(export_api.router)
    app.include_router(metrics.router)
    web.install(app)
    install_redaction()
    install_app_logging(settings.log_level)

    @app.get(
        "/healthz",
        response_model=Health,
        responses={503: {"model": Health}, **problem_responses()},
        tags=["operations"],
    )
    async def healthz(request: Request) -> Response:
        store: EventStore = request.app.state.store
        try:
            head = await run_in_threadpool(store.head)
        except SQLAlchemyError:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok", "head": head.position if head else 0})

    app.add_middleware(RequestLog)  # inside StripAccessToken: the query it logs has no token
    app.add_middleware(StripAccessToken)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the submission schemas our handlers parse themselves."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    template = "#/components/schemas/{model}"
    submission = submission_json_schema(template)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(submission.pop("$defs", {}))
    components.update(PROBLEM_SCHEMAS)
    components["Submission"] = submission
    document_rate_limits(schema)
    components["BatchSubmission"] = {
        "type": "object",
        "required": ["events"],
        "additionalProperties": False,
        "properties": {
            "events": {
                "type": "array",
                "minItems": 1,
                "maxItems": api.MAX_BATCH,
                "items": {"$ref": "#/components/schemas/Submission"},
            }
        },
    }
    interop.describe(schema)  # the CloudEvents forms (docs/api.md §13)
    app.openapi_schema = schema
    return schema


def app_from_environment() -> FastAPI:
    """For `uvicorn --factory` and worker processes: settings from the environment."""
    settings = Settings()
    cap_arenas(settings.malloc_arenas)  # before the process starts its threads
    return create_app(settings, serving=True)
