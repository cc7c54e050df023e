"""One suite, two backends: TIMELINE_TEST_DATABASE_URL picks PostgreSQL, else SQLite."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings

from events.recorders import InMemoryRecorder, make_engine
from events.store import EventStore
from service.app import create_app
from service.config import Settings
from service.wiring import build_store
from tests.databases import Databases, PostgresDatabases, SqliteDatabases, configured_url
from tests.server import ServerProcess

# The machines are shared and their load swings: a property test's timing says nothing
# about its code, so no deadline and no "generation is slow" failure. What each
# example checks is unchanged.
settings.register_profile("shared-machine", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# `./dev mutate` (docs/testing.md): a mutant is killed by the first failing example, so the
# search for a smaller one is skipped; with a database per example, shrinking took longer
# than the mutant's time limit and counted a plain failure as a timeout.
settings.register_profile(
    "mutation", parent=settings.get_profile("shared-machine"), phases=[p for p in Phase if p != Phase.shrink]
)
settings.load_profile(os.environ.get("TIMELINE_HYPOTHESIS_PROFILE", "shared-machine"))

WRITE_KEY = "test-write"
ADMIN_KEY = "test-admin"
WRITE = {"Authorization": f"Bearer {WRITE_KEY}"}
ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def pytest_report_header() -> str:
    url = configured_url()
    return f"timeline backend: {'postgresql (' + url + ')' if url else 'sqlite'}"


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Databases]:
    url = configured_url()
    factory: Databases = (
        PostgresDatabases(url) if url else SqliteDatabases(tmp_path_factory.mktemp("databases"))
    )
    yield factory
    factory.close()


@pytest.fixture
def backend(databases: Databases) -> str:
    return databases.backend


@pytest.fixture
def database_url(databases: Databases) -> str:
    return databases.fresh_url()


@pytest.fixture
def store(database_url: str) -> Iterator[EventStore]:
    engine = make_engine(database_url)
    yield build_store(engine)
    engine.dispose()


@pytest.fixture
def memory_store() -> EventStore:
    """The store's rules on the in-memory recorder: for tests that need no database (no
    Merkle tree, no read model)."""
    return EventStore(InMemoryRecorder(), hooks=[])


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "api_keys": f"write:{WRITE_KEY},admin:{ADMIN_KEY}",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(database_url))) as test_client:
        yield test_client


ServerFactory = Callable[..., ServerProcess]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start real server processes (`env` adds TIMELINE_* settings); all are stopped afterwards."""
    started: list[ServerProcess] = []

    def start(database_url: str, env: dict[str, str] | None = None) -> ServerProcess:
        process = ServerProcess(database_url, tmp_path / f"server-{len(started)}.log", env)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


@pytest.fixture
def server(database_url: str, start_server: ServerFactory) -> ServerProcess:
    return start_server(database_url)
