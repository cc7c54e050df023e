"""The chain verifier on hand-made logs: no database needed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import rfc8785

from events.merkle import EMPTY_ROOT, RootBuilder, leaf_hash
from events.verify import verify_bodies


def chain(count: int) -> list[dict[str, Any]]:
    events, previous = [], "0" * 64
    for position in range(1, count + 1):
        event: dict[str, Any] = {
            "id": f"00000000-0000-4000-8000-{position:012d}",
            "position": position,
            "prev_hash": previous,
            "data": {"n": position},
        }
        event["hash"] = hashlib.sha256(rfc8785.dumps(event)).hexdigest()
        previous = event["hash"]
        events.append(event)
    return events


def bodies(events: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(e) for e in events]


def test_an_intact_chain() -> None:
    lines = bodies(chain(5))
    verdict = verify_bodies(lines).as_dict()
    assert verdict["head"] == {"position": 5, "hash": chain(5)[-1]["hash"]}
    assert (verdict["ok"], verdict["count"]) == (True, 5)
    # The Merkle root over the lines as they are (RFC 9162 leaves of the exact bytes).
    builder = RootBuilder()
    for line in lines:
        builder.add(leaf_hash(line.encode()))
    assert verdict["root_hash"] == builder.root().hex()


def test_an_empty_log_is_intact() -> None:
    assert verify_bodies([]).as_dict() == {
        "ok": True,
        "count": 0,
        "head": {"position": 0, "hash": "0" * 64},
        "root_hash": EMPTY_ROOT.hex(),
    }


def test_a_value_jcs_cannot_carry_is_malformed_not_a_crash() -> None:
    lines = bodies(chain(3))
    lines[1] = lines[1].replace('"n": 2', '"n": 10000000000000000')
    verdict = verify_bodies(lines)
    assert (verdict.first_bad_position, verdict.reason) == (2, "malformed")


def test_a_line_that_is_not_json_is_malformed() -> None:
    lines = bodies(chain(3))
    lines[2] = lines[2][:-1]
    verdict = verify_bodies(lines)
    assert (verdict.ok, verdict.first_bad_position, verdict.reason) == (False, 3, "malformed")


def test_swapped_events_are_found_at_the_lower_position() -> None:
    events = chain(6)
    events[1], events[4] = events[4], events[1]
    verdict = verify_bodies(bodies(events))
    assert verdict.first_bad_position == 2
