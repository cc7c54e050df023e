"""Running Alembic from the installed package, with no ini file and from any folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

import migrations

Progress = Callable[[int, int], None]


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(migrations.__file__).parent))
    if url is not None:
        config.attributes["url"] = url
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """The schema only: Alembic's revisions up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def migrate(url: str, revision: str = "head", progress: Progress | None = None) -> None:
    """Upgrade the schema, then rebuild the read model if a revision marked it stale: the
    migrations never run the live code, which may have changed since they were written."""
    upgrade(url, revision)
    if revision != "head":
        return
    from events.recorders import make_engine
    from service.read_model import build_if_stale
    from service.wiring import build_store

    engine = make_engine(url)
    try:
        build_if_stale(build_store(engine), progress or (lambda done, total: None))
    finally:
        engine.dispose()


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
