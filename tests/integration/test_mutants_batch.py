"""The append transaction's view of the log (events/batch.py): what `prefetch` answers, what
a question it did not foresee falls back to, and this batch's own events seen by the rules;
each case one a planted bug (a mutant) breaks (docs/testing.md, "Mutation testing")."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from events.batch import BatchView, known_of
from events.drafts import draft_from_json
from events.errors import Conflict
from events.recorders import make_engine, recorder_of
from events.store import EventStore
from tests.factories import claim, offer, rejection, retraction, statement


@pytest.fixture
def store(database_url: str) -> Iterator[EventStore]:
    engine = make_engine(database_url)
    yield EventStore(recorder_of(engine), hooks=[], clock=lambda: datetime(2025, 5, 1, tzinfo=UTC))
    engine.dispose()


def append(store: EventStore, *envelopes: dict[str, Any]) -> list[Any]:
    return store.append([draft_from_json(e) for e in envelopes]).events


def test_a_view_without_begin_asks_the_log(store: EventStore) -> None:
    target, other = append(store, claim(), statement())
    fix, undo = append(store, claim(supersedes=target.id), retraction(other.id))
    with store.recorder.append_transaction() as txn:
        view = BatchView(store.recorder, txn)
        assert view.version_of("diplomacy") == 2  # the statement and its retraction
        assert view.version_of("ru-kursk-oblast") == 2
        assert view.version_of("nowhere") == 0
        found = view.find(target.id)
        assert found == known_of(target)
        assert found is not None and (found.id, found.type, found.subject, found.corrects) == (
            target.id,
            "territory.control_claimed",
            "ru-kursk-oblast",
            None,
        )
        assert view.find(fix.id) == known_of(fix) and known_of(fix).corrects == target.id
        assert view.find("5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e") is None
        assert [c.id for c in view.correctors_of(target.id)] == [fix.id]
        assert [c.id for c in view.correctors_of(other.id)] == [undo.id]
        assert view.correctors_of(fix.id) == []
        assert set(view.fetch_stored({target.id, "5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e"})) == {target.id}


def test_begin_answers_what_the_drafts_name(store: EventStore) -> None:
    target, offered, said = append(store, claim(), offer(), statement())
    drafts = [
        draft_from_json(retraction(target.id)),
        draft_from_json(rejection(offered.id)),
        draft_from_json(statement(supersedes=said.id)),
    ]
    with store.recorder.append_transaction() as txn:
        view = BatchView(store.recorder, txn)
        answers = view.begin(drafts, [said.id])
        assert answers.head is not None and answers.head.position == 3
        assert set(view.stored) == {target.id, offered.id, said.id}
        assert view.stored[target.id] == target
        assert set(view.correctors) >= {target.id, said.id}
        assert view.correctors[target.id] == [] and view.correctors[said.id] == []
        # the drafts' subjects, and those of the events they name
        assert view.versions["diplomacy"] == 1
        assert view.versions["ru-kursk-oblast"] == 1
        assert view.versions["ru-ua"] == 1


def test_begin_with_nothing_named_reads_only_the_head(store: EventStore) -> None:
    with store.recorder.append_transaction() as txn:
        view = BatchView(store.recorder, txn)
        assert view.begin([], []).head is None
        assert view.stored == {} and view.versions == {} and view.correctors == {}
        view.begin([draft_from_json(statement())], [])
        assert view.versions == {"diplomacy": 0}


def test_this_batchs_events_are_seen_by_the_rules(store: EventStore) -> None:
    first = claim()
    fix = claim(supersedes=first["id"])
    events = append(store, first, fix, retraction(fix["id"]))
    assert [e.version for e in events] == [1, 2, 3]
    assert [e.corrects for e in events] == [None, first["id"], fix["id"]]
    # a second correction of the same event in one batch: the first one still corrects it
    one = claim()
    with pytest.raises(Conflict) as caught:
        append(store, one, claim(supersedes=one["id"]), claim(supersedes=one["id"]))
    assert caught.value.extra["index"] == 2
    assert caught.value.extra["corrected_by"] != one["id"]


def test_a_stored_event_corrected_in_this_batch_is_corrected(store: EventStore) -> None:
    (target,) = append(store, claim())
    with pytest.raises(Conflict) as caught:
        append(store, claim(supersedes=target.id), retraction(target.id))
    assert caught.value.extra["index"] == 1


def test_an_event_of_this_batch_can_be_retracted_and_its_retraction_too(store: EventStore) -> None:
    said = statement()
    undo = retraction(said["id"])
    events = append(store, said, undo, retraction(undo["id"]))
    assert [e.subject for e in events] == ["diplomacy"] * 3
    assert [e.corrects for e in events] == [None, said["id"], undo["id"]]


def test_a_retraction_retracted_in_this_batch_frees_its_target(store: EventStore) -> None:
    # The rules tell a retraction from a replacement by the type of this batch's pending
    # correctors: the retracted retraction no longer corrects, so a replacement is allowed.
    (target,) = append(store, claim())
    undo = retraction(target.id)
    events = append(store, undo, retraction(undo["id"]), claim(supersedes=target.id))
    assert [e.position for e in events] == [2, 3, 4]
    assert events[2].corrects == target.id


def test_a_resend_naming_an_unknown_event_is_a_conflict(store: EventStore) -> None:
    (target,) = append(store, claim())
    undo = retraction(target.id)
    append(store, undo)
    changed = {**undo, "data": {**undo["data"], "target_event_id": "5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e"}}
    with pytest.raises(Conflict) as caught:
        append(store, changed)
    assert caught.value.extra["existing_position"] == 2


def test_a_resend_of_an_event_of_this_batch_counts_its_subject(store: EventStore) -> None:
    offered = offer()
    (stored,) = append(store, offered)
    # the resent rejection takes its subject from the stored offer
    rejecting = rejection(offered["id"])
    append(store, rejecting)
    again = store.append([draft_from_json(rejecting), draft_from_json(statement(expected_version=0))])
    assert again.stored == 1 and again.events[0].subject == stored.subject


def test_a_built_event_is_the_event_stored(store: EventStore) -> None:
    (target,) = append(store, claim())
    (event,) = append(store, claim(supersedes=target.id, reported_at="2025-04-28T10:00:00Z"))
    assert store.get(event.id) == event
    assert (event.supersedes, event.corrects, event.reported_at) == (
        target.id,
        target.id,
        "2025-04-28T10:00:00Z",
    )
    assert (event.occurred_from, event.occurred_until) == (target.occurred_from, target.occurred_until)
    assert event.prev_hash == target.hash and event.version == 2 and event.position == 2
