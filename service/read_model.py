"""Operating the read model: rebuild it while the service runs, and check it against the fold.

Shared by `timeline rebuild`, `timeline replay --check` and the admin routes.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from events.instants import format_instant
from events.recorders import mark, recorder_of
from events.recorders.sql import write_transaction
from events.store import EventStore
from projections import reference
from projections.facts import Fact, fact_of
from projections.parts import NAMES, PARTS
from projections.sql.rebuild import Progress, Rebuilt, rebuild
from projections.sql.tables import STATE
from service.state_query import Cut, answer_text


def default_workers(store: EventStore) -> int:
    """The backend's choice (`SqlRecorder.rebuild_workers`): one per core up to 4 on
    PostgreSQL, one on SQLite."""
    return recorder_of(store.engine).rebuild_workers()


def rebuild_read_model(
    store: EventStore, progress: Progress = lambda done, total: None, workers: int | None = None
) -> Rebuilt:
    """Rebuild while appends go on; large logs are computed by `workers` processes
    (default: `default_workers`), which also write on PostgreSQL."""

    @contextmanager
    def transaction() -> Iterator[Connection]:
        with write_transaction(store.engine) as conn:
            yield conn

    url = store.engine.url.render_as_string(hide_password=False)
    return rebuild(
        transaction,
        store.locked,
        progress,
        url=url,
        workers=default_workers(store) if workers is None else workers,
        one_writer=recorder_of(store.engine).one_writer,
    )


@dataclass
class RebuildStatus:
    """What the admin routes show of this process's last rebuild."""

    status: str = "idle"  # idle, running, done or failed
    done: int = 0
    total: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    generation: int | None = None
    caught_up: int | None = None
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "lock"}

    def start(self, store: EventStore) -> bool:
        """Start a rebuild in a thread; False when one is already running here."""
        with self.lock:
            if self.status == "running":
                return False
            self.status, self.done, self.total, self.error = "running", 0, 0, None
            self.started_at, self.finished_at, self.generation, self.caught_up = _now(), None, None, None
        threading.Thread(target=self._run, args=(store,), name="rebuild", daemon=True).start()
        return True

    def _run(self, store: EventStore) -> None:
        def progress(done: int, total: int) -> None:
            self.done, self.total = done, total

        try:
            rebuilt = rebuild_read_model(store, progress)
        except Exception as exc:  # reported through the status route
            self.status, self.error = "failed", f"{type(exc).__name__}: {exc}"
        else:
            self.status, self.generation, self.caught_up = "done", rebuilt.generation, rebuilt.caught_up
        self.finished_at = _now()


def _now() -> str:
    return format_instant(datetime.now(UTC))


# -- replay --check -------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    as_of: str
    position: int
    where: str  # e.g. territory/areas/ru-kursk-oblast
    fold: Any
    read_model: Any


def _differences(as_of: str, position: int, fold: dict[str, Any], model: dict[str, Any]) -> list[Difference]:
    found = []
    for part, group in ((p.name, p.scopes) for p in PARTS):
        if group is None:
            keyed = {part: (fold[part], model[part])}
        else:
            names = sorted(set(fold[part][group]) | set(model[part][group]))
            keyed = {
                f"{part}/{group}/{n}": (fold[part][group].get(n), model[part][group].get(n)) for n in names
            }
        found += [Difference(as_of, position, where, a, b) for where, (a, b) in keyed.items() if a != b]
    return found


def replay_check(
    store: EventStore,
    samples: int = 20,
    seed: int = 0,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> tuple[int, list[Difference]]:
    """Fold the log and compare with the read model now and at `samples` random past
    (as_of, known_at); returns (questions asked, differences)."""
    head = store.cut(None)
    facts: list[Fact] = [fact_of(event) for event in store.events_until(head)]
    rng = random.Random(seed)
    questions = [(_now(), head)]
    if facts:
        instants = sorted({f.occurred_from for f in facts} | {f.last_instant for f in facts})
        questions += [(rng.choice(instants), rng.randint(1, head)) for _ in range(samples)]
    found: list[Difference] = []
    for done, (as_of, position) in enumerate(questions, 1):
        fold = reference.state_parts(facts[:position], as_of)
        answer = json.loads(answer_text(store, Cut(as_of, "", position, head)))
        model = {part: answer[part] for part in NAMES}
        if json.dumps(fold, sort_keys=True) != json.dumps(model, sort_keys=True):
            found += _differences(as_of, position, fold, model)
        progress(done, len(questions))
    return len(questions), found


def is_stale(store: EventStore) -> bool:
    """A migration changed the model, and it has not been rebuilt since."""
    with store.engine.connect() as conn:
        query = f"SELECT stale FROM read_models WHERE name = {mark(conn)}"
        return bool(conn.exec_driver_sql(query, (STATE,)).scalar())


def build_if_stale(store: EventStore, progress: Progress = lambda done, total: None) -> Rebuilt | None:
    """Rebuild the model when a migration marked it stale (`timeline migrate` and `serve`)."""
    return rebuild_read_model(store, progress) if is_stale(store) else None
