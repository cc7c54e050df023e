"""Announcing appends to other processes: PostgreSQL NOTIFY, sent from the append transaction.

NOTIFY is delivered on commit and only then, so a listener never hears of an
event it cannot read yet. The payload is the position alone (payloads must
stay under 8,000 bytes).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, text

from events.envelope import StoredEvent

CHANNEL = "timeline_events"


class PostgresNotify:
    """An AppendHook: one NOTIFY per append, carrying the last new position."""

    def __call__(self, conn: Connection, appended: Sequence[StoredEvent]) -> None:
        conn.execute(
            text("SELECT pg_notify(:channel, :position)"),
            {"channel": CHANNEL, "position": str(appended[-1].position)},
        )
