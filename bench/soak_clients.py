"""The soak's clients (bench/soak.py): filtered SSE subscribers that keep every position they
receive, writers of singles, batches and corrections, and state readers.

A subscriber is an asyncio Protocol on a raw socket (a thousand of them share one event
loop: no task, no timer and no HTTP library per subscriber). It keeps the position of each
event message, follows the highest id (event or checkpoint) it has read in full, and
reconnects with Last-Event-ID if its connection drops, so that a drop is told apart from a
loss: what it must have, at the end, is the log filtered its way, in order, once each.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
import time
import uuid
from array import array
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlencode

import httpx2 as httpx

Filter = tuple[tuple[str, ...], tuple[str, ...]]  # (types, subjects), as the stream takes them
AREAS = [f"soak-area-{n}" for n in range(1, 7)]
# Every kind of filter the stream takes: none, exact types, prefixes, OR within a parameter,
# subjects, AND between the two. Subscriber i takes FILTERS[i % len(FILTERS)].
FILTERS: list[Filter] = [
    ((), ()),
    (("territory.",), ()),
    (("talks.",), ()),
    (("diplomacy.statement_made",), ()),
    (("talks.", "diplomacy."), ()),
    (("event.retracted",), ()),
    ((), ("soak-area-1",)),
    ((), ("diplomacy", "soak-area-2")),
    (("territory.control_claimed",), ("soak-area-3", "soak-area-4")),
    (("territory.", "event.retracted"), ("soak-area-5",)),
]

_EVENT = re.compile(rb"id: (\d+)\r\nevent: ")
_ANY_ID = re.compile(rb"id: (\d+)\r\n")
_RECORDED = re.compile(rb'id: (\d+)\r\nevent: [^\r]*\r\ndata: [^\r]*?"recorded_at":"([^"]+)"')


def wanted(flt: Filter, event_type: str, subject: str) -> bool:
    """The stream's filter, written again here (not imported) so that the check is independent."""
    types, subjects = flt
    if types and not any(event_type == t or (t.endswith(".") and event_type.startswith(t)) for t in types):
        return False
    return not subjects or subject in subjects


