"""Building the store with what every writer needs in its append transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from events.merkle_store import MerkleNodes
from events.recorders import recorder_of
from events.store import AfterCommit, AppendHook, EventStore
from projections.sql.recorder import StateRows


def build_store(engine: Engine, after_commit: Sequence[AfterCommit] = ()) -> EventStore:
    """The store with the Merkle tree and the state read model kept in its append
    transaction (the recorder announces appends to other processes where its backend
    can). Every writer must be built here."""
    hooks: list[AppendHook] = [MerkleNodes(), StateRows()]
    return EventStore(recorder_of(engine), hooks=hooks, after_commit=after_commit)
