"""Every backend's recorder, held to the one contract (`recorder_contract.py`).

The in-memory and SQLite recorders are checked in every run; PostgreSQL's when the run
has a PostgreSQL database (`TIMELINE_TEST_DATABASE_URL`, as CI's second pass does).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from events.notifications import CHANNEL
from events.recorders import InMemoryRecorder, make_engine, recorder_of
from events.recorders.sql import HEAD, SqlRecorder
from events.store import EventStore
from service.migrate import upgrade
from tests.contract.recorder_contract import RecorderContract
from tests.databases import Databases, SqliteDatabases
from tests.factories import claim


class TestInMemoryRecorder(RecorderContract):
    @pytest.fixture
    def recorder(self) -> Iterator[InMemoryRecorder]:
        yield InMemoryRecorder()


class SqlRecorderContract(RecorderContract):
    """What the SQL recorders promise beyond the protocol."""

    def test_statements_run_together_answer_as_run_alone(self, recorder: SqlRecorder) -> None:
        with recorder.engine.connect() as conn:
            statements = [
                (HEAD, ()),
                recorder.bodies_statement(["x"]),
                recorder.versions_statement(["c"]),
                recorder.corrections_statement(["x"], below=False),
            ]
            together = recorder.run_together(conn, statements)
            alone = [recorder.run_together(conn, [statement])[0] for statement in statements]
        assert together == alone == [[], [], [("c", None)], []]

    def test_a_failing_statement_fails_as_sqlalchemy_reports_it(self, recorder: SqlRecorder) -> None:
        # The service answers SQLAlchemy's OperationalError with 503; a pipeline's error
        # must arrive in the same form.
        with recorder.engine.connect() as conn, pytest.raises(DBAPIError) as caught:
            recorder.run_together(conn, [(HEAD, ()), ("SELECT no_such_column FROM events", ())])
        # what the log shows of it: the statement and the driver's own error
        assert "no_such_column" in (caught.value.statement or "")
        assert isinstance(caught.value.orig, recorder.engine.dialect.loaded_dbapi.Error)

    def test_a_failing_bulk_insert_fails_as_sqlalchemy_reports_it(self, recorder: SqlRecorder) -> None:
        # PostgreSQL's COPY runs on the driver's cursor, past SQLAlchemy: its errors must
        # be wrapped as the pipeline's are, or a database gone mid-write is a 500.
        with recorder.engine.connect() as conn, pytest.raises(DBAPIError) as caught:
            recorder.bulk_insert(conn, "no_such_table", ["a"], [("x",)])
        assert "no_such_table" in (caught.value.statement or "")
        assert isinstance(caught.value.orig, recorder.engine.dialect.loaded_dbapi.Error)


@pytest.fixture(scope="module")
def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite-recorders"))


class TestSqliteRecorder(SqlRecorderContract):
    @pytest.fixture
    def recorder(self, sqlite_databases: SqliteDatabases) -> Iterator[SqlRecorder]:
        engine = make_engine(sqlite_databases.fresh_url())
        yield recorder_of(engine)
        engine.dispose()


class TestPostgresRecorder(SqlRecorderContract):
    @pytest.fixture
    def recorder(self, databases: Databases) -> Iterator[SqlRecorder]:
        if databases.backend != "postgresql":
            pytest.skip("PostgreSQL's recorder runs when TIMELINE_TEST_DATABASE_URL names PostgreSQL")
        engine = make_engine(databases.fresh_url())
        yield recorder_of(engine)
        engine.dispose()

    def test_an_append_is_announced_on_commit(self, recorder: SqlRecorder, store: EventStore) -> None:
        url = recorder.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as listening:
            listening.execute(f"LISTEN {CHANNEL}")
            self.put(store, claim(), claim(area="b"))
            heard = [n.payload for n in listening.notifies(timeout=10, stop_after=1)]
        assert heard == ["2"]  # the last new position

    def test_an_engine_takes_the_callers_options(self, recorder: SqlRecorder) -> None:
        url = recorder.engine.url.render_as_string(hide_password=False)
        engine = make_engine(url, poolclass=NullPool)
        try:
            assert isinstance(engine.pool, NullPool)
        finally:
            engine.dispose()

    def test_connections_carry_the_application_name(self, recorder: SqlRecorder) -> None:
        # What an operator sees in pg_stat_activity: "timeline" (the LISTEN connection is
        # "timeline-listen-PID", service/listener.py).
        url = recorder.engine.url.render_as_string(hide_password=False)
        for given, shown in (({}, "timeline"), ({"application_name": "timeline-other"}, "timeline-other")):
            engine = make_engine(url, **given)
            try:
                with engine.connect() as conn:
                    assert conn.execute(text("SHOW application_name")).scalar() == shown
                    # JIT off: it compiled for 200 to 400 ms before a 2 ms lookup (postgres.py)
                    assert conn.execute(text("SHOW jit")).scalar() == "off"
            finally:
                engine.dispose()


def test_each_backend_has_its_recorder(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    upgrade(url)
    engine = make_engine(url)
    assert recorder_of(engine).name == "sqlite" and recorder_of(engine) is recorder_of(engine)
    with pytest.raises(ValueError, match="unsupported database URL"):
        make_engine("mysql://localhost/x")
