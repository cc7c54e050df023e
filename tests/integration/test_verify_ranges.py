"""Verification in aligned ranges, joined in order, gives the verdict of a single pass.

Ranges of 4 events over a log of 11 put every kind of damage at a range's first event,
its last, and in the tree nodes above the ranges, which only the join checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from events.drafts import draft_from_json
from events.merkle_store import TreeReader
from events.store import EventStore
from service.verification import verify_database
from tests.factories import statement
from tests.integration.test_audit import body_at, drop_triggers, set_body

Damage = Callable[[EventStore], None]


def change_byte(position: int) -> Damage:
    def damage(store: EventStore) -> None:
        set_body(store, position, body_at(store, position).replace("report", "rep0rt", 1))

    return damage


def delete(position: int) -> Damage:
    def damage(store: EventStore) -> None:
        with store.engine.begin() as conn:
            conn.execute(text("DELETE FROM events WHERE position = :p"), {"p": position})

    return damage


def swap(first: int, second: int) -> Damage:
    def damage(store: EventStore) -> None:
        one, other = body_at(store, first), body_at(store, second)
        set_body(store, first, other)
        set_body(store, second, one)

    return damage


def break_node(level: int, index: int) -> Damage:
    def damage(store: EventStore) -> None:
        with store.engine.begin() as conn:
            conn.execute(
                text("UPDATE merkle_nodes SET hash = :h WHERE level = :l AND idx = :i"),
                {"h": b"\x01" * 32, "l": level, "i": index},
            )

    return damage


def relink(position: int) -> Damage:
    """A broken link alone: the event's prev_hash changed and its hash made to match."""

    def damage(store: EventStore) -> None:
        import hashlib
        import json

        import rfc8785

        event = json.loads(body_at(store, position))
        event["prev_hash"] = "f" * 64
        event["hash"] = hashlib.sha256(
            rfc8785.dumps({k: v for k, v in event.items() if k != "hash"})
        ).hexdigest()
        set_body(store, position, rfc8785.dumps(event).decode())

    return damage


def rechained(position: int, change: Callable[[dict[str, Any]], None]) -> Damage:
    """A forger's edit: change one event and re-hash it and every later one, leaving the
    stored Merkle nodes as they were."""

    def damage(store: EventStore) -> None:
        import hashlib
        import json

        import rfc8785

        with store.engine.begin() as conn:
            rows = conn.execute(text("SELECT position, body FROM events ORDER BY position")).all()
            previous = None
            for row_position, body in rows:
                event = json.loads(body)
                if row_position < position:
                    previous = event["hash"]
                    continue
                if row_position == position:
                    change(event)
                else:
                    event["prev_hash"] = previous
                unsealed = {k: v for k, v in event.items() if k != "hash"}
                event["hash"] = previous = hashlib.sha256(rfc8785.dumps(unsealed)).hexdigest()
                conn.execute(
                    text("UPDATE events SET body = :b WHERE position = :p"),
                    {"b": rfc8785.dumps(event).decode(), "p": row_position},
                )

    return damage


def both(first: Damage, second: Damage) -> Damage:
    def damage(store: EventStore) -> None:
        first(store)
        second(store)

    return damage


def renumber(position: int, to: int) -> Damage:
    def damage(store: EventStore) -> None:
        with store.engine.begin() as conn:
            conn.execute(
                text("UPDATE events SET position = :t WHERE position = :p"), {"t": to, "p": position}
            )

    return damage


def set_prev_hash(event: dict[str, Any]) -> None:
    event["prev_hash"] = "f" * 64


def set_text(event: dict[str, Any]) -> None:
    event["data"]["text"] = "a quietly different report"


DAMAGES: dict[str, tuple[Damage, int, str]] = {
    "byte at a range's first event": (change_byte(5), 5, "hash_mismatch"),
    "byte at a range's last event": (change_byte(8), 8, "hash_mismatch"),
    "byte in the last, partial range": (change_byte(10), 10, "hash_mismatch"),
    "deleted last of a range": (delete(4), 4, "position_gap"),
    "deleted first of a range": (delete(9), 9, "position_gap"),
    "swap across ranges": (swap(3, 6), 3, "position_gap"),
    "link into a range": (relink(9), 9, "broken_link"),
    "link inside a range": (relink(6), 6, "broken_link"),
    "leaf node": (break_node(0, 6), 7, "tree_mismatch"),
    "a range's top node": (break_node(2, 1), 5, "tree_mismatch"),
    "a node above the ranges": (break_node(3, 0), 1, "tree_mismatch"),
    # Verdicts that must not depend on where the ranges fall: a chain failure anywhere
    # comes first; with the chain whole, the first position under any bad node.
    "a broken link with the chain after it re-made": (rechained(5, set_prev_hash), 5, "broken_link"),
    "a re-chained rewrite under the old tree": (rechained(6, set_text), 1, "tree_mismatch"),
    "a bad node before a changed byte": (both(break_node(0, 1), change_byte(6)), 6, "hash_mismatch"),
    "a deleted row before a damaged one": (both(delete(4), change_byte(5)), 4, "hash_mismatch"),
    "a row moved far beyond the head": (renumber(11, 1000), 11, "position_gap"),
}


@pytest.fixture
def eleven(store: EventStore) -> EventStore:
    store.append([draft_from_json(statement(text=f"report {i}")) for i in range(11)])
    return store


def verdicts(store: EventStore, workers: int) -> tuple[dict[str, Any], dict[str, Any]]:
    tree = TreeReader(store.engine)
    return verify_database(store, tree), verify_database(store, tree, workers=workers, level=2)


@pytest.mark.parametrize("workers", [1, 2])
def test_an_intact_log_gives_the_same_verdict_in_ranges(eleven: EventStore, workers: int) -> None:
    whole, ranged = verdicts(eleven, workers)
    assert whole["ok"] and ranged == whole
    assert whole["root_hash"] == TreeReader(eleven.engine).head(11).root_hash


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_damage_is_found_where_a_single_pass_finds_it(eleven: EventStore, backend: str, name: str) -> None:
    damage, position, reason = DAMAGES[name]
    drop_triggers(eleven, backend)
    damage(eleven)
    whole, ranged = verdicts(eleven, workers=1)
    assert (whole["first_bad_position"], whole["reason"]) == (position, reason), whole
    assert ranged == whole


def test_workers_find_damage_as_one_process_does(eleven: EventStore, backend: str) -> None:
    drop_triggers(eleven, backend)
    change_byte(10)(eleven)
    whole, ranged = verdicts(eleven, workers=2)
    assert (ranged["first_bad_position"], ranged["reason"]) == (10, "hash_mismatch")
    assert ranged == whole
