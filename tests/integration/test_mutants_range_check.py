"""One aligned range's verdict, checked in this process (docs/testing.md, "Mutation testing").

`check_range` runs in worker processes in test_verify_ranges.py, where mutmut cannot see it;
here it is called directly, on good ranges of an 11-event log at every level and on ranges
with each kind of fault, and its whole RangeCheck is compared with one worked out from the
bodies: the count, the link into the range, the hash out of it, the failure, the first bad
node's position and the range's top node.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, text

from events import merkle, verify
from events.drafts import draft_from_json
from events.merkle_store import TreeReader
from events.range_check import Failure, RangeCheck, check_range, first_bad_node
from events.recorders import make_engine
from events.store import EventStore
from tests.factories import statement
from tests.integration.test_audit import body_at, drop_triggers, independent_root, set_body
from tests.integration.test_verify_ranges import (
    break_node,
    change_byte,
    delete,
    rechained,
    relink,
    renumber,
    swap,
)

SIZE = 11
BAD_HASH = "the event does not hash to its recorded hash"
BAD_LINK = "prev_hash is not the previous event's hash"


@pytest.fixture
def eleven(store: EventStore) -> EventStore:
    store.append([draft_from_json(statement(text=f"report {i}")) for i in range(SIZE)])
    return store


@pytest.fixture
def damaged(eleven: EventStore, backend: str) -> EventStore:
    """The log with its append-only triggers gone, for a test to damage."""
    drop_triggers(eleven, backend)
    return eleven


def field(store: EventStore, position: int, name: str) -> str:
    return str(json.loads(body_at(store, position))[name])


def expected(
    store: EventStore, after: int, until: int, level: int, bad_node: int | None = None
) -> RangeCheck:
    """The check of a range whose chain holds, worked out from the bodies: the top node is
    the RFC's root of the range's bodies, computed independently of events.merkle."""
    bodies = [body_at(store, p).encode() for p in range(after + 1, until + 1)]
    whole = until - after == 1 << level
    return RangeCheck(
        after=after,
        count=until - after,
        first_prev_hash=field(store, after + 1, "prev_hash"),
        last_hash=field(store, until, "hash"),
        failure=None,
        bad_node_position=bad_node,
        top=independent_root(bodies) if whole else None,
    )


def failed(after: int, count: int, link: str | None, last: str | None, failure: Failure) -> RangeCheck:
    return RangeCheck(after, count, link, last, failure, None, None)


# -- good ranges -------------------------------------------------------------------------

# (after, until, level): every aligned range of the log at levels 0 to 4, the last of each
# level partial or whole, plus partial ranges that end before the log does.
GOOD = [
    *(
        (after, min(after + (1 << level), SIZE), level)
        for level in range(5)
        for after in range(0, SIZE, 1 << level)
    ),
    (0, 3, 2),
    (4, 7, 2),
    (8, 9, 3),
    (8, 10, 2),
]


@pytest.mark.parametrize("level", range(5))
def test_every_aligned_range_of_an_intact_log_checks(eleven: EventStore, level: int) -> None:
    # Ranges after 0 matter: the rows and the stored nodes are read from `after` on, at
    # index after >> level on each level.
    for after, until, lv in GOOD:
        if lv == level:
            assert check_range(eleven.engine, after, until, lv) == expected(eleven, after, until, lv)


def test_the_top_of_a_whole_range_is_the_stored_root_over_it(eleven: EventStore) -> None:
    # The join builds the nodes above the ranges from these tops.
    check = check_range(eleven.engine, 0, 8, 3)
    assert check.top is not None and check.top.hex() == TreeReader(eleven.engine).head(8).root_hash


@pytest.mark.parametrize(
    ("after", "until", "level"),
    [(2, 4, 2), (1, 2, 1), (6, 8, 2), (0, 5, 2), (4, 9, 2), (0, 2, 0), (3, 5, 1)],
)
def test_a_misaligned_or_oversized_range_is_refused(
    eleven: EventStore, after: int, until: int, level: int
) -> None:
    # Every node inside a range depends on its events alone only when it starts at a
    # multiple of its length and is no longer: anything else would check the wrong nodes.
    with pytest.raises(AssertionError):
        check_range(eleven.engine, after, until, level)


# -- faults in the chain -----------------------------------------------------------------

Damage = Callable[[EventStore], None]


def test_a_tampered_first_event(damaged: EventStore) -> None:
    change_byte(5)(damaged)
    # Nothing of the range passed: no link into it taken, no hash out of it.
    assert check_range(damaged.engine, 4, 8, 2) == failed(
        4, 0, None, None, Failure(5, "hash_mismatch", BAD_HASH)
    )


def test_a_tampered_event_inside_a_range(damaged: EventStore) -> None:
    change_byte(7)(damaged)
    link, last = field(damaged, 5, "prev_hash"), field(damaged, 6, "hash")
    assert check_range(damaged.engine, 4, 8, 2) == failed(
        4, 2, link, last, Failure(7, "hash_mismatch", BAD_HASH)
    )


def test_a_tampered_last_event_of_the_log(damaged: EventStore) -> None:
    change_byte(11)(damaged)
    link, last = field(damaged, 9, "prev_hash"), field(damaged, 10, "hash")
    assert check_range(damaged.engine, 8, 11, 2) == failed(
        8, 2, link, last, Failure(11, "hash_mismatch", BAD_HASH)
    )


def test_a_broken_link_inside_a_range(damaged: EventStore) -> None:
    relink(6)(damaged)
    link, last = field(damaged, 5, "prev_hash"), field(damaged, 5, "hash")
    assert check_range(damaged.engine, 4, 8, 2) == failed(
        4, 1, link, last, Failure(6, "broken_link", BAD_LINK)
    )


def test_the_link_into_a_range_is_taken_on_trust(damaged: EventStore) -> None:
    # The join compares it with the previous range's last hash; here it is only reported.
    # The chain inside holds, so the tree is checked: the leaf of 5 no longer matches.
    rechained(5, lambda event: event.update(prev_hash="f" * 64))(damaged)
    assert field(damaged, 5, "prev_hash") == "f" * 64
    assert check_range(damaged.engine, 4, 8, 2) == expected(damaged, 4, 8, 2, bad_node=5)


def test_a_missing_row_inside_a_range(damaged: EventStore) -> None:
    # The row after the range is fed in its place, as a single pass would meet it.
    delete(6)(damaged)
    link, last = field(damaged, 5, "prev_hash"), field(damaged, 5, "hash")
    gap = Failure(6, "position_gap", "expected position 6, found 7")
    assert check_range(damaged.engine, 4, 8, 2) == failed(4, 1, link, last, gap)


def test_a_missing_last_row_of_a_range_meets_the_next_range(damaged: EventStore) -> None:
    delete(8)(damaged)
    link, last = field(damaged, 5, "prev_hash"), field(damaged, 7, "hash")
    gap = Failure(8, "position_gap", "expected position 8, found 9")
    assert check_range(damaged.engine, 4, 8, 2) == failed(4, 3, link, last, gap)


def test_a_missing_first_row_of_a_range(damaged: EventStore) -> None:
    delete(5)(damaged)
    gap = Failure(5, "position_gap", "expected position 5, found 6")
    assert check_range(damaged.engine, 4, 8, 2) == failed(4, 0, None, None, gap)


@pytest.mark.parametrize("missing", [[11], [10, 11], [9, 10, 11]])
def test_missing_rows_at_the_end_of_the_log_are_a_gap(damaged: EventStore, missing: list[int]) -> None:
    # Nothing comes after them: the first missing position, found none.
    for position in missing:
        delete(position)(damaged)
    count = missing[0] - 9
    link = field(damaged, 9, "prev_hash") if count else None
    last = field(damaged, missing[0] - 1, "hash") if count else None
    gap = Failure(missing[0], "position_gap", f"expected position {missing[0]}, found none")
    assert check_range(damaged.engine, 8, 11, 2) == RangeCheck(8, count, link, last, gap, None, None)


def test_a_row_moved_beyond_the_head(damaged: EventStore) -> None:
    renumber(11, 1000)(damaged)
    link, last = field(damaged, 9, "prev_hash"), field(damaged, 10, "hash")
    gap = Failure(11, "position_gap", "row 1000 holds the event of position 11")
    assert check_range(damaged.engine, 8, 11, 2) == failed(8, 2, link, last, gap)


def test_only_the_first_row_after_a_gap_is_fed(damaged: EventStore) -> None:
    # Two rows moved away: the nearer one is what a single pass meets next.
    renumber(11, 2000)(damaged)
    renumber(10, 1000)(damaged)
    link, last = field(damaged, 9, "prev_hash"), field(damaged, 9, "hash")
    gap = Failure(10, "position_gap", "row 1000 holds the event of position 10")
    assert check_range(damaged.engine, 8, 11, 2) == failed(8, 1, link, last, gap)


def test_a_row_holding_another_event(damaged: EventStore) -> None:
    swap(5, 6)(damaged)
    gap = Failure(5, "position_gap", "row 5 holds the event of position 6")
    assert check_range(damaged.engine, 4, 8, 2) == failed(4, 0, None, None, gap)


def test_a_body_that_is_not_an_event(damaged: EventStore) -> None:
    set_body(damaged, 6, "[1, 2]")
    link, last = field(damaged, 5, "prev_hash"), field(damaged, 5, "hash")
    bad = Failure(6, "malformed", "the event is not a stored event: not an object")
    assert check_range(damaged.engine, 4, 8, 2) == failed(4, 1, link, last, bad)


def test_a_duplicate_id_is_left_to_the_database(damaged: EventStore) -> None:
    # The ids are unique in their column; checking them again in a range would find a
    # repeat inside one range and not across two, so the verdict would depend on the cut.
    # The re-hashed rewrite still leaves the tree behind: the pair over 5 and 6 is the
    # first stored node that no longer matches.
    repeated = field(damaged, 5, "id")
    rechained(6, lambda event: event.update(id=repeated))(damaged)
    assert field(damaged, 6, "id") == repeated
    assert check_range(damaged.engine, 4, 8, 2) == expected(damaged, 4, 8, 2, bad_node=5)


def test_the_tree_is_not_checked_when_the_chain_fails(damaged: EventStore) -> None:
    break_node(0, 4)(damaged)
    change_byte(7)(damaged)
    check = check_range(damaged.engine, 4, 8, 2)
    assert (check.failure, check.bad_node_position, check.top) == (
        Failure(7, "hash_mismatch", BAD_HASH),
        None,
        None,
    )


# -- faults in the stored tree -----------------------------------------------------------


def delete_node(level: int, index: int) -> Damage:
    def damage(store: EventStore) -> None:
        with store.engine.begin() as conn:
            conn.execute(
                text("DELETE FROM merkle_nodes WHERE level = :l AND idx = :i"), {"l": level, "i": index}
            )

    return damage


# (what is broken or lost, the first position under it); in the range 4..8 at level 2.
NODE_FAULTS: dict[str, tuple[list[Damage], int]] = {
    "first leaf": ([break_node(0, 4)], 5),
    "last leaf": ([break_node(0, 7)], 8),
    "a leaf inside": ([break_node(0, 6)], 7),
    "the first pair": ([break_node(1, 2)], 5),
    "the second pair": ([break_node(1, 3)], 7),
    "the range's top (a wrong root)": ([break_node(2, 1)], 5),
    "a later leaf and an earlier pair": ([break_node(0, 7), break_node(1, 2)], 5),
    "an earlier leaf and a later pair": ([break_node(0, 5), break_node(1, 3)], 6),
    "a lost first leaf": ([delete_node(0, 4)], 5),
    "a lost leaf inside": ([delete_node(0, 5)], 6),
    "a lost last leaf": ([delete_node(0, 7)], 8),
    "a lost second pair": ([delete_node(1, 3)], 7),
    "a lost top": ([delete_node(2, 1)], 5),
    "a lost leaf after a broken one": ([break_node(0, 5), delete_node(0, 6)], 6),
}


@pytest.mark.parametrize("name", sorted(NODE_FAULTS))
def test_a_bad_stored_node_is_found_at_its_first_position(damaged: EventStore, name: str) -> None:
    damages, position = NODE_FAULTS[name]
    for damage in damages:
        damage(damaged)
    # The chain holds: the range's own figures stand, the top rebuilt from the events.
    assert check_range(damaged.engine, 4, 8, 2) == expected(damaged, 4, 8, 2, bad_node=position)


def test_nodes_outside_the_range_are_not_its_concern(damaged: EventStore) -> None:
    # Above its top (the join checks those), and in the ranges beside it.
    for damage in (break_node(3, 0), break_node(0, 3), break_node(0, 8), break_node(1, 4)):
        damage(damaged)
    assert check_range(damaged.engine, 4, 8, 2) == expected(damaged, 4, 8, 2)
    assert check_range(damaged.engine, 0, 8, 3) == expected(damaged, 0, 8, 3, bad_node=1)


def test_a_partial_range_checks_its_complete_nodes(damaged: EventStore) -> None:
    break_node(1, 4)(damaged)  # over positions 9 and 10
    assert check_range(damaged.engine, 8, 11, 2) == expected(damaged, 8, 11, 2, bad_node=9)


# -- first_bad_node on its own, as the join calls it -------------------------------------


def stored_levels(store: EventStore) -> list[list[bytes]]:
    return merkle.complete_levels([merkle.leaf_hash(body_at(store, p).encode()) for p in range(1, SIZE + 1)])


def test_first_bad_node_of_matching_runs_is_none(eleven: EventStore) -> None:
    levels = stored_levels(eleven)
    assert first_bad_node(eleven.engine, {}) is None
    assert first_bad_node(eleven.engine, {0: (3, []), 1: (0, [])}) is None
    assert first_bad_node(eleven.engine, {3: (0, levels[3]), 1: (2, levels[1][2:5])}) is None


def test_an_empty_run_does_not_end_the_check(eleven: EventStore) -> None:
    # A level with nothing to compare is skipped; the levels after it are still read.
    assert first_bad_node(eleven.engine, {0: (3, []), 1: (0, [b"\x07" * 32])}) == 1


def test_first_bad_node_names_the_lowest_position_over_every_level(eleven: EventStore) -> None:
    levels = stored_levels(eleven)
    wrong = b"\x07" * 32
    runs = {
        0: (6, [levels[0][6], wrong, levels[0][8]]),  # node 7: position 8
        1: (2, [levels[1][2], wrong]),  # node 3: positions 7 and 8
        2: (1, [levels[2][1]]),
    }
    assert first_bad_node(eleven.engine, runs) == 7
    # A node the store lacks (past its last leaf) is bad like a wrong one.
    assert first_bad_node(eleven.engine, {0: (10, [levels[0][10], wrong])}) == 12
    assert first_bad_node(eleven.engine, {3: (1, [wrong])}) == 9


# -- what a range check costs and relies on ----------------------------------------------


@pytest.fixture
def unordered(damaged: EventStore, backend: str) -> Iterator[Engine]:
    """An engine on the same log whose queries without ORDER BY return rows out of position
    order, as nothing promises otherwise: SQLite's reverse_unordered_selects, and on
    PostgreSQL rows rewritten (so the heap holds them out of order) read by sequential scans."""
    engine = make_engine(damaged.engine.url.render_as_string(hide_password=False))
    if backend == "sqlite":
        settings = ["PRAGMA reverse_unordered_selects = ON"]
    else:
        for position in (5, 9, 1):
            set_body(damaged, position, body_at(damaged, position))
        settings = ["SET enable_indexscan = off", "SET enable_bitmapscan = off"]

    def configure(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        for setting in settings:
            cursor.execute(setting)
        cursor.close()
        dbapi_connection.commit()

    event.listen(engine, "connect", configure)
    yield engine
    engine.dispose()


def test_a_range_check_reads_the_rows_in_log_order(damaged: EventStore, unordered: Engine) -> None:
    for after, until, level in GOOD:
        assert check_range(unordered, after, until, level) == expected(damaged, after, until, level)


def test_after_a_gap_the_next_row_is_the_nearest_one(damaged: EventStore, unordered: Engine) -> None:
    renumber(11, 2000)(damaged)
    renumber(10, 1000)(damaged)
    gap = Failure(10, "position_gap", "row 1000 holds the event of position 10")
    link, last = field(damaged, 9, "prev_hash"), field(damaged, 9, "hash")
    assert check_range(unordered, 8, 11, 2) == failed(8, 1, link, last, gap)


def test_after_a_gap_one_row_is_read_not_the_rest_of_the_log(damaged: EventStore) -> None:
    # A gap early in a range of a long log must not load every later row: one is enough
    # for the verifier to say what is wrong. The answer is the same either way, so the
    # statements are what is checked: one read with a limit, of 1.
    delete(2)(damaged)
    limits: list[Any] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "LIMIT" in statement.upper():  # the values of this execution, by bound name
            limits.append(context.compiled_parameters[0].get("param_1", statement))

    event.listen(damaged.engine, "before_cursor_execute", note)
    try:
        check = check_range(damaged.engine, 0, 4, 2)
    finally:
        event.remove(damaged.engine, "before_cursor_execute", note)
    assert check.failure == Failure(2, "position_gap", "expected position 2, found 3")
    assert limits == [1]


def test_each_leaf_is_hashed_once(eleven: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # The range builds its own leaves for the stored nodes; a root built by the chain
    # verifier as well would hash every body a second time, to be thrown away.
    def no_root_here(*_: Any) -> None:
        raise AssertionError("the chain verifier built a Merkle root of the range")

    monkeypatch.setattr(verify, "RootBuilder", no_root_here)
    assert check_range(eleven.engine, 0, 8, 3) == expected(eleven, 0, 8, 3)
