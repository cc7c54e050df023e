"""Fresh, migrated databases for tests, on SQLite or on PostgreSQL.

The triggers forbid DELETE and TRUNCATE on the events table, so no test can
clean up after itself: each gets a database of its own, copied from a
template migrated once per run (a file copy on SQLite, `CREATE DATABASE ...
TEMPLATE` on PostgreSQL), which costs milliseconds rather than a migration.
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from events.recorders import normalise_url
from service.migrate import upgrade

TEST_URL_VARIABLE = "TIMELINE_TEST_DATABASE_URL"


def configured_url() -> str | None:
    return os.environ.get(TEST_URL_VARIABLE) or None


class SqliteDatabases:
    backend = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template = folder / "template.db"
        self.counter = itertools.count(1)
        self.template_ready = False

    def empty_url(self) -> str:
        """A database with no tables at all (for migration tests)."""
        return f"sqlite:///{self.folder / f'empty-{next(self.counter)}.db'}"

    def fresh_url(self) -> str:
        if not self.template_ready:
            upgrade(f"sqlite:///{self.template}")
            self.template_ready = True
        target = self.folder / f"db-{next(self.counter)}.db"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def close(self) -> None:
        pass


class PostgresDatabases:
    backend = "postgresql"

    def __init__(self, base_url: str) -> None:
        self.base = make_url(normalise_url(base_url))
        self.prefix = f"tl_{uuid.uuid4().hex[:8]}"
        self.counter = itertools.count(1)
        self.created: list[str] = []
        self.admin: Engine = create_engine(self.base, isolation_level="AUTOCOMMIT", poolclass=None)
        self.template: str | None = None

    def _url_for(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> str:
        clause = f" TEMPLATE {template}" if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return self._url_for(name)

    def empty_url(self) -> str:
        return self._create(f"{self.prefix}_{next(self.counter)}")

    def fresh_url(self) -> str:
        if self.template is None:
            name = f"{self.prefix}_template"
            upgrade(self._create(name))
            self.template = name
        return self._create(f"{self.prefix}_{next(self.counter)}", self.template)

    def close(self) -> None:
        # Hundreds of databases, each DROP a checkpoint and a folder removed: one at a time
        # they outlasted the last test's timeout (300 s) on a loaded machine. The copies go
        # four at a time, the template they were made from last.
        def drop(name: str) -> None:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

        copies = [name for name in self.created if name != self.template]
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(drop, copies))
        if self.template is not None:
            drop(self.template)
        self.admin.dispose()


Databases = SqliteDatabases | PostgresDatabases
