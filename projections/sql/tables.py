"""The read model's tables. Alembic's migrations create the first ones; a rebuild creates
each new generation's own, fills them, indexes them and swaps them in by renaming.

- `state_rows`: one row per (event, slot, interval of positions in which the event is
  in effect): `sys_from <= P < sys_until` (open when NULL) says it counts at the log
  position P that a known_at cuts at. Kinds of which every event is shown (proposals,
  ceasefires, rounds, meetings) have the slot '' so that a window reads them in
  valid-time order; every other kind's slot is the key it is the newest of.
- `state_items`: each event's item, rendered once (`projections/stored_items.py`).
- `state_slots`: every (part, scope, kind, slot) of the newest-per-slot kinds, so that a
  whole part is answered by one index seek per slot rather than a scan of its rows.
- `read_models`: the generation in use, the one a rebuild is writing, and whether the
  model must be rebuilt before it answers (`stale`, set by a migration that changes it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from events.tables import metadata

STATE = "state"


@dataclass(frozen=True)
class ModelTables:
    """The names of one generation's tables: the active ones, or a rebuild's."""

    rows: str
    items: str
    slots: str
    suffix: str  # of its index names, which must be unique in the database

    @classmethod
    def building(cls, generation: int) -> ModelTables:
        return cls(
            f"state_rows_g{generation}",
            f"state_items_g{generation}",
            f"state_slots_g{generation}",
            f"g{generation}",
        )


ACTIVE = ModelTables("state_rows", "state_items", "state_slots", "")


def rows_table(names: ModelTables, meta: MetaData) -> Table:
    return Table(
        names.rows,
        meta,
        Column("position", BigInteger, nullable=False),
        Column("kind", String(32), nullable=False),
        Column("sys_from", BigInteger, nullable=False),
        Column("sys_until", BigInteger, nullable=True),
        Column("part", String(16), nullable=False),
        Column("scope", String(200), nullable=False),
        Column("slot", String(200), nullable=False),
        Column("valid_from", String(27), nullable=False),
    )


def items_table(names: ModelTables, meta: MetaData) -> Table:
    return Table(
        names.items,
        meta,
        # SQLite makes an INTEGER PRIMARY KEY the rowid: an item is one b-tree search away.
        Column(
            "position", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
        ),
        Column("event_id", String(36), nullable=False),
        Column("valid_from", String(27), nullable=False),
        Column("last_instant", String(27), nullable=False),
        Column("item", Text, nullable=False),
        Column("control", String(200), nullable=True),
        Column("within", String(80), nullable=True),
        Column("starts", String(27), nullable=True),
        Column("ends", String(27), nullable=True),
    )


def slots_table(names: ModelTables, meta: MetaData) -> Table:
    return Table(
        names.slots,
        meta,
        Column("part", String(16), nullable=False),
        Column("scope", String(200), nullable=False),
        Column("kind", String(32), nullable=False),
        Column("slot", String(200), nullable=False),
        # Before these, the slot has nothing to show: the earliest valid_from and position
        # of its rows (rows are never deleted, so neither ever grows later).
        Column("first_from", String(27), nullable=False),
        Column("first_position", BigInteger, nullable=False),
    )


def indexes(names: ModelTables, rows: Table, items: Table, slots: Table) -> list[Index]:
    """Built after a generation's rows (a bulk load into unindexed tables is faster)."""
    suffix = f"_{names.suffix}" if names.suffix else ""
    return [
        # "This event's open rows" is a key lookup (closing them when it is corrected).
        Index(f"ux_state_rows_key{suffix}", rows.c.position, rows.c.kind, rows.c.sys_from, unique=True),
        # "The newest row of a slot with valid_from <= V in effect at P": one seek, then
        # rows in effect are told from the index alone.
        Index(
            f"ix_state_rows_lookup{suffix}",
            *(rows.c[name] for name in ("part", "scope", "kind", "slot", "valid_from", "position")),
            rows.c.sys_from,
            rows.c.sys_until,
        ),
        Index(
            f"ux_state_slots{suffix}", slots.c.part, slots.c.scope, slots.c.kind, slots.c.slot, unique=True
        ),
        # A page of areas or tracks with something to show: told from the index alone.
        Index(
            f"ix_state_slots_first{suffix}",
            slots.c.part,
            slots.c.scope,
            slots.c.first_from,
            slots.c.first_position,
        ),
    ]


# The active generation, as SQLAlchemy sees it (the migrations create these).
state_rows = rows_table(ACTIVE, metadata)
state_items = items_table(ACTIVE, metadata)
state_slots = slots_table(ACTIVE, metadata)
ACTIVE_INDEXES = indexes(ACTIVE, state_rows, state_items, state_slots)

read_models = Table(
    "read_models",
    metadata,
    Column("name", String(32), nullable=False),
    Column("active", Integer, nullable=False),  # the generation whose tables are in use
    Column("building", Integer, nullable=True),  # the generation a rebuild is writing
    Column("stale", Boolean, nullable=False, server_default="0"),  # must be rebuilt first
    PrimaryKeyConstraint("name"),
)
