"""Prometheus metrics: `GET /metrics` (docs/operations.md lists every one).

Counters and histograms are updated where things happen: appends by type and per
transaction (the store's after-commit callback), append latency around the store calls
(service/api.py), the wait for the append lock (a timing wrapper around the store's
recorder, so events/ is not touched), stream delivery lag (each read of the tail),
HTTP requests (service/request_log.py). Gauges of what a process holds (subscribers,
the database pool, the tail's and the log's head, the read model's generation) are
sampled every few seconds by each process, and again by the process answering a scrape.

With several worker processes (`timeline serve --workers N`), prometheus-client's
multiprocess mode adds the processes up: `PROMETHEUS_MULTIPROC_DIR` names a directory
where each process keeps its values, and a scrape of any process reads them all.
`timeline serve` sets it to a fresh directory when N > 1 and it is not set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import select
from sqlalchemy.pool import QueuePool
from starlette.responses import Response

from events.envelope import StoredEvent
from events.instants import parse_instant
from events.recorders.protocol import Recorder, Row
from projections.sql.tables import STATE, read_models
from service.auth import ApiKeys, bearer_token

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger("timeline")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SAMPLE_SECONDS = 2.0
router = APIRouter(tags=["operations"])

SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

EVENTS_APPENDED = Counter("timeline_events_appended", "Events stored, by type", ["type"])
TRANSACTION_EVENTS = Histogram(
    "timeline_append_transaction_events",
    "Events stored per append transaction (a batch, or a group of single appends)",
    buckets=SIZES,
)
BATCH_EVENTS = Histogram("timeline_batch_request_events", "Events per POST /events/batch", buckets=SIZES)
APPEND_SECONDS = Histogram(
    "timeline_append_seconds",
    "Time from a parsed request to the store's answer: validation, lock, commit (kind: single, batch)",
    ["kind"],
    buckets=SECONDS,
)
LOCK_WAIT_SECONDS = Histogram(
    "timeline_append_lock_wait_seconds",
    "Time from the start of an append transaction until the append lock is held and the head read",
    buckets=SECONDS,
)
DELIVERY_LAG_SECONDS = Histogram(
    "timeline_stream_delivery_lag_seconds",
    "Time from an event's recorded_at until this process's tail reader hands it to its subscribers",
    buckets=SECONDS,
)
HTTP_REQUESTS = Counter(
    "timeline_http_requests",
    "HTTP requests answered, by route, method and status",
    ["route", "method", "status"],
)
HTTP_SECONDS = Histogram(
    "timeline_http_request_seconds", "Time to answer an HTTP request, by route", ["route"], buckets=SECONDS
)
SUBSCRIBERS = Gauge("timeline_stream_subscribers", "Open live streams", multiprocess_mode="livesum")
POOL_CHECKED_OUT = Gauge(
    "timeline_db_pool_checked_out", "Database connections in use", multiprocess_mode="livesum"
)
POOL_IDLE = Gauge(
    "timeline_db_pool_idle", "Database connections pooled and idle", multiprocess_mode="livesum"
)
LOG_HEAD = Gauge("timeline_log_head_position", "The last position in the log", multiprocess_mode="livemax")
TAIL_HEAD = Gauge(
    "timeline_stream_tail_position", "The last position a tail reader fetched", multiprocess_mode="livemin"
)
STREAM_LAG = Gauge(
    "timeline_stream_lag_events",
    "Events in the log that a tail reader has not fetched yet",
    multiprocess_mode="livemax",
)
MODEL_GENERATION = Gauge(
    "timeline_read_model_generation", "The read model generation in use", multiprocess_mode="livemax"
)
MODEL_BUILDING = Gauge(
    "timeline_read_model_building_generation",
    "The generation a rebuild is writing, 0 when none",
    multiprocess_mode="livemax",
)
MODEL_STALE = Gauge(
    "timeline_read_model_stale", "1 when the read model must be rebuilt", multiprocess_mode="livemax"
)
MODEL_LAG = Gauge(
    "timeline_read_model_lag_events",
    "Events the read model does not cover yet: 0 outside a rebuild (it is written in the append "
    "transaction); during a rebuild in this process, the events its new generation has still to load",
    multiprocess_mode="livemax",
)

_RECORDED_AT = re.compile(r'"recorded_at":"([^"]+)"')


# -- where things happen --------------------------------------------------------------------------


def count_appended(appended: Sequence[StoredEvent]) -> None:
    """The store's after-commit callback: what one transaction stored."""
    TRANSACTION_EVENTS.observe(len(appended))
    counts: dict[str, int] = {}
    for event in appended:
        counts[event.type] = counts.get(event.type, 0) + 1
    for event_type, count in counts.items():
        EVENTS_APPENDED.labels(event_type).inc(count)


