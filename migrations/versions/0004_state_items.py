"""The read model's second layout: rows without a generation column, each event's item
rendered once, and the slots of a part; a rebuild swaps whole tables in.

The rows of the events already stored are not written here: the model is marked stale
and `timeline migrate` (and `timeline serve`) rebuild it with the code of their time.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_state_rows_lookup", table_name="state_rows")
    op.drop_table("state_rows")
    # The tables as they are at this revision (a migration carries its own shapes).
    op.create_table(
        "state_rows",
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sys_from", sa.BigInteger(), nullable=False),
        sa.Column("sys_until", sa.BigInteger(), nullable=True),
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("slot", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.String(length=27), nullable=False),
    )
    op.create_index("ux_state_rows_key", "state_rows", ["position", "kind", "sys_from"], unique=True)
    op.create_index(
        "ix_state_rows_lookup",
        "state_rows",
        ["part", "scope", "kind", "slot", "valid_from", "position", "sys_from", "sys_until"],
    )
    op.create_table(
        "state_items",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("valid_from", sa.String(length=27), nullable=False),
        sa.Column("last_instant", sa.String(length=27), nullable=False),
        sa.Column("item", sa.Text(), nullable=False),
        sa.Column("control", sa.String(length=200), nullable=True),
        sa.Column("within", sa.String(length=80), nullable=True),
        sa.Column("starts", sa.String(length=27), nullable=True),
        sa.Column("ends", sa.String(length=27), nullable=True),
    )
    op.create_table(
        "state_slots",
        sa.Column("part", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("slot", sa.String(length=200), nullable=False),
        sa.Column("first_from", sa.String(length=27), nullable=False),
        sa.Column("first_position", sa.BigInteger(), nullable=False),
    )
    op.create_index("ux_state_slots", "state_slots", ["part", "scope", "kind", "slot"], unique=True)
    op.create_index("ix_state_slots_first", "state_slots", ["part", "scope", "first_from", "first_position"])
    with op.batch_alter_table("read_models") as batch:
        batch.add_column(sa.Column("stale", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE read_models SET building = NULL, "
        "stale = CASE WHEN EXISTS (SELECT 1 FROM events) THEN TRUE ELSE FALSE END"
    )


def downgrade() -> None:
    with op.batch_alter_table("read_models") as batch:
        batch.drop_column("stale")
    op.drop_index("ix_state_slots_first", table_name="state_slots")
    op.drop_index("ux_state_slots", table_name="state_slots")
    op.drop_table("state_slots")
    op.drop_table("state_items")
    op.drop_index("ix_state_rows_lookup", table_name="state_rows")
    op.drop_index("ux_state_rows_key", table_name="state_rows")
    op.drop_table("state_rows")
    # 0003's layout, empty: its rows are rebuilt by the code of that revision's time.
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
        sa.PrimaryKeyConstraint("position", "generation", "kind", "sys_from", name="pk_state_rows"),
    )
    op.create_index(
        "ix_state_rows_lookup",
        "state_rows",
        ["generation", "part", "scope", "kind", "slot", "valid_from", "position", "sys_from", "sys_until"],
    )
