"""The Merkle tree in the database: nodes written in the append transaction, read for proofs."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, and_, or_, select

from events import merkle
from events.envelope import StoredEvent
from events.recorders import recorder_of
from events.tables import events as events_table
from events.tables import merkle_nodes


def fetch_nodes(conn: Connection, nodes: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
    wanted = list(nodes)
    if not wanted:
        return {}
    by_level: dict[int, list[int]] = {}
    for level, idx in wanted:
        by_level.setdefault(level, []).append(idx)
    # One index search per level: SQLite scans the whole table for a row-value IN list.
    rows = conn.execute(
        select(merkle_nodes.c.level, merkle_nodes.c.idx, merkle_nodes.c.hash).where(
            or_(
                *(
                    and_(merkle_nodes.c.level == level, merkle_nodes.c.idx.in_(idxs))
                    for level, idxs in by_level.items()
                )
            )
        )
    )
    return {(row.level, row.idx): bytes(row.hash) for row in rows}


def insert_nodes(conn: Connection, nodes: dict[merkle.Node, bytes]) -> None:
    recorder_of(conn).bulk_insert(
        conn, "merkle_nodes", ("level", "idx", "hash"), [(lv, ix, h) for (lv, ix), h in nodes.items()]
    )


class MerkleNodes:
    """An AppendHook: adds the new leaves and every subtree they complete.

    It keeps the frontier (the complete subtrees of the tree) its last append left, keyed
    by the hash of the last event then, which the hash chain ties to the whole log up to
    it: when the next append follows that event, the frontier is still right, and
    otherwise (another process appended, or that append was rolled back) it is read again.
    """

    def __init__(self) -> None:
        self.frontier: tuple[str, dict[merkle.Node, bytes]] = ("", {})

    def __call__(self, conn: Connection, appended: Sequence[StoredEvent]) -> None:
        size = appended[0].position - 1
        after, frontier = self.frontier
        if after != appended[0].prev_hash:
            frontier = fetch_nodes(conn, merkle.parts(0, size))
        leaves = [merkle.leaf_hash(event.body.encode("utf-8")) for event in appended]
        created = merkle.new_nodes(size, leaves, frontier)
        insert_nodes(conn, created)
        new_size = size + len(appended)
        everything = {**frontier, **created}
        self.frontier = (appended[-1].hash, {node: everything[node] for node in merkle.parts(0, new_size)})


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: str
    timestamp: str | None

    def as_dict(self) -> dict[str, object]:
        return {"tree_size": self.tree_size, "root_hash": self.root_hash, "timestamp": self.timestamp}


class TreeReader:
    """Heads and proofs from the stored nodes: O(log n) nodes, one query each.

    Inside `with reader.reading():` every call of the thread shares one connection, so an
    answer that needs the size and then a proof pays one checkout, not one a call.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._open = threading.local()

    @contextmanager
    def reading(self) -> Iterator[None]:
        if getattr(self._open, "conn", None) is not None:  # nested: the outer one's connection
            yield
            return
        with self.engine.connect() as conn:
            self._open.conn = conn
            try:
                yield
            finally:
                self._open.conn = None

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        shared = getattr(self._open, "conn", None)
        if shared is not None:
            yield shared
            return
        with self.engine.connect() as conn:
            yield conn

    def size(self) -> int:
        with self._connection() as conn:
            last = conn.execute(
                select(events_table.c.position).order_by(events_table.c.position.desc()).limit(1)
            ).scalar()
        return int(last or 0)

    def head(self, size: int) -> TreeHead:
        with self._connection() as conn:
            root = merkle.root(size, lambda nodes: fetch_nodes(conn, nodes))
            timestamp = (
                conn.execute(
                    select(events_table.c.recorded_at).where(events_table.c.position == size)
                ).scalar()
                if size
                else None
            )
        return TreeHead(size, root.hex(), timestamp)

    def nodes(self, wanted: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
        keys = list(wanted)
        found: dict[merkle.Node, bytes] = {}
        with self._connection() as conn:
            for start in range(0, len(keys), 1000):
                found.update(fetch_nodes(conn, keys[start : start + 1000]))
        return found

    def inclusion(self, position: int, size: int) -> list[str]:
        with self._connection() as conn:
            path = merkle.inclusion_proof(position - 1, size, lambda nodes: fetch_nodes(conn, nodes))
        return [h.hex() for h in path]

    def consistency(self, first: int, second: int) -> list[str]:
        with self._connection() as conn:
            path = merkle.consistency_proof(first, second, lambda nodes: fetch_nodes(conn, nodes))
        return [h.hex() for h in path]
