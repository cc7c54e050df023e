"""The recorder's SQL that both SQL backends share; what differs is in `sqlite.py` and
`postgres.py`, which subclass `SqlRecorder`.

The reads of a batch (`begin_append`) are driver SQL: an append used to ask the log one
question per event it checked, each paying SQLAlchemy's compile and, on PostgreSQL, a
round trip. Each question of a whole batch is one statement here, the statements are
sent together (one round trip on PostgreSQL), and a set of values travels as one
parameter, so the statement text, and its plan, is the same whatever the batch holds.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from operator import attrgetter
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, or_, select

from events.envelope import StoredEvent
from events.recorders.protocol import Answers, CorrectionRow, Head, Questions, Row
from events.tables import events as events_table

Statement = tuple[str, tuple[Any, ...]]
Rows = list[tuple[Any, ...]]

# Set on a connection that writes: SQLite's recorder begins it IMMEDIATE (sqlite.py).
WRITE_OPTION = "timeline_write"

HEAD = "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1"

# The events table's columns (events/tables.py): each a member of the stored event, or
# (`corrects`) one of its properties.
EVENT_COLUMNS: tuple[str, ...] = tuple(column.name for column in events_table.columns)


# The events table's row of a stored event, in EVENT_COLUMNS order.
row_of: Callable[[StoredEvent], tuple[object, ...]] = attrgetter(*EVENT_COLUMNS)


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that writes (on SQLite it takes the write lock at BEGIN)."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            yield conn


def fetch_all(conn: Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """The rows of driver SQL as the driver's plain tuples: SQLAlchemy's Row objects cost
    more than the query when an answer reads thousands of rows."""
    result = conn.exec_driver_sql(sql, tuple(params))
    try:
        cursor = result.cursor
        return list(cursor.fetchall()) if cursor is not None and cursor.description else []
    finally:
        result.close()


class SqlRecorder:
    """The log in an SQL database, through SQLAlchemy. A subclass says what its backend
    does differently: the methods and flags below that it overrides."""

    name: ClassVar[str]
    mark: ClassVar[str]  # the driver's placeholder, for driver SQL
    one_writer: ClassVar[bool]  # one writing connection at a time: a rebuild writes from one process
    notifies: ClassVar[bool]  # appends are announced to other processes (a listener is worth running)
    lateral_reads: ClassVar[bool]  # the read model reads each scope's latest rows by LATERAL

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- what differs between backends -----------------------------------------------

    @staticmethod
    def make_engine(url: str, *, application_name: str, **kwargs: Any) -> Engine:
        """An engine for this backend, set up as the recorder needs."""
        raise NotImplementedError

    @staticmethod
    def missing_database(url: str) -> str | None:
        """What is missing, where connecting to `url` would create a database by accident."""
        return None

    def lock_statements(self) -> list[Statement]:
        """Statements that take the append lock inside a write transaction (none where the
        transaction took it at BEGIN)."""
        raise NotImplementedError

    def set_of(self, values: Collection[str]) -> tuple[str, Any]:
        """A subquery over a set of strings, and the one parameter it takes."""
        raise NotImplementedError

    def run_together(self, conn: Connection, statements: Sequence[Statement]) -> list[Rows]:
        """The rows of each statement, run in order; no statement may need another's result
        (each still sees what those before it did)."""
        return [[tuple(row) for row in conn.exec_driver_sql(sql, params)] for sql, params in statements]

    def bulk_insert(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        """Insert many rows in one go, past SQLAlchemy's per-row parameter handling (most of
        an insert's cost here)."""
        raise NotImplementedError

    def corrections_statement(self, targets: Collection[str], *, below: bool) -> Statement:
        """The SQL of `corrections_around`: rows of (id, position, type, corrects) in log order."""
        raise NotImplementedError

    def announce(self, conn: Connection, events: Sequence[StoredEvent]) -> None:
        """Tell other processes, on commit, that these events are stored."""

    def analyze(self, conn: Connection, tables: Sequence[str]) -> None:
        """Give the planner statistics for tables just filled."""

    def rebuild_workers(self) -> int:
        """How many processes a rebuild of the read model uses by default."""
        raise NotImplementedError

    # -- statements of a batch's questions ---------------------------------------------

    def bodies_statement(self, ids: Collection[str]) -> Statement:
        wanted, parameter = self.set_of(ids)
        return f"SELECT id, body FROM events WHERE id IN ({wanted})", (parameter,)

    def versions_statement(self, subjects: Collection[str], of_events: Collection[str] = ()) -> Statement:
        """(subject, version or NULL) of these subjects and of the subjects of these events.

        One max() per subject, each an index lookup on (subject, version): a GROUP BY over
        the subjects reads every version of every subject, which grows with the log.
        """
        named, subjects_parameter = self.set_of(subjects)
        events, events_parameter = self.set_of(of_events)
        wanted = f"{named} UNION SELECT events.subject FROM events WHERE events.id IN ({events})"
        latest = "(SELECT max(version) FROM events WHERE events.subject = wanted.subject)"
        # SQLite names a subquery's columns only through a CTE; PostgreSQL plans both alike.
        sql = f"WITH wanted(subject) AS ({wanted}) SELECT wanted.subject, {latest} FROM wanted"
        return sql, (subjects_parameter, events_parameter)

    # -- the append --------------------------------------------------------------------

    def append_transaction(self) -> Any:
        return write_transaction(self.engine)

    @contextmanager
    def locked(self) -> Iterator[Connection]:
        with write_transaction(self.engine) as conn:
            self.run_together(conn, self.lock_statements())
            yield conn

    def begin_append(self, txn: Connection, questions: Questions) -> Answers:
        statements = [*self.lock_statements(), (HEAD, ())]
        first = len(statements)
        if questions.ids:
            statements.append(self.bodies_statement(questions.ids))
        if questions.corrected:
            statements.append(self.corrections_statement(questions.corrected, below=False))
        if questions.subjects or questions.ids:  # and the subjects of the events named
            statements.append(self.versions_statement(questions.subjects, questions.ids))
        found = self.run_together(txn, statements)
        head_rows = found[first - 1]
        answers = Answers(Head(*head_rows[0]) if head_rows else None)
        rest = iter(found[first:])
        if questions.ids:
            answers.bodies = dict(next(rest))
        if questions.corrected:
            answers.corrections = [CorrectionRow(*row) for row in next(rest)]
        if questions.subjects or questions.ids:
            answers.versions = {subject: version or 0 for subject, version in next(rest)}
        return answers

    def bodies_by_id(self, txn: Connection, ids: Collection[str]) -> dict[str, str]:
        if not ids:
            return {}
        return dict(self.run_together(txn, [self.bodies_statement(ids)])[0])

    def corrections_around(
        self, txn: Connection, targets: Collection[str], *, below: bool = False
    ) -> list[CorrectionRow]:
        if not targets:
            return []
        rows = self.run_together(txn, [self.corrections_statement(targets, below=below)])[0]
        return [CorrectionRow(*row) for row in rows]

    def latest_versions(self, txn: Connection, subjects: Collection[str]) -> dict[str, int]:
        if not subjects:
            return {}
        rows = self.run_together(txn, [self.versions_statement(subjects)])[0]
        return {subject: version or 0 for subject, version in rows}

    def insert_events(self, txn: Connection, events: Sequence[StoredEvent]) -> None:
        self.bulk_insert(txn, "events", EVENT_COLUMNS, [row_of(e) for e in events])
        self.announce(txn, events)

    # -- reads -------------------------------------------------------------------------

    def head(self) -> Head | None:
        with self.engine.connect() as conn:
            row = conn.exec_driver_sql(HEAD).first()
        return Head(*row) if row else None

    def head_at(self, known_at: str) -> Head | None:
        # recorded_at never decreases along the log, so the newest (recorded_at, position)
        # at or before the instant is the cut: one probe of their index.
        query = (
            select(events_table.c.position, events_table.c.hash, events_table.c.recorded_at)
            .where(events_table.c.recorded_at <= known_at)
            .order_by(events_table.c.recorded_at.desc(), events_table.c.position.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return Head(row.position, row.hash, row.recorded_at) if row else None

    def body(self, event_id: str) -> str | None:
        with self.engine.connect() as conn:
            return self.bodies_by_id(conn, [event_id]).get(event_id)

    def corrector_bodies(self, event_id: str, until: int | None) -> list[str]:
        query = (
            select(events_table.c.body)
            .where(events_table.c.corrects == event_id)
            .order_by(events_table.c.position)
        )
        if until is not None:
            query = query.where(events_table.c.position <= until)
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def occurred_from_after(self, after: int, limit: int) -> list[tuple[int, str]]:
        query = (
            select(events_table.c.position, events_table.c.occurred_from)
            .where(events_table.c.position > after)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.position, row.occurred_from) for row in conn.execute(query)]

    def page(
        self, after: int, last: int, limit: int, types: Sequence[str], subjects: Sequence[str]
    ) -> list[tuple[int, str]]:
        query = (
            select(events_table.c.position, events_table.c.body)
            .where(events_table.c.position > after, events_table.c.position <= last)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        if types:
            query = query.where(or_(*(_type_matches(t) for t in types)))
        if subjects:
            query = query.where(events_table.c.subject.in_(list(subjects)))
        with self.engine.connect() as conn:
            return [(row.position, row.body) for row in conn.execute(query)]

    def rows_after(self, after: int, limit: int) -> list[Row]:
        query = (
            select(events_table.c.position, events_table.c.type, events_table.c.subject, events_table.c.body)
            .where(events_table.c.position > after)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Row(r.position, r.type, r.subject, r.body) for r in conn.execute(query)]

    def subject_page(self, subject: str, after_version: int, limit: int) -> list[tuple[int, str]]:
        query = (
            select(events_table.c.version, events_table.c.body)
            .where(events_table.c.subject == subject, events_table.c.version > after_version)
            .order_by(events_table.c.version)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(row.version, row.body) for row in conn.execute(query)]

    def bodies_between(self, after: int, until: int | None, limit: int) -> list[tuple[int, str]]:
        query = (
            select(events_table.c.position, events_table.c.body)
            .where(events_table.c.position > after)
            .order_by(events_table.c.position)
            .limit(limit)
        )
        if until is not None:
            query = query.where(events_table.c.position <= until)
        with self.engine.connect() as conn:
            return [(row.position, row.body) for row in conn.execute(query)]


def _type_matches(pattern: str):  # type: ignore[no-untyped-def]
    if pattern.endswith("."):
        return events_table.c.type.startswith(pattern, autoescape=True)
    return events_table.c.type == pattern
