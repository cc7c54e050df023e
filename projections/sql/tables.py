"""The read model's tables. Alembic's migrations create them; this describes them to SQLAlchemy.

`state_rows` holds one row per (event, slot, interval of positions in which
the event is in effect): `sys_from <= P < sys_until` (open when NULL) says
it counts at the log position P that a known_at cuts at. The event itself is
read from the events table by position: a row only says where it belongs. `generation` lets a
rebuild write a complete new model beside the one being read, and
`read_models.active` names the one readers use.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, PrimaryKeyConstraint, String, Table

from events.tables import metadata

state_rows = Table(
    "state_rows",
    metadata,
    Column("generation", Integer, nullable=False),
    Column("position", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("sys_from", BigInteger, nullable=False),
    Column("sys_until", BigInteger, nullable=True),
    Column("part", String(16), nullable=False),
    Column("scope", String(200), nullable=False),
    Column("slot", String(200), nullable=False),
    Column("valid_from", String(27), nullable=False),
    # Position first: "this event's open rows" is a key lookup, and deleting an old
    # generation a range of positions at a time a range scan.
    PrimaryKeyConstraint("position", "generation", "kind", "sys_from"),
    # "The newest row per slot with valid_from <= V in effect at P": a range scan of one
    # scope, which tells from the index alone which rows are in effect.
    Index(
        "ix_state_rows_lookup",
        *("generation", "part", "scope", "kind", "slot", "valid_from", "position", "sys_from", "sys_until"),
    ),
)

read_models = Table(
    "read_models",
    metadata,
    Column("name", String(32), nullable=False),
    Column("active", Integer, nullable=False),  # the generation readers use
    Column("building", Integer, nullable=True),  # the generation a rebuild is writing
    PrimaryKeyConstraint("name"),
)

STATE = "state"
