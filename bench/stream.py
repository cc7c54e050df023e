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
import re
import resource
import sys
import time
import uuid
from datetime import UTC, datetime

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
        while not stop.is_set():
            try:
                chunk = await asyncio.wait_for(reader.read(65536), 1)
            except TimeoutError:
                continue
            if not chunk:
                return
            if instrumented:
                now = time.time()
                for sent, recorded in SENT_AT.findall(chunk):
                    latencies.append(now - float(sent))
                    stream_latencies.append(now - epoch(recorded.decode()))
    finally:
        writer.close()


async def write(url: str, rate: int, seconds: float) -> tuple[int, int]:
    """Appends at `rate` events a second, each in its own POST, keeping the pace with a few in flight."""
    total = int(rate * seconds)
    gate = asyncio.Semaphore(16)
    failures = 0

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
                response = await http.post("/events", json=event)
                failures += response.status_code != 201

        started = time.monotonic()
        tasks = []
        for i in range(total):
            delay = started + i / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post_one()))
        await asyncio.gather(*tasks)
    return total, failures


async def run(args: argparse.Namespace, url: str, port: int, pid: int) -> dict[str, float]:
    stop = asyncio.Event()
    latencies: list[float] = []
    stream_latencies: list[float] = []
    connected = [0]
    base_rss = rss_kib(pid)
    subscribers = [
        asyncio.create_task(
            subscribe(port, i < args.instrumented, latencies, stream_latencies, connected, stop)
        )
        for i in range(args.subscribers)
    ]
    deadline = time.monotonic() + 60
    while connected[0] < args.subscribers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {connected[0]} subscribers connected")
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    idle_rss = rss_kib(pid)
    total, failures = await write(url, args.rate, args.seconds)
    expected = total * args.instrumented
    deadline = time.monotonic() + 30
    while len(latencies) < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    stop.set()
    await asyncio.gather(*subscribers, return_exceptions=True)
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
        "kib_per_subscriber": (idle_rss - base_rss) / args.subscribers,
    }


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
            figures = asyncio.run(run(args, f"http://127.0.0.1:{port}", port, process.pid))
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
| commit-to-receive latency p50 / p99 | {figures["stream_p50_ms"]:.1f} / {figures["stream_p99_ms"]:.1f} ms | |
| server memory per idle subscriber | {figures["kib_per_subscriber"]:.1f} KiB | <= 50 KB |

Append-to-receive runs from just before the POST is sent to the moment a subscriber has the
message, so it includes the append itself (validation, waiting for the append lock, the write,
the commit). Commit-to-receive runs from the event's recorded_at (stamped under the append lock,
just before the commit) and isolates the stream. Client and server share the machine's two cores.
"""
    command = "python -m bench.stream " + " ".join(argv if argv is not None else sys.argv[1:])
    output = ROOT / "bench-results" / "stream.md" if args.smoke else None
    record(f"Live stream fan-out ({backend})", command.strip(), body, output=output)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