@contextmanager
def timing_append(kind: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        APPEND_SECONDS.labels(kind).observe(time.perf_counter() - started)


def observe_delivery(rows: Sequence[Row]) -> None:
    """The tail reader fetched these rows and is waking its subscribers."""
    now = time.time()
    for row in rows:
        found = _RECORDED_AT.search(row.body)
        if found:
            with contextlib.suppress(ValueError):
                DELIVERY_LAG_SECONDS.observe(max(0.0, now - parse_instant(found.group(1)).timestamp()))


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(route, method, str(status)).inc()
    HTTP_SECONDS.labels(route).observe(seconds)


class TimedRecorder:
    """The store's recorder, timing the wait for the append lock: from entering the append
    transaction (SQLite takes its lock at BEGIN IMMEDIATE) until `begin_append` returns
    (PostgreSQL takes its advisory lock there, in the round trip that also reads the head
    and the batch's lookups). Everything else is the recorder's own."""

    def __init__(self, inner: Recorder) -> None:
        self._inner = inner
        self._started = threading.local()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    @contextmanager
    def append_transaction(self) -> Iterator[Any]:
        self._started.at = time.perf_counter()
        with self._inner.append_transaction() as txn:
            yield txn

    def begin_append(self, txn: Any, questions: Any) -> Any:
        answers = self._inner.begin_append(txn, questions)
        started = getattr(self._started, "at", None)
        if started is not None:
            LOCK_WAIT_SECONDS.observe(time.perf_counter() - started)
            self._started.at = None
        return answers


def timed(recorder: Recorder) -> Recorder:
    return cast(Recorder, TimedRecorder(recorder))


# -- sampled gauges -------------------------------------------------------------------------------


def sample(app: FastAPI) -> None:
    """Set this process's gauges (blocking: it asks the database)."""
    state = app.state
    tail = state.tail
    SUBSCRIBERS.set(tail.subscribers)
    pool = state.engine.pool
    if isinstance(pool, QueuePool):
        POOL_CHECKED_OUT.set(pool.checkedout())
        POOL_IDLE.set(pool.checkedin())
    head = state.store.head()
    position = head.position if head else 0
    LOG_HEAD.set(position)
    TAIL_HEAD.set(tail.head)
    STREAM_LAG.set(max(0, position - tail.head))
    with state.engine.connect() as conn:
        model = conn.execute(select(read_models).where(read_models.c.name == STATE)).one_or_none()
    if model is not None:
        MODEL_GENERATION.set(model.active)
        MODEL_BUILDING.set(model.building or 0)
        MODEL_STALE.set(1 if model.stale else 0)
    rebuild = state.rebuild
    MODEL_LAG.set(max(0, rebuild.total - rebuild.done) if rebuild.status == "running" else 0)


async def sample_forever(app: FastAPI, stop: asyncio.Event) -> None:
    """Sample every SAMPLE_SECONDS until `stop` is set. Stopped, not cancelled: a cancelled
    wait for a thread leaves the thread running, and a sample still reading after the
    engine is disposed would open a connection that nothing closes."""
    while not stop.is_set():
        try:
            await run_in_threadpool(sample, app)
        except Exception:  # the database may be away; the next round tries again
            logger.debug("metrics: sampling failed", exc_info=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)


def process_exited() -> None:
    """Drop this process's live gauges from the shared directory (multiprocess mode)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


# -- the endpoint ---------------------------------------------------------------------------------


def exposition() -> bytes:
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def read_scope(request: Request) -> None:
    keys: ApiKeys = request.app.state.api_keys
    keys.authorise(bearer_token(request.headers.get("authorization")), "read")


@router.get(
    "/metrics",
    dependencies=[Depends(read_scope)],
    summary="Prometheus metrics (docs/operations.md)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> Response:
    with contextlib.suppress(Exception):  # the database may be away: serve what is counted
        await run_in_threadpool(sample, request.app)
    return Response(await run_in_threadpool(exposition), media_type=CONTENT_TYPE_LATEST)
