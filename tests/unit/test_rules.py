"""The write-time rules against an in-memory log: no database needed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from events.drafts import draft_from_json
from events.errors import Conflict, InvalidInput
from events.rules import Known, check_append, is_live
from tests.factories import claim, denial, offer, rejection, retraction, statement

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


# -- each refusal names its field and says why, in the words clients show --------------

UNKNOWN = "5b2a7e58-2f7c-4d0e-9d52-1d7f0e0e0e0e"


def _refusals(log: MemoryLog) -> list[tuple[dict[str, object], str, str]]:
    """(envelope, path, message) of each refusal check_append can give."""
    kursk = log.append(claim())
    offered = log.append(offer(party="ru", counterparty="ua"))
    return [
        (retraction(UNKNOWN), "/data/target_event_id", f"no event {UNKNOWN} is stored"),
        (
            rejection(kursk.id),
            "/data/offer_event_id",
            f"{kursk.id} is a territory.control_claimed, not a talks.offer_made",
        ),
        (
            denial(area="ua-sumy-oblast", data_extra={"denied_event_id": kursk.id}),
            "/data/denied_event_id",
            f"{kursk.id} is a claim on ru-kursk-oblast, not on this area",
        ),
        (rejection(offered.id, party="ru"), "/data/offer_event_id", f"{offered.id} was not offered to ru"),
        (claim(supersedes=UNKNOWN), "/supersedes", f"no event {UNKNOWN} is stored"),
        (
            statement(supersedes=kursk.id),
            "/supersedes",
            f"{kursk.id} is a territory.control_claimed; only an event of the same type can replace it",
        ),
        (
            retraction(kursk.id, subject="ua-sumy-oblast"),
            "/subject",
            "the subject of this event is 'ru-kursk-oblast'",
        ),
        (
            claim(occurred_at="2025-05-03"),
            "/occurred_at",
            "occurred_at lies more than 24 hours in the future",
        ),
    ]


@pytest.mark.parametrize("case", range(8))
def test_each_refusal_names_its_field_and_reason(case: int) -> None:
    log = MemoryLog()
    envelope, path, message = _refusals(log)[case]
    with pytest.raises(InvalidInput) as refused:
        log.append(envelope)
    assert refused.value.detail == message
    assert [(e.path, e.message) for e in refused.value.errors] == [(path, message)]


def test_a_second_correction_names_the_first() -> None:
    log = MemoryLog()
    original = log.append(claim())
    fix = log.append(claim(supersedes=original.id))
    with pytest.raises(Conflict) as refused:
        log.append(retraction(original.id))
    assert (
        refused.value.detail == f"{original.id} is already corrected by {fix.id}; correct that event instead."
    )


def test_denying_an_event_does_not_correct_it() -> None:
    # Only a supersession or a retraction corrects: a denial of a claim already replaced
    # is no second correction of it.
    log = MemoryLog()
    original = log.append(claim())
    log.append(claim(supersedes=original.id))
    denied = log.append(denial(data_extra={"denied_event_id": original.id}))
    assert denied.corrects is None
