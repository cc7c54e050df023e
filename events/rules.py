"""The write-time rules that need the log (docs/api.md §§3-5), free of any database.

The store answers the questions of `LogView` from its tables plus the events
already accepted earlier in the same batch; the rules decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from events.corrections import Liveness
from events.drafts import Draft
from events.errors import Conflict, FieldError, InvalidInput
from events.types import RETRACTED

MAX_LEAD = timedelta(hours=24)


@dataclass(frozen=True)
class Known:
    """What the rules need to know of an event that is already in the log."""

    id: str
    type: str
    subject: str
    data: dict[str, Any]
    corrects: str | None


class Correcting(Protocol):
    """What the rules need of an event that corrects another."""

    @property
    def id(self) -> str: ...

    @property
    def type(self) -> str: ...


class LogView(Protocol):
    def find(self, event_id: str) -> Known | None: ...

    def correctors_of(self, event_id: str) -> Sequence[Correcting]: ...

    def version_of(self, subject: str) -> int: ...


def _liveness(log: LogView) -> Liveness:
    return Liveness(lambda event_id: [c.id for c in log.correctors_of(event_id) if c.type == RETRACTED])


def is_live(event_id: str, log: LogView) -> bool:
    """Live now: recorded, and no live retraction names it."""
    return _liveness(log).is_live(event_id)


def live_corrector(event_id: str, log: LogView) -> str | None:
    liveness = _liveness(log)
    for corrector in log.correctors_of(event_id):
        if liveness.is_live(corrector.id):
            return corrector.id
    return None


def corrected_by(draft: Draft) -> str | None:
    """The event a draft corrects: the one it supersedes or retracts."""
    if draft.supersedes is not None:
        return draft.supersedes
    if draft.type == RETRACTED and draft.reference is not None:
        return draft.reference.event_id
    return None


def _refused(path: str, message: str) -> InvalidInput:
    return InvalidInput(message, [FieldError(path, message)])


def check_references(draft: Draft, log: LogView) -> str:
    """Check what the draft names and return its subject."""
    subject = draft.subject
    ref = draft.reference
    if ref is not None:
        path = f"/data/{ref.key}"
        target = log.find(ref.event_id)
        if target is None:
            raise _refused(path, f"no event {ref.event_id} is stored")
        if ref.required_type is not None and target.type != ref.required_type:
            raise _refused(path, f"{ref.event_id} is a {target.type}, not a {ref.required_type}")
        if draft.type == "territory.claim_denied" and target.data["area"] != draft.data["area"]:
            raise _refused(path, f"{ref.event_id} is a claim on {target.data['area']}, not on this area")
        if draft.type == "talks.offer_rejected":
            if target.data["counterparty"] != draft.data["party"]:
                raise _refused(path, f"{ref.event_id} was not offered to {draft.data['party']}")
            subject = target.subject
        if draft.type == RETRACTED:
            subject = target.subject
    if draft.supersedes is not None:
        replaced = log.find(draft.supersedes)
        if replaced is None:
            raise _refused("/supersedes", f"no event {draft.supersedes} is stored")
        if replaced.type != draft.type:
            raise _refused(
                "/supersedes",
                f"{draft.supersedes} is a {replaced.type}; only an event of the same type can replace it",
            )
    assert subject is not None, "every type either derives its subject or references an event"
    if draft.subject_given is not None and draft.subject_given != subject:
        raise _refused("/subject", f"the subject of this event is {subject!r}")
    return subject


def check_append(draft: Draft, log: LogView, recorded_at: datetime) -> tuple[str, int]:
    """Every rule a new event must meet against the log: returns (subject, its version)."""
    subject = check_references(draft, log)
    if draft.period.start > recorded_at + MAX_LEAD:
        raise _refused("/occurred_at", "occurred_at lies more than 24 hours in the future")
    corrected = corrected_by(draft)
    if corrected is not None:
        corrector = live_corrector(corrected, log)
        if corrector is not None:
            raise Conflict(
                f"{corrected} is already corrected by {corrector}; correct that event instead.",
                corrected_by=corrector,
            )
    version = log.version_of(subject)
    if draft.expected_version is not None and draft.expected_version != version:
        raise Conflict(
            f"{subject} is at version {version}, not {draft.expected_version}.",
            actual_version=version,
        )
    return subject, version + 1