def epoch(instant: str) -> float:
    return datetime.strptime(instant, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


class Subscribers:
    """Every subscriber of the run, on one event loop."""

    def __init__(self, port: int, start: int, count: int, instrumented_every: int) -> None:
        self.port, self.start = port, start
        self.members = [
            Subscriber(self, FILTERS[i % len(FILTERS)], i % instrumented_every == 0) for i in range(count)
        ]
        self.open = 0
        self.reconnects = 0
        self.refusals: list[bytes] = []
        self.closing = False
        self.delivery: list[float] = []  # commit (recorded_at) to receive, seconds
        self._recorded: dict[int, float] = {}
        self._reconnecting: set[asyncio.Task[None]] = set()

    async def connect_all(self, wave: int = 50, seconds: float = 120) -> None:
        loop = asyncio.get_running_loop()
        for first in range(0, len(self.members), wave):
            batch = self.members[first : first + wave]
            await asyncio.gather(
                *(loop.create_connection(_factory(s), "127.0.0.1", self.port) for s in batch)
            )
        deadline = time.monotonic() + seconds
        while self.open < len(self.members):
            if time.monotonic() > deadline or self.refusals:
                raise RuntimeError(f"{self.open} subscribers connected; refusals: {self.refusals[:3]}")
            await asyncio.sleep(0.1)

    def recorded(self, position: int, instant: bytes) -> float:
        found = self._recorded.get(position)
        if found is None:
            found = self._recorded[position] = epoch(instant.decode())
        return found

    def reconnect(self, member: Subscriber) -> None:
        self.reconnects += 1
        loop = asyncio.get_running_loop()

        async def again() -> None:
            while not self.closing:
                await asyncio.sleep(1)
                try:
                    await loop.create_connection(_factory(member), "127.0.0.1", self.port)
                    return
                except OSError:
                    continue

        task = loop.create_task(again())
        self._reconnecting.add(task)
        task.add_done_callback(self._reconnecting.discard)

    def close(self) -> None:
        self.closing = True
        for member in self.members:
            if member.transport is not None:
                member.transport.close()


def _factory(member: Subscriber) -> Callable[[], Subscriber]:
    return lambda: member


class Subscriber(asyncio.Protocol):
    def __init__(self, pool: Subscribers, flt: Filter, instrumented: bool) -> None:
        self.pool, self.filter, self.instrumented = pool, flt, instrumented
        self.received = array("q")  # positions of the event messages, as they came
        self.last_id = pool.start
        self.transport: asyncio.Transport | None = None
        self._buffer = b""
        self._head = True

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport, self._buffer, self._head = cast(asyncio.Transport, transport), b"", True
        types, subjects = self.filter
        query = urlencode(
            [("after", self.pool.start), *(("type", t) for t in types)] + [("subject", s) for s in subjects]
        )
        resume = f"Last-Event-ID: {self.last_id}\r\n" if self.last_id > self.pool.start else ""
        request = (
            f"GET /events/stream?{query} HTTP/1.1\r\nHost: soak\r\nAccept: text/event-stream\r\n{resume}\r\n"
        )
        self.transport.write(request.encode())

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        if self._head:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self._buffer = buffer
                return
            status = buffer[: buffer.find(b"\r\n")]
            if b" 200 " not in status:
                self.pool.refusals.append(status)
                assert self.transport is not None
                self.transport.close()
                return
            self._head = False
            self.pool.open += 1
            buffer = buffer[end + 4 :]
        # Only whole messages: the server writes each in one chunk, so a chunk's size line
        # falls between messages, and "\r\n\r\n" ends one (JSON holds no raw line break).
        cut = buffer.rfind(b"\r\n\r\n")
        if cut < 0:
            self._buffer = buffer
            return
        block, self._buffer = buffer[: cut + 4], buffer[cut + 4 :]
        ids = _ANY_ID.findall(block)
        if ids:
            self.last_id = max(self.last_id, int(ids[-1]))
        self.received.extend(int(p) for p in _EVENT.findall(block))
        if self.instrumented:
            now = time.time()
            for position, instant in _RECORDED.findall(block):
                self.pool.delivery.append(now - self.pool.recorded(int(position), instant))

    def connection_lost(self, exc: Exception | None) -> None:
        if not self._head:
            self.pool.open -= 1
        self.transport = None
        if not self.pool.closing:
            self.pool.reconnect(self)

    def check(self, log: Sequence[tuple[int, str, str]]) -> dict[str, int]:
        """Lost, duplicated and reordered against the log filtered this subscriber's way."""
        expected = [p for p, event_type, subject in log if wanted(self.filter, event_type, subject)]
        got = list(self.received)
        seen = set(got)
        return {
            "expected": len(expected),
            "received": len(got),
            "lost": len(set(expected) - seen),
            "unexpected": len(seen - set(expected)),
            "duplicated": len(got) - len(seen),
            "reordered": sum(1 for a, b in itertools.pairwise(got) if b <= a),
        }


# ---- writers -------------------------------------------------------------------------

SOURCE = {"name": "Soak Wire", "kind": "media"}


def envelope(event_type: str, data: dict[str, Any], **keys: Any) -> dict[str, Any]:
    day = f"2025-04-{random.randint(1, 28):02d}"
    return {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "occurred_at": day,
        "source": SOURCE,
        "data": data,
        **keys,
    }


class Writer:
    """Singles and batches of claims, statements, offers and rejections, and corrections of its
    own events (supersede or retract, one live corrector at a time: only events it has not
    corrected yet), each retried with the same ids until stored."""

    def __init__(self, number: int, rng: random.Random) -> None:
        self.number, self.rng = number, rng
        self.correctable: list[dict[str, Any]] = []  # stored, never corrected
        self.offers: list[str] = []  # stored offers not yet rejected
        self.single_seconds: list[float] = []
        self.batch_seconds: list[float] = []
        self.positions: list[int] = []
        self.failures: list[str] = []
        self.corrections = {"superseded": 0, "retracted": 0}

    def claim(self) -> dict[str, Any]:
        side = self.rng.choice(("ru", "ua"))
        extent = self.rng.choice(("full", "partial"))
        data = {"area": self.rng.choice(AREAS), "controller": side, "extent": extent, "claimant": side}
        return envelope("territory.control_claimed", data)

    def event(self) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.15 and self.correctable:
            target = self.correctable.pop(self.rng.randrange(len(self.correctable)))
            if self.rng.random() < 0.5:
                self.corrections["retracted"] += 1
                return envelope("event.retracted", {"target_event_id": target["id"], "reason": "soak: false"})
            self.corrections["superseded"] += 1
            fresh = self.claim() if target["type"] == "territory.control_claimed" else self.statement()
            return {**fresh, "supersedes": target["id"]}
        if roll < 0.22 and self.offers:
            offer_id = self.offers.pop()
            return envelope("talks.offer_rejected", {"party": "ua", "offer_event_id": offer_id})
        if roll < 0.35:
            return envelope("talks.offer_made", {"party": "ru", "counterparty": "ua", "preconditions": []})
        return self.claim() if roll < 0.65 else self.statement()

    def statement(self) -> dict[str, Any]:
        text = f"soak writer {self.number} at {time.time():.3f}"
        return envelope("diplomacy.statement_made", {"speaker": f"soak-writer-{self.number}", "text": text})

    async def run(self, http: httpx.AsyncClient, deadline: float, interval: float) -> None:
        while time.monotonic() < deadline:
            began = time.monotonic()
            batch = self.rng.random() < 0.3
            events = [self.event() for _ in range(self.rng.randint(5, 20) if batch else 1)]
            stored = await self.post(http, "/events/batch" if batch else "/events", events, batch)
            if stored is not None:
                self.positions.extend(e["position"] for e in stored)
                for sent in events:
                    if sent["type"] in ("territory.control_claimed", "diplomacy.statement_made"):
                        self.correctable.append(sent)
                    elif sent["type"] == "talks.offer_made":
                        self.offers.append(sent["id"])
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))

    async def post(
        self, http: httpx.AsyncClient, path: str, events: list[dict[str, Any]], batch: bool
    ) -> list[dict[str, Any]] | None:
        body: Any = {"events": events} if batch else events[0]
        for attempt in range(5):
            began = time.perf_counter()
            try:
                response = await http.post(path, json=body)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}"
            else:
                (self.batch_seconds if batch else self.single_seconds).append(time.perf_counter() - began)
                if response.status_code in (200, 201):  # 200: a retry of what was stored
                    answer = response.json()
                    stored: list[dict[str, Any]] = answer["events"] if batch else [answer]
                    return stored
                problem = f"{response.status_code} {response.text[:200]}"
                if response.status_code < 500:
                    break
            await asyncio.sleep(0.5 * (attempt + 1))
        self.failures.append(problem)
        return None


# ---- state readers -------------------------------------------------------------------

STATE_PATHS = [
    "/state?limit=50",
    "/state/territory",
    "/state/talks?limit=20",
    "/state/diplomacy?limit=20",
    "/state?as_of=2025-04-15&limit=50",
    "/state/territory/soak-area-1/history",
]


async def read_state(
    http: httpx.AsyncClient,
    rng: random.Random,
    deadline: float,
    interval: float,
    seconds: list[float],
    failures: list[str],
) -> None:
    while time.monotonic() < deadline:
        began = time.monotonic()
        path = rng.choice(STATE_PATHS)
        try:
            response = await http.get(path)
            if response.status_code == 200:
                seconds.append(time.monotonic() - began)
            else:
                failures.append(f"{path}: {response.status_code} {response.text[:200]}")
        except httpx.TransportError as exc:
            failures.append(f"{path}: {type(exc).__name__}")
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - began)))
