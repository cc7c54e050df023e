"""Building the store with what every process needs in its append transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from events.database import is_sqlite
from events.notifications import PostgresNotify
from events.store import AfterCommit, AppendHook, EventStore


def build_store(engine: Engine, after_commit: Sequence[AfterCommit] = ()) -> EventStore:
    """The store, announcing appends to the other processes on PostgreSQL."""
    hooks: list[AppendHook] = [] if is_sqlite(engine) else [PostgresNotify()]
    return EventStore(engine, hooks=hooks, after_commit=after_commit)
