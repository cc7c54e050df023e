"""The stored Merkle tree, written by the append hook and read back, in this process
(docs/testing.md, "Mutation testing"): the audit endpoints test it on a server, where mutmut
cannot see it.

A log of 40 events, appended in batches that start and end on every kind of edge, is
compared with the pure functions of events.merkle over the same leaves: every stored node,
every head, every inclusion proof (first and last leaf, sizes 1, powers of two and one
past) and every consistency proof (m == n, m = 1, m a power of two) of trees of 1 to 40.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from events import merkle
from events.drafts import draft_from_json
from events.merkle_store import MerkleNodes, TreeHead, TreeReader, fetch_nodes
from events.recorders import make_engine, recorder_of
from events.store import EventStore
from events.tables import merkle_nodes
from tests.factories import statement
from tests.unit.test_merkle import fetcher

SIZE = 40
# Batches starting at 0, 1, 2, 4 (a power of two), 8, 9 (one past), 16 and 24, ending
# past 32: the hook completes subtrees of every level across a batch's edges.
BATCHES = [1, 1, 2, 4, 1, 7, 8, 16]
assert sum(BATCHES) == SIZE


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def writer(engine: Engine, *hooks: Any) -> EventStore:
    return EventStore(recorder_of(engine), hooks=list(hooks) or [MerkleNodes()])


def drafts(count: int, label: str = "report") -> list[Any]:
    return [draft_from_json(statement(text=f"{label} {i}")) for i in range(count)]


def stored_events(store: EventStore) -> list[Any]:
    return list(store.read(after=0, limit=1000).events)


def pure_tree(events: list[Any]) -> dict[merkle.Node, bytes]:
    return merkle.new_nodes(0, [merkle.leaf_hash(e.body.encode("utf-8")) for e in events], {})


def every_stored_node(engine: Engine) -> dict[merkle.Node, bytes]:
    with engine.connect() as conn:
        rows = conn.execute(select(merkle_nodes.c.level, merkle_nodes.c.idx, merkle_nodes.c.hash))
        return {(row.level, row.idx): bytes(row.hash) for row in rows}


@pytest.fixture
def grown(engine: Engine) -> tuple[EventStore, dict[merkle.Node, bytes]]:
    store = writer(engine)
    for count in BATCHES:
        store.append(drafts(count))
    return store, pure_tree(stored_events(store))


def statements(engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    """The SQL an engine runs from now on, each with its values by bound name."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        seen.append((statement, dict(context.compiled_parameters[0]) if context.compiled else {}))

    event.listen(engine, "before_cursor_execute", note)
    return seen


# -- what the append hook writes ---------------------------------------------------------


