"""The store's write rules at their edges, each case the one a planted bug (a mutant) breaks:
idempotency field by field, expected_version behind and ahead, recorded_at under an injected
clock, and paging whose last page is exactly full (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.drafts import Draft, draft_from_json, draft_or_refusal
from events.errors import Conflict, InvalidInput
from events.instants import format_instant
from events.recorders import make_engine, recorder_of
from events.store import EventStore
from tests.factories import claim, offer, rejection, retraction, statement

START = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class Clock:
    """A clock the test moves by hand: recorded_at is then known to the microsecond."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def clocked(database_url: str, clock: Clock) -> Iterator[EventStore]:
    engine = make_engine(database_url)
    yield EventStore(recorder_of(engine), hooks=[], clock=clock)
    engine.dispose()


def append(store: EventStore, *envelopes: dict[str, Any]) -> list[Any]:
    return store.append([draft_from_json(e) for e in envelopes]).events


# -- idempotency: every field of the content, alone ---------------------------------------

OTHER_ID = "5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e"

# (name, the envelope first stored, the same id re-sent with only that field changed)
FIELD_CHANGES: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("occurred_at", lambda e: e.update(occurred_at="2025-04-27")),
    ("occurred_at precision", lambda e: e.update(occurred_at="2025-04")),
    ("reported_at added", lambda e: e.update(reported_at="2025-04-28T10:00:00Z")),
    ("source", lambda e: e.update(source={"name": "Other Wire", "kind": "media"})),
    ("data", lambda e: e.update(data={**e["data"], "text": "We are not ready."})),
    ("supersedes added", lambda e: e.update(supersedes=e["_superseded"])),
]


@pytest.mark.parametrize(("field", "change"), FIELD_CHANGES, ids=[f for f, _ in FIELD_CHANGES])
def test_a_resend_differing_in_one_field_is_a_conflict(
    clocked: EventStore, field: str, change: Callable[[dict[str, Any]], None]
) -> None:
    (earlier,) = append(clocked, statement())
    first = statement()
    (stored,) = append(clocked, first)
    again = {**first, "_superseded": earlier.id}
    change(again)
    again.pop("_superseded")
    assert again != first, field
    with pytest.raises(Conflict) as caught:
        append(clocked, again)
    assert caught.value.extra["existing_position"] == stored.position
    assert caught.value.detail == f"An event with id {first['id']} is already stored with other content."
    assert clocked.head() is not None and clocked.head().position == 2  # type: ignore[union-attr]


def test_a_resend_differing_in_reported_at_only_is_a_conflict(clocked: EventStore) -> None:
    first = statement(reported_at="2025-04-28T10:00:00Z")
    (stored,) = append(clocked, first)
    assert stored.reported_at == "2025-04-28T10:00:00Z" == clocked.get(first["id"]).reported_at  # type: ignore[union-attr]
    with pytest.raises(Conflict):
        append(clocked, {**first, "reported_at": "2025-04-29T10:00:00Z"})
    with pytest.raises(Conflict):
        append(clocked, {k: v for k, v in first.items() if k != "reported_at"})


def test_a_resend_differing_in_supersedes_only_is_a_conflict(clocked: EventStore) -> None:
    one, two = append(clocked, statement(), statement())
    first = statement(supersedes=one.id)
    append(clocked, first)
    with pytest.raises(Conflict):
        append(clocked, {**first, "supersedes": two.id})
    with pytest.raises(Conflict):
        append(clocked, {k: v for k, v in first.items() if k != "supersedes"})


def test_an_identical_resend_is_answered_with_the_stored_event(clocked: EventStore) -> None:
    target = claim()
    offered = offer()
    (stored_claim, stored_offer) = append(clocked, target, offered)
    retracting = retraction(stored_claim.id)
    rejecting = rejection(stored_offer.id)
    stored = append(clocked, retracting, rejecting)
    # a resend without a subject of its own takes the subject of the event it references
    result = clocked.append([draft_from_json(retracting), draft_from_json(rejecting)])
    assert result.stored == 0
    assert [e.position for e in result.events] == [e.position for e in stored] == [3, 4]
    assert [e.subject for e in result.events] == ["ru-kursk-oblast", "ru-ua"]
    assert clocked.head().position == 4  # type: ignore[union-attr]


def test_an_uppercase_resend_is_the_same_event(clocked: EventStore) -> None:
    first = statement()
    (stored,) = append(clocked, first)
    result = clocked.append([draft_from_json({**first, "id": first["id"].upper()})])
    assert result.stored == 0 and result.events[0].position == stored.position


def test_an_invalid_resend_of_a_stored_id_is_a_conflict_naming_its_position(clocked: EventStore) -> None:
    first = statement()
    append(clocked, statement(), first)
    with pytest.raises(Conflict) as caught:
        clocked.append([draft_or_refusal({**first, "data": {"text": 3}})])
    assert caught.value.extra["existing_position"] == 2
    assert caught.value.detail == f"An event with id {first['id']} is already stored with other content."


