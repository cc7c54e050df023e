"""The events table. Alembic's migrations create it; this describes it to SQLAlchemy."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Named constraints: SQLite batch migrations cannot drop unnamed ones.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite makes an INTEGER PRIMARY KEY the rowid itself, which is faster.
Position = BigInteger().with_variant(Integer(), "sqlite")

# `body` is the stored event's JCS text, hash included: it is what GET, the
# export and the stream serve, byte for byte. The other columns repeat parts
# of it for lookups; `timeline verify` checks that they agree with it.
events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("id", String(36), nullable=False),
    Column("type", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("occurred_from", String(27), nullable=False),
    Column("occurred_until", String(27), nullable=False),
    Column("recorded_at", String(27), nullable=False),
    Column("supersedes", String(36), nullable=True),
    # The event this one supersedes or retracts: finds an event's correctors.
    Column("corrects", String(36), nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("id"),
    UniqueConstraint("subject", "version"),
    Index(None, "corrects"),
    # A known_at cut: the last event recorded by an instant is one backward probe.
    Index(None, "recorded_at", "position"),
    Index(None, "type", "position"),
)

# The complete subtrees of the RFC 9162 Merkle tree over the log, written in the
# append transaction: (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level).
merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("level", SmallInteger, nullable=False),
    Column("idx", BigInteger, nullable=False),
    Column("hash", LargeBinary(32), nullable=False),
    PrimaryKeyConstraint("level", "idx"),
)
