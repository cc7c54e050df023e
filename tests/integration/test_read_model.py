"""The read model gives the fold's answer, on random histories, for random (as_of, known_at).

The reducers folded over the log's prefix are the specification
(`state_query.reference_*`); `/state` and the history endpoint are answered
from the read model. Each example stores a random history through the store
(so the append hook maintains the model), then compares the two as JSON.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.drafts import draft_from_json
from events.errors import TimelineError
from events.instants import ONE_MICROSECOND, format_instant, parse_day_or_date_time, parse_instant
from events.recorders import make_engine
from events.store import EventStore
from projections.facts import fact_of
from projections.sql import rebuild as rebuild_module
from projections.territory import leaving_instants
from projections.windows import Page, Window
from service import state_query
from service.read_model import rebuild_read_model
from service.wiring import build_store
from tests.databases import Databases
from tests.integration.histories import AREAS, CEASEFIRE_BOUNDS, event_of, growing_histories, histories

EXAMPLES = int(os.environ.get("TIMELINE_READ_MODEL_EXAMPLES", "200"))


def store_history(store: EventStore, history: list[list[dict[str, Any]]]) -> None:
    sent: list[dict[str, Any]] = []
    for ops in history:
        batch: list[dict[str, Any]] = []
        for op in ops:  # an event may correct one earlier in its own batch
            event = event_of(op, sent + batch)
            if event is not None:
                batch.append(event)
        sent += batch
        while batch:
            try:
                store.append([draft_from_json(e) for e in batch])
                break
            except TimelineError as refused:  # drop the refused event, as a client would
                index = refused.extra.get("index", 0)
                batch = batch[:index] + batch[index + 1 :]


def nudged(instant: str, micros: int) -> str:
    return format_instant(parse_instant(instant) + micros * ONE_MICROSECOND)


def interesting_instants(store: EventStore) -> tuple[list[str], list[str]]:
    """as_of: window edges (first and last microsecond), ceasefire bounds and the instants
    30 days after each event began (a clash's last in the list), each +-1 us;
    known_at: every recorded_at, +-1 us."""
    facts = [fact_of(e) for e in store.events_until(store.cut(None))]
    valid = {f.occurred_from for f in facts} | {f.last_instant for f in facts}
    # A clash's window edges: its last instant in an area's list, and its first out of it.
    valid |= {nudged(leaves, -1) for leaves in leaving_instants(f.occurred_from for f in facts)}
    valid |= {
        format_instant(parse_day_or_date_time(b, end_of_day=end))
        for b in CEASEFIRE_BOUNDS
        for end in (False, True)
    }
    as_ofs = sorted({nudged(v, d) for v in valid for d in (-1, 0, 1)})
    recorded = {f.recorded_at for f in facts}
    known_ats = sorted({nudged(r, d) for r in recorded for d in (-1, 0, 1)})
    return as_ofs, known_ats


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(history=histories, data=st.data())
def test_the_read_model_answers_as_the_fold_does(
    databases: Databases, history: Any, data: st.DataObject
) -> None:
    answers_as_the_fold_does(databases, history, data)


def answers_as_the_fold_does(databases: Databases, history: Any, data: st.DataObject) -> None:
    """The body, shared with the mutation run's smaller version (test_mutants_read_model.py):
    the model the appends wrote, then the model a rebuild writes from the whole log (in
    pages of three, so that corrections and what they correct fall in different pages)."""
    engine = make_engine(databases.fresh_url())
    try:
        store = build_store(engine)
        store_history(store, history)
        as_ofs, known_ats = interesting_instants(store)
        if not known_ats:
            return
        same_answers(store, as_ofs, known_ats, data)
        page, rebuild_module.PAGE = rebuild_module.PAGE, 3
        try:
            rebuild_read_model(store, workers=1)
        finally:
            rebuild_module.PAGE = page
        same_answers(store, as_ofs, known_ats, data)
    finally:
        engine.dispose()


def same_answers(store: EventStore, as_ofs: list[str], known_ats: list[str], data: st.DataObject) -> None:
    for _ in range(6):
        as_of = data.draw(st.sampled_from(as_ofs), label="as_of")
        known_at = data.draw(st.sampled_from(known_ats), label="known_at")
        assert state_query.state(store, as_of, known_at) == state_query.reference_state(
            store, as_of, known_at
        )
        area = data.draw(st.sampled_from(AREAS), label="area")
        for part, scope in (("territory", area), ("talks", None), ("diplomacy", None)):
            kwargs: dict[str, Any] = {"area": scope} if part == "territory" else {}
            got = state_query.state(store, as_of, known_at, part, **kwargs)
            assert got == state_query.reference_state(store, as_of, known_at, part, **kwargs)
        tracks = list(state_query.reference_state(store, as_of, known_at, "talks")["tracks"])
        for track in tracks:
            got = state_query.state(store, as_of, known_at, "talks", track=track)
            assert got == state_query.reference_state(store, as_of, known_at, "talks", track=track)
        assert state_query.history(store, area, known_at) == state_query.reference_history(
            store, area, known_at
        )


def windows(instants: list[str]) -> st.SearchStrategy[Window]:
    bound = st.none() | st.sampled_from(instants)
    return st.builds(Window, bound, bound, st.none() | st.integers(1, 2))


def pages(names: list[str]) -> st.SearchStrategy[Page]:
    return st.builds(Page, st.none() | st.sampled_from(names), st.none() | st.integers(1, 2))


@settings(
    max_examples=max(EXAMPLES // 2, 10),
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(history=growing_histories, data=st.data())
def test_windowed_and_paged_answers_are_the_full_answer_cut(
    databases: Databases, history: Any, data: st.DataObject
) -> None:
    windowed_answers_are_the_full_answer_cut(databases, history, data)


def windowed_answers_are_the_full_answer_cut(databases: Databases, history: Any, data: st.DataObject) -> None:
    """The read model's windows and pages against the fold's answer, cut by the same window."""
    engine = make_engine(databases.fresh_url())
    try:
        store = build_store(engine)
        store_history(store, history)
        as_ofs, known_ats = interesting_instants(store)
        if not known_ats:
            return
        tracks = ["-".join(sorted(pair)) for pair in (("ru", "ua"), ("ru", "us"), ("ua", "us"))]
        for _ in range(6):
            as_of = data.draw(st.sampled_from(as_ofs), label="as_of")
            known_at = data.draw(st.sampled_from(known_ats), label="known_at")
            more: dict[str, Any] = {
                "window": data.draw(windows(as_ofs), label="window"),
                "areas_page": data.draw(pages([*AREAS, "a"]), label="areas_page"),
                "tracks_page": data.draw(pages([*tracks, "r"]), label="tracks_page"),
            }
            got = state_query.state(store, as_of, known_at, **more)
            assert got == state_query.reference_state(store, as_of, known_at, **more)
            for part in ("territory", "talks", "diplomacy"):
                got = state_query.state(store, as_of, known_at, part, **more)
                assert got == state_query.reference_state(store, as_of, known_at, part, **more)
            track = data.draw(st.sampled_from(tracks), label="track")
            got = state_query.state(store, as_of, known_at, "talks", track=track, **more)
            assert got == state_query.reference_state(store, as_of, known_at, "talks", track=track, **more)
    finally:
        engine.dispose()
