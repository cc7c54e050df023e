"""Audit workloads: export, verify, proofs, and what keeping the Merkle tree costs an append.

    python -m bench.audit [--database-url URL] [--events 1000000] [--smoke]

Loads a log through the store, then measures: `timeline export` and
`timeline verify` rates and their peak memory (separate processes), inclusion
and consistency proof latency through HTTP (1,000 random requests each), and
the cost per event of the tree, by appending batches of 100 to two fresh
databases side by side, one store with the tree hook and one without.
Targets (issue 6): export and verify >= 100,000 events/s with flat memory;
proofs p99 <= 10 ms.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx2 as httpx

from bench.common import ROOT, backend_name, free_port, fresh_database, p50_p99_ms, record, server
from events.drafts import draft_from_json
from events.merkle_store import MerkleNodes
from events.recorders import make_engine, recorder_of
from events.store import EventStore
from service.wiring import build_store


def envelope(i: int) -> dict[str, Any]:
    area = f"area-{i % 2000}"
    return {
        "id": str(uuid.uuid4()),
        "type": "territory.control_claimed",
        "occurred_at": "2025-04-26",
        "source": {"name": "Bench Wire", "kind": "media"},
        "data": {
            "area": area,
            "controller": "ru",
            "extent": "partial",
            "claimant": ["ru", "ua"][i % 2],
            "note": f"report {i}",
        },
    }


def load(store: EventStore, count: int, batch: int = 1000) -> float:
    started = time.perf_counter()
    for start in range(0, count, batch):
        store.append([draft_from_json(envelope(i)) for i in range(start, min(count, start + batch))])
        if start and start % 100_000 == 0:
            print(f"  loaded {start:,} events", file=sys.stderr)
    return count / (time.perf_counter() - started)


def timed_command(url: str, *args: str) -> tuple[float, int, int]:
    """(seconds, exit code, peak RSS in KiB) of a `timeline` command in its own process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "--database-url", url, *args], stdout=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    return time.perf_counter() - started, os.waitstatus_to_exitcode(status), usage.ru_maxrss


def proof_latencies(url: str, count: int, samples: int) -> tuple[list[float], list[float]]:
    port = free_port()
    inclusion, consistency = [], []
    rng = random.Random(7)
    with server(url, port), httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        for _ in range(samples):
            size = rng.randint(1, count)
            position = rng.randint(1, size)
            started = time.perf_counter()
            assert (
                http.get("/audit/proof/inclusion", params={"position": position, "size": size}).status_code
                == 200
            )
            inclusion.append(time.perf_counter() - started)
            first = rng.randint(1, size)
            started = time.perf_counter()
            assert http.get("/audit/proof/consistency", params={"from": first, "to": size}).status_code == 200
            consistency.append(time.perf_counter() - started)
    return inclusion, consistency


def tree_cost(base_url: str | None, events: int) -> tuple[float, float]:
    """Seconds per event of batch appends (100 a call) with and without the tree hook, interleaved."""
    with fresh_database(base_url) as with_url, fresh_database(base_url) as without_url:
        with_tree, without_tree = make_engine(with_url), make_engine(without_url)
        # The tree hook alone: build_store adds the read model and NOTIFY too.
        stores = {
            "with": EventStore(recorder_of(with_tree), hooks=[MerkleNodes()]),
            "without": EventStore(recorder_of(without_tree), hooks=[]),
        }
        spent = {"with": 0.0, "without": 0.0}
        for start in range(0, events, 100):
            for name in ("with", "without") if (start // 100) % 2 == 0 else ("without", "with"):
                drafts = [draft_from_json(envelope(i)) for i in range(start, start + 100)]
                began = time.perf_counter()
                stores[name].append(drafts)
                spent[name] += time.perf_counter() - began
        with_tree.dispose()
        without_tree.dispose()
    return spent["with"] / events, spent["without"] / events


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true", help="1,000 events; figures to bench-results/")
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.samples = 1000, 100
    cost_events = min(args.events, 20_000)

    with fresh_database(args.database_url) as url:
        backend = backend_name(url)
        engine = make_engine(url)
        load_rate = load(build_store(engine), args.events)
        engine.dispose()
        export_s, export_code, export_kib = timed_command(url, "export", os.devnull)
        verify_s, verify_code, verify_kib = timed_command(url, "verify")
        inclusion, consistency = proof_latencies(url, args.events, args.samples)
    per_event_with, per_event_without = tree_cost(args.database_url, cost_events)

    ok = export_code == 0 and verify_code == 0
    flat = ">= 100,000 events/s, flat memory"
    rows = [
        (
            "`timeline export`",
            f"{args.events / export_s:,.0f} events/s, peak RSS {export_kib / 1024:.0f} MiB",
            flat,
        ),
        (
            f"`timeline verify` (chain + Merkle tree rebuilt, {os.cpu_count()} worker processes)",
            f"{args.events / verify_s:,.0f} events/s, peak RSS {verify_kib / 1024:.0f} MiB",
            flat,
        ),
        ("inclusion proof over HTTP, p50 / p99", p50_p99_ms(inclusion), "p99 <= 10 ms"),
        ("consistency proof over HTTP, p50 / p99", p50_p99_ms(consistency), "p99 <= 10 ms"),
        ("batch append (100 a call), with the tree", f"{per_event_with * 1e6:.0f} µs/event", ""),
        ("batch append (100 a call), without the tree", f"{per_event_without * 1e6:.0f} µs/event", ""),
        (
            "the tree's cost per appended event",
            f"{(per_event_with - per_event_without) * 1e6:.0f} µs"
            f" ({per_event_with / per_event_without:.2f}x)",
            "",
        ),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    body = f"""
A log of {args.events:,} events ({backend}), loaded through the store in batches of 1,000 at
{load_rate:,.0f} events/s.

| figure | value | target |
|---|---|---|
{table}

Export and verify run as separate processes; their peak RSS includes the interpreter (about 60 MiB),
and their rate includes starting it (about 1 s), which dominates small runs.
The append cost compares two fresh databases, batches alternating between them, {cost_events:,} events each.
"""
    command = "python -m bench.audit " + " ".join(argv if argv is not None else sys.argv[1:])
    output = ROOT / "bench-results" / f"audit-{backend.lower()}.md" if args.smoke else None
    record(f"Audit ({backend})", command.strip(), body, output=output)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