def test_the_hook_stores_every_complete_subtree_and_nothing_else(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    _, pure = grown
    assert every_stored_node(engine) == pure
    assert len(pure) == 2 * SIZE - bin(SIZE).count("1")


def test_the_frontier_is_the_complete_subtrees_of_the_tree_after_each_append(engine: Engine) -> None:
    hook = MerkleNodes()
    store = writer(engine, hook)
    assert hook.frontier == ("", {})
    size = 0
    for count in BATCHES:
        appended = store.append(drafts(count)).events
        size += count
        pure = pure_tree(stored_events(store))
        assert hook.frontier == (appended[-1].hash, {node: pure[node] for node in merkle.parts(0, size)})


def test_another_writer_between_appends_makes_the_hook_read_the_frontier_again(engine: Engine) -> None:
    # Each hook's frontier is stale after the other's append: built on it, the new nodes
    # would be wrong (or the hook would fail for a node it lacks).
    ours, theirs = writer(engine), writer(engine)
    for count, store in zip(BATCHES, [ours, theirs, ours, ours, theirs, ours, theirs, theirs], strict=True):
        store.append(drafts(count))
    assert every_stored_node(engine) == pure_tree(stored_events(ours))


def test_a_rolled_back_append_makes_the_hook_read_the_frontier_again(engine: Engine) -> None:
    failing = [True]

    def fail_after_the_tree(conn: Any, appended: Any) -> None:
        if failing[0]:
            raise RuntimeError("a later hook failed")

    hook = MerkleNodes()
    store = writer(engine, hook, fail_after_the_tree)
    failing[0] = False
    store.append(drafts(3))
    failing[0] = True
    with pytest.raises(RuntimeError):
        store.append(drafts(5, "rolled back"))  # the frontier now names a hash never stored
    failing[0] = False
    store.append(drafts(6))
    events = stored_events(store)
    assert len(events) == 9
    assert every_stored_node(engine) == pure_tree(events)
    assert hook.frontier[0] == events[-1].hash


# -- fetch_nodes and TreeReader.nodes ----------------------------------------------------


def test_fetching_no_nodes_reads_none(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    # With nothing asked the query would have no condition at all, and read every node.
    with engine.connect() as conn:
        assert fetch_nodes(conn, []) == {}
        assert fetch_nodes(conn, iter([])) == {}
    assert TreeReader(engine).nodes([]) == {}


def test_nodes_are_the_ones_asked_for_on_their_own_levels(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    _, pure = grown
    reader = TreeReader(engine)
    # An index asked on one level must not bring the same index of another level.
    for wanted in (
        [(0, 3)],
        [(2, 1), (0, 3)],
        [(0, 0), (0, 39), (1, 19), (3, 4), (5, 0)],
        [(5, 1), (0, 40), (6, 0), (1, 20)],  # none of them stored: not yet complete
        [(0, 3), (0, 3), (4, 1)],
        list(pure),
    ):
        expected = {node: pure[node] for node in wanted if node in pure}
        assert reader.nodes(wanted) == expected, wanted
        assert reader.nodes(iter(wanted)) == expected, wanted
        with engine.connect() as conn:
            assert fetch_nodes(conn, wanted) == expected, wanted


def test_more_than_a_thousand_nodes_are_read_in_pages(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    # Pages of 1,000 keys (a statement's parameters are limited): stored nodes at either
    # side of each page's edge, and absent ones between, must all be answered.
    _, pure = grown
    keys: list[merkle.Node] = [(0, 10**6 + i) for i in range(2600)]
    placed = {0: (0, 0), 998: (1, 3), 999: (0, 1), 1000: (2, 2), 1001: (0, 2), 1999: (3, 1)}
    placed |= {2000: (4, 1), 2001: (5, 0), 2002: (0, 39), 2599: (1, 19)}
    for at, node in placed.items():
        keys[at] = node
    counted = statements(engine)
    assert TreeReader(engine).nodes(keys) == {node: pure[node] for node in placed.values()}
    # One query a page, not one a key (or a page starting at every key).
    assert len([sql for sql, _ in counted if "merkle_nodes" in sql]) == 3


# -- heads and proofs against the pure functions -----------------------------------------


def test_heads_of_every_size(engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]) -> None:
    store, pure = grown
    reader = TreeReader(engine)
    events = stored_events(store)
    assert reader.size() == SIZE
    empty = reader.head(0)
    assert empty == TreeHead(0, merkle.EMPTY_ROOT.hex(), None)
    assert empty.as_dict() == {"tree_size": 0, "root_hash": merkle.EMPTY_ROOT.hex(), "timestamp": None}
    for size in range(1, SIZE + 1):
        head = reader.head(size)
        root = merkle.root(size, fetcher(pure)).hex()
        # The timestamp is when the head's last event was recorded.
        assert head == TreeHead(size, root, events[size - 1].recorded_at), size
        assert head.as_dict() == {
            "tree_size": size,
            "root_hash": root,
            "timestamp": events[size - 1].recorded_at,
        }


def test_the_size_of_an_empty_log_is_zero(engine: Engine) -> None:
    assert TreeReader(engine).size() == 0
    writer(engine).append(drafts(1))
    assert TreeReader(engine).size() == 1


def test_the_size_reads_one_row(engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]) -> None:
    # Every head and proof asks it: the last position, not every position of the log
    # (PostgreSQL's driver would fetch them all into memory before the first is taken).
    counted = statements(engine)
    assert TreeReader(engine).size() == SIZE
    assert [parameters.get("param_1") for sql, parameters in counted if "LIMIT" in sql.upper()] == [1]


def test_inclusion_proofs_of_every_leaf_of_every_size(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    _, pure = grown
    reader = TreeReader(engine)
    with reader.reading():
        for size in range(1, SIZE + 1):
            for position in range(1, size + 1):
                want = [h.hex() for h in merkle.inclusion_proof(position - 1, size, fetcher(pure))]
                assert reader.inclusion(position, size) == want, (position, size)
    assert reader.inclusion(1, 1) == []  # a tree of one leaf: the leaf is the root


def test_consistency_proofs_between_every_pair_of_sizes(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    _, pure = grown
    reader = TreeReader(engine)
    with reader.reading():
        for second in range(1, SIZE + 1):
            for first in range(1, second + 1):
                want = [h.hex() for h in merkle.consistency_proof(first, second, fetcher(pure))]
                assert reader.consistency(first, second) == want, (first, second)
    assert reader.consistency(SIZE, SIZE) == []


def test_proofs_outside_a_reading_block(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    # Each call then takes a connection of its own: the same answers.
    _, pure = grown
    reader = TreeReader(engine)
    for position, size in [(1, 1), (1, 2), (2, 2), (5, 8), (8, 8), (9, 9), (1, 17), (17, 17), (33, 40)]:
        want = [h.hex() for h in merkle.inclusion_proof(position - 1, size, fetcher(pure))]
        assert reader.inclusion(position, size) == want, (position, size)
    for first, second in [(1, 2), (1, 40), (4, 8), (8, 9), (16, 17), (17, 32), (39, 40)]:
        want = [h.hex() for h in merkle.consistency_proof(first, second, fetcher(pure))]
        assert reader.consistency(first, second) == want, (first, second)


def test_a_proof_past_the_stored_tree_lacks_nodes(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    reader = TreeReader(engine)
    with pytest.raises(LookupError):
        reader.inclusion(1, SIZE + 1)
    with pytest.raises(LookupError):
        reader.consistency(3, SIZE + 1)


# -- one connection per reading block ----------------------------------------------------


def checkouts(engine: Engine) -> list[int]:
    counted: list[int] = []
    event.listen(engine, "checkout", lambda *_: counted.append(threading.get_ident()))
    return counted


def every_read(reader: TreeReader) -> None:
    reader.size()
    reader.head(SIZE)
    reader.nodes([(0, 1)])
    reader.inclusion(3, 17)
    reader.consistency(5, 33)


def test_calls_in_a_reading_block_share_one_connection(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    reader = TreeReader(engine)
    counted = checkouts(engine)
    with reader.reading():
        every_read(reader)
        with reader.reading():  # nested: still the outer block's connection
            every_read(reader)
        every_read(reader)
    assert len(counted) == 1
    every_read(reader)  # after the block, a connection a call again
    assert len(counted) == 6
    with reader.reading():
        every_read(reader)
    assert len(counted) == 7


def test_a_block_ended_by_an_error_leaves_no_connection_behind(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    reader = TreeReader(engine)
    with pytest.raises(LookupError), reader.reading():
        reader.inclusion(1, SIZE + 1)
    counted = checkouts(engine)
    every_read(reader)
    assert len(counted) == 5


def test_another_thread_does_not_share_the_block(
    engine: Engine, grown: tuple[EventStore, dict[merkle.Node, bytes]]
) -> None:
    # A connection is not for two threads at once: the block belongs to its thread.
    reader = TreeReader(engine)
    counted = checkouts(engine)
    sizes: list[int] = []
    with reader.reading():
        reader.size()
        thread = threading.Thread(target=lambda: sizes.append(reader.size()))
        thread.start()
        thread.join()
        reader.size()
    assert sizes == [SIZE]
    assert len(counted) == 2 and counted[0] != counted[1]
