"""The write-time rules against an in-memory log: no database needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from events.drafts import draft_from_json
from events.errors import Conflict, InvalidInput
from events.rules import Known, check_append, is_live
from tests.factories import claim, offer, rejection, retraction

NOW = datetime(2025, 5, 1, tzinfo=UTC)


@dataclass
class MemoryLog:
    events: list[Known] = field(default_factory=list)

    def find(self, event_id: str) -> Known | None:
        return next((e for e in self.events if e.id == event_id), None)

    def correctors_of(self, event_id: str) -> list[Known]:
        return [e for e in self.events if e.corrects == event_id]

    def version_of(self, subject: str) -> int:
        return sum(1 for e in self.events if e.subject == subject)

    def append(self, envelope: dict[str, object]) -> Known:
        draft = draft_from_json(envelope)
        subject, _ = check_append(draft, self, NOW)
        corrects = draft.supersedes or (
            draft.reference.event_id if draft.type == "event.retracted" and draft.reference else None
        )
        known = Known(draft.id, draft.type, subject, draft.data, corrects)
        self.events.append(known)
        return known


def test_retracting_a_retraction_restores_its_target() -> None:
    log = MemoryLog()
    target = log.append(claim())
    first = log.append(retraction(target.id))
    assert not is_live(target.id, log)
    second = log.append(retraction(first.id))
    assert is_live(target.id, log) and not is_live(first.id, log)
    log.append(retraction(second.id))
    assert not is_live(target.id, log)


def test_long_chains_of_retractions_do_not_exhaust_the_stack() -> None:
    log = MemoryLog()
    current = log.append(claim())
    root = current.id
    for _ in range(3000):
        current = log.append(retraction(current.id))
    # 3000 retractions: the last is live, so the one before is not, ... so the root, at even depth, is live.
    assert is_live(root, log)


def test_a_superseded_event_cannot_be_corrected_again() -> None:
    log = MemoryLog()
    original = log.append(claim())
    fix = log.append(claim(supersedes=original.id))
    with pytest.raises(Conflict) as refused:
        log.append(claim(supersedes=original.id))
    assert refused.value.extra["corrected_by"] == fix.id


def test_a_rejection_takes_the_offers_track() -> None:
    log = MemoryLog()
    made = log.append(offer(party="ua", counterparty="ru"))
    assert log.append(rejection(made.id, party="ru")).subject == "ru-ua"
    with pytest.raises(InvalidInput):
        log.append(rejection(made.id, party="ua"))


def test_occurred_from_more_than_a_day_ahead_is_refused() -> None:
    log = MemoryLog()
    log.append(claim(occurred_at="2025-05-02T00:00:00Z"))  # within 24 hours of NOW
    with pytest.raises(InvalidInput) as refused:
        log.append(claim(occurred_at="2025-05-02T00:00:01Z"))
    assert refused.value.errors[0].path == "/occurred_at"


def test_expected_version() -> None:
    log = MemoryLog()
    log.append(claim(expected_version=0))
    with pytest.raises(Conflict) as refused:
        log.append(claim(expected_version=0))
    assert refused.value.extra["actual_version"] == 1
