"""The chain verifier on hand-made logs: no database needed."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import rfc8785

from events.merkle import EMPTY_ROOT, RootBuilder, leaf_hash
from events.verify import ChainVerifier, verify_bodies


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


def seal(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its `hash` recomputed, as a forger who knows the contract would."""
    unsealed = {key: value for key, value in event.items() if key != "hash"}
    return {**unsealed, "hash": hashlib.sha256(rfc8785.dumps(unsealed)).hexdigest()}


def relinked(events: list[dict[str, Any]], start: int) -> list[dict[str, Any]]:
    """Events from index `start` on re-chained to the ones before: a consistent forgery."""
    out = events[:start]
    for event in events[start:]:
        out.append(seal({**event, "prev_hash": out[-1]["hash"] if out else "0" * 64}))
    return out


def test_a_failed_verdict_is_exactly_the_documented_shape() -> None:
    # docs/api.md 10.3: a failed verdict carries these five keys, and count is the number of
    # events before first_bad_position.
    lines = bodies(chain(4))
    lines[2] = lines[2].replace('"n": 3', '"n": 33')
    assert verify_bodies(lines).as_dict() == {
        "ok": False,
        "count": 2,
        "first_bad_position": 3,
        "reason": "hash_mismatch",
        "detail": "the event does not hash to its recorded hash",
    }


def test_a_changed_position_that_breaks_the_hash_is_reported_where_it_was_expected() -> None:
    # The event met where position 2 belongs claims position 7 and no longer hashes: the log
    # departs from a valid chain at 2, whatever the event says of itself.
    events = chain(3)
    lines = bodies(events)
    lines[1] = json.dumps({**events[1], "position": 7})
    verdict = verify_bodies(lines)
    assert (verdict.first_bad_position, verdict.reason, verdict.count) == (2, "hash_mismatch", 1)


def test_a_deleted_event_is_a_position_gap_at_its_position() -> None:
    events = chain(5)
    del events[2]
    assert verify_bodies(bodies(events)).as_dict() == {
        "ok": False,
        "count": 2,
        "first_bad_position": 3,
        "reason": "position_gap",
        "detail": "expected position 3, found 4",
    }


def test_a_resealed_event_with_a_wrong_link_is_a_broken_link() -> None:
    events = chain(4)
    events[2] = seal({**events[2], "prev_hash": "f" * 64})
    assert verify_bodies(bodies(events)).as_dict() == {
        "ok": False,
        "count": 2,
        "first_bad_position": 3,
        "reason": "broken_link",
        "detail": "prev_hash is not the previous event's hash",
    }


def test_the_first_event_must_link_to_the_genesis_hash() -> None:
    # A log whose first event was rewritten and resealed on another predecessor: the
    # verifier starts from the genesis hash, not from whatever the first event says.
    events = relinked([seal({**chain(1)[0], "prev_hash": "a" * 64}), *chain(3)[1:]], 1)
    verdict = verify_bodies(bodies(events))
    assert (verdict.first_bad_position, verdict.reason, verdict.count) == (1, "broken_link", 0)


def test_an_id_seen_earlier_is_a_duplicate_id() -> None:
    # An export has no unique constraint: a copied event, renumbered and re-chained, hashes
    # and links correctly, and only its id gives it away.
    events = chain(5)
    events[3] = {**events[3], "id": events[1]["id"]}
    events = relinked(events, 3)
    assert verify_bodies(bodies(events)).as_dict() == {
        "ok": False,
        "count": 3,
        "first_bad_position": 4,
        "reason": "duplicate_id",
        "detail": f"the id {events[1]['id']} appears earlier in the log",
    }


def test_ids_are_not_compared_when_the_database_already_guarantees_them() -> None:
    events = chain(3)
    events[2] = {**events[2], "id": events[0]["id"]}
    verifier = ChainVerifier(check_ids=False)
    assert all(verifier.feed(line) for line in bodies(relinked(events, 2)))
    assert verifier.verdict().ok


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("[1, 2]", "not an object"),
        ('{"id": "x", "position": 1, "hash": "' + "0" * 64 + '"}', "'prev_hash'"),
    ],
)
def test_a_line_that_is_not_a_stored_event_says_why(line: str, why: str) -> None:
    assert verify_bodies([line]).as_dict() == {
        "ok": False,
        "count": 0,
        "first_bad_position": 1,
        "reason": "malformed",
        "detail": f"the event is not a stored event: {why}",
    }


