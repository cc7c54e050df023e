"""The one place a backend is chosen from a URL: the driver it gets, and what the engine
passes on (docs/operations.md, "Database")."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from events.recorders import make_engine, normalise_url, recorder_class
from events.recorders.postgres import PostgresRecorder
from events.recorders.sqlite import SqliteRecorder


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("postgresql://u@db.example/timeline", "postgresql+psycopg://u@db.example/timeline"),
        ("postgres://u@db.example/timeline", "postgresql+psycopg://u@db.example/timeline"),
        # an explicit driver is the user's choice
        ("postgresql+psycopg2://u@db.example/timeline", "postgresql+psycopg2://u@db.example/timeline"),
        ("sqlite:///./timeline.db", "sqlite:///./timeline.db"),
    ],
)
def test_a_postgresql_url_gets_psycopg_3(given: str, normalised: str) -> None:
    assert normalise_url(given) == normalised


def test_the_password_survives_normalising() -> None:
    # rendered for connecting, not for a log: a hidden password would not connect
    assert normalise_url("postgresql://u:s3cret@db.example/t") == "postgresql+psycopg://u:s3cret@db.example/t"


def test_each_url_gets_its_backends_recorder() -> None:
    assert recorder_class("postgresql://u@h/t") is PostgresRecorder
    assert recorder_class("postgres://u@h/t") is PostgresRecorder
    assert recorder_class("sqlite:///x.db") is SqliteRecorder
    with pytest.raises(ValueError, match="use sqlite:/// or postgresql://"):
        recorder_class("mysql://u@h/t")


def test_a_sqlite_engine_waits_for_a_lock_and_takes_the_callers_options(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", poolclass=NullPool)
    try:
        assert isinstance(engine.pool, NullPool)
        with engine.connect() as conn:
            # 30 s for another process's write transaction before "database is locked"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    finally:
        engine.dispose()


@pytest.mark.parametrize(("cores", "workers"), [(None, 1), (1, 1), (2, 2), (3, 3), (4, 4), (16, 4)])
def test_a_postgresql_rebuild_takes_a_worker_per_core_up_to_four(
    cores: int | None, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # rebuild_workers ran only in the rebuild's own processes; nothing pinned its bounds.
    monkeypatch.setattr("events.recorders.postgres.os.cpu_count", lambda: cores)
    assert PostgresRecorder.rebuild_workers(PostgresRecorder.__new__(PostgresRecorder)) == workers
