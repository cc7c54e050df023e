"""Stream fan-out: many subscribers on one server process while a writer appends at a steady rate.

    python -m bench.stream [--database-url URL] [--subscribers 1000] [--instrumented 50]
                           [--rate 200] [--seconds 60] [--smoke]

Measures append-to-receive latency (from just before the POST to the moment
an instrumented subscriber has the message) and the server's memory per idle
subscriber. Targets (issue 4): p99 <= 100 ms; <= 50 KB per idle subscriber.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import resource
import sys
import time
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import httpx2 as httpx

from bench.common import (
    ROOT,
    backend_name,
    free_port,
    fresh_database,
    percentile,
    record,
    rss_kib,
    server,
)

KEY = "bench-write"
T = TypeVar("T")
# The stored body is JCS: `data` (holding the text) comes before `recorded_at`.
SENT_AT = re.compile(rb'"text":"sent (\d+\.\d+)".*?"recorded_at":"([^"]+)"')


def epoch(instant: str) -> float:
    return datetime.strptime(instant, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


async def subscribe(
    port: int,
    instrumented: bool,
    latencies: list[float],
    stream_latencies: list[float],
    connected: list[int],
    stop: asyncio.Event,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /events/stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
    await writer.drain()
    first = await reader.read(65536)
    assert b"200 OK" in first, first[:200]
    connected[0] += 1
    try:
        # A plain read (no timeout task per read): the client shares the server's two cores,
        # so its own cost per message shows up in the latency. `run` cancels it at the end.
        while not stop.is_set():
            chunk = await reader.read(65536)
            if not chunk:
                return
            if instrumented:
                now = time.time()
                for sent, recorded in SENT_AT.findall(chunk):
                    latencies.append(now - float(sent))
                    stream_latencies.append(now - epoch(recorded.decode()))
    finally:
        writer.close()


async def write(url: str, rate: int, seconds: float) -> tuple[int, int, list[float]]:
    """Appends at `rate` events a second, each in its own POST, keeping the pace with a few in flight."""
    total = int(rate * seconds)
    gate = asyncio.Semaphore(16)
    failures = 0
    post_seconds: list[float] = []

    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    ) as http:

        async def post_one() -> None:
            nonlocal failures
            async with gate:
                event = {
                    "id": str(uuid.uuid4()),
                    "type": "diplomacy.statement_made",
                    "occurred_at": "2025-04-26",
                    "source": {"name": "Bench Wire", "kind": "media"},
                    "data": {"speaker": "bench", "text": f"sent {time.time():.6f}"},
                }
                began = time.perf_counter()
                response = await http.post("/events", json=event)
                post_seconds.append(time.perf_counter() - began)
                failures += response.status_code != 201

        started = time.monotonic()
        tasks = []
        for i in range(total):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post_one()))
        await asyncio.gather(*tasks)
    return total, failures, post_seconds


def write_in_process(url: str, rate: int, seconds: float, answer: Connection) -> None:
    answer.send(run_loop(write(url, rate, seconds)))


def drain_in_process(port: int, count: int, answer: Connection) -> None:
    """Subscribers that only drain bytes, in a process of their own (see `run`)."""

    async def drain() -> None:
        stop, connected = asyncio.Event(), [0]
        tasks = [asyncio.create_task(subscribe(port, False, [], [], connected, stop)) for _ in range(count)]
        while connected[0] < count:
            await asyncio.sleep(0.1)
        answer.send("connected")
        await asyncio.get_running_loop().run_in_executor(None, answer.recv)  # until told to stop
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    run_loop(drain())


async def answer_within(end: Connection, seconds: float, failure: str) -> Any:
    """A client process's answer; a process that died (its traceback is on stderr) fails the run."""
    if not await asyncio.get_running_loop().run_in_executor(None, end.poll, seconds):
        raise RuntimeError(failure)
    return end.recv()


