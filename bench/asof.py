"""State at (as_of, known_at) on a large log: latency through HTTP, the cliffs, rebuild rate, size.

    python -m bench.asof [--events 1000000] [--database-url postgresql://...]

The log is `bench/asof_log.py`'s (the mix and the cliff cases), loaded through the store,
so the read model is kept by the append hook. Each latency is one HTTP GET against
`timeline serve` (one worker) for a random as_of and a known_at drawn from random
positions' `recorded_at`, unless the question says otherwise. "The viewer's windows" are
what the viewer asks at scale: the latest 20 items of each growing list, 50 areas and
20 tracks a page.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from typing import Any

import httpx2 as httpx
from sqlalchemy import select, text

from bench.asof_log import (
    CHAIN_AREA,
    CLIFF_TRACK,
    HOT_AREA,
    SPAN,
    START,
    WIDE_PREFIX,
    LogMaker,
    areas,
    load,
    tracks,
)
from bench.common import ROOT, backend_name, free_port, fresh_database, p50_p99_ms, record, server
from events.recorders import make_engine
from events.store import EventStore
from events.tables import events as events_table
from service.read_model import rebuild_read_model
from service.wiring import build_store

VIEWER = {"limit": "20", "areas_limit": "50", "tracks_limit": "20"}
Questions = list[tuple[str, dict[str, str]]]


def sizes(store: EventStore, url: str) -> str:
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            path = url.split("///", 1)[1]
            total = os.path.getsize(path) + (
                os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
            )
            rows = (
                conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all()
                if _has_dbstat(conn)
                else []
            )
        else:
            total = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            rows = conn.execute(
                text(
                    "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN "
                    "('events', 'state_rows', 'state_items', 'state_slots', 'merkle_nodes')"
                )
            ).all()
    parts = ", ".join(
        f"{name} {size / 2**20:,.0f} MiB" for name, size in sorted(rows, key=lambda r: -r[1])[:7]
    )
    return f"{total / 2**20:,.0f} MiB" + (f" ({parts})" if parts else "")


def _has_dbstat(conn: Any) -> bool:
    try:
        conn.execute(text("SELECT 1 FROM dbstat LIMIT 1"))
        return True
    except Exception:
        return False


def timed_gets(client: httpx.Client, requests: Questions) -> list[float]:
    spent = []
    for path, params in requests:
        began = time.perf_counter()
        response = client.get(path, params=params)
        spent.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:200]}")
    return spent


def questions(
    store: EventStore, rng: random.Random, n: int, maker: LogMaker
) -> list[tuple[str, Questions, str]]:
    """(figure, requests, target) for every question the benchmark times."""
    head = store.cut(None)
    picked = sorted(rng.sample(range(1, head + 1), min(n, head)))
    with store.engine.connect() as conn:
        recorded = list(
            conn.execute(
                select(events_table.c.recorded_at).where(events_table.c.position.in_(picked))
            ).scalars()
        )
        first, last = (
            conn.execute(select(events_table.c.recorded_at).where(events_table.c.position == p)).scalar_one()
            for p in (1, head)
        )
    latest = START + SPAN

    def cut(**fixed: str) -> dict[str, str]:
        as_of = START + (latest - START) * rng.random()
        return {"as_of": as_of.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "known_at": rng.choice(recorded), **fixed}

    all_areas = [a for a, _ in areas()]
    all_tracks = ["-".join(sorted(p)) for p in tracks()]
    cliff_track = "-".join(sorted(CLIFF_TRACK))
    few = max(n // 10, 10)
    wide = maker.sizes["wide"]
    return [
        ("whole `/state`, every list in full", [("/state", cut()) for _ in range(5)], "well under 1 s"),
        ("whole `/state`, the viewer's windows", [("/state", cut(**VIEWER)) for _ in range(few)],
         "p99 <= 50 ms"),
        ("one area", [("/state/territory", cut(area=rng.choice(all_areas))) for _ in range(n)],
         "p99 <= 10 ms"),
        ("one track, every list in full",
         [("/state/talks", cut(track=rng.choice(all_tracks))) for _ in range(n)], "p99 <= 10 ms"),
        ("one track, the viewer's windows",
         [("/state/talks", cut(track=rng.choice(all_tracks), limit="20")) for _ in range(n)], "p99 <= 10 ms"),
        ("one area's history",
         [(f"/state/territory/{rng.choice(all_areas)}/history", {"known_at": rng.choice(recorded)})
          for _ in range(few)], "p99 <= 20 ms"),
        (f"cliff: `{HOT_AREA}`, a claim superseded {maker.sizes['hot']:,} times",
         [("/state/territory", cut(area=HOT_AREA)) for _ in range(n)], "p99 <= 10 ms"),
        (f"cliff: `{HOT_AREA}`'s history", [(f"/state/territory/{HOT_AREA}/history", {}) for _ in range(few)],
         "p99 <= 20 ms"),
        (f"cliff: a claim under {maker.sizes['chain']:,} retractions of retractions",
         [("/state/territory", cut(area=CHAIN_AREA)) for _ in range(n)], "p99 <= 10 ms"),
        (f"cliff: a track of {maker.sizes['round']:,} rounds, the viewer's windows",
         [("/state/talks", cut(track=cliff_track, limit="20")) for _ in range(n)], "p99 <= 10 ms"),
        (f"cliff: a track of {maker.sizes['round']:,} rounds, every round",
         [("/state/talks", cut(track=cliff_track)) for _ in range(5)], "well under 1 s"),
        (f"cliff: {wide + 2_000:,} areas, one area",
         [("/state/territory", cut(area=f"{WIDE_PREFIX}{rng.randint(1, wide)}")) for _ in range(n)],
         "p99 <= 10 ms"),
        (f"cliff: {wide + 2_000:,} areas, a page of 50",
         [("/state/territory", cut(areas_limit="50", areas_after=f"{WIDE_PREFIX}{rng.randint(1, wide)}"))
          for _ in range(few)], "p99 <= 50 ms"),
        ("cliff: known_at at the first position, the viewer's windows",
         [("/state", {**cut(**VIEWER), "known_at": first}) for _ in range(few)], "p99 <= 50 ms"),
        ("cliff: known_at at the last position, the viewer's windows",
         [("/state", {**cut(**VIEWER), "known_at": last}) for _ in range(few)], "p99 <= 50 ms"),
        ("cliff: as_of far before every event (1900), the viewer's windows",
         [("/state", {**cut(**VIEWER), "as_of": "1900-01-01"}) for _ in range(few)], "p99 <= 50 ms"),
        ("cliff: as_of far after every event (2100), the viewer's windows",
         [("/state", {**cut(**VIEWER), "as_of": "2100-01-01"}) for _ in range(few)], "p99 <= 50 ms"),
        ("cliff: as_of far after every event (2100), one area",
         [("/state/territory", {**cut(area=rng.choice(all_areas)), "as_of": "2100-01-01"}) for _ in range(n)],
         "p99 <= 10 ms"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true", help="3,000 events; figures to bench-results/")
    args = parser.parse_args(argv)
    if args.smoke:
        args.events, args.queries = 3000, 100
    rng = random.Random(11)
    with fresh_database(args.database_url) as url:
        backend = backend_name(url)
        engine = make_engine(url)
        store = build_store(engine)
        print(f"loading {args.events:,} events ({backend})", file=sys.stderr)
        load_rate = load(store, args.events)
        asked = questions(store, rng, args.queries, LogMaker(args.events))
        port = free_port()
        rows: list[tuple[str, str, str]] = []
        with server(url, port), httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            timed_gets(client, asked[2][1][:20])  # warm up
            for figure, requests, target in asked:
                print(f"  {figure} ({len(requests)} questions)", file=sys.stderr)
                rows.append(
                    (
                        f"{figure}, p50 / p99 ({len(requests):,} questions)",
                        p50_p99_ms(timed_gets(client, requests)),
                        target,
                    )
                )
        began = time.perf_counter()
        rebuilt = rebuild_read_model(store)
        rebuild_rate = rebuilt.events / (time.perf_counter() - began)
        rows.append(
            (
                "rebuild (`timeline rebuild`'s code, in process)",
                f"{rebuild_rate:,.0f} events/s",
                ">= 100,000 events/s",
            )
        )
        rows.append(("database size after the rebuild", sizes(store, url), ""))
        engine.dispose()

    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    body = f"""
A log of {args.events:,} events ({backend}, `bench/asof_log.py`: the mix and the cliff cases) loaded
through the store (read model kept by the append hook) in batches of 1,000 at {load_rate:,.0f} events/s.
Each latency is one HTTP GET against `timeline serve` (one worker); the viewer's windows are
`limit=20&areas_limit=50&tracks_limit=20`.

| figure | value | target |
|---|---|---|
{table}
"""
    command = "python -m bench.asof " + " ".join(argv if argv is not None else sys.argv[1:])
    output = ROOT / "bench-results" / f"asof-{backend.lower()}.md" if args.smoke else None
    record(f"State at (as_of, known_at) ({backend})", command.strip(), body, output=output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
