"""Append speed, side by side in one run, on SQLite and on PostgreSQL.

    python -m bench.append [--postgres-url postgresql://postgres@127.0.0.1:5432/test] [--smoke]

(a) the store's batch append of 100 events vs a plain SQLAlchemy Core insert of
    the same rows into a table of the same shape;
(b) the same vs the `eventsourcing` library, its application saving 100 events
    per call, on the same kind of database;
(c) HTTP batches of 100 from 4 clients against `timeline serve` on PostgreSQL;
(d) single-event HTTP appends from 8 clients;
(e) `timeline import` of 100,000 events;
and a profile of where a batch append's time goes.

(a) and (b) take turns between the five writers each round (the store first, since
three of the others write what it wrote), so that noise hits them alike.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx

from bench.asof_log import LogMaker
from bench.common import (
    ROOT,
    backend_name,
    free_port,
    fresh_database,
    percentile,
    postgres_cpu,
    process_cpu,
    record,
    server,
)
from bench.contenders import EventsourcingSaves, RowCopy, StoreRows, plain_table
from events.drafts import draft_from_json
from events.recorders import make_engine
from service.wiring import build_store

BATCH = 100
WRITE_KEY = "bench-write"


def envelopes(count: int, seed: int) -> list[dict[str, Any]]:
    """bench.asof's realistic mix, in an order where every reference is to an earlier event."""
    maker = LogMaker(count, seed)
    return [maker.make(i) for i in range(count)]


