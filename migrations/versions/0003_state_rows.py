"""The state read model: rows per (event, slot, interval in effect); replaced by 0004.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "state_rows",
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sys_from", sa.BigInteger(), nullable=False),
        sa.Column("sys_until", sa.BigInteger(), nullable=True),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("slot", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=27), nullable=False),
        sa.PrimaryKeyConstraint("position", "generation", "kind", "sys_from", name=op.f("pk_state_rows")),
    )
    op.create_index(
        "ix_state_rows_lookup",
        "state_rows",
        ["generation", "part", "scope", "kind", "slot", "valid_from", "position", "sys_from", "sys_until"],
    )
    op.create_table(
        "read_models",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("building", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_read_models")),
    )
    op.execute("INSERT INTO read_models (name, active, building) VALUES ('state', 1, NULL)")
    # A known_at cut by (recorded_at, position): PostgreSQL walked the primary key back
    # from the head looking for an early recorded_at.
    op.create_index(op.f("ix_events_recorded_at_position"), "events", ["recorded_at", "position"])
    op.drop_index(op.f("ix_events_recorded_at"), table_name="events")
    # The rows of the events already stored are not written here: this revision's layout
    # is replaced by 0004's, which marks the model stale, and the service rebuilds it
    # (with the code of its own time) before it answers. A migration never imports the
    # live code, which would change under it.


def downgrade() -> None:
    op.create_index(op.f("ix_events_recorded_at"), "events", ["recorded_at"])
    op.drop_index(op.f("ix_events_recorded_at_position"), table_name="events")
    op.drop_table("read_models")
    op.drop_index("ix_state_rows_lookup", table_name="state_rows")
    op.drop_table("state_rows")
