"""State at (as_of, known_at) on a large, realistic log: latency through HTTP, rebuild rate, size.

    python -m bench.asof [--events 1000000] [--database-url postgresql://...]

The log: 2,000 areas (100 regions of 19 nested areas, each claim of a nested area
naming its region as `within`), 50 talks tracks, meetings and statements; about
5% of events arrive months late, 1% are retracted (some retractions retracted
again), 1% superseded; precisions mix days, instants with offsets, months and
years. One area, `hot-area`, has a claim superseded 1,000 times. The log is
loaded through the store, so the read model is built by the append hook.

The mix: 64% territory (claims 40%, assessments 15%, denials 5%, forces 4%),
about 15% talks (offers 5%, positions 8%, rejections 1%; proposals, rounds and
ceasefires, which every answer lists in full, about 1%), meetings 2% (also
listed in full), statements 19% (the latest per speaker), corrections 2%.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2 as httpx
from sqlalchemy import select, text

from bench.common import (
    ROOT,
    backend_name,
    free_port,
    fresh_database,
    p50_p99_ms,
    record,
    server,
)
from events.database import make_engine
from events.drafts import draft_from_json
from events.store import EventStore
from events.tables import events as events_table
from service.read_model import rebuild_read_model
from service.wiring import build_store

REGIONS, NESTED = 100, 19
SIDES = ("ru", "ua")
ASSESSORS = ("isw", "critical-threats", "deepstate", "rybar")
PARTIES = ("ru", "ua", "us", "tr", "cn", "va", "qa", "sa", "by", "fr", "de")
START = datetime(2022, 2, 24, tzinfo=UTC)
SPAN = timedelta(days=4 * 365)
HOT_AREA, HOT_CHAIN = "hot-area", 1000
SOURCE = {"name": "Bench Wire", "kind": "media"}


def areas() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for region in range(REGIONS):
        found.append((f"r{region}", None))
        found += [(f"r{region}-{j}", f"r{region}") for j in range(NESTED)]
    return found


def tracks() -> list[tuple[str, str]]:
    pairs = [(a, b) for i, a in enumerate(PARTIES) for b in PARTIES[i + 1 :]]
    return pairs[:50]


class LogMaker:
    """Deterministic random envelopes, in the order they are appended."""

    def __init__(self, total: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.total = total
        self.areas = areas()
        self.tracks = tracks()
        self.items: list[dict[str, Any]] = []  # events that may be corrected
        self.retractions: list[dict[str, Any]] = []
        self.corrected: set[str] = set()
        self.offers: list[dict[str, Any]] = []
        self.hot_last: str | None = None
        # A chain of HOT_CHAIN supersessions, spread over the log; shorter in small logs,
        # where it would otherwise be most of them.
        self.hot_length = min(HOT_CHAIN, max(total // 100, 1))
        self.hot_every = max(total // self.hot_length, 1)

    def occurred_at(self, index: int) -> str:
        rng = self.rng
        moment = START + SPAN * (index / self.total)
        if rng.random() < 0.05:  # late: reported months after it happened
            moment -= timedelta(days=rng.randint(30, 360))
        roll = rng.random()
        if roll < 0.70:
            return moment.strftime("%Y-%m-%d")
        if roll < 0.85:
            offset = rng.choice(["Z", "+03:00", "-05:00", "+05:30"])
            return moment.strftime("%Y-%m-%dT%H:%M:%S") + offset
        if roll < 0.95:
            return moment.strftime("%Y-%m")
        return moment.strftime("%Y")

    def envelope(self, type_name: str, data: dict[str, Any], at: str, **keys: Any) -> dict[str, Any]:
        return {
            "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "type": type_name,
            "occurred_at": at,
            "source": SOURCE,
            "data": data,
            **keys,
        }

    def make(self, index: int) -> dict[str, Any]:
        rng, at = self.rng, self.occurred_at(index)
        if index % self.hot_every == 0 and index // self.hot_every < self.hot_length:
            keys = {"supersedes": self.hot_last} if self.hot_last else {}
            data = {"area": HOT_AREA, "claimant": "ru", "controller": rng.choice(SIDES), "extent": "partial"}
            event = self.envelope("territory.control_claimed", data, at, **keys)
            self.hot_last = event["id"]
            return event
        roll = rng.random()
        if roll < 0.01 and self.items:
            return self.retract()
        if roll < 0.02 and self.items:
            replacement = self.supersede(at)
            if replacement is not None:
                return replacement
        event = self.fresh(at, rng.random())
        if event["type"] == "talks.offer_made":
            self.offers.append(event)
        self.items.append(event)
        return event

    def retract(self) -> dict[str, Any]:
        rng = self.rng
        pool = self.retractions if self.retractions and rng.random() < 0.1 else self.items
        target = pool[rng.randrange(len(pool))]
        if target["id"] in self.corrected:
            target = self.items[-1]
        self.corrected.add(target["id"])
        data = {"target_event_id": target["id"], "reason": "found false"}
        event = self.envelope("event.retracted", data, target["occurred_at"])
        self.retractions.append(event)
        return event

    def supersede(self, at: str) -> dict[str, Any] | None:
        target = self.items[self.rng.randrange(len(self.items))]
        if target["id"] in self.corrected or target["type"] == "talks.offer_rejected":
            return None
        self.corrected.add(target["id"])
        event = {**target, "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4))}
        event.update(occurred_at=at, supersedes=target["id"], data={**target["data"], "note": "corrected"})
        self.items.append(event)
        return event

    def fresh(self, at: str, roll: float) -> dict[str, Any]:
        rng = self.rng
        area, region = self.areas[rng.randrange(len(self.areas))]
        party, counterparty = self.tracks[rng.randrange(len(self.tracks))]
        if rng.random() < 0.5:
            party, counterparty = counterparty, party
        side = rng.choice(SIDES)
        data: dict[str, Any]
        if roll < 0.40:
            data = {"area": area, "claimant": side, "controller": rng.choice(SIDES), "extent": "partial"}
            if region:
                data["within"] = region
            return self.envelope("territory.control_claimed", data, at)
        if roll < 0.45:
            return self.envelope("territory.claim_denied", {"area": area, "claimant": side}, at)
        if roll < 0.60:
            data = {"area": area, "assessor": rng.choice(ASSESSORS), "controller": side, "extent": "partial"}
            return self.envelope("territory.assessed", data, at)
        if roll < 0.64:
            data = {"area": area, "force": "kp", "supporting": "ru", "claimant": side, "status": "reported"}
            return self.envelope("forces.involvement_reported", data, at)
        if roll < 0.69:
            data = {"party": party, "counterparty": counterparty, "preconditions": ["withdrawal"]}
            return self.envelope("talks.offer_made", data, at)
        if roll < 0.70 and self.offers:
            offer = self.offers[rng.randrange(len(self.offers))]
            data = {"party": offer["data"]["counterparty"], "offer_event_id": offer["id"]}
            return self.envelope("talks.offer_rejected", data, at)
        if roll < 0.78:
            data = {"party": party, "counterparty": counterparty, "position": "no concessions"}
            return self.envelope("talks.position_stated", data, at)
        if roll < 0.785:
            data = {"proposer": party, "parties": [party, counterparty], "terms": ["ceasefire first"]}
            return self.envelope("talks.proposal_made", data, at)
        if roll < 0.788:
            starts = at[:10] if len(at) >= 10 else f"{at[:4]}-01-01"
            data = {"parties": [party, counterparty], "declared_by": party, "starts": starts}
            return self.envelope("talks.ceasefire_declared", data, at)
        if roll < 0.793:
            return self.envelope("talks.round_held", {"parties": [party, counterparty], "place": "ist"}, at)
        if roll < 0.813:
            data = {"participants": [party, counterparty], "place": rng.choice(PARTIES)}
            return self.envelope("diplomacy.meeting_held", data, at)
        data = {"speaker": f"speaker-{rng.randrange(300)}", "text": "We are ready for talks."}
        return self.envelope("diplomacy.statement_made", data, at)


def load(store: EventStore, total: int, batch: int = 1000) -> float:
    maker, began, index = LogMaker(total), time.perf_counter(), 0
    while index < total:
        size = min(batch, total - index)
        envelopes = [maker.make(index + i) for i in range(size)]
        store.append([draft_from_json(e) for e in envelopes])
        index += size
        if index % 100_000 == 0:
            print(
                f"  loaded {index:,} events, {index / (time.perf_counter() - began):,.0f}/s", file=sys.stderr
            )
    return total / (time.perf_counter() - began)


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
                    "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                    "WHERE relname IN ('events', 'state_rows', 'merkle_nodes')"
                )
            ).all()
    parts = ", ".join(
        f"{name} {size / 2**20:,.0f} MiB" for name, size in sorted(rows, key=lambda r: -r[1])[:6]
    )
    return f"{total / 2**20:,.0f} MiB" + (f" ({parts})" if parts else "")


def _has_dbstat(conn: Any) -> bool:
    try:
        conn.execute(text("SELECT 1 FROM dbstat LIMIT 1"))
        return True
    except Exception:
        return False


def timed_gets(client: httpx.Client, requests: list[tuple[str, dict[str, str]]]) -> list[float]:
    spent = []
    for path, params in requests:
        began = time.perf_counter()
        response = client.get(path, params=params)
        spent.append(time.perf_counter() - began)
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:200]}")
    return spent


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
        head = store.cut(None)
        picked = sorted(rng.sample(range(1, head + 1), min(args.queries, head)))
        with engine.connect() as conn:
            recorded = list(
                conn.execute(
                    select(events_table.c.recorded_at).where(events_table.c.position.in_(picked))
                ).scalars()
            )
        latest = START + SPAN

        def question() -> dict[str, str]:
            as_of = START + (latest - START) * rng.random()
            return {"as_of": as_of.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "known_at": rng.choice(recorded)}

        all_areas = [a for a, _ in areas()]
        all_tracks = ["-".join(sorted(p)) for p in tracks()]
        n = args.queries
        one_area = [("/state/territory", {"area": rng.choice(all_areas), **question()}) for _ in range(n)]
        one_track = [("/state/talks", {"track": rng.choice(all_tracks), **question()}) for _ in range(n)]
        hot = [("/state/territory", {"area": HOT_AREA, **question()}) for _ in range(n)]
        whole = [("/state", question()) for _ in range(5)]
        history = [
            (f"/state/territory/{rng.choice(all_areas)}/history", {"known_at": rng.choice(recorded)})
            for _ in range(max(n // 10, 10))
        ]
        port = free_port()
        with server(url, port), httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            timed_gets(client, one_area[:20])  # warm up
            area_ms, track_ms, hot_ms = (
                timed_gets(client, one_area),
                timed_gets(client, one_track),
                timed_gets(client, hot),
            )
            whole_ms, history_ms = timed_gets(client, whole), timed_gets(client, history)
        began = time.perf_counter()
        rebuilt = rebuild_read_model(store)
        rebuild_rate = rebuilt.events / (time.perf_counter() - began)
        size = sizes(store, url)
        engine.dispose()

    rows = [
        ("one area, p50 / p99", p50_p99_ms(area_ms), "p99 <= 10 ms"),
        ("one track, p50 / p99", p50_p99_ms(track_ms), "p99 <= 10 ms"),
        (
            f"`{HOT_AREA}` (a claim superseded {HOT_CHAIN:,} times), p50 / p99",
            p50_p99_ms(hot_ms),
            "p99 <= 10 ms",
        ),
        (f"whole `/state`, p50 / p99 ({len(whole)} questions)", p50_p99_ms(whole_ms), ""),
        (f"one area's history, p50 / p99 ({len(history)} questions)", p50_p99_ms(history_ms), ""),
        (
            "rebuild (`timeline rebuild`'s code, in process)",
            f"{rebuild_rate:,.0f} events/s",
            ">= 100,000 events/s",
        ),
        ("database size after the rebuild", size, ""),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    body = f"""
A log of {args.events:,} events ({backend}) loaded through the store (read model kept by the append hook)
in batches of 1,000 at {load_rate:,.0f} events/s. Each latency is one HTTP GET against `timeline serve`
(one worker) for a random as_of and a known_at drawn from {len(recorded):,} random positions'
`recorded_at`, {n:,} questions unless said.

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