# -- what append refuses before it looks at the log --------------------------------------


def test_an_empty_batch_is_refused_with_the_limits_named(clocked: EventStore) -> None:
    with pytest.raises(InvalidInput) as caught:
        clocked.append([])
    assert caught.value.detail == "A batch holds 1 to 1,000 events."


def test_a_first_item_refused_without_an_id_is_the_answer_itself(clocked: EventStore) -> None:
    refusal = draft_or_refusal({**statement(), "id": None, "data": {"text": 3}})
    assert isinstance(refusal, InvalidInput) and refusal.claimed_id is None
    batches: list[list[Draft | InvalidInput]] = [[refusal], [refusal, draft_from_json(statement())]]
    for items in batches:
        with pytest.raises(InvalidInput) as caught:
            clocked.append(items)
        assert caught.value is refusal
    assert clocked.head() is None


# -- expected_version: behind, at, ahead ----------------------------------------------


@pytest.mark.parametrize("expected", [0, 1, 3, 4])
def test_expected_version_behind_or_ahead_is_a_conflict(clocked: EventStore, expected: int) -> None:
    append(clocked, statement(), statement())  # "diplomacy" is at version 2
    with pytest.raises(Conflict) as caught:
        append(clocked, statement(expected_version=expected))
    assert caught.value.extra["actual_version"] == 2
    assert "at version 2, not " + str(expected) in caught.value.detail
    assert clocked.head().position == 2  # type: ignore[union-attr]


def test_expected_version_at_the_subject_version_appends(clocked: EventStore) -> None:
    append(clocked, statement(), statement())
    (event,) = append(clocked, statement(expected_version=2))
    assert (event.version, event.position) == (3, 3)
    (first,) = append(clocked, claim(expected_version=0))
    assert first.version == 1


def test_expected_version_counts_the_batch(clocked: EventStore) -> None:
    events = append(clocked, statement(), statement(expected_version=1), statement(expected_version=2))
    assert [e.version for e in events] == [1, 2, 3]
    with pytest.raises(Conflict) as caught:
        append(clocked, statement(), statement(expected_version=3))
    assert caught.value.extra["actual_version"] == 4
    assert caught.value.extra["index"] == 1


# -- recorded_at under the injected clock -----------------------------------------------


def test_recorded_at_is_the_clock(clocked: EventStore, clock: Clock) -> None:
    (event,) = append(clocked, statement())
    assert event.recorded_at == format_instant(START)
    clock.now = START + timedelta(seconds=5)
    (later,) = append(clocked, statement())
    assert later.recorded_at == format_instant(START + timedelta(seconds=5))


def test_recorded_at_never_goes_back_with_the_clock(clocked: EventStore, clock: Clock) -> None:
    append(clocked, statement())
    for back in (timedelta(0), timedelta(hours=1)):
        clock.now = START - back
        (event,) = append(clocked, statement())
        assert event.recorded_at > format_instant(START)
    # each one a microsecond after the head, not after the clock
    assert event.recorded_at == format_instant(START + 2 * MICROSECOND)


def test_a_batch_shares_one_recorded_at_and_each_independent_event_has_its_own(
    clocked: EventStore,
) -> None:
    events = append(clocked, statement(), statement(), statement())
    assert {e.recorded_at for e in events} == {format_instant(START)}
    answers = clocked.append_each([draft_from_json(statement()) for _ in range(3)])
    assert [a.events[0].recorded_at for a in answers] == [  # type: ignore[union-attr]
        format_instant(START + n * MICROSECOND) for n in (1, 2, 3)
    ]
    assert [a.stored for a in answers] == [1, 1, 1]  # type: ignore[union-attr]


def test_append_each_answers_each_item_in_its_place(clocked: EventStore) -> None:
    (stored,) = append(clocked, statement())
    kept = statement()
    append(clocked, kept)
    items = [
        draft_from_json(statement()),
        draft_from_json(statement(expected_version=0)),  # refused alone
        draft_from_json(kept),  # already stored: answered, not appended
        draft_from_json(statement()),
    ]
    answers = clocked.append_each(items)
    assert isinstance(answers[1], Conflict)
    assert [getattr(a, "stored", None) for a in answers] == [1, None, 0, 1]
    assert [a.events[0].position for a in (answers[0], answers[2], answers[3])] == [3, 2, 4]  # type: ignore[union-attr]
    assert stored.position == 1


def test_occurred_at_may_lead_recorded_at_by_24_hours_not_more(clocked: EventStore, clock: Clock) -> None:
    clock.now = START
    edge = format_instant(START + timedelta(hours=24))
    (event,) = append(clocked, statement(occurred_at=edge))
    assert event.occurred_at == edge
    with pytest.raises(InvalidInput) as caught:
        append(clocked, statement(occurred_at=format_instant(START + timedelta(hours=24, seconds=1))))
    assert caught.value.extra["index"] == 0
    assert caught.value.errors[0].path == "/events/0/occurred_at"


