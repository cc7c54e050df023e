"""The batch reads of the events table (`events.lookups`), on both backends."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError

from events.drafts import draft_from_json
from events.lookups import (
    HEAD,
    bodies_by_id,
    bodies_statement,
    corrections_around,
    corrections_of,
    corrections_statement,
    correctors_by_target,
    latest_versions,
    run_together,
    versions_of,
    versions_statement,
)
from events.store import EventStore
from tests.factories import claim, retraction


def stored(store: EventStore, envelope: dict[str, Any]) -> str:
    return store.append([draft_from_json(envelope)]).events[0].id


def supersession(of: dict[str, Any]) -> dict[str, Any]:
    return {**of, "id": str(uuid.uuid4()), "supersedes": of["id"]}


def test_corrections_around_climbs_every_chain_of_corrections(store: EventStore) -> None:
    first, other, unrelated = claim(area="a"), claim(area="b"), claim(area="c")
    for envelope in (first, other, unrelated):
        stored(store, envelope)
    retracted = stored(store, retraction(first["id"]))
    unretracted = stored(store, retraction(retracted))
    again = stored(store, retraction(unretracted))
    replacement = supersession(other)
    stored(store, replacement)
    stored(store, retraction(unrelated["id"]))  # corrects nothing asked about

    with store.engine.connect() as conn:
        rows = corrections_around(conn, [first["id"], other["id"], "no-such-event"])
        assert [r.id for r in rows] == [
            first["id"],
            other["id"],
            retracted,
            unretracted,
            again,
            replacement["id"],
        ]
        assert [r.position for r in rows] == sorted(r.position for r in rows)
        assert rows[2].type == "event.retracted" and rows[2].corrects == first["id"]
        assert rows[5].corrects == other["id"]
        by_target = correctors_by_target(rows, [first["id"], other["id"], "no-such-event"])
        assert [c.id for c in by_target[first["id"]]] == [retracted]
        assert [c.id for c in by_target[retracted]] == [unretracted]
        assert [c.id for c in by_target[again]] == []
        assert [c.id for c in by_target[other["id"]]] == [replacement["id"]]
        assert by_target["no-such-event"] == []
        assert corrections_around(conn, []) == []


def test_bodies_and_versions_of_a_set(store: EventStore) -> None:
    events = [claim(area="a"), claim(area="a"), claim(area="b")]
    ids = [stored(store, e) for e in events]
    with store.engine.connect() as conn:
        bodies = bodies_by_id(conn, [*ids, "missing"])
        assert sorted(bodies) == sorted(ids)
        assert all(f'"id":"{i}"' in bodies[i] for i in ids)
        assert latest_versions(conn, ["a", "b", "nowhere"]) == {"a": 2, "b": 1, "nowhere": 0}
        assert bodies_by_id(conn, []) == {} and latest_versions(conn, []) == {}


def test_statements_run_together_answer_as_run_alone(store: EventStore) -> None:
    first, second = claim(area="a"), claim(area="b")
    ids = [stored(store, first), stored(store, second)]
    with store.engine.connect() as conn:
        statements = [
            (HEAD, ()),
            bodies_statement(conn, ids),
            versions_statement(conn, ["c"], of_events=[ids[1]]),  # b: the subject of the event named
            corrections_statement(conn, ids),
        ]
        together = run_together(conn, statements)
        alone = [run_together(conn, [statement])[0] for statement in statements]
    assert together == alone
    assert together[0][0][0] == 2  # the head's position
    assert versions_of(together[2]) == {"b": 1, "c": 0}
    assert [r.id for r in corrections_of(together[3])] == ids


def test_a_failing_statement_fails_as_sqlalchemy_reports_it(store: EventStore) -> None:
    # The service answers SQLAlchemy's OperationalError with 503; a pipeline's error must
    # arrive in the same form.
    with store.engine.connect() as conn, pytest.raises(DBAPIError):
        run_together(conn, [(HEAD, ()), ("SELECT no_such_column FROM events", ())])
