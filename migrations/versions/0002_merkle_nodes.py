"""The Merkle tree's complete subtrees, append-only, built for the events already stored.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PAGE = 5000

# RFC 9162's hashing and the tree's node layout as they are at this revision: a migration
# carries the code it runs, so a later change to the live Merkle module cannot change (or
# break) what upgrading an old database builds.
Node = tuple[int, int]  # (level, index)


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def parts(lo: int, hi: int) -> list[Node]:
    """The complete subtrees that make up leaves [lo, hi), largest first."""
    found: list[Node] = []
    while lo < hi:
        size = 1 << ((hi - lo).bit_length() - 1)
        found.append(((size.bit_length() - 1), lo // size))
        lo += size
    return found


def new_nodes(size: int, leaves: Sequence[bytes], frontier: Mapping[Node, bytes]) -> dict[Node, bytes]:
    """The complete subtrees that appending `leaves` to a tree of `size` leaves completes."""
    known = dict(frontier)
    created: dict[Node, bytes] = {}
    for offset, leaf in enumerate(leaves):
        level, index, current = 0, size + offset, leaf
        created[(level, index)] = known[(level, index)] = current
        while index % 2 == 1:
            current = node_hash(known[(level, index - 1)], current)
            level, index = level + 1, index // 2
            created[(level, index)] = known[(level, index)] = current
    return created


def upgrade() -> None:
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_merkle_nodes")),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER merkle_nodes_no_update_or_delete BEFORE UPDATE OR DELETE ON merkle_nodes "
            "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )
        op.execute(
            "CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes "
            "FOR EACH STATEMENT EXECUTE FUNCTION events_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER merkle_nodes_no_{action.lower()} BEFORE {action} ON merkle_nodes "
                f"BEGIN SELECT RAISE(ABORT, 'the merkle_nodes table is append-only: {action} refused'); END"
            )
    _build_for_existing_events(bind)


def _build_for_existing_events(bind: sa.Connection) -> None:
    events = sa.table("events", sa.column("position", sa.BigInteger), sa.column("body", sa.Text))
    nodes = sa.table(
        "merkle_nodes",
        sa.column("level", sa.SmallInteger),
        sa.column("idx", sa.BigInteger),
        sa.column("hash", sa.LargeBinary),
    )
    size, known = 0, dict[Node, bytes]()
    while True:
        rows = bind.execute(
            sa.select(events.c.position, events.c.body)
            .where(events.c.position > size)
            .order_by(events.c.position)
            .limit(PAGE)
        ).all()
        if not rows:
            return
        frontier = {node: known[node] for node in parts(0, size)}
        created = new_nodes(size, [leaf_hash(r.body.encode("utf-8")) for r in rows], frontier)
        bind.execute(
            sa.insert(nodes), [{"level": lv, "idx": ix, "hash": h} for (lv, ix), h in created.items()]
        )
        size += len(rows)
        known = {**frontier, **created}


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS merkle_nodes_no_truncate ON merkle_nodes")
        op.execute("DROP TRIGGER IF EXISTS merkle_nodes_no_update_or_delete ON merkle_nodes")
    else:
        op.execute("DROP TRIGGER IF EXISTS merkle_nodes_no_update")
        op.execute("DROP TRIGGER IF EXISTS merkle_nodes_no_delete")
    op.drop_table("merkle_nodes")
