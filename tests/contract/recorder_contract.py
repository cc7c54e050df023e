"""The promises every recorder keeps (`events.recorders.protocol.Recorder`), stated once.

Each backend subclasses `RecorderContract` once (`test_recorders.py`) and gives its own
`recorder` fixture, so SQLite, PostgreSQL and the in-memory recorder are checked by the
same tests. The events are appended through an `EventStore` without hooks: the contract
is the recorder's, not the Merkle tree's or the read model's.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from events.drafts import draft_from_json
from events.envelope import StoredEvent
from events.recorders.protocol import Questions, Recorder, correctors_by_target
from events.store import EventStore
from tests.factories import claim, retraction, statement


class Clock:
    """A clock the test moves: recorded_at is known in advance."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def supersession(of: dict[str, Any]) -> dict[str, Any]:
    return {**of, "id": str(uuid.uuid4()), "supersedes": of["id"]}


class RecorderContract:
    @pytest.fixture
    def recorder(self) -> Iterator[Recorder]:
        raise NotImplementedError  # each backend's subclass gives its own

    @pytest.fixture
    def store(self, recorder: Recorder) -> EventStore:
        return EventStore(recorder, hooks=[], clock=Clock())

    @staticmethod
    def put(store: EventStore, *envelopes: dict[str, Any]) -> list[StoredEvent]:
        return store.append([draft_from_json(e) for e in envelopes]).events

    # -- an empty log ------------------------------------------------------------------

    def test_an_empty_log_has_no_head_and_no_rows(self, recorder: Recorder) -> None:
        assert recorder.head() is None
        assert recorder.head_at("2100-01-01T00:00:00.000000Z") is None
        assert recorder.page(0, 10, 10, (), ()) == []
        assert recorder.rows_after(0, 10) == []
        assert recorder.bodies_between(0, None, 10) == []
        assert recorder.body(str(uuid.uuid4())) is None
        assert recorder.subject_page("a", 0, 10) == []
        assert recorder.occurred_from_after(0, 10) == []

    # -- what is stored is read back -------------------------------------------------

    def test_the_head_and_the_bodies_are_what_was_appended(
        self, store: EventStore, recorder: Recorder
    ) -> None:
        events = self.put(store, claim(area="a"), claim(area="b"), statement())
        head = recorder.head()
        assert head is not None and (head.position, head.hash) == (3, events[-1].hash)
        assert head.recorded_at == events[-1].recorded_at
        for event in events:
            assert recorder.body(event.id) == event.body
        assert recorder.bodies_between(0, None, 10) == [(e.position, e.body) for e in events]
        assert recorder.bodies_between(1, 2, 10) == [(2, events[1].body)]
        assert recorder.bodies_between(0, None, 2) == [(e.position, e.body) for e in events[:2]]
        rows = recorder.rows_after(1, 10)
        assert [(r.position, r.type, r.subject, r.body) for r in rows] == [
            (e.position, e.type, e.subject, e.body) for e in events[1:]
        ]
        assert [r.position for r in recorder.rows_after(0, 1)] == [1]
        assert recorder.occurred_from_after(1, 1) == [(2, events[1].occurred_from)]

    def test_a_page_filters_by_type_family_and_subject_within_its_bounds(
        self, store: EventStore, recorder: Recorder
    ) -> None:
        events = self.put(store, claim(area="a"), statement(), claim(area="b"), claim(area="a"))
        every = [(e.position, e.body) for e in events]
        assert recorder.page(0, 4, 10, (), ()) == every
        assert recorder.page(1, 3, 10, (), ()) == every[1:3]  # after, up to last
        assert recorder.page(0, 4, 2, (), ()) == every[:2]  # limit
        assert recorder.page(0, 4, 10, ("territory.",), ()) == [every[0], every[2], every[3]]
        assert recorder.page(0, 4, 10, ("territory.control_claimed",), ("a",)) == [every[0], every[3]]
        assert recorder.page(0, 4, 10, ("territory",), ()) == []  # a family ends in '.'
        assert recorder.page(0, 4, 10, ("territory%.",), ()) == []  # '%' is no wildcard
        assert recorder.page(0, 4, 10, ("diplomacy.", "territory.claim_denied"), ()) == [every[1]]
        assert recorder.page(0, 4, 1, (), ("b",)) == [every[2]]

    def test_bounds_at_position_zero_hold_nothing_before_the_first_event(
        self, store: EventStore, recorder: Recorder
    ) -> None:
        events = self.put(store, claim(area="a"), claim(area="b"), statement())
        assert recorder.page(0, 0, 10, (), ()) == []  # a cut before anything was recorded
        assert recorder.bodies_between(0, 0, 10) == []
        assert recorder.occurred_from_after(0, 2) == [(e.position, e.occurred_from) for e in events[:2]]

    def test_a_page_of_several_types_is_in_log_order(self, store: EventStore, recorder: Recorder) -> None:
        # The (type, position) index would hand the rows over type by type.
        events = self.put(store, claim(area="a"), statement(), claim(area="b"), statement())
        types = ("diplomacy.statement_made", "territory.control_claimed")
        assert recorder.page(0, 4, 10, types, ()) == [(e.position, e.body) for e in events]

    def test_a_cut_is_the_last_event_recorded_by_an_instant(
        self, store: EventStore, recorder: Recorder
    ) -> None:
        first, second = self.put(store, claim(area="a")), self.put(store, claim(area="b"))
        cut = recorder.head_at(first[0].recorded_at)
        assert cut is not None and (cut.position, cut.hash) == (1, first[0].hash)
        assert cut.recorded_at == first[0].recorded_at != second[0].recorded_at
        later = recorder.head_at(second[0].recorded_at)
        assert later is not None and later.position == 2
        assert recorder.head_at("2000-01-01T00:00:00.000000Z") is None

    def test_a_batch_shares_one_instant_and_the_cut_takes_its_last_event(
        self, store: EventStore, recorder: Recorder
    ) -> None:
        batch = self.put(store, claim(area="a"), claim(area="b"))
        cut = recorder.head_at(batch[0].recorded_at)
        assert cut is not None and cut.position == 2

    def test_a_subject_is_paged_by_version_with_an_exactly_full_last_page(
        self, store: EventStore, recorder: Recorder
    ) -> None:
        events = self.put(store, claim(area="a"), claim(area="b"), claim(area="a"), claim(area="a"))
        of_a = [e for e in events if e.subject == "a"]
        assert recorder.subject_page("a", 0, 10) == [(e.version, e.body) for e in of_a]
        assert recorder.subject_page("a", 1, 2) == [(2, of_a[1].body), (3, of_a[2].body)]
        assert recorder.subject_page("a", 0, 2) == [(1, of_a[0].body), (2, of_a[1].body)]  # limit
        assert recorder.subject_page("a", 3, 2) == []
        page = store.read_subject("a", after_version=1, limit=2)  # exactly the rest
        assert [e.version for e in page.events] == [2, 3] and page.next_after is None
        page = store.read_subject("a", limit=2)
        assert [e.version for e in page.events] == [1, 2] and page.next_after == 2

    # -- what an append asks -----------------------------------------------------------

    def test_bodies_and_versions_of_a_set(self, store: EventStore, recorder: Recorder) -> None:
        events = self.put(store, claim(area="a"), claim(area="a"), claim(area="b"))
        ids = [e.id for e in events]
        with recorder.append_transaction() as txn:
            assert recorder.bodies_by_id(txn, [*ids, "missing"]) == {e.id: e.body for e in events}
            assert recorder.latest_versions(txn, ["a", "b", "nowhere"]) == {"a": 2, "b": 1, "nowhere": 0}
            assert recorder.bodies_by_id(txn, []) == {} and recorder.latest_versions(txn, []) == {}

    def test_corrections_around_climbs_every_chain_of_corrections(
        self, store: EventStore, recorder: Recorder
    ) -> None:
        first, other, unrelated = claim(area="a"), claim(area="b"), claim(area="c")
        self.put(store, first, other, unrelated)
        (retracted,) = self.put(store, retraction(first["id"]))
        (unretracted,) = self.put(store, retraction(retracted.id))
        (again,) = self.put(store, retraction(unretracted.id))
        replacement = supersession(other)
        self.put(store, replacement)
        self.put(store, retraction(unrelated["id"]))  # corrects nothing asked about
        with recorder.append_transaction() as txn:
            rows = recorder.corrections_around(txn, [first["id"], other["id"], "no-such-event"])
            assert recorder.corrections_around(txn, []) == []
            # From the top of a chain, `below` walks down to its foot and back up.
            below = recorder.corrections_around(txn, [again.id], below=True)
            only_up = recorder.corrections_around(txn, [unretracted.id])
        assert [r.id for r in rows] == [first["id"], other["id"], retracted.id, unretracted.id, again.id,
                                        replacement["id"]]  # fmt: skip
        assert [r.position for r in rows] == sorted(r.position for r in rows)
        assert (rows[2].type, rows[2].corrects) == ("event.retracted", first["id"])
        assert rows[5].corrects == other["id"] and rows[0].corrects is None
        by_target = correctors_by_target(rows, [first["id"], other["id"], "no-such-event"])
        assert [c.id for c in by_target[first["id"]]] == [retracted.id]
        assert [c.id for c in by_target[retracted.id]] == [unretracted.id]
        assert by_target[again.id] == [] and by_target["no-such-event"] == []
        assert [c.id for c in by_target[other["id"]]] == [replacement["id"]]
        assert [r.id for r in below] == [first["id"], retracted.id, unretracted.id, again.id]
        assert [r.id for r in only_up] == [unretracted.id, again.id]

    def test_begin_append_answers_as_the_single_questions_do(
        self, store: EventStore, recorder: Recorder
    ) -> None:
        first, second = self.put(store, claim(area="a"), claim(area="b"))
        (fix,) = self.put(store, retraction(first.id))
        questions = Questions(ids=[first.id, second.id, "missing"], corrected=[first.id], subjects=["c"])
        with recorder.append_transaction() as txn:
            answers = recorder.begin_append(txn, questions)
            assert answers.head is not None and (answers.head.position, answers.head.hash) == (3, fix.hash)
            assert answers.bodies == recorder.bodies_by_id(txn, questions.ids)
            assert answers.corrections == recorder.corrections_around(txn, questions.corrected)
            # the subjects asked for and those of the events named (a rejection takes its
            # offer's subject)
            assert answers.versions == {"a": 2, "b": 1, "c": 0}  # a: the claim and its retraction
            # what corrects a correction, not what it corrects: the chain below is not read
            of_fix = recorder.begin_append(txn, Questions(corrected=[fix.id])).corrections
            assert of_fix == recorder.corrections_around(txn, [fix.id])
            assert first.id not in [row.id for row in of_fix]

    def test_begin_append_on_an_empty_log(self, recorder: Recorder) -> None:
        with recorder.append_transaction() as txn:
            answers = recorder.begin_append(txn, Questions(subjects=["a"]))
        assert answers.head is None and answers.versions == {"a": 0} and answers.bodies == {}

    # -- transactions ------------------------------------------------------------------

    def test_a_failed_transaction_leaves_nothing(self, store: EventStore, recorder: Recorder) -> None:
        (kept,) = self.put(store, claim(area="a"))
        lost = EventStore(recorder, hooks=[_fail]).append
        with pytest.raises(RuntimeError):
            lost([draft_from_json(claim(area="b"))])
        head = recorder.head()
        assert head is not None and head.position == 1 and head.hash == kept.hash
        assert recorder.bodies_between(0, None, 10) == [(1, kept.body)]
        (after,) = self.put(store, claim(area="b"))
        assert after.position == 2 and after.prev_hash == kept.hash

    def test_a_read_sees_committed_events_only(self, store: EventStore, recorder: Recorder) -> None:
        seen: list[Any] = []

        def look(txn: Any, appended: Any) -> None:
            # Another thread reads while the append is inserted but not committed.
            reader = threading.Thread(target=lambda: seen.append(recorder.head()))
            reader.start()
            reader.join(10)

        EventStore(recorder, hooks=[look]).append([draft_from_json(claim(area="a"))])
        assert seen == [None]
        assert recorder.head() is not None

    def test_the_append_lock_holds_appends_back_until_it_is_released(
        self, store: EventStore, recorder: Recorder
    ) -> None:
        done = threading.Event()

        def append() -> None:
            self.put(store, statement())
            done.set()

        with store.locked():
            writer = threading.Thread(target=append)
            writer.start()
            assert not done.wait(0.5), "an append went through while the lock was held"
        writer.join(30)
        assert done.is_set()
        head = recorder.head()
        assert head is not None and head.position == 1

    def test_the_correctors_of_an_event_up_to_a_position(self, store: EventStore, recorder: Recorder) -> None:
        target = claim(area="a")
        self.put(store, target, statement())
        (first,) = self.put(store, retraction(target["id"]))
        (second,) = self.put(store, retraction(first.id))
        assert recorder.corrector_bodies(target["id"], None) == [first.body]
        assert recorder.corrector_bodies(target["id"], 3) == [first.body]
        assert recorder.corrector_bodies(target["id"], 2) == []
        assert recorder.corrector_bodies(first.id, None) == [second.body]
        assert recorder.corrector_bodies(second.id, None) == []


def _fail(txn: Any, appended: Any) -> None:
    raise RuntimeError("a hook failed after the insert")
