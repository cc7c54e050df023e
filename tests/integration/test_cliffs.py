"""The state benchmark's cliffs at a small scale: each answer equals the fold's, and
appending to a long chain of corrections costs no more statements than to a short one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sqlalchemy_event

from events.drafts import draft_from_json
from events.store import EventStore
from projections.windows import Page, Window
from service import state_query
from tests.factories import claim, envelope, retraction

FAR_BEFORE, FAR_AFTER = "1900-01-01", "2100-01-01"


def stored(store: EventStore, *events: dict[str, Any]) -> list[Any]:
    return store.append([draft_from_json(e) for e in events]).events


def agree(
    store: EventStore, as_of: str, known_at: str | None = None, *args: Any, **more: Any
) -> dict[str, Any]:
    got = state_query.state(store, as_of, known_at, *args, **more)
    assert got == state_query.reference_state(store, as_of, known_at, *args, **more)
    return got


def test_a_claim_superseded_hundreds_of_times(store: EventStore) -> None:
    last = stored(store, claim("hot", occurred_at="2025-01-01"))[0]
    recorded = [last.recorded_at]
    for n in range(300):
        day = f"2025-{1 + n % 12:02d}-{1 + n % 28:02d}"  # valid time wanders back and forth
        last = stored(
            store, claim("hot", controller=["ru", "ua"][n % 2], occurred_at=day, supersedes=last.id)
        )[0]
        recorded.append(last.recorded_at)
    for known_at in (recorded[0], recorded[150], recorded[-1], None):
        for as_of in ("2025-01-01", "2025-06-15", FAR_BEFORE, FAR_AFTER):
            agree(store, as_of, known_at, "territory", "hot")
    assert state_query.history(store, "hot") == state_query.reference_history(store, "hot")


def test_a_chain_of_retractions_of_retractions(store: EventStore) -> None:
    target = stored(store, claim("chain"))[0]
    last, recorded = target, []
    for _ in range(60):
        last = stored(store, retraction(last.id))[0]
        recorded.append(last.recorded_at)
    for known_at in (recorded[0], recorded[1], recorded[-2], recorded[-1]):
        shown = agree(store, "2025-04-26", known_at, "territory", "chain")
        assert bool(shown["areas"]) == (
            recorded.index(known_at) % 2 == 1
        )  # every other retraction restores it


def statements_for(store: EventStore, envelope: dict[str, Any]) -> int:
    """How many statements one append runs."""
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        count += 1

    sqlalchemy_event.listen(store.engine, "before_cursor_execute", counted)
    try:
        stored(store, envelope)
    finally:
        sqlalchemy_event.remove(store.engine, "before_cursor_execute", counted)
    return count


def test_appending_to_a_long_chain_of_retractions_is_a_few_statements(store: EventStore) -> None:
    """Each append to the chain walks it to its foot (every event below changes effect):
    the chain is read in one statement, not one a step, as the walk once did."""
    last = stored(store, claim("chain"))[0]
    for _ in range(8):
        last = stored(store, retraction(last.id))[0]
    short = statements_for(store, retraction(last.id))
    last = store.read(after=store.cut(None) - 1).events[0]
    for _ in range(60):
        last = stored(store, retraction(last.id))[0]
    long = statements_for(store, retraction(last.id))
    assert long <= short + 1, (short, long)
    agree(store, "2025-04-26", None, "territory", "chain")


def test_a_track_of_hundreds_of_rounds(store: EventStore) -> None:
    for n in range(0, 500, 100):
        held = {"parties": ["qq", "zz"], "place": "geneva"}
        days = [f"2024-{1 + (n + i) % 12:02d}-{1 + i % 28:02d}" for i in range(100)]
        stored(store, *[envelope("talks.round_held", held, occurred_at=day) for day in days])
    for window in (Window(limit=20), Window(since="2024-06-01T00:00:00.000000Z", limit=5), Window()):
        got = agree(store, "2025-01-01", None, "talks", None, "qq-zz", window=window)
        if window.limit:
            assert len(got["tracks"]["qq-zz"]["rounds"]) == window.limit
            assert got["tracks"]["qq-zz"]["more"] == {"rounds": True}
    agree(store, FAR_BEFORE, None, "talks", None, "qq-zz", window=Window(limit=20))


def test_hundreds_of_areas_in_pages(store: EventStore) -> None:
    stored(store, *[claim(f"w{n:04d}", occurred_at="2025-01-01") for n in range(300)])
    after, seen = None, []
    while True:
        page = agree(store, "2025-06-01", None, "territory", areas_page=Page(after, 64))
        seen += list(page["areas"])
        after = page["next_areas_after"]
        if after is None:
            break
    assert seen == [f"w{n:04d}" for n in range(300)]
    agree(
        store, FAR_AFTER, None, areas_page=Page(None, 50), tracks_page=Page(None, 5), window=Window(limit=3)
    )
    agree(store, FAR_BEFORE, None, areas_page=Page("w0100", 50))
