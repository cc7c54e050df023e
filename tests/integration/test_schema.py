"""The schema: Alembic only, reversible, matching the models, and append-only in the database itself."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from events.drafts import draft_from_json
from events.recorders import make_engine, normalise_url
from events.store import EventStore
from events.tables import metadata
from service.migrate import downgrade, upgrade
from service.wiring import build_store
from tests.databases import Databases
from tests.factories import claim


def test_upgrade_downgrade_upgrade(databases: Databases) -> None:
    url = databases.empty_url()
    upgrade(url)
    engine = make_engine(url)
    try:
        assert "events" in inspect(engine).get_table_names()
        downgrade(url, "base")
        assert "events" not in inspect(engine).get_table_names()
        upgrade(url)
        assert "events" in inspect(engine).get_table_names()
        build_store(engine).append([draft_from_json(claim())], batch=False)
    finally:
        engine.dispose()


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET subject = 'elsewhere'",
        "DELETE FROM events",
        "TRUNCATE events",
    ],
)
def test_the_database_refuses_to_rewrite_events(store: EventStore, backend: str, statement: str) -> None:
    if statement.startswith("TRUNCATE") and backend == "sqlite":
        pytest.skip("SQLite has no TRUNCATE")
    store.append([draft_from_json(claim())], batch=False)
    # A plain connection, not the store: the refusal must come from the database.
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*), min(subject) FROM events")).one() == (1, "ru-kursk-oblast")
