"""The state benchmark's log: a realistic mix at scale, and the cliff cases beside it.

The mix: 2,000 areas (100 regions of 19 nested areas, each claim of a nested area
naming its region as `within`), 50 talks tracks, meetings and statements; about 5% of
events arrive months late, 1% are retracted (some retractions retracted again), 1%
superseded; precisions mix days, instants with offsets, months and years. By kind:
64% territory (claims 40%, assessments 15%, denials 5%, forces 4%), about 15% talks
(offers 5%, positions 8%, rejections 1%; proposals, rounds and ceasefires, which every
answer lists in full, about 1%), meetings 2% (also listed in full), statements 19%
(the latest per speaker), corrections 2%.

The cliffs, spread over the log among the mix (a million events: the figures in
brackets; smaller logs scale them down): one area whose claim is superseded over and
over [10,000 times], a claim under a chain of retractions, each retracting the one
before [1,000], one track with many rounds [50,000], and many areas with one claim each
[100,000].
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from events.drafts import draft_from_json
from events.store import EventStore

REGIONS, NESTED = 100, 19
SIDES = ("ru", "ua")
ASSESSORS = ("isw", "critical-threats", "deepstate", "rybar")
PARTIES = ("ru", "ua", "us", "tr", "cn", "va", "qa", "sa", "by", "fr", "de")
START = datetime(2022, 2, 24, tzinfo=UTC)
SPAN = timedelta(days=4 * 365)
HOT_AREA = "hot-area"
CHAIN_AREA = "chain-area"
CLIFF_TRACK = ("qq", "zz")  # talks parties have no hyphen: the track is qq-zz
WIDE_PREFIX = "w"
# Per million events: the cliffs' sizes.
CLIFFS = {"hot": 10_000, "chain": 1_000, "round": 50_000, "wide": 100_000}
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
        self.chain_last: str | None = None
        self.wide = 0
        # The cliffs' events, at positions spread over the log (never more than a fifth of it).
        self.sizes = {kind: max(1, per_million * total // 1_000_000) for kind, per_million in CLIFFS.items()}
        if total < 10_000:
            self.sizes = {kind: max(1, min(size, total // 40)) for kind, size in self.sizes.items()}
        kinds = [kind for kind, size in self.sizes.items() for _ in range(size)]
        self.rng.shuffle(kinds)
        picked = sorted(self.rng.sample(range(total), len(kinds)))
        self.cliff_at = dict(zip(picked, kinds, strict=True))

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
        cliff = self.cliff_at.get(index)
        if cliff is not None:
            return self.cliff(cliff, at)
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

    def cliff(self, kind: str, at: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "hot":  # the same claim, superseded again and again
            keys = {"supersedes": self.hot_last} if self.hot_last else {}
            data = {"area": HOT_AREA, "claimant": "ru", "controller": rng.choice(SIDES), "extent": "partial"}
            event = self.envelope("territory.control_claimed", data, at, **keys)
            self.hot_last = event["id"]
            return event
        if kind == "chain":  # a claim, then a retraction of it, of that retraction, ...
            if self.chain_last is None:
                data = {"area": CHAIN_AREA, "claimant": "ua", "controller": "ua", "extent": "full"}
                event = self.envelope("territory.control_claimed", data, at)
            else:
                data = {"target_event_id": self.chain_last, "reason": "disputed again"}
                event = self.envelope("event.retracted", data, at)
            self.chain_last = event["id"]
            return event
        if kind == "round":
            held: dict[str, Any] = {"parties": list(CLIFF_TRACK), "place": "geneva"}
            return self.envelope("talks.round_held", held, at)
        self.wide += 1
        data = {"area": f"{WIDE_PREFIX}{self.wide}", "claimant": "ru", "controller": "ru", "extent": "full"}
        return self.envelope("territory.control_claimed", data, at)

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
    rate = total / (time.perf_counter() - began)
    settle(store)
    return rate


def settle(store: EventStore) -> None:
    """On PostgreSQL, VACUUM ANALYZE after the load: what autovacuum does after a bulk load
    on a production server (it is off on the benchmark machines, and without statistics
    or a visibility map the planner guesses and index-only scans visit the heap)."""
    if store.engine.dialect.name != "postgresql":
        return
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
