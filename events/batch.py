"""The append transaction's working parts: the log as the rules see it, and stored events built.

Used by `events.store` inside the append lock only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from events.canonical import canonical
from events.drafts import Draft
from events.envelope import StoredEvent, content_text, seal_unsealed
from events.errors import Conflict
from events.rules import Known
from events.tables import events as events_table
from events.types import SCHEMA_VERSION


@dataclass
class BatchView:
    """The log as the rules see it: the table plus this batch's earlier events."""

    conn: Connection
    pending: dict[str, StoredEvent] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    def find(self, event_id: str) -> Known | None:
        if event_id in self.pending:
            return known_of(self.pending[event_id])
        row = self.conn.execute(select(events_table.c.body).where(events_table.c.id == event_id)).first()
        return known_of(StoredEvent.from_body(row.body)) if row else None

    def correctors_of(self, event_id: str) -> list[Known]:
        rows = self.conn.execute(
            select(events_table.c.body)
            .where(events_table.c.corrects == event_id)
            .order_by(events_table.c.position)
        )
        found = [known_of(StoredEvent.from_body(row.body)) for row in rows]
        found += [known_of(e) for e in self.pending.values() if e.corrects == event_id]
        return found

    def version_of(self, subject: str) -> int:
        if subject not in self.versions:
            self.versions[subject] = (
                self.conn.execute(
                    select(func.max(events_table.c.version)).where(events_table.c.subject == subject)
                ).scalar()
                or 0
            )
        return self.versions[subject]

    def prefetch_versions(self, subjects: set[str]) -> None:
        """Every known subject's version in one query, rather than one query per subject.

        One max() per subject, each an index lookup on (subject, version): a GROUP BY over
        `subject IN (...)` reads every version of every subject, which grows with the log.
        Written as driver SQL because SQLAlchemy compiles a VALUES list anew for every
        call, which cost more than the query.
        """
        wanted = sorted(subjects - set(self.versions))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            latest = "(SELECT max(version) FROM events WHERE events.subject = wanted.subject)"
            if self.conn.dialect.name == "postgresql":  # one array parameter plans best there
                sql = f"SELECT wanted.subject, {latest} FROM unnest(%s::text[]) AS wanted(subject)"
                rows = self.conn.exec_driver_sql(sql, (chunk,)).all()
            else:
                marks = ", ".join(["(?)"] * len(chunk))
                sql = f"WITH wanted(subject) AS (VALUES {marks}) SELECT wanted.subject, {latest} FROM wanted"
                rows = self.conn.exec_driver_sql(sql, tuple(chunk)).all()
            found = {row[0]: row[1] for row in rows}
            for subject in chunk:
                self.versions[subject] = found.get(subject) or 0

    def add(self, event: StoredEvent) -> None:
        self.pending[event.id] = event
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


EVENT_COLUMNS = (
    "position",
    "id",
    "type",
    "subject",
    "version",
    "occurred_from",
    "occurred_until",
    "recorded_at",
    "supersedes",
    "corrects",
    "prev_hash",
    "hash",
    "body",
)


def row_of(event: StoredEvent) -> tuple[object, ...]:
    """The events table's row, in EVENT_COLUMNS order."""
    return (
        event.position,
        event.id,
        event.type,
        event.subject,
        event.version,
        event.occurred_from,
        event.occurred_until,
        event.recorded_at,
        event.supersedes,
        event.corrects,
        event.prev_hash,
        event.hash,
        event.body,
    )