# -- paging: a last page exactly full ------------------------------------------------


def test_subject_pages_end_on_an_exactly_full_page(clocked: EventStore) -> None:
    append(clocked, *(statement() for _ in range(4)), claim())
    first = clocked.read_subject("diplomacy", limit=2)
    assert [e.version for e in first.events] == [1, 2] and first.next_after == 2
    last = clocked.read_subject("diplomacy", after_version=2, limit=2)
    assert [e.version for e in last.events] == [3, 4] and last.next_after is None
    one_short = clocked.read_subject("diplomacy", after_version=1, limit=4)
    assert [e.version for e in one_short.events] == [2, 3, 4] and one_short.next_after is None
    whole = clocked.read_subject("diplomacy", limit=4)
    assert len(whole.events) == 4 and whole.next_after is None
    assert clocked.read_subject("nothing").events == []


def test_log_pages_end_on_an_exactly_full_page(clocked: EventStore) -> None:
    append(clocked, *(statement() for _ in range(4)))
    first = clocked.read(limit=2)
    assert [e.position for e in first.events] == [1, 2] and first.next_after == 2
    last = clocked.read(after=2, limit=2)
    assert [e.position for e in last.events] == [3, 4] and last.next_after is None
    assert clocked.read(limit=4).next_after is None
    assert clocked.read(limit=3).next_after == 3


def test_rows_and_pages_after_a_position(clocked: EventStore) -> None:
    append(clocked, *(statement() for _ in range(5)))
    assert [r.position for r in clocked.rows_after(1, 3)] == [2, 3, 4]
    assert [r.position for r in clocked.rows_after(4, 3)] == [5]
    assert clocked.rows_after(5, 3) == []
    pages = list(clocked.iter_rows(after=1, until=4, page_size=2))
    assert [[p for p, _ in page] for page in pages] == [[2, 3], [4]]
    assert [e.position for e in clocked.events_until(3)] == [1, 2, 3]
    assert [p for p, _ in clocked.occurred_from_after(3, 5)] == [4, 5]


def test_default_pages_hold_a_hundred_events(clocked: EventStore) -> None:
    append(clocked, *(statement() for _ in range(101)))
    page = clocked.read()
    assert len(page.events) == 100 and page.next_after == 100
    by_subject = clocked.read_subject("diplomacy")
    assert len(by_subject.events) == 100 and by_subject.next_after == 100


def test_a_subject_page_continues_after_its_last_event(clocked: EventStore) -> None:
    append(clocked, claim(), *(statement() for _ in range(4)))
    page = clocked.read_subject("diplomacy", limit=3)
    assert [e.version for e in page.events] == [1, 2, 3] and page.next_after == 3


def test_a_log_page_is_filtered_by_type_and_by_subject(clocked: EventStore) -> None:
    append(clocked, statement(), claim(), statement(), offer())
    by_type = clocked.read(types=["territory.control_claimed"])
    assert [e.position for e in by_type.events] == [2]
    by_subject = clocked.read(subjects=["diplomacy"])
    assert [e.position for e in by_subject.events] == [1, 3]


def test_reads_known_at_stop_at_what_was_recorded_by_then(clocked: EventStore, clock: Clock) -> None:
    assert clocked.cut(None) == 0 and clocked.cut_head(None) is None
    append(clocked, statement())
    clock.now = START + timedelta(seconds=5)
    append(clocked, statement())
    between = format_instant(START + timedelta(seconds=1))
    before = format_instant(START - timedelta(seconds=1))
    assert clocked.cut_head(between).position == 1  # type: ignore[union-attr]
    assert (clocked.cut(between), clocked.cut(before), clocked.cut(None)) == (1, 0, 2)
    assert [e.position for e in clocked.read(known_at=between).events] == [1]
    assert clocked.read(known_at=before).events == []


def test_get_answers_none_for_an_unknown_id(clocked: EventStore) -> None:
    append(clocked, statement())
    assert clocked.get(OTHER_ID) is None


def test_correctors_are_listed_up_to_a_position(clocked: EventStore) -> None:
    (target, other) = append(clocked, claim(), statement())
    (corrector,) = append(clocked, retraction(target.id))
    assert [e.id for e in clocked.correctors(target.id)] == [corrector.id]
    assert [e.position for e in clocked.correctors(target.id, until=3)] == [3]
    assert clocked.correctors(target.id, until=2) == []
    assert clocked.correctors(other.id) == []


def test_valid_time_columns_are_read_up_to_a_limit(clocked: EventStore) -> None:
    append(clocked, *(statement() for _ in range(4)))
    assert [p for p, _ in clocked.occurred_from_after(1, 2)] == [2, 3]
