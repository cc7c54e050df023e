"""The append transaction's working parts: the log as the rules see it, and stored events built.

Used by `events.store` inside the append lock only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from events.canonical import canonical
from events.drafts import Draft
from events.envelope import StoredEvent, content_text, seal_unsealed
from events.errors import Conflict
from events.recorders.protocol import Answers, CorrectionRow, Questions, Recorder, correctors_by_target
from events.rules import Known, corrected_by
from events.types import SCHEMA_VERSION


@dataclass
class BatchView:
    """The log as the rules see it: the table plus this batch's earlier events.

    `prefetch` answers, in a few statements, what the rules will ask of a batch; a
    question it did not foresee falls back to a statement of its own.
    """

    recorder: Recorder
    txn: Any  # the recorder's append transaction
    pending: dict[str, StoredEvent] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    stored: dict[str, StoredEvent | None] = field(default_factory=dict)
    correctors: dict[str, list[CorrectionRow]] = field(default_factory=dict)
    pending_correctors: dict[str, list[CorrectionRow]] = field(default_factory=dict)

    def begin(self, drafts: Sequence[Draft], given_ids: Sequence[str]) -> Answers:
        """Take the append lock and read the head, with every event the drafts name or
        re-send, who corrects what they correct, and the versions of their subjects: in one
        round trip where the backend can."""
        named = {d.reference.event_id for d in drafts if d.reference is not None}
        named |= {d.supersedes for d in drafts if d.supersedes is not None}
        ids = (named | set(given_ids)) - self.stored.keys()
        corrected = {c for c in (corrected_by(d) for d in drafts) if c is not None} - self.correctors.keys()
        subjects = {d.subject for d in drafts if d.subject} - self.versions.keys()
        answers = self.recorder.begin_append(self.txn, Questions(ids, corrected, subjects))
        for event_id in ids:
            body = answers.bodies.get(event_id)
            self.stored[event_id] = StoredEvent.from_body(body) if body is not None else None
        if corrected:
            self.correctors.update(correctors_by_target(answers.corrections, corrected))
        # Every subject asked is answered, 0 for one with no events (the recorder contract).
        self.versions.update(answers.versions)
        return answers

    def fetch_stored(self, ids: set[str]) -> dict[str, StoredEvent]:
        """These events as stored, those that are (remembered for `find`)."""
        missing = ids - self.stored.keys()
        found = self.recorder.bodies_by_id(self.txn, missing)
        for event_id in missing:
            self.stored[event_id] = StoredEvent.from_body(found[event_id]) if event_id in found else None
        return {i: e for i in ids if (e := self.stored[i]) is not None}

    def find(self, event_id: str) -> Known | None:
        if event_id in self.pending:
            return known_of(self.pending[event_id])
        stored = self.fetch_stored({event_id}).get(event_id)
        return known_of(stored) if stored else None

    def correctors_of(self, event_id: str) -> list[CorrectionRow]:
        if event_id in self.pending:  # nothing stored can correct an event not yet stored
            found: list[CorrectionRow] = []
        else:
            if event_id not in self.correctors:
                rows = self.recorder.corrections_around(self.txn, [event_id])
                self.correctors.update(correctors_by_target(rows, [event_id]))
            found = list(self.correctors[event_id])
        return found + self.pending_correctors.get(event_id, [])

    def version_of(self, subject: str) -> int:
        if subject not in self.versions:
            self.versions.update(self.recorder.latest_versions(self.txn, [subject]))
        return self.versions[subject]

    def add(self, event: StoredEvent) -> None:
        self.pending[event.id] = event
        if event.corrects is not None:
            row = CorrectionRow(event.id, event.position, event.type, event.corrects)
            self.pending_correctors.setdefault(event.corrects, []).append(row)
        self.versions[event.subject] = event.version


def known_of(event: StoredEvent) -> Known:
    return Known(event.id, event.type, event.subject, event.data, event.corrects)


def same_or_conflict(draft: Draft, stored: StoredEvent, view: BatchView) -> StoredEvent:
    """Idempotency: the same id with the same content is answered with the stored event."""
    subject = draft.subject
    if subject is None and draft.reference is not None:
        target = view.find(draft.reference.event_id)
        subject = target.subject if target else None
    sent = content_text(
        id=draft.id,
        type=draft.type,
        subject=subject or "",
        occurred_at=draft.occurred_at,
        reported_at=draft.reported_at,
        source_jcs=draft.source_jcs,
        data_jcs=draft.data_jcs,
        supersedes=draft.supersedes,
    )
    kept = content_text(
        id=stored.id,
        type=stored.type,
        subject=stored.subject,
        occurred_at=stored.occurred_at,
        reported_at=stored.reported_at,
        source_jcs=canonical(stored.source),
        data_jcs=canonical(stored.data),
        supersedes=stored.supersedes,
    )
    if sent != kept:
        raise Conflict(
            f"An event with id {draft.id} is already stored with other content.",
            existing_position=stored.position,
        )
    return stored


def build_event(
    draft: Draft, subject: str, version: int, position: int, recorded_at: str, prev_hash: str
) -> StoredEvent:
    digest, body = seal_unsealed(
        draft.unsealed,
        subject=subject,
        position=position,
        prev_hash=prev_hash,
        recorded_at=recorded_at,
        version=version,
    )
    return StoredEvent(
        id=draft.id,
        type=draft.type,
        subject=subject,
        occurred_at=draft.occurred_at,
        occurred_precision=draft.period.precision,
        occurred_from=draft.period.occurred_from,
        occurred_until=draft.period.occurred_until,
        reported_at=draft.reported_at,
        source=draft.source,
        data=draft.data,
        supersedes=draft.supersedes,
        schema_version=SCHEMA_VERSION,
        position=position,
        version=version,
        recorded_at=recorded_at,
        prev_hash=prev_hash,
        hash=digest,
        body=body,
    )
