"""Upgrading: a log kept at any earlier revision comes to head intact, and the migrations
carry their own code (they import nothing of the live packages, which change under them)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

import migrations
from events.drafts import draft_from_json
from events.recorders import make_engine
from service.cli import seed_path
from service.migrate import alembic_config, upgrade
from service.wiring import build_store
from tests.databases import Databases
from tests.factories import claim, retraction

VERSIONS = Path(migrations.__file__).parent / "versions"
SCRIPTS = ScriptDirectory.from_config(alembic_config())
HEAD = SCRIPTS.get_current_head()
EARLIER = [script.revision for script in reversed(list(SCRIPTS.walk_revisions())) if script.revision != HEAD]
# What a migration may import: the standard library, Alembic and SQLAlchemy.
ALLOWED = {"__future__", "alembic", "sqlalchemy", "collections", "hashlib", "json", "typing"}
# The tables a revision's application wrote, copied from a log kept by today's code (their
# rows are the same: the events table and the tree's nodes have not changed shape).
WRITTEN_AT = {"events": "0001", "merkle_nodes": "0002"}


def test_the_migrations_import_no_live_code() -> None:
    for path in sorted(VERSIONS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"


def timeline(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = shutil.which("timeline", path=str(Path(sys.executable).parent))
    assert command, "the package installs the `timeline` command"
    return subprocess.run(
        [command, "--database-url", url, *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def kept_log(databases: Databases) -> tuple[dict[str, list[dict[str, object]]], str]:
    """A log with corrections, kept by today's code: each table's rows, and its state."""
    url = databases.fresh_url()
    engine = make_engine(url)
    store = build_store(engine)
    seed = [json.loads(line) for line in seed_path().read_text().splitlines() if line.strip()]
    store.append([draft_from_json(e) for e in seed], batch=True)
    first = store.append([draft_from_json(claim(claimant="ua", extent="partial"))], batch=False)
    store.append([draft_from_json(retraction(first.events[0].id))], batch=False)
    rows = {}
    with engine.connect() as conn:
        for table in WRITTEN_AT:
            result = conn.execute(sa.text(f"SELECT * FROM {table}"))
            rows[table] = [dict(row._mapping) for row in result]
    engine.dispose()
    state = timeline(url, "state", "--as-of", "2025-04-26")
    assert state.returncode == 0, state.stderr
    return rows, state.stdout


@pytest.mark.parametrize("revision", EARLIER)
def test_a_log_kept_at_an_earlier_revision_upgrades_to_head_and_checks(
    databases: Databases, kept_log: tuple[dict[str, list[dict[str, object]]], str], revision: str
) -> None:
    rows, state = kept_log
    url = databases.empty_url()
    upgrade(url, revision)
    engine = make_engine(url)
    with engine.begin() as conn:
        for table, since in WRITTEN_AT.items():
            if since <= revision:
                columns = list(rows[table][0])
                conn.execute(sa.table(table, *map(sa.column, columns)).insert(), rows[table])
    engine.dispose()
    migrated = timeline(url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    for check in (("replay", "--check"), ("verify",)):
        done = timeline(url, *check)
        assert done.returncode == 0, (check, done.stdout, done.stderr)
    assert json.loads(timeline(url, "verify").stdout)["ok"] is True
    upgraded = timeline(url, "state", "--as-of", "2025-04-26")
    assert json.loads(upgraded.stdout) == json.loads(state)