def test_a_value_jcs_cannot_carry_says_so() -> None:
    lines = bodies(chain(2))
    lines[1] = lines[1].replace('"n": 2', '"n": 10000000000000000')
    verdict = verify_bodies(lines)
    assert verdict.detail is not None
    assert verdict.detail.startswith("the event cannot be canonicalised: ")
    assert "10000000000000000" in verdict.detail


def test_nothing_after_the_first_failure_is_accepted() -> None:
    # Callers feed until False; a verifier that has failed must keep saying so, and keep
    # its first verdict.
    lines = bodies(chain(3))
    verifier = ChainVerifier()
    assert verifier.feed(lines[0])
    assert not verifier.feed(lines[2])
    assert not verifier.feed(lines[1])
    verdict = verifier.verdict()
    assert (verdict.ok, verdict.first_bad_position, verdict.reason, verdict.count) == (
        False,
        2,
        "position_gap",
        1,
    )


def mid_log_verifier(after: int) -> ChainVerifier:
    """As events/range_check.py checks positions after+1..: ids, link and tree left to it."""
    return ChainVerifier(check_ids=False, first_position=after + 1, prev_hash=None, build_root=False)


def test_a_range_takes_its_first_link_on_trust_and_reports_it() -> None:
    events = chain(5)
    verifier = mid_log_verifier(2)
    assert verifier.first_prev_hash is None  # nothing taken on trust yet
    for event in events[2:]:
        assert verifier.feed(json.dumps(event), row_position=event["position"])
    assert (verifier.first_prev_hash, verifier.prev_hash, verifier.count) == (
        events[1]["hash"],
        events[4]["hash"],
        3,
    )
    verdict = verifier.verdict()
    assert (verdict.ok, verdict.head_position, verdict.head_hash) == (True, 5, events[4]["hash"])
    assert verdict.root_hash is None  # build_root=False: the caller rebuilds the tree itself


def test_a_whole_log_check_takes_no_link_on_trust() -> None:
    verifier = ChainVerifier()
    assert all(verifier.feed(line) for line in bodies(chain(2)))
    assert verifier.first_prev_hash is None


@pytest.mark.parametrize(
    ("row", "index", "bad", "detail"),
    [
        # Row 4 is missing and row 5 holds event 4's body: bad at 4, the one expected.
        (5, 3, 4, "row 5 holds the event of position 4"),
        # Row 4 holds event 5's body: bad at 4.
        (4, 4, 4, "row 4 holds the event of position 5"),
        # A row numbered below the expected position: bad at the row's own position.
        (2, 3, 2, "row 2 holds the event of position 4"),
    ],
)
def test_a_row_holding_another_positions_event_is_a_position_gap(
    row: int, index: int, bad: int, detail: str
) -> None:
    events = chain(5)
    verifier = mid_log_verifier(2)
    assert verifier.feed(json.dumps(events[2]), row_position=3)
    assert not verifier.feed(json.dumps(events[index]), row_position=row)
    verdict = verifier.verdict()
    assert (verdict.first_bad_position, verdict.reason, verdict.detail, verdict.count) == (
        bad,
        "position_gap",
        detail,
        1,
    )


def test_an_empty_check_names_no_head() -> None:
    verdict = verify_bodies([])
    assert (verdict.head_position, verdict.head_hash) == (None, None)


def test_the_root_is_over_each_line_without_its_newline_and_nothing_else() -> None:
    # docs/api.md 10.4: a leaf is the export line without its newline, byte for byte; a
    # file read line by line keeps "\n" (or "\r\n" from Windows), which is not part of it,
    # but any other byte is, so an export altered even in insignificant whitespace no
    # longer matches a head the service signed.
    lines = bodies(chain(3))
    expected = verify_bodies(lines).root_hash
    assert verify_bodies([lines[0] + "\n", lines[1] + "\r\n", lines[2] + "\n"]).root_hash == expected
    padded = [lines[0], lines[1] + " ", lines[2]]
    builder = RootBuilder()
    for line in padded:
        builder.add(leaf_hash(line.encode()))
    assert verify_bodies([padded[0], padded[1] + "\n", padded[2]]).root_hash == builder.root().hex()
    assert builder.root().hex() != expected
