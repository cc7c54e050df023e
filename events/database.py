"""Engines for the two backends: URL normalisation and SQLite's transaction fixes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

WRITE_OPTION = "timeline_write"


def normalise_url(url: str) -> str:
    """`postgresql://` gets our driver (psycopg 3); an explicit driver is kept."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def mark(conn: Connection) -> str:
    """The driver's placeholder, for SQL written for the driver (psycopg's or sqlite3's)."""
    return "%s" if conn.dialect.name == "postgresql" else "?"


def bulk_insert(conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert many rows in one go, past SQLAlchemy's per-row parameter handling (most of an
    insert's cost here): COPY on PostgreSQL, one prepared statement run many times on SQLite."""
    if not rows:
        return
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    conn.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))


def fetch_all(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of driver SQL as the driver's plain tuples: SQLAlchemy's Row objects cost
    more than the query when an answer reads thousands of rows."""
    result = conn.exec_driver_sql(sql, tuple(params))
    try:
        cursor = result.cursor
        return list(cursor.fetchall()) if cursor is not None and cursor.description else []
    finally:
        result.close()


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes: on SQLite it takes the write lock at BEGIN."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def make_engine(url: str, *, application_name: str = "timeline", **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _fix_sqlite_transactions(engine)
        return engine
    if make_url(url).get_backend_name() != "postgresql":
        raise ValueError(f"unsupported database URL {url!r}: use sqlite:/// or postgresql://")
    return create_engine(
        url,
        # JIT compiles a query whose estimated cost is high, which a recursive query's guessed
        # row counts always are: 200 to 400 ms of compiling for a 2 ms lookup in an append.
        # Every query here is an index lookup or a range read, which JIT does not speed up.
        connect_args={"application_name": application_name, "connect_timeout": 5, "options": "-c jit=off"},
        pool_pre_ping=True,
        **kwargs,
    )


def _fix_sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not pysqlite, issue BEGIN, and make writers BEGIN IMMEDIATE.

    pysqlite's own implicit transactions start lazily and as DEFERRED, so two
    writers can both read the head and then fight over the write lock. An
    IMMEDIATE transaction takes the write lock first: appends are serialised
    and a reader in WAL mode is never blocked.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(WRITE_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")