def independent(count: int, seed: int) -> list[dict[str, Any]]:
    """Events naming no other event, for clients that post concurrently in any order."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        batch = envelopes(count * 2, seed)
        found += [e for e in batch if "supersedes" not in e and not _references(e)]
        seed += 1
    return found[:count]


def _references(envelope: dict[str, Any]) -> bool:
    return envelope["type"] in ("event.retracted", "talks.offer_rejected")


def side_by_side(base_url: str | None, rounds: int) -> dict[str, float]:
    """Seconds per event for the store, Core (the events alone, and every row the store
    writes), the store's bulk write of those rows, and eventsourcing. Each round the
    store appends first (the copies write what it wrote); the other four take turns."""
    spent = {"store": 0.0, "core": 0.0, "every_row": 0.0, "bulk": 0.0, "eventsourcing": 0.0}
    with (
        fresh_database(base_url) as store_url,
        fresh_database(base_url) as core_url,
        fresh_database(base_url) as every_row_url,
        fresh_database(base_url) as bulk_url,
        fresh_database(base_url) as es_url,
        tempfile.TemporaryDirectory() as folder,
    ):
        engines = [make_engine(url) for url in (store_url, core_url, every_row_url, bulk_url)]
        store = build_store(engines[0])
        core_insert = plain_table(engines[1])
        written_by_store = StoreRows(engines[0])
        every_row, bulk = RowCopy(engines[2]), RowCopy(engines[3], bulk=True)
        es_save = EventsourcingSaves(es_url, folder)
        log = envelopes(rounds * BATCH, seed=1)

        def timed(name: str, write: Callable[[Any], Any], argument: Any) -> Any:
            began = time.perf_counter()
            try:
                return write(argument)
            finally:
                spent[name] += time.perf_counter() - began

        for index in range(rounds):
            batch = log[index * BATCH : (index + 1) * BATCH]
            drafts = [draft_from_json(e) for e in batch]  # validation: outside the lock, timed apart
            stored = timed("store", store.append, drafts).events
            written = written_by_store(stored[0].position, stored[-1].position)
            es_save.prepare(batch)
            others: list[tuple[str, Callable[[Any], Any], Any]] = [
                ("core", core_insert, written.events),
                ("every_row", every_row, written),
                ("bulk", bulk, written),
                ("eventsourcing", es_save, batch),
            ]
            turn = index % len(others)
            for name, write, argument in others[turn:] + others[:turn]:
                timed(name, write, argument)
        every_row.check(engines[0])
        bulk.check(engines[0])
        for engine in engines:
            engine.dispose()
    return {name: seconds / (rounds * BATCH) for name, seconds in spent.items()}


def validation_cost(count: int) -> float:
    batch = envelopes(count, seed=99)
    began = time.perf_counter()
    for envelope in batch:
        draft_from_json(envelope)
    return (time.perf_counter() - began) / count


def profile(base_url: str | None, rounds: int) -> tuple[float, list[tuple[str, float]]]:
    """Where a batch append's time goes: microseconds an event per part, timed around each
    part (cProfile's own overhead would inflate the Python parts). Returns the whole too."""
    with fresh_database(base_url) as url:
        engine = make_engine(url)
        store = build_store(engine)
        spent: dict[str, float] = {}

        def timed(label: str, part: Callable[..., Any]) -> Callable[..., Any]:
            def run(*args: Any, **kwargs: Any) -> Any:
                began = time.perf_counter()
                try:
                    return part(*args, **kwargs)
                finally:
                    spent[label] = spent.get(label, 0.0) + time.perf_counter() - began

            return run

        labels = {
            "MerkleNodes": "Merkle tree hook: leaves, subtrees, their insert",
            "StateRows": "read-model hook: state rows, corrections' effects",
        }
        store._append_locked = timed(  # type: ignore[method-assign]
            "lock, head and the batch's lookups; rules, hash chain and sealing", store._append_locked
        )
        store.hooks = [timed(labels.get(type(h).__name__, type(h).__name__), h) for h in store.hooks]
        log = envelopes(rounds * BATCH, seed=2)
        batches = [[draft_from_json(e) for e in log[i * BATCH : (i + 1) * BATCH]] for i in range(rounds)]
        recorder = store.recorder
        original_insert = recorder.insert_events
        recorder.insert_events = timed(  # type: ignore[method-assign]
            "inserting the events (and, on PostgreSQL, the NOTIFY)", original_insert
        )
        try:
            began = time.perf_counter()
            for batch in batches:
                store.append(batch)
            whole = time.perf_counter() - began
        finally:
            recorder.insert_events = original_insert  # type: ignore[method-assign]
        engine.dispose()
    count = rounds * BATCH
    parts = [(label, seconds / count) for label, seconds in spent.items()]
    parts.append(("commit, and the rest", (whole - sum(spent.values())) / count))
    return whole / count, parts


def timeline_import(url: str, count: int, workers: int | None = None) -> float:
    """Events/s of `timeline import` as a user runs it (workers None: the default), from
    starting the command to its end."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.ndjson"
        path.write_text("".join(json.dumps(e) + "\n" for e in envelopes(count, seed=5)))
        began = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "service.cli",
                "--database-url",
                url,
                "import",
                str(path),
                "--batch-size",
                "1000",
                *([] if workers is None else ["--workers", str(workers)]),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        spent = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return count / spent


@dataclass(frozen=True)
class HttpLoad:
    rate: float  # events/s
    latencies: list[float]  # seconds a request
    cpu: dict[str, float]  # CPU seconds an event: server, PostgreSQL, clients


def http_load(url: str, clients: int, per_request: int, total: int) -> HttpLoad:
    """`clients` threads posting `per_request` events a call to `timeline serve`, and where
    the machine's CPU went while they did."""
    port = free_port()
    work = independent(total, seed=77)
    chunks = [work[i : i + per_request] for i in range(0, total, per_request)]
    latencies: list[float] = []
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {WRITE_KEY}"}

    def client(mine: list[list[dict[str, Any]]]) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers=headers) as http:
            for chunk in mine:
                began = time.perf_counter()
                if per_request == 1:
                    response = http.post("/events", json=chunk[0])
                else:
                    response = http.post("/events/batch", json={"events": chunk})
                spent = time.perf_counter() - began
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
                with lock:
                    latencies.append(spent)

    env = {"TIMELINE_API_KEYS": f"write:{WRITE_KEY}"}
    with server(url, port, env=env, timeline_serve=True) as process:
        threads = [threading.Thread(target=client, args=(chunks[i::clients],)) for i in range(clients)]
        cpu_before = (process_cpu(process.pid), postgres_cpu(), time.process_time())
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        spent = time.perf_counter() - began
        cpu_after = (process_cpu(process.pid), postgres_cpu(), time.process_time())
    if len(latencies) != len(chunks):
        raise RuntimeError("a client failed")
    used = [(after - before) / total for before, after in zip(cpu_before, cpu_after, strict=True)]
    cpu = dict(zip(("server", "PostgreSQL", "clients"), used, strict=True))
    return HttpLoad(total / spent, latencies, cpu)


def cpu_shares(load: HttpLoad, postgres: bool) -> str:
    parts = [(name, seconds) for name, seconds in load.cpu.items() if postgres or name != "PostgreSQL"]
    return ", ".join(f"{name} {seconds * 1e6:,.0f}" for name, seconds in parts)


