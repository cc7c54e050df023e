"""The rebuild's pieces called directly: what it catches up, which leftover tables it drops,
and the keys its new tables hold (mutmut found each alive, reached only through a whole
rebuild that could not tell)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, inspect, text, update
from sqlalchemy.exc import IntegrityError

from events.drafts import draft_from_json
from events.envelope import StoredEvent
from events.recorders.sql import write_transaction
from events.store import EventStore
from projections.sql import rebuild as rebuild_module
from projections.sql.tables import ModelTables, read_models
from service.read_model import rebuild_read_model
from tests.factories import claim, retraction
from tests.integration.test_rebuild import load_seed


def positions(store: EventStore, table: str) -> set[int]:
    with store.engine.connect() as conn:
        return set(conn.execute(text(f"SELECT DISTINCT position FROM {table}")).scalars())


def test_catch_up_applies_exactly_the_events_after_one_position_up_to_another(store: EventStore) -> None:
    load_seed(store)  # 16 events
    tables = ModelTables.building(5)
    with store.engine.begin() as conn:
        rebuild_module.create_tables(conn, tables)
        rebuild_module.create_indexes(conn, tables)  # as the rebuild does before catching up
        assert rebuild_module.catch_up(conn, tables, 0, 5) == 5
    assert positions(store, tables.items) == {1, 2, 3, 4, 5}
    with store.engine.begin() as conn:
        # Beyond the head: it stops at the last event there is, and says so.
        assert rebuild_module.catch_up(conn, tables, 5, 40) == 16
    assert max(positions(store, tables.items)) == 16
    assert positions(store, tables.rows) <= set(range(1, 17))


def test_leftovers_are_dropped_but_never_the_tables_of_a_rebuild_in_progress(store: EventStore) -> None:
    load_seed(store)
    with store.engine.begin() as conn:
        for generation in (7, 9):  # 7: killed mid-build; 9: another process building now
            rebuild_module.create_tables(conn, ModelTables.building(generation))
        conn.exec_driver_sql("CREATE TABLE state_rows_gx (n INTEGER)")  # not a generation
        conn.exec_driver_sql("CREATE TABLE notes_g3 (n INTEGER)")  # not the model's
        conn.execute(update(read_models).values(building=9))
        rebuild_module.drop_leftovers(conn)
        names = set(inspect(conn).get_table_names())
    assert not names & {"state_rows_g7", "state_items_g7", "state_slots_g7"}
    assert {"state_rows_g9", "state_items_g9", "state_slots_g9"} <= names
    assert {"state_rows_gx", "notes_g3"} <= names
    with store.engine.begin() as conn:
        conn.execute(update(read_models).values(building=None))  # none building: all go
        rebuild_module.drop_leftovers(conn)
        names = set(inspect(conn).get_table_names())
    assert not names & {"state_rows_g9", "state_items_g9", "state_slots_g9"}


def test_a_rebuilt_model_holds_each_row_once(store: EventStore) -> None:
    # The unique key of state_rows: an event's rows are written by the append hook or by the
    # rebuild's catch-up, never both; a second copy must fail, not double an item.
    load_seed(store)
    rebuild_read_model(store, workers=1)
    with store.engine.begin() as conn, pytest.raises(IntegrityError):
        conn.exec_driver_sql("INSERT INTO state_rows SELECT * FROM state_rows WHERE position = 1")


def contents(store: EventStore, tables: ModelTables) -> list[list[tuple[object, ...]]]:
    """Every row of a generation's tables, sorted: what a build wrote, whichever way."""
    with store.engine.connect() as conn:
        return [
            sorted(tuple(row) for row in conn.exec_driver_sql(f"SELECT * FROM {name}"))
            for name in (tables.rows, tables.items, tables.slots)
        ]


