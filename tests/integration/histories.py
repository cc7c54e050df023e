"""Random histories for the read-model property tests: valid-looking events of every type,
with late arrivals, ties, every precision, offsets, and corrections of corrections.

A history is a list of batches; an operation that the store refuses (a reference
to a refused event, a correction of an already corrected event) is dropped, as a
client would drop it, so every stored history is one the write rules allow.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import strategies as st

from tests.factories import envelope

AREAS = ("a-north", "a-south", "a-north-ridge")
SIDES = ("ru", "ua", "by")
PARTIES = ("ru", "ua", "us")
# Few distinct instants, so that ties in occurred_from are common; every precision and
# offsets that move an instant across a day or a month.
OCCURRED = (
    "2024",
    "2025",
    "2024-12",
    "2025-01",
    "2024-12-31",
    "2025-01-01",
    "2025-01-02",
    "2025-01-01T00:00:00Z",
    "2025-01-01T01:30:00+02:00",
    "2024-12-31T23:59:59.999999Z",
    "2025-01-01T12:00:00.5-05:00",
    "2025-02-01T00:00:00+14:00",
    "2025-01-31",
    "2025-03-02",
)
CEASEFIRE_BOUNDS = ("2024-12-31", "2025-01-01", "2025-01-01T06:00:00Z", "2025-01-02", "2025-02-01")


def _track(a: str, b: str) -> str:
    return "-".join(sorted([a, b]))


KINDS = [
    "claim", "claim", "claim", "denial", "assessment", "forces", "clash", "clash", "offer", "offer",
    "rejection", "proposal", "ceasefire", "round", "position", "meeting", "statement",
    "retract", "retract", "supersede", "supersede", "unretract", "unretract",
]  # fmt: skip
# For windows: the lists that grow with the log, long enough for a limit to shorten them.
GROWING_KINDS = [
    "proposal", "proposal", "ceasefire", "ceasefire", "round", "round", "round", "meeting", "meeting",
    "statement", "statement", "offer", "position", "claim", "retract", "supersede", "unretract",
]  # fmt: skip


@st.composite
def operation(draw: st.DrawFn, kinds: list[str] = KINDS) -> dict[str, Any]:
    """One operation: an event, or a reference to an earlier one by index (`ref`)."""
    kind = draw(st.sampled_from(kinds))
    return {
        "kind": kind,
        "occurred_at": draw(st.sampled_from(OCCURRED)),
        "area": draw(st.sampled_from(AREAS)),
        "side": draw(st.sampled_from(SIDES)),
        "other": draw(st.sampled_from(SIDES)),
        "pair": draw(st.permutations(PARTIES)),
        "ref": draw(st.integers(min_value=0, max_value=10_000)),
        "bounds": sorted(
            draw(st.lists(st.sampled_from(CEASEFIRE_BOUNDS), min_size=2, max_size=2, unique=True))
        ),
        "open_ended": draw(st.booleans()),
        "within": draw(st.booleans()),
        "extent": draw(st.sampled_from(["full", "partial"])),
    }


histories = st.lists(st.lists(operation(), min_size=1, max_size=4), min_size=1, max_size=12)
growing_histories = st.lists(
    st.lists(operation(GROWING_KINDS), min_size=1, max_size=4), min_size=1, max_size=12
)


def event_of(op: dict[str, Any], earlier: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The envelope for an operation, given the events sent before it (None: nothing to refer to)."""
    at = op["occurred_at"]
    party, counterparty = op["pair"][0], op["pair"][1]
    kind = op["kind"]
    if kind == "claim":
        data: dict[str, Any] = {
            "area": op["area"],
            "claimant": op["side"],
            "controller": op["other"],
            "extent": op["extent"],
        }
        if op["within"] and op["area"] == "a-north-ridge":
            data["within"] = "a-south" if op["other"] == "ru" else "a-north"
        return envelope("territory.control_claimed", data, occurred_at=at)
    if kind == "denial":
        return envelope(
            "territory.claim_denied", {"area": op["area"], "claimant": op["side"]}, occurred_at=at
        )
    if kind == "assessment":
        data = {
            "area": op["area"],
            "assessor": f"inst-{op['other']}",
            "controller": op["side"],
            "extent": op["extent"],
        }
        return envelope("territory.assessed", data, occurred_at=at)
    if kind == "forces":
        data = {"area": op["area"], "force": "kp", "supporting": "ru", "claimant": op["side"],
                "status": ["reported", "acknowledged", "denied"][op["ref"] % 3]}  # fmt: skip
        return envelope("forces.involvement_reported", data, occurred_at=at)
    if kind == "clash":
        claimant = ["acled", "ucdp", op["other"]][op["ref"] % 3]
        data = {"area": op["area"], "parties": sorted({op["side"], "kp"}), "claimant": claimant}
        if op["ref"] % 2:
            data["deaths"] = {"best": op["ref"] % 7, "high": op["ref"] % 7 + 2}
        return envelope("forces.clash_reported", data, occurred_at=at)
    if kind == "offer":
        data = {"party": party, "counterparty": counterparty, "preconditions": [f"p{op['ref'] % 3}"]}
        return envelope("talks.offer_made", data, occurred_at=at)
    if kind == "position":
        data = {"party": party, "counterparty": counterparty, "position": f"stance {op['ref'] % 5}"}
        return envelope("talks.position_stated", data, occurred_at=at)
    if kind == "proposal":
        data = {"proposer": party, "parties": [party, counterparty], "terms": ["talks"]}
        return envelope("talks.proposal_made", data, occurred_at=at)
    if kind == "ceasefire":
        data = {"parties": [party, counterparty], "declared_by": party, "starts": op["bounds"][0]}
        if not op["open_ended"]:
            data["ends"] = op["bounds"][1]
        return envelope("talks.ceasefire_declared", data, occurred_at=at)
    if kind == "round":
        return envelope(
            "talks.round_held", {"parties": [party, counterparty], "place": "ist"}, occurred_at=at
        )
    if kind == "meeting":
        return envelope(
            "diplomacy.meeting_held", {"participants": [party, counterparty], "place": "va"}, occurred_at=at
        )
    if kind == "statement":
        data = {"speaker": f"sp-{op['side']}", "text": f"said {op['ref'] % 4}"}
        return envelope("diplomacy.statement_made", data, occurred_at=at)
    if not earlier:
        return None
    target = earlier[op["ref"] % len(earlier)]
    if kind == "unretract":  # retract a recent retraction: its target comes back
        retractions = [e for e in earlier if e["type"] == "event.retracted"][-3:]
        if not retractions:
            return None
        target, kind = retractions[op["ref"] % len(retractions)], "retract"
    if kind == "rejection":
        offers = [e for e in earlier if e["type"] == "talks.offer_made"]
        if not offers:
            return None
        offer = offers[op["ref"] % len(offers)]
        data = {"party": offer["data"]["counterparty"], "offer_event_id": offer["id"]}
        return envelope("talks.offer_rejected", data, occurred_at=at)
    if kind == "retract":
        return envelope(
            "event.retracted", {"target_event_id": target["id"], "reason": "wrong"}, occurred_at=at
        )
    # supersede: the same type and subject with new details, dated anew
    if target["type"] == "event.retracted":
        return None
    replacement = {**target, "id": str(uuid.uuid4()), "occurred_at": at, "supersedes": target["id"]}
    replacement["data"] = {**target["data"], "note": f"corrected {op['ref']}"}
    return replacement
