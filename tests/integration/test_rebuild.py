"""Rebuilding the read model while appends go on; replay --check; building it for an existing log."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from events.drafts import draft_from_json
from events.merkle_store import MerkleNodes
from events.recorders import make_engine, recorder_of
from events.store import EventStore
from projections.sql import parallel
from projections.sql import rebuild as rebuild_module
from projections.sql.reader import ModelNotBuilt
from projections.sql.rebuild import tables_in_use
from projections.sql.tables import ModelTables, read_models
from service import read_model, state_query
from service.cli import main, seed_path
from service.migrate import migrate, upgrade
from service.read_model import is_stale, rebuild_read_model, replay_check
from service.wiring import build_store
from tests.conftest import ADMIN, WRITE
from tests.databases import Databases
from tests.factories import claim, denial, offer, rejection, retraction

ACTIVE_TABLES = ["state_items", "state_rows", "state_slots"]


def load_seed(store: EventStore) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in seed_path().read_text().splitlines() if line.strip()]
    store.append([draft_from_json(e) for e in events])
    return events


def same_answers(store: EventStore) -> None:
    """The read model and the fold agree at every known_at and a spread of as_of."""
    recorded = sorted({e.recorded_at for e in store.events_until(store.cut(None))})
    for known_at in recorded:
        for as_of in ("2024-08-15", "2025-04-26", "2025-04-27T12:00:00Z", "2026-01-01"):
            assert state_query.state(store, as_of, known_at) == state_query.reference_state(
                store, as_of, known_at
            )


def test_a_rebuild_during_appends_matches_the_fold(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rebuild_module, "PAGE", 3)
    monkeypatch.setattr(rebuild_module, "CLOSE_ENOUGH", 2)
    seed = load_seed(store)
    gerasimov = next(e for e in seed if e["data"].get("speaker") == "gerasimov")
    first_claim = claim("a-east", "ru", occurred_at="2025-03-01")
    store.append([draft_from_json(first_claim), draft_from_json(offer("ru", "ua"))])
    calls: list[tuple[int, int]] = []
    seen_during: list[dict[str, Any]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if len(calls) <= 4:  # appends land while pages are still being built
            late = [
                claim("a-east", "ua", occurred_at="2025-02-01"),
                denial("a-east", "ua", occurred_at="2025-03-02"),
                retraction(gerasimov["id"]) if len(calls) == 1 else claim("a-west", "ru"),
            ]
            stored = store.append([draft_from_json(e) for e in late]).events
            if len(calls) == 2:
                store.append([draft_from_json(retraction(stored[0].id))])
            if len(calls) == 3:
                # a retraction of the retraction of Gerasimov's claim: it comes back
                first = next(e for e in store.events_until(store.cut(None)) if e.type == "event.retracted")
                store.append([draft_from_json(retraction(first.id))])
        # readers never see a half-built model: the active one answers in full meanwhile
        seen_during.append(state_query.state(store, "2025-04-27"))
        assert seen_during[-1] == state_query.reference_state(
            store, "2025-04-27", seen_during[-1]["known_at"]
        )

    rebuilt = rebuild_read_model(store, progress)
    assert rebuilt.caught_up > 0, "events appended during the rebuild were caught up"
    assert rebuilt.events == store.cut(None)
    # What a progress bar is given: counts, never above their total, ending at the whole.
    assert all(isinstance(d, int) and isinstance(t, int) and 0 <= d <= t for d, t in calls)
    assert calls[-1] == (rebuilt.events, rebuilt.events)
    with store.engine.connect() as conn:
        assert conn.execute(select(read_models.c.active, read_models.c.building)).one() == (
            rebuilt.generation,
            None,
        )
        assert tables_in_use(conn) == ACTIVE_TABLES, "the old tables are dropped whole"
    store.append([draft_from_json(rejection(_offer_id(store), "ua"))])  # the hook writes the new generation
    same_answers(store)


def _offer_id(store: EventStore) -> str:
    return next(e.id for e in store.events_until(store.cut(None)) if e.type == "talks.offer_made")


def test_a_rebuild_claimed_by_another_is_abandoned(store: EventStore) -> None:
    load_seed(store)

    def meanwhile(done: int, total: int) -> None:
        with store.engine.begin() as conn:
            conn.execute(update(read_models).values(building=99))

    whole = r"^generation 99 was claimed while 2 was built$"
    with pytest.raises(rebuild_module.RebuildSuperseded, match=whole):
        rebuild_read_model(store, meanwhile)
    with store.engine.connect() as conn:
        assert conn.execute(select(read_models.c.active)).scalar_one() == 1
        assert tables_in_use(conn) == ACTIVE_TABLES, "the abandoned rebuild drops its own tables"
    same_answers(store)


def test_a_rebuild_that_fails_midway_leaves_the_old_model_answering(store: EventStore) -> None:
    load_seed(store)
    before = state_query.state(store, "2025-04-26")

    def crash(done: int, total: int) -> None:
        raise RuntimeError("the machine went down")

    with pytest.raises(RuntimeError):
        rebuild_read_model(store, crash)
    assert state_query.state(store, "2025-04-26") == before
    same_answers(store)
    store.append([draft_from_json(claim("a-east"))])  # the hook still writes the model in use
    same_answers(store)


def test_a_rebuild_killed_midway_leaves_tables_the_next_one_drops(store: EventStore) -> None:
    load_seed(store)
    # What a rebuild killed with SIGKILL leaves: its claim, and its half-loaded tables.
    with store.engine.begin() as conn:
        conn.execute(update(read_models).values(building=7))
        rebuild_module.create_tables(conn, ModelTables.building(7))
        columns = "position, kind, sys_from, part, scope, slot, valid_from"
        values = "1, 'control_claimed', 1, 'territory', 'x', 'ru', '2025'"
        conn.exec_driver_sql(f"INSERT INTO state_rows_g7 ({columns}) VALUES ({values})")
    same_answers(store)  # the old tables answer meanwhile
    rebuilt = rebuild_read_model(store)
    assert rebuilt.generation == 8
    with store.engine.connect() as conn:
        assert tables_in_use(conn) == ACTIVE_TABLES
    same_answers(store)


def test_replay_check_passes_and_finds_a_tampered_row(
    store: EventStore, capsys: pytest.CaptureFixture[str]
) -> None:
    load_seed(store)
    asked, differences = replay_check(store, samples=10)
    assert (asked, differences) == (11, [])
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE state_rows SET sys_until = sys_from WHERE kind = 'control_claimed' AND slot = 'ru'"
                " AND scope = 'ru-kursk-oblast'"
            )
        )
    asked, differences = replay_check(store, samples=10)
    assert differences and all(d.where == "territory/areas/ru-kursk-oblast" for d in differences)


def test_the_cli_rebuilds_and_checks(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", database_url, "import", "--seed"]) == 0
    assert main(["--database-url", database_url, "rebuild"]) == 0
    out = capsys.readouterr().out
    assert "generation 2 is active: 16 events" in out
    assert main(["--database-url", database_url, "replay", "--check", "--samples", "5"]) == 0
    assert "agrees with the fold on 6 questions" in capsys.readouterr().out
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE state_rows SET sys_until = sys_from WHERE kind = 'statement_made'"))
    engine.dispose()
    assert main(["--database-url", database_url, "replay", "--check", "--samples", "0"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out.splitlines()[0])["where"] == "diplomacy"
    assert "1 differences in 1 questions" in captured.err


def test_the_cli_passes_its_workers_to_the_rebuild(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `timeline rebuild --workers` was once parsed, documented and ignored.
    asked: list[int | None] = []
    real = read_model.rebuild_read_model

    def spy(store: EventStore, progress: Any = None, workers: int | None = None) -> Any:
        asked.append(workers)
        return real(store, progress or (lambda done, total: None), workers=1)

    monkeypatch.setattr(read_model, "rebuild_read_model", spy)
    assert main(["--database-url", database_url, "import", "--seed"]) == 0
    assert main(["--database-url", database_url, "rebuild", "--workers", "3"]) == 0
    assert main(["--database-url", database_url, "rebuild"]) == 0
    assert asked == [3, None]  # None: the backend's default


def test_the_admin_route_rebuilds(client: TestClient) -> None:
    assert client.post("/events", json=claim("a-north"), headers=WRITE).status_code == 201
    assert client.post("/admin/rebuild", headers=WRITE).status_code == 403
    started = client.post("/admin/rebuild", headers=ADMIN)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == "/admin/rebuild"
    for _ in range(200):
        status = client.get("/admin/rebuild", headers=ADMIN).json()
        if status["status"] != "running":
            break
        time.sleep(0.05)
    assert status["status"] == "done", status
    assert status["generation"] == 2 and status["done"] == status["total"] == 1
    area = client.get("/state/territory", params={"area": "a-north"}).json()["areas"]["a-north"]
    assert area["claims"][0]["claimant"] == "ru"


def test_migrating_a_log_builds_its_model(databases: Databases) -> None:
    url = databases.empty_url()
    upgrade(url, "0002")
    engine = make_engine(url)
    try:
        # Before the read model existed: the store of revision 0002 had no state hook.
        load_seed(EventStore(recorder_of(engine), hooks=[MerkleNodes()]))
        upgrade(url)  # the schema alone: the model is marked stale, and refuses to answer
        store = build_store(engine)
        assert is_stale(store)
        with pytest.raises(ModelNotBuilt):
            state_query.state(store, "2025-04-26")
        migrate(url)  # what `timeline migrate` and `timeline serve` do: upgrade, then build
        assert not is_stale(store)
        same_answers(store)
        assert (
            state_query.state(store, "2025-04-26")["territory"]["areas"]["ru-kursk-oblast"]["status"]
            == "contested"
        )
    finally:
        engine.dispose()


def test_worker_processes_build_the_same_model(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild_module, "PAGE", 4)  # 16 seed events: four ranges over two workers
    seed = load_seed(store)
    store.append([draft_from_json(retraction(seed[0]["id"]))])
    spawned: list[tuple[str, int]] = []
    # SQLite has one writer: workers compute the pages and this process writes them; on
    # PostgreSQL each worker writes its own (COPY takes several at once).
    name = "compute_in_workers" if store.engine.dialect.name == "sqlite" else "build_in_workers"
    original = getattr(parallel, name)

    def spy(url: str, workers: int, *rest: Any) -> Any:
        spawned.append((name, workers))
        return original(url, workers, *rest)

    monkeypatch.setattr(parallel, name, spy)
    rebuilt = rebuild_read_model(store, workers=2)
    assert (rebuilt.events, spawned) == (17, [(name, 2)])
    same_answers(store)
