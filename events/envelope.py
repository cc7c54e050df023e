"""The stored event (CONTRACT section 2): an immutable value, its canonical form and hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from events.canonical import canonical, canonical_object, canonical_scalar

GENESIS_HASH = "0" * 64

# The closed set of keys of a stored event, in the order the contract lists them.
STORED_KEYS = (
    "id",
    "type",
    "subject",
    "occurred_at",
    "occurred_precision",
    "occurred_from",
    "occurred_until",
    "reported_at",
    "source",
    "data",
    "supersedes",
    "schema_version",
    "position",
    "version",
    "recorded_at",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class StoredEvent:
    """One event as stored and served. `body` is its JCS text, hash included."""

    id: str
    type: str
    subject: str
    occurred_at: str
    occurred_precision: str
    occurred_from: str
    occurred_until: str
    reported_at: str | None
    source: dict[str, Any]
    data: dict[str, Any]
    supersedes: str | None
    schema_version: int
    position: int
    version: int
    recorded_at: str
    prev_hash: str
    hash: str
    body: str

    @classmethod
    def from_body(cls, body: str) -> StoredEvent:
        fields = json.loads(body)
        return cls(**{key: fields[key] for key in STORED_KEYS}, body=body)

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in STORED_KEYS}

    @property
    def corrects(self) -> str | None:
        """The event this one corrects: the one it supersedes or retracts."""
        if self.type == "event.retracted":
            return str(self.data["target_event_id"])
        return self.supersedes


def content_text(
    *,
    id: str,
    type: str,
    subject: str,
    occurred_at: str,
    reported_at: str | None,
    source_jcs: str,
    data_jcs: str,
    supersedes: str | None,
) -> str:
    """The JCS of what the client decided: what idempotency compares (CONTRACT section 4)."""
    return canonical_object(
        {
            "id": canonical_scalar(id),
            "type": canonical_scalar(type),
            "subject": canonical_scalar(subject),
            "occurred_at": canonical_scalar(occurred_at),
            "reported_at": canonical_scalar(reported_at),
            "source": source_jcs,
            "data": data_jcs,
            "supersedes": canonical_scalar(supersedes),
        }
    )


def seal(
    members: dict[str, str],
) -> tuple[str, str]:
    """Hash an event given the canonical text of each of its keys but `hash`.

    Returns (hash, body): the hex SHA-256 of the JCS without `hash`, and the
    JCS of the whole stored event.
    """
    unsealed = canonical_object(members)
    digest = hashlib.sha256(unsealed.encode("utf-8")).hexdigest()
    return digest, canonical_object({**members, "hash": canonical_scalar(digest)})


def hash_of(event: dict[str, Any]) -> str:
    """The contract's hash of a stored event, recomputed from scratch with the JCS package."""
    unsealed = {key: value for key, value in event.items() if key != "hash"}
    return hashlib.sha256(canonical(unsealed).encode("utf-8")).hexdigest()