def latency(samples: list[float]) -> str:
    return f"p50 {percentile(samples, 0.5) * 1000:.0f} ms, p99 {percentile(samples, 0.99) * 1000:.0f} ms"


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs/event ({1 / seconds:,.0f} events/s)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=200, help="batches of 100 per contender in (a) and (b)")
    parser.add_argument("--import-events", type=int, default=100_000)
    parser.add_argument("--http-events", type=int, default=40_000)
    parser.add_argument(
        "--smoke", action="store_true", help="about 1,000 events each; figures to bench-results/"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds, args.import_events, args.http_events = 10, 1000, 1000
    sections: list[str] = []
    for base in (None, args.postgres_url):
        per_event = side_by_side(base, args.rounds)
        with fresh_database(base) as url:
            backend = backend_name(url)
            imported = timeline_import(url, args.import_events)
        with fresh_database(base) as url:
            imported_with_worker = timeline_import(url, args.import_events, workers=1)
        with fresh_database(base) as url:
            single = http_load(url, 8, 1, min(args.http_events // 10, 4000))
        postgres = base is not None
        batch_rows = []
        if postgres:
            with fresh_database(base) as url:
                batched = http_load(url, 4, BATCH, args.http_events)
            rate = f"{batched.rate:,.0f} events/s (requests {latency(batched.latencies)})"
            batch_rows = [
                (f"(c) HTTP batches of {BATCH}, 4 clients", rate, ">= 20,000 events/s"),
                ("(c) CPU an event (µs): " + cpu_shares(batched, postgres), "", ""),
            ]
        profiled = max(args.rounds // 4, 5)
        whole, parts = profile(base, profiled)
        validation = validation_cost(2000) * 1e6
        core, es, ours = per_event["core"], per_event["eventsourcing"], per_event["store"]
        every, floor = per_event["every_row"], per_event["bulk"]
        rows = [
            (f"(a) store, batch of {BATCH} (validated drafts in)", us(ours), ""),
            ("(a) SQLAlchemy Core insert of the same rows", us(core), ""),
            ("(a) store / Core rate", f"{core / ours:.2f}x", ">= 0.5x"),
            (
                "(a) Core writing every row the store writes (events, Merkle nodes, state rows)",
                f"{us(every)} (store / this: {every / ours:.2f}x)",
                "",
            ),
            (
                "(a) the same rows by `bulk_insert` (COPY / one prepared statement): a floor",
                f"{us(floor)} (store / this: {floor / ours:.2f}x)",
                "",
            ),
            (
                f"(b) `eventsourcing` {_es_version()}, 100 events per save",
                f"{us(es)} ({core / es:.2f}x of Core)",
                "",
            ),
            ("(b) store / `eventsourcing` rate", f"{es / ours:.2f}x", "> 1x"),
            *batch_rows,
            (
                "(d) single-event HTTP appends, 8 clients",
                f"{single.rate:,.0f} events/s ({latency(single.latencies)})",
                "",
            ),
            ("(d) CPU an event (µs): " + cpu_shares(single, postgres), "", ""),
            (
                f"(e) `timeline import` of {args.import_events:,} events",
                f"{imported:,.0f} events/s ({imported_with_worker:,.0f} with `--workers 1`)",
                ">= 20,000 events/s",
            ),
            (
                "validation of one event (strict JSON, schema, canonical JSON; before the lock)",
                f"{validation:,.0f} µs",
                "",
            ),
        ]
        table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
        shares = "\n".join(
            f"| {label} | {part * 1e6:,.1f} µs | {part / whole:.0%} |" for label, part in parts
        )
        sections.append(
            f"\n### {backend}\n\n| figure | value | target |\n|---|---|---|\n{table}\n\n"
            f"Where a batch append's time goes ({profiled} batches of {BATCH} into a fresh database, "
            f"{whole * 1e6:,.1f} µs an event in all; each part timed around it):\n\n"
            f"| part | an event | share |\n|---|---|---|\n{shares}\n"
        )
    body = (
        f"(a) and (b): {args.rounds} calls of {BATCH} events each, the five writers taking turns "
        "(the store first), each against its own fresh database. The store's figure includes its "
        "hooks (Merkle tree, read model, NOTIFY on PostgreSQL); validation is measured apart, "
        "since it runs before the lock.\n" + "".join(sections)
    )
    command = "python -m bench.append " + " ".join(argv if argv is not None else sys.argv[1:])
    output = ROOT / "bench-results" / "append.md" if args.smoke else None
    record("Append", command.strip(), body, output=output)
    return 0


def _es_version() -> str:
    from importlib.metadata import version

    return version("eventsourcing")


if __name__ == "__main__":
    raise SystemExit(main())
