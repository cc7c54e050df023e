"""Alembic environment: the URL comes from the settings, or a connection is handed in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from events.recorders import make_engine
from events.tables import metadata
from projections.sql import tables as _read_model_tables  # noqa: F401  (registers them on metadata)

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        run(given)
        return
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        from service.config import Settings

        url = Settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `timeline migrate`.")
run_online()
