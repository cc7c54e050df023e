"""Group commit: concurrent single-event appends share a transaction, each with its own answer."""

from __future__ import annotations

import threading
import time
from typing import Any

from events.drafts import draft_from_json, draft_or_refusal
from events.errors import InvalidInput, TimelineError
from events.store import AppendResult, EventStore
from service.group_commit import GroupCommit
from tests.factories import claim, retraction, statement


def test_waiting_appends_are_committed_together_each_with_its_own_answer(memory_store: EventStore) -> None:
    groups: list[int] = []

    def slow_first(conn: Any, appended: Any) -> None:
        groups.append(len(appended))
        if len(groups) == 1:
            time.sleep(0.3)  # the others queue meanwhile

    memory_store.hooks.append(slow_first)
    group = GroupCommit(memory_store)
    answers: dict[str, AppendResult | TimelineError] = {}
    groups_written_when_answered: dict[str, int] = {}

    def post(name: str, envelope: dict[str, Any]) -> None:
        try:
            answers[name] = group.append(draft_or_refusal(envelope))
        except TimelineError as exc:
            answers[name] = exc
        groups_written_when_answered[name] = len(groups)

    first = threading.Thread(target=post, args=("first", statement(text="first")))
    first.start()
    while not groups:
        time.sleep(0.01)
    repeated = claim("a-east", "ru")
    later = {
        **{f"claim-{i}": claim(f"a-{i}", "ua") for i in range(4)},
        "unknown-target": retraction("00000000-0000-4000-8000-000000000000"),
        "not-json-shaped": {"type": "territory.control_claimed", "data": {}},
        "repeated-1": repeated,
        "repeated-2": dict(repeated),
    }
    threads = [threading.Thread(target=post, args=item) for item in later.items()]
    for thread in threads:
        thread.start()
        time.sleep(0.01)
    for thread in [first, *threads]:
        thread.join(10)

    assert groups == [1, 5], (
        "the waiting appends went in one transaction; the repeated id waited for the next"
    )
    stored = [answers[n] for n in ("first", "claim-0", "claim-1", "claim-2", "claim-3", "repeated-1")]
    assert all(isinstance(a, AppendResult) and a.stored == 1 for a in stored)
    events = [a.events[0] for a in stored if isinstance(a, AppendResult)]
    assert sorted(e.position for e in events) == [1, 2, 3, 4, 5, 6]
    assert len({e.recorded_at for e in events}) == 6, "each independent event keeps its own recorded_at"
    again = answers["repeated-2"]
    assert isinstance(again, AppendResult) and again.stored == 0 and again.events[0].id == repeated["id"]
    refused = answers["unknown-target"]
    assert isinstance(refused, InvalidInput)
    assert [e.path for e in refused.errors] == ["/data/target_event_id"], (
        "the single-event form, not /events/i"
    )
    assert isinstance(answers["not-json-shaped"], InvalidInput)
    assert memory_store.cut(None) == 6


def test_a_failed_transaction_fails_its_whole_group_and_the_next_one_works(memory_store: EventStore) -> None:
    failing = {"now": True}

    def fail_once(conn: Any, appended: Any) -> None:
        if failing["now"]:
            failing["now"] = False
            raise RuntimeError("the database went away")

    memory_store.hooks.append(fail_once)
    group = GroupCommit(memory_store)
    try:
        group.append(draft_from_json(statement(text="lost")))
    except RuntimeError:
        pass
    else:
        raise AssertionError("the failure reached the caller")
    result = group.append(draft_from_json(statement(text="kept")))
    assert result.stored == 1 and result.events[0].position == 1