def build_into(store: EventStore, generation: int, until: int, **how: Any) -> ModelTables:
    tables = ModelTables.building(generation)

    @contextmanager
    def transaction() -> Iterator[Connection]:
        with write_transaction(store.engine) as conn:
            yield conn

    with transaction() as conn:
        rebuild_module.create_tables(conn, tables)
    rebuild_module.build(transaction, tables, until, **{"url": None, **how})
    return tables


def test_a_build_up_to_a_position_ignores_the_corrections_after_it(store: EventStore) -> None:
    # A rebuild loads the log up to where it started and catches up with what came since;
    # a correction appended meanwhile must be applied once, by the catch-up (effect_timeline_6
    # read the corrections of the whole log).
    seed = load_seed(store)
    retracted = store.append([draft_from_json(retraction(seed[2]["id"]))]).events[0]  # 17
    store.append([draft_from_json(retraction(retracted.id))])  # 18: the event comes back
    early = build_into(store, 5, 16, workers=1, one_writer=True)
    with write_transaction(store.engine) as conn:
        assert rebuild_module.catch_up(conn, early, 16, 18) == 18
    assert contents(store, early) == contents(store, build_into(store, 6, 18, workers=1, one_writer=True))


def test_workers_that_write_their_own_pages_build_what_one_process_builds(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL's path (each worker writes its pages), taken here on SQLite too, whose
    # busy timeout queues the workers' writes: rebuild.build_12 to _34 reached it only on
    # PostgreSQL.
    monkeypatch.setattr(rebuild_module, "PAGE", 4)  # 16 events: four pages over two workers
    seed = load_seed(store)
    store.append([draft_from_json(retraction(seed[2]["id"])), draft_from_json(claim("a-east"))])
    url = store.engine.url.render_as_string(hide_password=False)
    spread = build_into(store, 5, 18, url=url, workers=2, one_writer=False)
    assert contents(store, spread) == contents(store, build_into(store, 6, 18, workers=1, one_writer=True))


def indexes_of(store: EventStore) -> dict[str, list[tuple[object, ...]]]:
    with store.engine.connect() as conn:
        found = inspect(conn)
        return {
            table: sorted(
                (re.sub(r"_g\d+$", "", str(i["name"])), tuple(i["column_names"]), bool(i["unique"]))
                for i in found.get_indexes(table)
            )
            for table in ("state_rows", "state_items", "state_slots")
        }


def test_a_rebuilt_model_has_the_indexes_the_migrations_make(store: EventStore) -> None:
    # Columns, order and uniqueness, which the reads are planned on (tables.indexes_* changed
    # only these). The names keep their generation's suffix after the swap (index names are
    # unique in a database, and SQLite cannot rename one): a migration that changes the
    # model marks it stale and has it rebuilt, never looks an index up by name.
    load_seed(store)
    migrated = indexes_of(store)
    assert migrated["state_rows"] and migrated["state_slots"]  # state_items: its primary key alone
    rebuild_read_model(store, workers=1)
    assert indexes_of(store) == migrated


def test_an_empty_log_rebuilds_to_an_empty_model(store: EventStore) -> None:
    rebuilt = rebuild_read_model(store, workers=1)  # head_position_5: an empty log's head as 1
    assert (rebuilt.events, rebuilt.caught_up) == (0, 0)
    assert positions(store, "state_rows") == set()


def test_events_appended_close_to_the_end_are_caught_up_under_the_append_lock(
    store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fewer than CLOSE_ENOUGH behind: no catch-up outside the lock, all of it inside
    # (rebuild_50/_51 gave that catch-up no connection or no tables).
    monkeypatch.setattr(rebuild_module, "PAGE", 4)
    load_seed(store)
    late: list[StoredEvent] = []

    def progress(done: int, total: int) -> None:
        if not late:
            late.append(store.append([draft_from_json(claim("a-late"))]).events[0])

    rebuilt = rebuild_read_model(store, progress, workers=1)
    assert (rebuilt.events, rebuilt.caught_up) == (17, 1)
    assert late[0].position in positions(store, "state_items")