async def run(args: argparse.Namespace, url: str, port: int, pid: int) -> dict[str, float]:
    """The writer, the draining subscribers and the instrumented ones are three client
    processes, as they would be three kinds of client: one event loop serving all of them
    delayed the POSTs and the readings it was timing."""
    stop = asyncio.Event()
    latencies: list[float] = []
    stream_latencies: list[float] = []
    connected = [0]
    base_rss = rss_kib(pid)
    spawn = multiprocessing.get_context("spawn")
    drain_end, drainer_end = spawn.Pipe()
    drainer = spawn.Process(
        target=drain_in_process, args=(port, args.subscribers - args.instrumented, drainer_end)
    )
    drainer.start()
    subscribers = [
        asyncio.create_task(subscribe(port, True, latencies, stream_latencies, connected, stop))
        for _ in range(args.instrumented)
    ]
    if args.subscribers > args.instrumented:
        await answer_within(drain_end, 120, "the draining subscribers did not connect")
    deadline = time.monotonic() + 60
    while connected[0] < args.instrumented:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {connected[0]} instrumented subscribers connected")
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    idle_rss = rss_kib(pid)
    write_end, writer_end = spawn.Pipe()
    writer = spawn.Process(target=write_in_process, args=(url, args.rate, args.seconds, writer_end))
    writer.start()
    total, failures, post_seconds = await answer_within(
        write_end, args.seconds + 120, "the writer did not finish"
    )
    writer.join()
    expected = total * args.instrumented
    deadline = time.monotonic() + 30
    while len(latencies) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    for task in subscribers:
        task.cancel()
    await asyncio.gather(*subscribers, return_exceptions=True)
    drain_end.send("stop")
    drainer.join(30)
    return {
        "events": total,
        "failures": failures,
        "received": len(latencies),
        "expected": expected,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
        "stream_p50_ms": percentile(stream_latencies, 0.50) * 1000,
        "stream_p99_ms": percentile(stream_latencies, 0.99) * 1000,
        "post_p50_ms": percentile(post_seconds, 0.50) * 1000,
        "post_p99_ms": percentile(post_seconds, 0.99) * 1000,
        "kib_per_subscriber": (idle_rss - base_rss) / args.subscribers,
    }


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """The client on uvloop where installed (uvicorn's standard extra brings it), as the server is."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--instrumented", type=int, default=50)
    parser.add_argument("--rate", type=int, default=200, help="events a second")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--smoke", action="store_true", help="50 subscribers, 1,000 events; figures to bench-results/"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.subscribers, args.instrumented, args.rate, args.seconds = 50, 5, 200, 5
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

    with fresh_database(args.database_url) as url:
        port = free_port()
        with server(url, port, {"TIMELINE_API_KEYS": f"write:{KEY}"}) as process:
            figures = run_loop(run(args, f"http://127.0.0.1:{port}", port, process.pid))
        backend = backend_name(url)

    ok = figures["received"] == figures["expected"] and figures["failures"] == 0
    body = f"""
{args.subscribers} subscribers on one server process ({args.subscribers - args.instrumented} drain bytes,
{args.instrumented} instrumented), one writer appending {args.rate} events/s for {args.seconds:g} s,
one event per POST, on {backend}.

| figure | value | target |
|---|---|---|
| events appended | {figures["events"]:.0f} ({figures["failures"]:.0f} failed) | |
| messages received (instrumented) | {figures["received"]:.0f} of {figures["expected"]:.0f} | all |
| append-to-receive latency p50 | {figures["p50_ms"]:.1f} ms | |
| append-to-receive latency p99 | {figures["p99_ms"]:.1f} ms | <= 100 ms |
| append-to-receive latency max | {figures["max_ms"]:.1f} ms | |
| POST round trip p50 / p99 | {figures["post_p50_ms"]:.1f} / {figures["post_p99_ms"]:.1f} ms | |
| commit-to-receive latency p50 / p99 | {figures["stream_p50_ms"]:.1f} / {figures["stream_p99_ms"]:.1f} ms | |
| server memory per idle subscriber | {figures["kib_per_subscriber"]:.1f} KiB | <= 50 KB |

Append-to-receive runs from just before the POST is sent to the moment a subscriber has the
message, so it includes the append itself (validation, waiting for the append lock, the write,
the commit). Commit-to-receive runs from the event's recorded_at (stamped under the append lock,
just before the commit) and isolates the stream. The writer, the draining subscribers and the
instrumented ones are three client processes; they and the server share the machine's two cores.
"""
    command = "python -m bench.stream " + " ".join(argv if argv is not None else sys.argv[1:])
    output = ROOT / "bench-results" / "stream.md" if args.smoke else None
    record(f"Live stream fan-out ({backend})", command.strip(), body, output=output)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
