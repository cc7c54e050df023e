"""Building the store with what every writer needs in its append transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from events.database import is_sqlite
from events.merkle_store import MerkleNodes
from events.notifications import PostgresNotify
from events.store import AfterCommit, AppendHook, EventStore
from projections.sql.recorder import StateRows


def build_store(engine: Engine, after_commit: Sequence[AfterCommit] = ()) -> EventStore:
    """The store with the Merkle tree and the state read model kept in its append
    transaction, announcing appends to the other processes on PostgreSQL. Every
    writer must be built here."""
    hooks: list[AppendHook] = [MerkleNodes(), StateRows()]
    if not is_sqlite(engine):
        hooks.append(PostgresNotify())
    return EventStore(engine, hooks=hooks, after_commit=after_commit)
