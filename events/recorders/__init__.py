"""One recorder per backend behind one protocol (`protocol.Recorder`).

This is the one place a backend is chosen: by the database URL for a new engine, by the
engine's dialect for an existing connection. Every difference between SQLite and
PostgreSQL is a method or flag of `sqlite.SqliteRecorder` or `postgres.PostgresRecorder`;
`memory.InMemoryRecorder` keeps the log in memory for tests.
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url

from events.recorders.memory import InMemoryRecorder
from events.recorders.postgres import PostgresRecorder
from events.recorders.protocol import Recorder
from events.recorders.sql import SqlRecorder
from events.recorders.sqlite import SqliteRecorder

SQL_RECORDERS: dict[str, type[SqlRecorder]] = {"sqlite": SqliteRecorder, "postgresql": PostgresRecorder}

_recorders: weakref.WeakKeyDictionary[Engine, SqlRecorder] = weakref.WeakKeyDictionary()


def normalise_url(url: str) -> str:
    """`postgresql://` gets our driver (psycopg 3); an explicit driver is kept."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def recorder_class(url: str) -> type[SqlRecorder]:
    backend = make_url(normalise_url(url)).get_backend_name()
    if backend not in SQL_RECORDERS:
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")
    return SQL_RECORDERS[backend]


def make_engine(url: str, *, application_name: str = "timeline", **kwargs: Any) -> Engine:
    """An engine set up as its backend's recorder needs (transactions, drivers, timeouts)."""
    url = normalise_url(url)
    return recorder_class(url).make_engine(url, application_name=application_name, **kwargs)


def recorder_of(bind: Engine | Connection) -> SqlRecorder:
    """The recorder of an engine, or of a connection's engine (one per engine)."""
    engine = bind.engine
    found = _recorders.get(engine)
    if found is None:
        found = _recorders[engine] = SQL_RECORDERS[engine.dialect.name](engine)
    return found


def mark(bind: Engine | Connection) -> str:
    """The driver's placeholder, for SQL written for the driver (psycopg's or sqlite3's)."""
    return recorder_of(bind).mark


__all__ = [
    "InMemoryRecorder",
    "PostgresRecorder",
    "Recorder",
    "SqlRecorder",
    "SqliteRecorder",
    "make_engine",
    "mark",
    "normalise_url",
    "recorder_class",
    "recorder_of",
]
